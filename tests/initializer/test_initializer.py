"""mx.init against MXNet 1.9.1 (fixtures from tools/gen_io_init_fixtures.py), MXNet's
test_init facts, and distribution checks whose expected numbers come from numpy."""
import json
import os
import warnings

import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch import initializer as init
from mxtorch.base import MXNetValueError, MXNetTypeError

FIX = os.path.join(os.path.dirname(__file__), "..", "compat", "fixtures", "init", "init.json")


@pytest.fixture(scope="module")
def fx():
    with open(FIX) as f:
        return json.load(f)


def _all_inits():
    return [init.Zero(), init.One(), init.Constant(1), init.Constant(0.5),
            init.Constant(np.array([1.0, 2.0])), init.Uniform(), init.Uniform(0.1),
            init.Normal(), init.Normal(0.5), init.Xavier(),
            init.Xavier(factor_type="in", magnitude=2.34),
            init.Xavier(rnd_type="gaussian", factor_type="out", magnitude=2),
            init.MSRAPrelu(), init.MSRAPrelu("in", 0.1), init.Orthogonal(),
            init.Orthogonal(2.0, "normal"), init.Bilinear(), init.LSTMBias(), init.LSTMBias(2.5)]


def test_dumps_match_mxnet(fx):
    assert [i.dumps() for i in _all_inits()] == fx["dumps"]
    assert init.Constant(1).dumps() == '["constant", {"value": 1}]'  # test_const_init_dumps
    assert init.Constant(mx.nd.array([1.0, 2.0])).dumps() == fx["dumps"][4]


class _Seven(init.Initializer):
    def _init_weight(self, _, arr):
        arr[:] = 7


def test_name_rules_match_mxnet(fx):
    for name, want in fx["rules"].items():
        shape = (6,) if "stn_loc_bias" in name else ((1, 1, 4, 4) if "upsampling" in name
                                                     else (2, 3))
        for kind in ("desc", "legacy"):
            arr = mx.nd.full(shape, -3.0)
            desc = init.InitDesc(name) if kind == "desc" else name
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                if want[kind] == "ValueError":
                    with pytest.raises(MXNetValueError, match=name):
                        _Seven()(desc, arr)
                    continue
                _Seven()(desc, arr)
            got = arr.asnumpy().ravel()
            if name == "fc_weight_quantize":  # one random int broadcast
                assert len(set(got.tolist())) == 1 and -127 <= got[0] < 127
            else:
                np.testing.assert_allclose(got, want[kind], rtol=1e-6, err_msg=f"{name} {kind}")


def test_unknown_pattern_message_suggests_an_explicit_init():
    with pytest.raises(ValueError, match=r"foo.*init=mx\.init"):
        init.Uniform()(init.InitDesc("foo"), mx.nd.zeros((2,)))


def test_legacy_str_warns():
    with pytest.warns(DeprecationWarning, match="InitDesc"):
        init.Zero()("fc_weight", mx.nd.ones((2, 2)))


def test_init_attr_wins_over_suffix(fx):
    for name, case in fx["attr_init"].items():
        arr = mx.nd.full((2, 2), -3.0)
        init.Uniform()(init.InitDesc(name, attrs={"__init__": case["init"]}), arr)
        np.testing.assert_allclose(arr.asnumpy().ravel(), case["value"])
    desc = init.InitDesc("x_gamma", attrs={"__init__": '["constant", {"value": 0.25}]'})
    arr = mx.nd.zeros((3,))
    init.One()(desc, arr)
    np.testing.assert_array_equal(arr.asnumpy(), [0.25] * 3)
    assert desc.global_init is not None  # set to the caller


def test_initdesc_is_a_str():
    d = init.InitDesc("fc1_weight", attrs={"lr_mult": "2"})
    assert isinstance(d, str) and d == "fc1_weight" and d.endswith("weight")
    assert d.attrs == {"lr_mult": "2"} and d.global_init is None
    assert init.InitDesc("x").attrs == {}


def test_bilinear_matches_mxnet(fx):
    for shape, want in fx["bilinear"].items():
        arr = mx.nd.zeros(tuple(json.loads(shape)))
        init.Bilinear()(init.InitDesc("up_weight"), arr)
        np.testing.assert_allclose(arr.asnumpy().ravel(), want, rtol=1e-6)
    # test_bilinear_init
    arr = mx.nd.zeros((1, 1, 4, 4))
    init.Bilinear()(init.InitDesc("w_weight"), arr)
    v = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_allclose(arr.asnumpy()[0, 0], np.outer(v, v))


def test_lstm_bias_matches_mxnet(fx):
    for key, want in fx["lstm_bias"].items():
        fb, n = key.split("_")
        arr = mx.nd.full((int(n),), -3.0)
        init.LSTMBias(float(fb))(init.InitDesc("lstm_weight"), arr)
        np.testing.assert_allclose(arr.asnumpy(), want)


