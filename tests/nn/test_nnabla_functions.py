"""F functions against numpy and the facts of reference section 6 (shapes, defaults,
formulas), plus a finite-difference check of backward."""
import numpy as np
import pytest

import mxtorch.nn as nn
import mxtorch.nn.functions as F
from mxtorch.base import MXNetValueError


def V(a, need_grad=False):
    return nn.Variable.from_numpy_array(np.asarray(a, dtype=np.float32), need_grad=need_grad)


def run(y):
    y.forward()
    return y.d


def test_relu_inplace_is_ignored():
    x = V([-1.0, 2.0])
    np.testing.assert_array_equal(run(F.relu(x, inplace=True)), [0.0, 2.0])
    np.testing.assert_array_equal(x.d, [-1.0, 2.0])        # input never modified


def test_add2_broadcasts():
    y = F.add2(V(np.ones((2, 2))), V([[1.0], [2.0]]), inplace=True)
    assert y.shape == (2, 2)
    np.testing.assert_array_equal(run(y), [[2, 2], [3, 3]])


def test_mean_sum_reduce_all_to_scalar_shape():
    x = V(np.arange(6).reshape(2, 3))
    assert F.mean(x).shape == () and F.sum(x).shape == ()
    assert run(F.sum(x)) == 15
    np.testing.assert_allclose(run(F.mean(x, axis=1)), [1, 4])
    assert F.sum(x, axis=(0, 1), keepdims=True).shape == (1, 1)
    np.testing.assert_allclose(run(F.max(x, axis=0)), [3, 4, 5])


def test_softmax_cross_entropy_shape_value_and_ignored_label():
    logits = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], np.float32)
    t = nn.Variable.from_numpy_array(np.array([[1], [-1]], np.int64))
    y = F.softmax_cross_entropy(V(logits), t)
    assert y.shape == (2, 1)
    out = run(y)
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    np.testing.assert_allclose(out[0, 0], -np.log(p[1]), rtol=1e-5)
    assert out[1, 0] == 0.0
    float_target = V([[2.0], [0.0]])                  # float labels are accepted
    assert run(F.softmax_cross_entropy(V(logits), float_target)).shape == (2, 1)


def test_softmax_cross_entropy_rejects_1d_target():
    with pytest.raises(MXNetValueError, match=r"reshape\(\(-1, 1\)\)"):
        F.softmax_cross_entropy(V(np.zeros((4, 3))), V(np.zeros(4)))


def test_softmax_default_axis_is_last():
    x = np.random.RandomState(0).randn(2, 3, 4).astype(np.float32)
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(run(F.softmax(V(x))), e / e.sum(-1, keepdims=True), rtol=1e-5)


