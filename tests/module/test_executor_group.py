"""DataParallelExecutorGroup: MXNet's batch slicing and per-device executors."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.module.executor_group import split_input_slice


@pytest.mark.parametrize("batch,work,expected", [
    (7, [1, 1], [(0, 4), (4, 7)]),
    (10, [1, 1, 1], [(0, 3), (3, 6), (6, 10)]),
    (8, [1, 1, 1], [(0, 3), (3, 6), (6, 8)]),
    (9, [1] * 4, [(0, 2), (2, 4), (4, 6), (6, 9)]),
    (5, [1, 2], [(0, 2), (2, 5)]),
])
def test_split_input_slice_matches_mxnet(batch, work, expected):
    assert [(s.start, s.stop) for s in split_input_slice(batch, work)] == expected


def test_too_many_slices():
    with pytest.raises(ValueError, match="Too many slices"):
        split_input_slice(2, [1, 1, 1])


def test_two_devices_match_one_device():
    """Summed gradients over 2 CPU executors give the same update as one executor."""
    rng = np.random.RandomState(0)
    x = rng.randn(8, 5).astype(np.float32)
    y = rng.randint(0, 3, 8).astype(np.float32)
    data = mx.sym.Variable("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"),
                               name="softmax")
    w = {"fc_weight": mx.nd.array(rng.randn(3, 5)), "fc_bias": mx.nd.array(rng.randn(3))}
    results = []
    for ctx in ([mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]):
        mod = mx.mod.Module(net, context=ctx)
        mod.bind([("data", (8, 5))], [("softmax_label", (8,))])
        mod.init_params(arg_params=w)
        mod.init_optimizer(optimizer_params={"learning_rate": 0.5, "momentum": 0.9})
        batch = mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)])
        for _ in range(3):
            mod.forward_backward(batch)
            mod.update()
        results.append({k: v.asnumpy() for k, v in mod.get_params()[0].items()})
        assert len(mod._exec_group.execs) == len(ctx)
    for k in results[0]:
        np.testing.assert_allclose(results[0][k], results[1][k], rtol=1e-5, atol=1e-6)
    assert mod._exec_group.execs[1].arg_dict["data"].shape == (4, 5)