def test_create_round_trips(fx):
    for spec, want in fx["create"].items():
        if spec == "dict":
            got = init.create({"initializer": "constant", "value": 2})
        else:
            got = init.create(spec)
        assert got.dumps() == want
        assert init.create(got.dumps()) == got
    x = init.Xavier(magnitude=2)
    assert init.create(x) is x
    assert init.create("uniform", 0.3).scale == 0.3
    assert init.create("normal", sigma=0.2).sigma == 0.2
    assert init.create("zeros") == init.Zero() and init.create("ones") == init.One()


def test_create_errors():
    with pytest.raises(MXNetValueError, match="not registered"):
        init.create("nosuchinit")
    with pytest.raises(MXNetValueError, match="already an instance"):
        init.create(init.One(), 3)
    with pytest.raises(MXNetTypeError):
        init.create(3)
    with pytest.raises(MXNetValueError, match="JSON"):
        init.create("[broken")


def test_register_and_alias(monkeypatch):
    monkeypatch.setattr(init.base, "_REGISTRY", dict(init.base._REGISTRY))  # keep the registry clean

    @init.register
    @init.alias("myseven")
    class SevenInit(init.Initializer):
        def __init__(self, v=7):
            super().__init__(v=v)
            self.v = v

        def _init_weight(self, _, arr):
            arr[:] = self.v

    arr = mx.nd.zeros((2,))
    init.create("myseven", v=4)(init.InitDesc("a_weight"), arr)
    assert arr.asnumpy().tolist() == [4, 4]
    assert init.create('["seveninit", {"v": 5}]').v == 5
    with pytest.warns(UserWarning, match="overriding"):
        init.register(init.Zero, "seveninit")
    with pytest.raises(MXNetTypeError):
        init.register(int)


def test_mixed_matches_mxnet(fx):
    mixed = init.Mixed(["bias", ".*"], [init.Zero(), init.One()])
    b, w = mx.nd.full((3,), -1.0), mx.nd.full((2, 3), -1.0)
    mixed(init.InitDesc("fc_bias"), b)
    mixed(init.InitDesc("fc_weight"), w)
    assert b.asnumpy().tolist() == fx["mixed"]["fc_bias"]
    assert w.asnumpy().ravel().tolist() == fx["mixed"]["fc_weight"]
    with pytest.raises(MXNetValueError, match="did not match"):
        init.Mixed(["bias"], [init.Zero()])(init.InitDesc("fc_weight"), w)
    with pytest.raises(MXNetValueError):
        init.Mixed(["a", "b"], [init.Zero()])


def test_load_from_dict_with_prefixes_and_default():
    src = {"arg:fc_weight": mx.nd.array([[1.0, 2.0]]), "aux:bn_moving_var": mx.nd.array([3.0]),
           "plain": mx.nd.array([4.0])}
    ld = init.Load(src, default_init=init.One())
    w, v, p, other = mx.nd.zeros((1, 2)), mx.nd.zeros((1,)), mx.nd.zeros((1,)), mx.nd.zeros((2,))
    ld(init.InitDesc("fc_weight"), w)
    ld("bn_moving_var", v)
    ld("plain", p)
    ld(init.InitDesc("other_weight"), other)
    assert w.asnumpy().tolist() == [[1, 2]] and v.asnumpy().tolist() == [3]
    assert p.asnumpy().tolist() == [4] and other.asnumpy().tolist() == [1, 1]
    with pytest.raises(MXNetValueError, match="Shape mismatch"):
        ld("fc_weight", mx.nd.zeros((2, 2)))
    with pytest.raises(MXNetValueError, match="default_init"):
        init.Load(src)("missing", mx.nd.zeros((1,)))


# ------------------------------------------------------------------ distributions
def _xavier_scale(shape, factor_type, magnitude):
    hw = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
    fan_in, fan_out = shape[1] * hw, shape[0] * hw
    factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[factor_type]
    return np.sqrt(magnitude / factor)


def test_uniform_bounds_and_moments():
    torch.manual_seed(0)
    arr = mx.nd.zeros((200, 100))
    init.Uniform(0.2)(init.InitDesc("w_weight"), arr)
    a = arr.asnumpy()
    assert a.min() >= -0.2 and a.max() <= 0.2 and a.max() > 0.199 and a.min() < -0.199
    assert abs(a.std() - 0.2 / np.sqrt(3)) < 0.002 and abs(a.mean()) < 0.002


def test_normal_std():
    torch.manual_seed(0)
    arr = mx.nd.zeros((300, 100))
    init.Normal(0.5)(init.InitDesc("w_weight"), arr)
    a = arr.asnumpy()
    assert abs(a.std() - 0.5) < 0.01 and abs(a.mean()) < 0.01


