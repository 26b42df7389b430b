"""The nn-layer operators give MXNet 1.9.1's outputs, input gradients and aux states after
one forward(is_train)+backward step (fixtures from tools/gen_op_fixtures_nn.py, run under
the real MXNet), rebuilt from Python calls and from MXNet's JSON; plus the behaviours that
have no fixture: channel-last convolutions (MXNet's CPU build cannot run them), random
rrelu slopes and Dropout masks, and the errors MXNet raises."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "ops_nn")
_spec = importlib.util.spec_from_file_location(
    "gen_op_nn", os.path.join(ROOT, "tools", "gen_op_fixtures_nn.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

CASES = sorted(gen.CASES)
RTOL, ATOL = 1e-5, 1e-6  # float32; every case but those below passes at this tolerance
# MXNet's oneDNN softrelu loses float32 precision far below 0 (log(1 + e^-25.8) comes out
# as -1.9e-6, e^-12 as 5.7e-6 instead of 6.2e-6); torch's softplus is exact there
LOOSER = {"act_softrelu_large": dict(atol=3e-6)}
# rrelu's mask output in inference is memory MXNet never writes (zeros or garbage); ours
# is zeros
UNDEFINED = {"rrelu_infer": {"out:1"}}


def _check(opcase, name, sym):
    ref, inputs, aux0, ograds = opcase.load(FIX, name)
    tol = dict(dict(rtol=RTOL, atol=ATOL), **LOOSER.get(name, {}))
    opcase.compare(name, ref, gen.step(mx, name, sym, inputs, aux0, ograds), **tol,
                   skip=UNDEFINED.get(name, ()))


@pytest.mark.parametrize("name", CASES)
def test_op_from_python(opcase, name):
    _check(opcase, name, gen.build(mx, name))


@pytest.mark.parametrize("name", CASES)
def test_op_from_mxnet_json(opcase, name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    _check(opcase, name, mx.sym.load_json(str(ref["json"])))


@pytest.mark.parametrize("name", CASES)
def test_op_json_identical(name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    assert gen.build(mx, name).tojson() == str(ref["json"])


@pytest.mark.parametrize("name", CASES)
def test_op_names_shapes_types(name):
    """list_outputs/internals (hidden outputs stay hidden), inferred shapes and types."""
    ref = np.load(os.path.join(FIX, name + ".npz"))
    assert gen.facts(mx, name, gen.build(mx, name)) == json.loads(str(ref["facts"]))


def test_all_fixtures_have_a_case():
    names = {f[:-4] for f in os.listdir(FIX) if f.endswith(".npz")}
    assert names == set(CASES)


# ---------------------------------------------------------------- channel-last convolutions
def _to_last(x):
    return np.moveaxis(x, 1, -1)


@pytest.mark.parametrize("name,op,layout", [
    ("conv2d_layout", "Convolution", "NHWC"), ("conv3d", "Convolution", "NDHWC"),
    ("deconv2d_stride_pad_adj", "Deconvolution", "NHWC"),
    ("deconv3d", "Deconvolution", "NDHWC")])
def test_channel_last_matches_transposed_fixture(opcase, name, op, layout):
    """MXNet runs NHWC/NDHWC convolutions only with cuDNN; they must give the
    channel-first fixture's numbers on transposed data, weight and gradients."""
    ref, inputs, _, ograds = opcase.load(FIX, name)
    attrs = {k: v for k, v in gen.build(mx, name).list_attr().items() if k != "layout"}
    sym = getattr(mx.sym, op)(mx.sym.Variable("data"), name="op", layout=layout, **attrs)
    ex = sym.simple_bind(mx.cpu(), data=_to_last(inputs["data"]).shape)
    for n, v in inputs.items():
        ex.arg_dict[n][:] = v if n.endswith("bias") else _to_last(v)
    out = ex.forward(is_train=True)[0].asnumpy()
    np.testing.assert_allclose(out, _to_last(ref["out:0"]), rtol=RTOL, atol=ATOL)
    ex.backward(mx.nd.array(_to_last(ograds[0])))
    for n in inputs:
        want = ref["grad:" + n]
        got = ex.grad_dict[n].asnumpy()
        np.testing.assert_allclose(got, want if n.endswith("bias") else _to_last(want),
                                   rtol=RTOL, atol=ATOL, err_msg=n)


# ---------------------------------------------------------------- random modes
def test_rrelu_training_draws_slopes_in_range():
    """rrelu (which MXNet 1.9.1's CPU build cannot train) draws one slope per element from
    U(lower_bound, upper_bound) in training; the gradient uses the same slopes."""
    lo, hi = 0.1, 0.4
    sym = mx.sym.LeakyReLU(mx.sym.Variable("data"), act_type="rrelu", lower_bound=lo,
                           upper_bound=hi)
    x = -np.ones((100, 100), np.float32)
    x[:, :10] = 2.0
    ex = sym.simple_bind(mx.cpu(), data=x.shape)
    ex.arg_dict["data"][:] = x
    out = ex.forward(is_train=True)[0].asnumpy()
    slopes = -out[:, 10:]
    assert lo <= slopes.min() and slopes.max() <= hi
    assert abs(slopes.mean() - (lo + hi) / 2) < 0.01       # mean of U(lo, hi)
    assert abs(slopes.std() - (hi - lo) / 12 ** 0.5) < 0.01  # its std
    np.testing.assert_array_equal(out[:, :10], 2.0)
    ex.backward(mx.nd.ones(x.shape))
    grad = ex.grad_dict["data"].asnumpy()
    np.testing.assert_allclose(grad[:, 10:], slopes, rtol=1e-6)
    np.testing.assert_array_equal(grad[:, :10], 1.0)
    infer = ex.forward(is_train=False)[0].asnumpy()
    np.testing.assert_allclose(infer[:, 10:], -(lo + hi) / 2, rtol=1e-6)


