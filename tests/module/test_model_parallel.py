"""Model parallelism with ctx groups (MXNet 1.9.1 test_module_ctx_group and
test_model_parallel's chain test): same values as without groups, arrays on the
groups' contexts."""
import numpy as np
import pytest

import mxtorch as mx


def _chain_sym():
    with mx.AttrScope(ctx_group="dev1"):
        a = mx.sym.Variable("data")
        fc1 = mx.sym.FullyConnected(a, name="fc1", num_hidden=8)
        act1 = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    with mx.AttrScope(ctx_group="dev2"):
        fc2 = mx.sym.FullyConnected(act1, name="fc2", num_hidden=4)
        out = mx.sym.SoftmaxOutput(fc2, name="softmax")
    return out


@pytest.mark.parametrize("group2ctxs,contexts", [
    ({"dev1": mx.cpu(1), "dev2": mx.cpu(2)}, [mx.cpu(0)]),
    ([{"dev1": mx.cpu(1), "dev2": mx.cpu(2)}], [mx.cpu(0)]),
    ({"dev1": [mx.cpu(1), mx.cpu(3)], "dev2": [mx.cpu(2), mx.cpu(4)]}, [mx.cpu(0), mx.cpu(5)]),
])
def test_ctx_group_matches_single_group(group2ctxs, contexts):
    sym = _chain_sym()
    rng = np.random.RandomState(0)
    x = rng.randn(6, 5).astype(np.float32)
    y = rng.randint(0, 4, 6).astype(np.float32)
    params = {"fc1_weight": rng.randn(8, 5), "fc1_bias": rng.randn(8),
              "fc2_weight": rng.randn(4, 8), "fc2_bias": rng.randn(4)}
    params = {k: mx.nd.array(v) for k, v in params.items()}
    grads = []
    for g2c in (None, group2ctxs):
        mod = mx.mod.Module(sym, context=contexts, group2ctxs=g2c)
        mod.bind([("data", (6, 5))], [("softmax_label", (6,))], inputs_need_grad=True)
        mod.init_params(arg_params=params)
        mod.forward_backward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]))
        grads.append(mod.get_input_grads()[0].asnumpy())
        if g2c is not None and len(contexts) == 1:
            ex = mod._exec_group.execs[0]
            assert ex.grad_dict["fc1_weight"].context == mx.cpu(1)
            assert ex.grad_dict["fc2_weight"].context == mx.cpu(2)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_bad_group2ctxs():
    with pytest.raises(ValueError, match="group2ctxs"):
        mod = mx.mod.Module(_chain_sym(), context=[mx.cpu(0), mx.cpu(1)],
                            group2ctxs=[{"dev1": mx.cpu(1)}])
        mod.bind([("data", (6, 5))], [("softmax_label", (6,))])


def test_symbol_bind_group2ctx_chain():
    """test_model_parallel.test_chain: (d1 + d2) * 3 + d3 split over two groups."""
    with mx.AttrScope(ctx_group="dev1"):
        data1 = mx.sym.Variable("data1")
        data2 = mx.sym.Variable("data2")
        data = data1 + data2
        data = data * 2
    with mx.AttrScope(ctx_group="dev2"):
        data3 = mx.sym.Variable("data3")
        net = data + data3
        net = net * 3
    ctx1, ctx2 = mx.cpu(1), mx.cpu(2)
    shape = (4, 5)
    arr = [mx.nd.empty(shape, ctx=c) for c in (ctx1, ctx1, ctx2)]
    arr_grad = [mx.nd.empty(shape, ctx=c) for c in (ctx1, ctx1, ctx2)]
    for a in arr:
        a[:] = np.random.uniform(-1, 1, shape)
    exec1 = net.bind(ctx1, args=arr, args_grad=arr_grad,
                     group2ctx={"dev1": ctx1, "dev2": ctx2})
    arr2 = [a.copyto(ctx1) for a in arr]
    arr_grad2 = [a.copyto(ctx1) for a in arr_grad]
    exec2 = net.bind(ctx1, args=arr2, args_grad=arr_grad2)
    exec1.forward(is_train=True)
    exec2.forward(is_train=True)
    np.testing.assert_allclose(exec1.outputs[0].asnumpy(), exec2.outputs[0].asnumpy())
    expected = ((arr[0].asnumpy() + arr[1].asnumpy()) * 2 + arr[2].asnumpy()) * 3
    np.testing.assert_allclose(exec1.outputs[0].asnumpy(), expected, rtol=1e-6)
    out_grad = mx.nd.ones(shape, ctx=ctx1)
    exec1.backward([out_grad])
    exec2.backward([out_grad.copyto(ctx1)])
    for a, b in zip(arr_grad, arr_grad2):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy())
    np.testing.assert_allclose(arr_grad[0].asnumpy(), 6 * np.ones(shape))
    np.testing.assert_allclose(arr_grad[2].asnumpy(), 3 * np.ones(shape))