@pytest.mark.parametrize("shape,factor,mag", [((64, 32), "avg", 3), ((16, 8, 3, 3), "in", 2.34),
                                             ((16, 8, 5), "out", 3)])
def test_xavier_uniform_scale(shape, factor, mag):
    torch.manual_seed(1)
    arr = mx.nd.zeros(shape)
    init.Xavier(factor_type=factor, magnitude=mag)(init.InitDesc("c_weight"), arr)
    a, s = arr.asnumpy(), _xavier_scale(shape, factor, mag)
    assert np.abs(a).max() <= s and np.abs(a).max() > 0.97 * s


def test_xavier_gaussian_and_msra_std():
    torch.manual_seed(2)
    shape = (128, 64, 3, 3)
    arr = mx.nd.zeros(shape)
    init.Xavier(rnd_type="gaussian", factor_type="avg", magnitude=2)(init.InitDesc("c_weight"), arr)
    assert abs(arr.asnumpy().std() / _xavier_scale(shape, "avg", 2) - 1) < 0.02
    init.MSRAPrelu("in", 0.25)(init.InitDesc("c_weight"), arr)
    expect = _xavier_scale(shape, "in", 2.0 / (1 + 0.25 ** 2))
    assert abs(arr.asnumpy().std() / expect - 1) < 0.02


def test_xavier_rejects_vectors_and_bad_types():
    with pytest.raises(MXNetValueError, match="at least 2D"):
        init.Xavier()(init.InitDesc("v_weight"), mx.nd.zeros((5,)))
    with pytest.raises(MXNetValueError, match="factor_type"):
        init.Xavier(factor_type="mid")(init.InitDesc("v_weight"), mx.nd.zeros((5, 5)))
    with pytest.raises(MXNetValueError, match="rnd_type"):
        init.Xavier(rnd_type="beta")(init.InitDesc("v_weight"), mx.nd.zeros((5, 5)))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2)])
def test_orthogonal_rows_or_columns_orthonormal(shape):
    torch.manual_seed(3)
    arr = mx.nd.zeros(shape)
    init.Orthogonal(scale=2.0)(init.InitDesc("o_weight"), arr)
    m = arr.asnumpy().reshape(shape[0], -1) / 2.0
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-5)


def test_seeded_draws_repeat():
    a, b = mx.nd.zeros((4, 4)), mx.nd.zeros((4, 4))
    torch.manual_seed(11)
    init.Xavier()(init.InitDesc("w_weight"), a)
    torch.manual_seed(11)
    init.Xavier()(init.InitDesc("w_weight"), b)
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    assert np.abs(a.asnumpy()).sum() > 0


def test_fills_in_place_even_on_grad_tensors():
    t = torch.zeros(3, 4, requires_grad=True)
    arr = mx.nd.from_torch(t)
    init.One()(init.InitDesc("w_weight"), arr)
    assert arr.torch is t and t.detach().sum().item() == 12
    h = mx.nd.zeros((2, 2), dtype="float16")
    init.Uniform(1.0)(init.InitDesc("w_weight"), h)
    assert h.dtype == np.float16 and np.abs(h.asnumpy()).max() <= 1


def test_constant_with_array_value_and_equality():
    arr = mx.nd.zeros((2, 3))
    init.Constant(mx.nd.array([1.0, 2.0, 3.0]))(init.InitDesc("w_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), [[1, 2, 3], [1, 2, 3]])
    assert init.Uniform(0.1) == init.Uniform(0.1) and init.Uniform(0.1) != init.Uniform(0.2)
    assert init.Uniform(0.1) != init.Normal(0.1)


def test_set_verbosity_logs(caplog):
    caplog.set_level("INFO")
    arr = mx.nd.zeros((2, 2))
    init.One().set_verbosity(True)(init.InitDesc("w_weight"), arr)
    assert "Initialized w_weight as weight: 1.0" in caplog.text


def test_initializer_without_weight_rule_raises():
    class Bare(init.Initializer):
        pass
    with pytest.raises(mx.base.MXNetError, match="_init_weight"):
        Bare()(init.InitDesc("w_weight"), mx.nd.zeros((2,)))
    arr = mx.nd.ones((2,))
    Bare()(init.InitDesc("w_bias"), arr)
    assert arr.asnumpy().tolist() == [0, 0]


_CTXS = [mx.cpu()] + ([mx.gpu(0)] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("ctx", _CTXS, ids=str)
def test_every_initializer_fills_on_the_arrays_device(ctx):
    torch.manual_seed(5)
    for ini in _all_inits():
        if isinstance(ini, init.Constant) and not np.isscalar(ini.value):
            continue
        arr = mx.nd.full((4, 2, 2, 2), -9.0, ctx=ctx)
        ini(init.InitDesc("k_weight"), arr)
        a = arr.asnumpy()
        assert arr.torch.device.type == ctx.torch_device.type
        assert np.isfinite(a).all() and (a != -9.0).any(), ini.dumps()