def test_top_n_error():
    x = V([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    t = nn.Variable.from_numpy_array(np.array([[1], [2]]))
    np.testing.assert_array_equal(run(F.top_n_error(x, t)), [[0], [1]])
    np.testing.assert_array_equal(run(F.top_n_error(x, t, n=3)), [[0], [0]])


def test_pooling_shapes_and_border():
    x = V(np.arange(25).reshape(1, 1, 5, 5))
    assert F.max_pooling(x, (2, 2)).shape == (1, 1, 2, 2)
    y = F.max_pooling(x, (2, 2), ignore_border=False)
    assert y.shape == (1, 1, 3, 3)
    assert run(y)[0, 0, 2, 2] == 24
    np.testing.assert_array_equal(run(F.max_pooling(x, (2, 2)))[0, 0], [[6, 8], [16, 18]])
    assert F.global_average_pooling(V(np.ones((2, 3, 4, 4)))).shape == (2, 3, 1, 1)


def test_average_pooling_including_pad():
    x = V(np.ones((1, 1, 2, 2)))
    inc = run(F.average_pooling(x, (2, 2), pad=(1, 1), including_pad=True))
    exc = run(F.average_pooling(x, (2, 2), pad=(1, 1), including_pad=False))
    assert inc[0, 0, 0, 0] == pytest.approx(0.25)     # one real pixel over four
    assert exc[0, 0, 0, 0] == pytest.approx(1.0)


def test_dropout_scales_kept_values():
    y = run(F.dropout(V(np.ones((100, 100))), p=0.5))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6


def test_affine_uses_in_by_out_weights():
    x = np.random.RandomState(1).randn(4, 3, 2).astype(np.float32)
    w = np.random.RandomState(2).randn(6, 5).astype(np.float32)
    b = np.arange(5, dtype=np.float32)
    out = run(F.affine(V(x), V(w), V(b)))
    np.testing.assert_allclose(out, x.reshape(4, 6) @ w + b, rtol=1e-5, atol=1e-5)
    w2 = np.random.RandomState(2).randn(6, 2, 3).astype(np.float32)
    assert F.affine(V(x), V(w2)).shape == (4, 2, 3)


def test_convolution_matches_numpy():
    rs = np.random.RandomState(3)
    x = rs.randn(2, 3, 5, 5).astype(np.float32)
    w = rs.randn(4, 3, 3, 3).astype(np.float32)
    out = run(F.convolution(V(x), V(w), None, pad=(1, 1)))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((2, 4, 5, 5), np.float32)
    for i in range(5):
        for j in range(5):
            ref[:, :, i, j] = np.einsum("nchw,ochw->no", xp[:, :, i:i + 3, j:j + 3], w)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_batch_normalization_formula_and_running_stats():
    rs = np.random.RandomState(4)
    x = rs.randn(5, 3).astype(np.float32)
    beta, gamma = V(np.full((1, 3), 0.5)), V(np.full((1, 3), 2.0))
    mean, var = V(np.zeros((1, 3))), V(np.ones((1, 3)))
    out = run(F.batch_normalization(V(x), beta, gamma, mean, var, batch_stat=True))
    m, v = x.mean(0), x.var(0)
    np.testing.assert_allclose(out, (x - m) / np.sqrt(v + 1e-5) * 2.0 + 0.5, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(mean.d, 0.1 * m[None], rtol=1e-5)
    np.testing.assert_allclose(var.d, 0.9 + 0.1 * x.var(0, ddof=1)[None], rtol=1e-5)
    frozen = run(F.batch_normalization(V(x), beta, gamma, mean, var, batch_stat=False))
    np.testing.assert_allclose(frozen, (x - mean.d) / np.sqrt(var.d + 1e-5) * 2.0 + 0.5,
                               rtol=1e-4, atol=1e-5)


def test_layer_normalization():
    x = np.random.RandomState(5).randn(2, 3, 4).astype(np.float32)
    out = run(F.layer_normalization(V(x), V(np.zeros((1, 3, 4))), V(np.ones((1, 3, 4)))))
    m = x.mean((1, 2), keepdims=True)
    v = x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - m) / np.sqrt(v + 1e-5), rtol=1e-4, atol=1e-5)


def test_shape_functions():
    a, b = V(np.ones((2, 3))), V(np.zeros((2, 1)))
    assert F.concatenate(a, b).shape == (2, 4)
    assert F.concatenate(a, a, axis=0).shape == (4, 3)
    assert F.reshape(a, (3, 2)).shape == (3, 2)
    assert F.transpose(a, (1, 0)).shape == (3, 2)
    assert F.stack(a, a, axis=1).shape == (2, 2, 3)
    parts = F.split(V(np.arange(6).reshape(2, 3)), axis=1)
    assert len(parts) == 3 and parts[2].shape == (2,)
    parts[2].forward()
    np.testing.assert_array_equal(parts[2].d, [2, 5])
    assert F.identity(a).shape == (2, 3)
    np.testing.assert_array_equal(run(F.slice(V(np.arange(6).reshape(2, 3)), [0, 1], [2, 3],
                                              [1, 2])), [[1], [4]])


def test_embed_picks_rows():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    idx = nn.Variable.from_numpy_array(np.array([[3, 0]]))
    np.testing.assert_array_equal(run(F.embed(idx, V(w))), w[[[3, 0]]])


def _np_lstm(x, h, c, w0, w, b, L, bidir):
    """nnabla's lstm.cpp in numpy: gates i, f, g, o from concat(x, h) @ W_k^T + b_k."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    D = 2 if bidir else 1
    xs = list(x)
    hn, cn = [], []
    for layer in range(L):
        wl = w0 if layer == 0 else w[layer - 1]
        outs = []
        for d in range(D):
            hh, cc = h[layer, d], c[layer, d]
            seq = xs if d == 0 else xs[::-1]
            hs = []
            for xt in seq:
                xh = np.concatenate([xt, hh], 1)
                g = [xh @ wl[d, k].T + (b[layer, d, k] if b is not None else 0) for k in range(4)]
                cc = sig(g[1]) * cc + sig(g[0]) * np.tanh(g[2])
                hh = sig(g[3]) * np.tanh(cc)
                hs.append(hh)
            outs.append(hs if d == 0 else hs[::-1])
            hn.append(hh)
            cn.append(cc)
        xs = [np.concatenate(s, 1) for s in zip(*outs)] if D == 2 else outs[0]
    return np.stack(xs), np.stack(hn).reshape(h.shape), np.stack(cn).reshape(h.shape)


@pytest.mark.parametrize("L,bidir", [(1, False), (2, True)])
def test_lstm_matches_numpy(L, bidir):
    rs = np.random.RandomState(6)
    T, B, I, H, D = 3, 2, 4, 5, 2 if bidir else 1
    x, h, c = rs.randn(T, B, I), rs.randn(L, D, B, H), rs.randn(L, D, B, H)
    w0 = rs.randn(D, 4, H, I + H) * 0.3
    w = rs.randn(L - 1, D, 4, H, D * H + H) * 0.3 if L > 1 else None
    b = rs.randn(L, D, 4, H) * 0.1
    outs = F.lstm(V(x), V(h), V(c), V(w0), V(w) if w is not None else None, V(b),
                  num_layers=L, bidirectional=bidir)
    for o in outs:
        o.forward()
    ref = _np_lstm(x, h, c, w0, w, b, L, bidir)
    for o, r in zip(outs, ref):
        np.testing.assert_allclose(o.d, r, rtol=1e-4, atol=1e-5)


def test_backward_matches_finite_differences():
    rs = np.random.RandomState(7)
    x0 = rs.randn(3, 4).astype(np.float32)
    w0 = rs.randn(4, 5).astype(np.float32)
    t = nn.Variable.from_numpy_array(np.array([[1], [4], [0]]))
    x, w = V(x0), V(w0, need_grad=True)
    loss = F.mean(F.softmax_cross_entropy(F.tanh(F.affine(x, w)), t))
    loss.forward()
    w.g = 0
    loss.backward()
    eps, num = 1e-2, np.zeros_like(w0)
    for idx in np.ndindex(*w0.shape):
        for sgn in (1, -1):
            w.d[...] = w0
            w.d[idx] += sgn * eps
            loss.forward()
            num[idx] += sgn * float(loss.d) / (2 * eps)
    np.testing.assert_allclose(w.g, num, rtol=2e-2, atol=1e-3)


def test_shape_error_names_function_and_shapes():
    with pytest.raises(MXNetValueError, match=r"Add2.*\(2, 3\).*\(4,\)"):
        F.add2(V(np.ones((2, 3))), V(np.ones(4)))
