"""predict() on one bound module from several threads gives each thread its own correct
results (issue 9: the documented behaviour is 'works, by taking turns')."""
import threading

import numpy as np

import mxtorch as mx


def _module():
    data = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(
        mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=32, name="fc1"),
                          act_type="relu"), num_hidden=4, name="fc2"), name="softmax")
    mod = mx.mod.Module(net)
    mod.bind(data_shapes=[("data", (8, 16))], label_shapes=[("softmax_label", (8,))],
             for_training=False)
    mod.init_params(mx.init.Xavier())
    return mod


def test_predict_from_threads_matches_serial():
    mod = _module()
    rng = np.random.RandomState(0)
    inputs = [rng.rand(40, 16).astype("f") for _ in range(8)]
    expected = [mod.predict(mx.io.NDArrayIter(x, batch_size=8)).asnumpy() for x in inputs]
    expected_arrays = [mod.predict(mx.nd.array(x[:8])).asnumpy() for x in inputs]
    results, errors = {}, []

    def work(i):
        try:
            for _ in range(5):
                got = mod.predict(mx.io.NDArrayIter(inputs[i], batch_size=8)).asnumpy()
                np.testing.assert_array_equal(got, expected[i])
                np.testing.assert_array_equal(mod.predict(mx.nd.array(inputs[i][:8])).asnumpy(),
                                              expected_arrays[i])
            results[i] = True
        except Exception as err:     # surfaced in the main thread below
            errors.append((i, err))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == len(inputs)
