"""Ops specialized at bind (``OpDef.specialize``): the specialized forward gives the same
outputs and gradients as the op's general forward, bit for bit (BatchNorm, on torch's
fused kernel: to float rounding, moving statistics included), the cases it does not cover
keep the general forward, and bad parameters raise the same errors as before, at the same
call."""
import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.base import MXNetError, MXNetValueError

RNG = np.random.RandomState(3)


def _node(sym):
    node, _ = sym._outputs[0]
    return node.op, node.params


def _compare(sym, *inputs, train=True, labels=0):
    """Outputs and input gradients of the specialized and the general forward agree (the
    last ``labels`` inputs get no gradient)."""
    op, p = _node(sym)
    fast = op.specialize(p)
    assert fast is not None and fast is not op.forward
    results = []
    for fwd in (fast, op.forward):
        ins = [torch.tensor(x, requires_grad=train and i < len(inputs) - labels)
               for i, x in enumerate(inputs)]
        out = fwd(p, train, *ins)
        outs = out if isinstance(out, tuple) else (out,)
        grads = []
        if train:
            outs[0].backward(torch.ones_like(outs[0]))
            grads = [t.grad for t in ins if t.requires_grad]
        results.append(([o.detach() for o in outs], grads))
    (outs_a, grads_a), (outs_b, grads_b) = results
    assert len(outs_a) == len(outs_b)
    for a, b in zip(outs_a + grads_a, outs_b + grads_b):
        assert a.shape == b.shape and torch.equal(a, b)
    return outs_a


def _x(*shape):
    return RNG.randn(*shape).astype(np.float32)


@pytest.mark.parametrize("kw, data, weight", [
    (dict(kernel=(3,), num_filter=4, stride=(2,), pad=(1,)), (2, 3, 9), (4, 3, 3)),
    (dict(kernel=(5, 5), num_filter=6), (2, 1, 12, 12), (6, 1, 5, 5)),
    (dict(kernel=(3, 3), num_filter=4, stride=(2, 1), pad=(1, 2), dilate=(2, 1), num_group=2,
          layout="NCHW"), (1, 4, 9, 8), (4, 2, 3, 3)),
    (dict(kernel=(2, 2, 2), num_filter=2, stride=(1, 2, 1)), (1, 2, 4, 5, 4), (2, 2, 2, 2, 2)),
])
def test_convolution_matches_general_forward(kw, data, weight):
    sym = mx.sym.Convolution(mx.sym.Variable("data"), name="c", **kw)
    _compare(sym, _x(*data), _x(*weight), _x(kw["num_filter"]))
    nobias = mx.sym.Convolution(mx.sym.Variable("data"), name="c", no_bias=True, **kw)
    _compare(nobias, _x(*data), _x(*weight))


