"""Ops specialized at bind (``OpDef.specialize``): the specialized forward gives the same
outputs and gradients as the op's general forward, bit for bit, the cases it does not
cover keep the general forward, and bad parameters raise the same errors as before, at
the same call."""
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
