"""The fused RNN op's LSTM options that MXNet's CPU build cannot check for us:
``lstm_state_clip_min/max`` (cuDNN-only in MXNet 1.9.1, whose CPU kernels ignore them; the
cell state is clipped after each update and the hidden state computed from it) with
``lstm_state_clip_nan``, and the gradients of ``projection_size`` (MXNet's CPU build runs
LSTMP forward only; tests/compat/test_rnn_ops.py compares that forward with MXNet)."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError, MXNetValueError
from mxtorch.test_utils import check_numeric_gradient

T, N, I, H = 4, 3, 5, 6


def _run(sym, inputs, is_train=False):
    ex = sym.simple_bind(mx.cpu(), data=(T, N, I), grad_req="null")
    for k, v in inputs.items():
        ex.arg_dict[k][:] = v
    return [o.asnumpy() for o in ex.forward(is_train=is_train)]


def _lstm(**kw):
    return mx.sym.RNN(mx.sym.var("data"), state_size=H, mode="lstm", state_outputs=True,
                      name="rnn", **kw)


def _inputs(sym, seed=0, scale=1.0):
    rng = np.random.RandomState(seed)
    shapes = dict(zip(sym.list_arguments(), sym.infer_shape(data=(T, N, I))[0]))
    return {k: rng.normal(0, scale, s).astype(np.float32) for k, s in shapes.items()}


def _reference_clipped(inputs, lo, hi):
    """One-layer LSTM in numpy, the cell state clipped after every update."""
    flat = inputs["rnn_parameters"].astype(np.float64)
    w_ih = flat[:4 * H * I].reshape(4 * H, I)
    w_hh = flat[4 * H * I:4 * H * (I + H)].reshape(4 * H, H)
    b = flat[4 * H * (I + H):].reshape(2, 4 * H).sum(0)
    h, c = inputs["rnn_state"][0].astype(np.float64), inputs["rnn_state_cell"][0].astype(np.float64)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    outs = []
    for x in inputs["data"].astype(np.float64):
        i, f, g, o = np.split(x @ w_ih.T + h @ w_hh.T + b, 4, axis=1)
        c = np.clip(sig(f) * c + sig(i) * np.tanh(g), lo, hi)
        h = sig(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs), h, c


def test_cell_clip_matches_a_reference_and_bounds_the_state():
    sym = _lstm(num_layers=1, lstm_state_clip_min=-0.3, lstm_state_clip_max=0.25)
    inputs = _inputs(sym)
    out, hn, cn = _run(sym, inputs)
    want_out, want_h, want_c = _reference_clipped(inputs, -0.3, 0.25)
    np.testing.assert_allclose(out, want_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cn[0], want_c, rtol=1e-5, atol=1e-6)
    assert cn.min() >= -0.3 - 1e-7 and cn.max() <= 0.25 + 1e-7
    unclipped = _run(_lstm(num_layers=1), inputs)[2]
    assert unclipped.max() > 0.25 or unclipped.min() < -0.3   # the clip did something


def test_a_wide_clip_equals_the_fused_kernel_with_gradients():
    kw = dict(num_layers=2, bidirectional=True)
    plain, wide = _lstm(**kw), _lstm(lstm_state_clip_min=-1e6, lstm_state_clip_max=1e6, **kw)
    inputs = _inputs(plain, scale=0.5)
    res = []
    for sym in (plain, wide):
        ex = sym.simple_bind(mx.cpu(), data=(T, N, I))
        for k, v in inputs.items():
            ex.arg_dict[k][:] = v
        outs = ex.forward(is_train=True)
        ex.backward([mx.nd.ones(o.shape) for o in outs])
        res.append([o.asnumpy() for o in outs] + [g.asnumpy() for g in ex.grad_arrays])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_clip_nan_stops_nan_in_the_state():
    kw = dict(num_layers=1, lstm_state_clip_min=-0.2, lstm_state_clip_max=0.2)
    inputs = _inputs(_lstm(**kw))
    inputs["rnn_state_cell"][0, 0, 0] = np.nan
    assert np.isnan(_run(_lstm(**kw), inputs)[2]).any()
    out, _, cn = _run(_lstm(lstm_state_clip_nan=True, **kw), inputs)
    assert np.isfinite(out).all() and np.isfinite(cn).all()


@pytest.mark.parametrize("kw", [
    dict(num_layers=1, projection_size=2),
    dict(num_layers=1, lstm_state_clip_min=-0.5, lstm_state_clip_max=0.5),
    dict(num_layers=2, bidirectional=True, projection_size=2, lstm_state_clip_min=-0.5,
         lstm_state_clip_max=0.5)])
def test_finite_difference_gradients(kw):
    sym = mx.sym.RNN(mx.sym.var("data"), state_size=3, mode="lstm", name="rnn", **kw)
    shapes = dict(zip(sym.list_arguments(), sym.infer_shape(data=(3, 2, 2))[0]))
    rng = np.random.RandomState(1)
    location = {k: rng.normal(0, 0.5, s) for k, s in shapes.items()}
    check_numeric_gradient(sym, location, numeric_eps=1e-4, rtol=1e-2, atol=1e-4)


@pytest.mark.parametrize("kw,error,match", [
    (dict(lstm_state_clip_min=-1.0), MXNetValueError, "go together"),
    (dict(lstm_state_clip_min=1.0, lstm_state_clip_max=-1.0), MXNetValueError, "min <= max"),
    (dict(use_sequence_length=True), MXNetNotImplementedError, "SequenceMask"),
])
def test_bad_options_are_refused(kw, error, match):
    args = {"sequence_length": mx.sym.var("len")} if kw.get("use_sequence_length") else {}
    sym = mx.sym.RNN(mx.sym.var("data"), state_size=H, mode="lstm", name="rnn", num_layers=1,
                     **args, **kw)
    shapes = {"len": (N,)} if args else {}
    with pytest.raises(error, match=match):
        sym.simple_bind(mx.cpu(), data=(T, N, I), **shapes).forward()


def test_projection_needs_lstm():
    for mode, size, match in (("gru", 2, "mode='lstm'"), ("lstm", H, "smaller|state_size")):
        sym = mx.sym.RNN(mx.sym.var("data"), state_size=H, mode=mode, name="rnn",
                         num_layers=1, projection_size=size)
        with pytest.raises(MXNetValueError, match=match):
            sym.simple_bind(mx.cpu(), data=(T, N, I)).forward()