@pytest.mark.parametrize("kw, data", [
    (dict(kernel=(2, 2), stride=(2, 2), pool_type="max"), (2, 3, 8, 8)),
    (dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max"), (1, 2, 7, 7)),
    (dict(kernel=(3,), pool_type="max", pad=(1,)), (2, 3, 9)),
    (dict(kernel=(2, 2, 2), pool_type="max", stride=(2, 1, 2)), (1, 2, 4, 5, 6)),
    (dict(kernel=(3, 3), stride=(1, 2), pad=(1, 1), pool_type="avg"), (2, 2, 6, 7)),
    (dict(kernel=(3, 3), pad=(1, 1), pool_type="avg", count_include_pad=False), (1, 2, 5, 5)),
    (dict(kernel=(2, 3), pad=(1, 1), pool_type="sum"), (1, 3, 6, 6)),
    (dict(kernel=(3,), pool_type="avg", layout="NCW"), (2, 2, 8)),
])
def test_pooling_matches_general_forward(kw, data):
    sym = mx.sym.Pooling(mx.sym.Variable("data"), name="p", **kw)
    outs = _compare(sym, _x(*data))
    # max pooling has MXNet's hidden workspace output as well
    assert len(outs) == (2 if kw["pool_type"] == "max" else 1)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
def test_activation_matches_general_forward(act):
    _compare(mx.sym.Activation(mx.sym.Variable("data"), act_type=act), _x(3, 5))


@pytest.mark.parametrize("kw, data, label", [
    (dict(), (4, 5), np.array([0, 4, 2, 7], np.float32)),       # 7: no such class
    (dict(normalization="batch", grad_scale=0.5), (4, 5), np.array([1, 0, -1, 3.7], np.float32)),
    (dict(out_grad=True), (3, 4), np.array([3, 1, 2], np.float32)),
    (dict(), (2, 3, 2, 2), np.array([5, 11], np.float32)),      # flattened to (2, 12)
])
def test_softmax_output_matches_general_forward(kw, data, label):
    sym = mx.sym.SoftmaxOutput(mx.sym.Variable("data"), name="softmax", **kw)
    for train in (True, False):
        _compare(sym, _x(*data), label, train=train, labels=1)


def test_softmax_output_gradient_is_mxnets():
    """prob - onehot(label) for labels in range, prob for a label outside [0, classes)."""
    x = _x(3, 4)
    label = np.array([2, -1, 9], np.float32)
    ex = mx.sym.SoftmaxOutput(mx.sym.Variable("data"), name="softmax").simple_bind(
        mx.cpu(), data=(3, 4))
    ex.arg_dict["data"][:] = x
    ex.arg_dict["softmax_label"][:] = label
    prob = ex.forward(is_train=True)[0].asnumpy()
    ex.backward()
    e = np.exp(x - x.max(1, keepdims=True))
    expected = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(prob, expected, rtol=1e-6)
    onehot = np.zeros_like(expected)
    onehot[0, 2] = 1
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(), expected - onehot, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda d: mx.sym.Pooling(d, kernel=(2, 2), pool_type="max", global_pool=True),
    lambda d: mx.sym.Pooling(d, kernel=(2, 2), pool_type="max", pooling_convention="full"),
    lambda d: mx.sym.Pooling(d, kernel=(2, 2), pool_type="lp", p_value=2),
    lambda d: mx.sym.Pooling(d, kernel=(2, 2), pool_type="avg", layout="NHWC"),
    lambda d: mx.sym.Pooling(d, kernel=(3, 3), pad=(2, 2), pool_type="max"),
    lambda d: mx.sym.Pooling(d, kernel=(2, 2), pad=(1, 1, 1), pool_type="max"),
    lambda d: mx.sym.Convolution(d, kernel=(3, 3), num_filter=2, layout="NHWC"),
    lambda d: mx.sym.Convolution(d, kernel=(3, 3), num_filter=2, stride=(1, 1, 1)),
    lambda d: mx.sym.SoftmaxOutput(d, multi_output=True),
    lambda d: mx.sym.SoftmaxOutput(d, preserve_shape=True),
])
def test_cases_not_covered_keep_the_general_forward(make):
    op, p = _node(make(mx.sym.Variable("data")))
    assert op.specialize(p) is None
    assert op.node_forward(p) is op.forward


def _bind_direct(sym, **arrays):
    """Symbol.bind with explicit arrays: no shape inference before forward."""
    return sym.bind(mx.cpu(), {n: mx.nd.array(v) for n, v in arrays.items()})


def test_wrong_data_rank_raises_mxnets_error_at_forward():
    pool = mx.sym.Pooling(mx.sym.Variable("data"), kernel=(2, 2), pool_type="max", name="p")
    ex = _bind_direct(pool, data=_x(2, 3, 8))          # 1 spatial dim for a 2-D kernel
    with pytest.raises(MXNetValueError, match=r"kernel \(2, 2\) must have 1 dims"):
        ex.forward()
    conv = mx.sym.Convolution(mx.sym.Variable("data"), kernel=(3, 3), num_filter=2, name="c")
    ex = _bind_direct(conv, data=_x(2, 8, 8), c_weight=_x(2, 2, 3, 3), c_bias=_x(2))
    with pytest.raises(MXNetValueError, match="a 2-D kernel needs 4-D data"):
        ex.forward()


def test_bad_parameters_raise_as_before():
    data = mx.sym.Variable("data")
    # invalid geometry: the general forward's errors, at shape inference (simple_bind)
    with pytest.raises(MXNetError, match=r"stride=\(1, 1, 1\) has 3 dims but the kernel has 2"):
        mx.sym.Convolution(data, kernel=(3, 3), num_filter=2, stride=(1, 1, 1)).simple_bind(
            mx.cpu(), data=(1, 1, 6, 6))
    with pytest.raises(MXNetError, match=r"pad \(2, 2\) must be smaller than the kernel"):
        mx.sym.Pooling(data, kernel=(2, 2), pad=(2, 2)).simple_bind(mx.cpu(),
                                                                   data=(1, 1, 6, 6))
    # and at forward when bound without shape inference
    pool = mx.sym.Pooling(data, kernel=(2, 2), pad=(2, 2), name="p")
    ex = _bind_direct(pool, data=_x(1, 1, 6, 6))
    with pytest.raises(MXNetValueError, match=r"pad \(2, 2\) must be smaller than the kernel"):
        ex.forward()


def test_compiled_graph_calls_the_specialized_forward():
    sym = mx.sym.Pooling(mx.sym.Activation(mx.sym.Variable("data"), act_type="relu"),
                         kernel=(2, 2), stride=(2, 2), name="p")
    ex = sym.simple_bind(mx.cpu(), data=(1, 1, 4, 4))
    env = ex._graph.infer.__globals__
    ops = [v for k, v in env.items() if k.startswith("F")]
    assert ops and all(f.__name__ == "forward" for f in ops)   # the specialized closures
    x = _x(1, 1, 4, 4)
    out = ex.forward(data=x)[0].asnumpy()
    np.testing.assert_array_equal(out, np.maximum(x, 0).reshape(1, 1, 2, 2, 2, 2)
                                  .max(axis=(3, 5)))


