"""The API examples of the seed (mxnet-python-module-api.txt), run as written on the
BaseModule docstring's MLP; only the printed random values are not compared."""
import logging

import numpy as np
import pytest

import mxtorch as mx


@pytest.fixture
def setup(tmp_path):
    data = mx.symbol.Variable("data")
    fc1 = mx.symbol.FullyConnected(data, name="fc1", num_hidden=128)
    act1 = mx.symbol.Activation(fc1, name="relu1", act_type="relu")
    fc2 = mx.symbol.FullyConnected(act1, name="fc2", num_hidden=64)
    act2 = mx.symbol.Activation(fc2, name="relu2", act_type="relu")
    fc3 = mx.symbol.FullyConnected(act2, name="fc3", num_hidden=10)
    out = mx.symbol.SoftmaxOutput(fc3, name="softmax")
    mod = mx.mod.Module(out)
    rng = np.random.RandomState(0)
    x = rng.rand(200, 784).astype(np.float32)
    y = rng.randint(0, 10, 200).astype(np.float32)
    train_dataiter = mx.io.NDArrayIter(x, y, batch_size=20, shuffle=True)
    val_dataiter = mx.io.NDArrayIter(x[:100], y[:100], batch_size=20)
    return mod, train_dataiter, val_dataiter, str(tmp_path / "mlp")


def test_api_examples(setup, caplog):
    mod, train_dataiter, val_dataiter, model_prefix = setup
    # bind
    mod.bind(data_shapes=train_dataiter.provide_data,
             label_shapes=train_dataiter.provide_label)
    # init_params / get_params
    mod.init_params()
    arg_params, aux_params = mod.get_params()
    assert sorted(arg_params) == ["fc1_bias", "fc1_weight", "fc2_bias", "fc2_weight",
                                  "fc3_bias", "fc3_weight"]
    assert aux_params == {}
    # init_optimizer, forward/backward/update, update_metric
    mod.init_optimizer(optimizer="sgd", optimizer_params=(("learning_rate", 0.005),))
    mod.init_optimizer(kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=True)
    data_batch = next(iter(train_dataiter))
    metric = mx.metric.Accuracy()
    mod.forward(data_batch)
    mod.update_metric(metric, data_batch.label)
    mod.backward()
    before = mod.get_params()[0]["fc3_weight"].asnumpy().copy()
    mod.update()
    assert not np.array_equal(mod.get_params()[0]["fc3_weight"].asnumpy(), before)
    assert metric.num_inst == 20
    # score
    metric = mx.metric.Accuracy()
    res = mod.score(val_dataiter, metric)
    assert res[0][0] == "accuracy" and 0 <= res[0][1] <= 1
    res = mod.score(val_dataiter, ["mse", "acc"])
    assert [name for name, _ in res] == ["mse", "accuracy"]
    # predict / iter_predict
    assert mod.predict(eval_data=val_dataiter, num_batch=10).shape == (100, 10)
    assert mod.predict(eval_data=val_dataiter, num_batch=2).shape == (40, 10)
    n = 0
    for pred, i_batch, batch in mod.iter_predict(val_dataiter):
        assert pred[0].shape == (20, 10) and i_batch == n
        n += 1
    assert n == 5
    # save_params / load_params
    mod.save_params(model_prefix + ".params")
    mod.load_params(model_prefix + ".params")
    # checkpoint, then fit resumed from it
    mod.save_checkpoint(model_prefix, 3)
    sym, arg_params, aux_params = mx.model.load_checkpoint(model_prefix, 3)
    mod.set_params(arg_params=arg_params, aux_params=aux_params)
    with caplog.at_level(logging.INFO):
        mod.fit(train_data=train_dataiter, eval_data=val_dataiter, optimizer="sgd",
                optimizer_params={"learning_rate": 0.01, "momentum": 0.9},
                arg_params=arg_params, aux_params=aux_params,
                eval_metric="acc", num_epoch=5, begin_epoch=3)
    msgs = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Epoch[3] Train-accuracy=") for m in msgs)
    assert any(m.startswith("Epoch[4] Validation-accuracy=") for m in msgs)
    assert not any(m.startswith("Epoch[2]") for m in msgs)


def test_backward_input_grads_example():
    data = mx.sym.Variable("data")
    out = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=10, name="fc"),
                               name="softmax")
    mod = mx.mod.Module(out)
    mod.bind(data_shapes=[("data", (1, 10, 10))], label_shapes=[("softmax_label", (1,))],
             inputs_need_grad=True)
    mod.init_params()
    mod.forward(mx.io.DataBatch([mx.nd.ones((1, 10, 10))], [mx.nd.zeros((1,))]))
    mod.backward()
    grad = mod.get_input_grads()[0]
    assert grad.shape == (1, 10, 10)
    # d(loss)/d(data) = W^T (p - onehot), reshaped: check against numpy
    w = mod.get_params()[0]["fc_weight"].asnumpy()
    p = mod.get_outputs()[0].asnumpy()
    onehot = np.zeros((1, 10), dtype=np.float32)
    onehot[0, 0] = 1
    np.testing.assert_allclose(grad.asnumpy().reshape(1, 100), (p - onehot) @ w, rtol=1e-5,
                               atol=1e-7)
