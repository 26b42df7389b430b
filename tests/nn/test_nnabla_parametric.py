"""PF functions: scope names, parameter names/shapes/flags and defaults (reference
section 2), sharing within a scope, and the global parameter-scope functions."""
import numpy as np
import pytest

import mxtorch.nn as nn
import mxtorch.nn.functions as F
import mxtorch.nn.parametric_functions as PF
from mxtorch.base import MXNetValueError


@pytest.fixture(autouse=True)
def clean_scope():
    nn.clear_parameters()
    yield
    nn.clear_parameters()


def shapes(grad_only=False):
    return {k: v.shape for k, v in nn.get_parameters(grad_only=grad_only).items()}


def test_affine_names_and_in_by_out_layout():
    PF.affine(nn.Variable((4, 3, 5, 5)), 5)
    assert shapes() == {"affine/W": (75, 5), "affine/b": (5,)}
    assert not nn.get_parameters()["affine/b"].d.any()


def test_affine_glorot_bound():
    PF.affine(nn.Variable((2, 300)), 100)
    w = nn.get_parameters()["affine/W"].d
    d = np.sqrt(6.0 / (300 + 100))
    assert np.abs(w).max() <= d and np.abs(w).max() > 0.9 * d


def test_name_kwarg_adds_outer_scope():
    PF.affine(nn.Variable((2, 3)), 4, name="fc1")
    assert list(shapes()) == ["fc1/affine/W", "fc1/affine/b"]


def test_same_scope_shares_parameters_and_checks_shapes():
    x = nn.Variable((2, 3, 4, 4))
    PF.convolution(x, 6, (3, 3))
    PF.convolution(x, 6, (3, 3))
    assert list(shapes()) == ["conv/W", "conv/b"]
    with pytest.raises(MXNetValueError, match="size of existing parameter"):
        PF.convolution(x, 7, (3, 3))


def test_convolution_shapes_and_with_bias():
    PF.convolution(nn.Variable((2, 4, 8, 8)), 6, (3, 3), group=2, with_bias=False)
    assert shapes() == {"conv/W": (6, 2, 3, 3)}
    nn.clear_parameters()
    PF.convolution(nn.Variable((2, 8, 8, 4)), 6, (3, 3), channel_last=True)
    assert shapes() == {"conv/W": (6, 3, 3, 4), "conv/b": (6,)}


def test_deconvolution_shapes():
    y = PF.deconvolution(nn.Variable((2, 4, 5, 5)), 6, (3, 3), stride=(2, 2))
    assert shapes() == {"deconv/W": (4, 6, 3, 3), "deconv/b": (6,)}
    assert y.shape == (2, 6, 11, 11)


def test_batch_normalization_parameters():
    PF.batch_normalization(nn.Variable((2, 3, 4, 4)))
    assert shapes() == {"bn/beta": (1, 3, 1, 1), "bn/gamma": (1, 3, 1, 1),
                        "bn/mean": (1, 3, 1, 1), "bn/var": (1, 3, 1, 1)}
    assert list(shapes(grad_only=True)) == ["bn/beta", "bn/gamma"]   # nn default grad_only
    p = nn.get_parameters(grad_only=False)
    assert (p["bn/gamma"].d == 1).all() and (p["bn/var"].d == 1).all()
    assert not p["bn/beta"].d.any() and not p["bn/mean"].d.any()
    nn.clear_parameters()
    PF.batch_normalization(nn.Variable((5, 7)), no_scale=True)
    assert shapes() == {"bn/beta": (1, 7), "bn/mean": (1, 7), "bn/var": (1, 7)}


def test_batch_stat_false_uses_running_stats():
    x = nn.Variable.from_numpy_array(np.random.RandomState(0).randn(6, 2))
    y = PF.batch_normalization(x, batch_stat=False)
    y.forward()
    np.testing.assert_allclose(y.d, x.d / np.sqrt(1 + 1e-5), rtol=1e-5)
    assert not nn.get_parameters(grad_only=False)["bn/mean"].d.any()


def test_layer_normalization_embed_prelu_shapes():
    PF.layer_normalization(nn.Variable((2, 3, 4, 5)))
    PF.embed(nn.Variable((2, 3)), 10, 4)
    PF.prelu(nn.Variable((2, 3)))
    s = shapes()
    assert s["layer_normalization/beta"] == (1, 3, 4, 5)
    assert s["layer_normalization/gamma"] == (1, 3, 4, 5)
    assert s["embed/W"] == (10, 4)
    assert s["prelu/slope"] == ()
    w = nn.get_parameters()["embed/W"].d
    assert np.abs(w).max() <= np.sqrt(3)
    assert float(nn.get_parameters()["prelu/slope"].d) == pytest.approx(0.25)


def test_lstm_parameter_shapes():
    T, B, I, H, L, D = 3, 2, 4, 5, 2, 2
    y, hn, cn = PF.lstm(nn.Variable((T, B, I)), nn.Variable((L, D, B, H)),
                        nn.Variable((L, D, B, H)), num_layers=L, bidirectional=True)
    assert shapes() == {"lstm/weight_l0": (D, 4, H, I + H),
                        "lstm/weight": (L - 1, D, 4, H, D * H + H), "lstm/bias": (L, D, 4, H)}
    assert y.shape == (T, B, D * H) and hn.shape == (L, D, B, H) and cn.shape == hn.shape


def test_fix_parameters_keeps_stored_flag_but_blocks_gradient():
    x = nn.Variable.from_numpy_array(np.ones((2, 3)))
    y = F.sum(PF.affine(x, 2, fix_parameters=True))
    w = nn.get_parameters()["affine/W"]
    assert w.need_grad is True
    y.forward()
    w.g = 0
    y.backward()
    assert not w.g.any()


def test_parameter_scope_nesting_and_get_parameter_or_create():
    with nn.parameter_scope("a/b"):
        v = nn.get_parameter_or_create("W", (2,), np.array([1.0, 2.0], np.float32))
        same = nn.get_parameter_or_create("W", (2,))
    assert same is v and list(shapes()) == ["a/b/W"]
    with nn.parameter_scope("a"):
        assert list(nn.get_parameters()) == ["b/W"]
    c = nn.get_parameter_or_create("z", (3,), lambda shape: np.full(shape, 7.0))
    assert (c.d == 7).all() and c.d.dtype == np.float32
    assert nn.get_parameters(path="pre")["pre/z"] is c