# ------------------------------------------------------------------ BatchNorm
def _bn_run(fwd, p, is_train, x, gamma, beta, mean, var, backward=True):
    """Outputs, input gradients and moving statistics after ``fwd`` (and a backward of a
    fixed head gradient when training)."""
    ins = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    aux = [torch.tensor(mean), torch.tensor(var)]
    outs = fwd(p, is_train, *ins, *aux)
    grads = []
    if backward:
        outs[0].backward(torch.tensor(RNG_BN.uniform(-1, 1, outs[0].shape).astype(x.dtype)))
        grads = [t.grad if t.grad is not None else torch.zeros_like(t) for t in ins]
    return [o.detach() for o in outs], grads, aux


RNG_BN = np.random.RandomState(11)


@pytest.mark.parametrize("kw", [{}, {"fix_gamma": False}, {"use_global_stats": True},
                                {"fix_gamma": False, "momentum": 0.5, "eps": 1e-5}])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 5), (2, 3, 4)])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_matches_general_forward(kw, shape, train):
    """torch's fused batch norm: the same outputs (the third is the inverse std), gradients
    and moving statistics (biased variance, updated in backward) as the general forward."""
    op, p = _node(mx.sym.BatchNorm(mx.sym.Variable("data"), **kw))
    fast = op.specialize(p)
    assert fast is not None
    c = shape[1]
    x = (RNG.randn(*shape) * 2 + 1).astype("f")
    args = (x, RNG.uniform(0.5, 1.5, c).astype("f"), RNG.randn(c).astype("f"),
            RNG.randn(c).astype("f"), RNG.uniform(0.5, 2, c).astype("f"))
    state = RNG_BN.get_state()
    got = _bn_run(fast, p, train, *args)
    RNG_BN.set_state(state)
    want = _bn_run(op.forward, p, train, *args)
    for a, b in zip(sum(got, []), sum(want, [])):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=2e-5)
    if train and not kw.get("use_global_stats"):   # the statistics did move
        assert not np.allclose(got[2][0].numpy(), args[3])


def test_batchnorm_forward_alone_leaves_moving_stats():
    """MXNet updates the moving statistics in backward: a training forward alone keeps them."""
    op, p = _node(mx.sym.BatchNorm(mx.sym.Variable("data")))
    x = RNG.randn(4, 3).astype("f")
    mean, var = np.zeros(3, "f"), np.ones(3, "f")
    _, _, aux = _bn_run(op.specialize(p), p, True, x, np.ones(3, "f"), np.zeros(3, "f"), mean,
                        var, backward=False)
    np.testing.assert_array_equal(aux[0].numpy(), mean)
    np.testing.assert_array_equal(aux[1].numpy(), var)


def test_batchnorm_single_value_per_channel_and_other_axes_keep_the_general_forward():
    op, p = _node(mx.sym.BatchNorm(mx.sym.Variable("data"), axis=-1))
    assert op.specialize(p) is None
    op, p = _node(mx.sym.BatchNorm(mx.sym.Variable("data"), fix_gamma=False))
    args = (RNG.randn(1, 3).astype("f"), np.ones(3, "f"), np.zeros(3, "f"), np.zeros(3, "f"),
            np.ones(3, "f"))
    state = RNG_BN.get_state()
    got = _bn_run(op.specialize(p), p, True, *args)     # batch 1: MXNet's variance is 0
    RNG_BN.set_state(state)
    want = _bn_run(op.forward, p, True, *args)
    for a, b in zip(sum(got, []), sum(want, [])):
        assert torch.equal(a, b)


def test_batchnorm_low_precision_data_with_float32_parameters():
    """bfloat16 data with float32 gamma/beta/statistics (as under autocast): torch's kernel
    takes them mixed; the output stays bfloat16 and agrees with the float32 computation to
    bfloat16 precision."""
    op, p = _node(mx.sym.BatchNorm(mx.sym.Variable("data"), fix_gamma=False))
    x = RNG.randn(8, 3, 4, 4).astype("f")
    params = [torch.tensor(a) for a in (RNG.uniform(0.5, 1.5, 3).astype("f"),
                                        RNG.randn(3).astype("f"), np.zeros(3, "f"),
                                        np.ones(3, "f"))]
    out = op.specialize(p)(p, True, torch.tensor(x).bfloat16(), *params)[0]
    ref = op.forward(p, True, torch.tensor(x), *[t.clone() for t in params])[0]
    assert out.dtype == torch.bfloat16
    np.testing.assert_allclose(out.float().numpy(), ref.numpy(), rtol=0.05, atol=0.05)