def test_dropout_axes_share_the_mask():
    """axes=(1,) draws one keep/drop per (batch, last) position, shared along axis 1."""
    p = 0.4
    x = np.ones((50, 6, 40), np.float32)
    sym = mx.sym.Dropout(mx.sym.Variable("data"), p=p, axes=(1,))
    ex = sym.simple_bind(mx.cpu(), data=x.shape)
    ex.arg_dict["data"][:] = x
    out = ex.forward(is_train=True)[0].asnumpy()
    assert (out == out[:, :1, :]).all()
    kept = out[:, 0, :] != 0
    assert abs(1 - kept.mean() - p) < 0.04
    np.testing.assert_allclose(out[:, 0, :][kept], 1 / (1 - p), rtol=1e-6)
    ex.backward(mx.nd.ones(x.shape))
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(), out, rtol=1e-6)


# ---------------------------------------------------------------- errors MXNet raises too
def _infer(sym, **shapes):
    return sym.infer_shape(**shapes)


@pytest.mark.parametrize("build,shape,match", [
    (lambda d: mx.sym.Pooling(d, kernel=(3,), stride=(2,), pooling_convention="same"),
     (2, 3, 7), "same"),
    (lambda d: mx.sym.Pooling(d, kernel=(2, 2), pool_type="lp", p_value=4), (1, 1, 4, 4),
     "p_value"),
    (lambda d: mx.sym.Pooling(d, kernel=(2, 2), pool_type="lp"), (1, 1, 4, 4), "p_value"),
    (lambda d: mx.sym.Pooling(d, kernel=(2,)), (1, 1, 4, 4), "kernel"),
    (lambda d: mx.sym.Pooling(d, kernel=(2, 2), pad=(2, 2)), (1, 1, 4, 4), "pad"),
    (lambda d: mx.sym.Deconvolution(d, kernel=(3, 3), stride=(2, 2), adj=(2, 2),
                                    num_filter=2), (1, 2, 4, 4), "adj"),
    (lambda d: mx.sym.Deconvolution(d, kernel=(3,), stride=(2,), target_shape=(20,),
                                    num_filter=2), (1, 2, 4), "target_shape"),
    (lambda d: mx.sym.Convolution(d, kernel=(3, 3), num_filter=2), (1, 2, 5), "4-D data"),
    (lambda d: mx.sym.Convolution(d, kernel=(3, 3), num_filter=2, stride=(2,)),
     (1, 2, 5, 5), "stride"),
    (lambda d: mx.sym.Convolution(d, kernel=(3,), num_filter=3, num_group=2), (1, 4, 5),
     "num_group"),
    (lambda d: mx.sym.Convolution(d, kernel=(3,), num_filter=2, layout="NHWC"), (1, 4, 5),
     "layout"),
    (lambda d: mx.sym.Dropout(d, p=1.5), (2, 3), "p=1.5"),
    (lambda d: mx.sym.Dropout(d, axes=(2,)), (2, 3), "axes"),
    (lambda d: mx.sym.GroupNorm(d, num_groups=3), (2, 4, 5), "num_groups"),
    (lambda d: mx.sym.GroupNorm(d, num_groups=2), (2, 4), "3-D"),
    (lambda d: mx.sym.InstanceNorm(d), (2, 4), "3-D"),
    (lambda d: mx.sym.LRN(d, nsize=3), (2, 4, 5), "4-D"),
    (lambda d: mx.sym.L2Normalization(d, mode="channel"), (2, 4), "3-D"),
    (lambda d: mx.sym.SoftmaxActivation(d, mode="channel"), (4,), "channel"),
    (lambda d: mx.sym.LeakyReLU(d, act_type="prelu"), (5,), "channel"),
    (lambda d: mx.sym.LeakyReLU(d, mx.sym.Variable("gamma", shape=(2,)), act_type="prelu"),
     (2, 3), "gamma"),
    (lambda d: mx.sym.LayerNorm(d, axis=3), (2, 4, 5), "axis"),
])
def test_bad_parameters_raise_clear_errors(build, shape, match):
    sym = build(mx.sym.Variable("data"))
    with pytest.raises(MXNetError, match=match):
        ex = sym.simple_bind(mx.cpu(), data=shape)
        ex.forward(is_train=True)


def test_small_inputs_mxnet_accepts():
    """L2Normalization(instance) of 1-D data normalizes every element by itself and
    SoftmaxActivation(instance) of 1-D data is a softmax (MXNet 1.9.1's results)."""
    x = np.array([3.0, -0.5, 2.0], np.float32)
    l2 = mx.sym.L2Normalization(mx.sym.Variable("data")).simple_bind(mx.cpu(), data=(3,))
    l2.arg_dict["data"][:] = x
    np.testing.assert_allclose(l2.forward()[0].asnumpy(), np.sign(x), rtol=1e-6)
    sm = mx.sym.SoftmaxActivation(mx.sym.Variable("data")).simple_bind(mx.cpu(), data=(3,))
    sm.arg_dict["data"][:] = x
    np.testing.assert_allclose(sm.forward()[0].asnumpy(), np.exp(x) / np.exp(x).sum(),
                               rtol=1e-6)


@pytest.mark.parametrize("op", ["log_softmax", "softmin"])
def test_use_length_only_on_softmax(op):
    """MXNet 1.9.1 fails on log_softmax/softmin with use_length=True."""
    sym = getattr(mx.sym, op)(mx.sym.Variable("data"), use_length=True)
    assert sym.list_arguments() == ["data"]
    ex = sym.simple_bind(mx.cpu(), data=(2, 3))
    with pytest.raises(MXNetError, match="use_length"):
        ex.forward()
