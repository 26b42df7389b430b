"""Initializers as networks meet them, against MXNet 1.9.1 (fixtures from
tools/gen_model_fixtures.py, ``initializers``): variables' own ``__init__`` attributes
through Module.init_params (with plain, Mixed and Load initializers), the FusedRNN layout
of the RNN op's flat vector, and Orthogonal.

Values MXNet draws at random cannot match ours draw for draw; the fixture marks every
entry that came out the same under two seeds ("fixed"), and those must be equal exactly,
while the random rest must have MXNet's range and spread."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetValueError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "models")
_spec = importlib.util.spec_from_file_location("gen_model", os.path.join(ROOT, "tools",
                                                                         "gen_model_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


@pytest.fixture(scope="module")
def ref():
    return np.load(os.path.join(FIX, "init_breadth.npz"))


@pytest.fixture(scope="module")
def meta():
    with open(os.path.join(FIX, "init_breadth.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.parametrize("case", sorted(gen.INIT_CASES))
def test_module_init_params_match_mxnet(case, ref):
    ours, _ = gen.module_init(mx, case, 1)
    names = sorted(k.split("/", 1)[1] for k in ref.files
                   if k.startswith(case + "/") and not k.endswith(":fixed"))
    assert sorted(ours) == names
    for name in names:
        want, fixed = ref[f"{case}/{name}"], ref[f"{case}/{name}:fixed"]
        got = ours[name]
        assert got.shape == want.shape, name
        np.testing.assert_array_equal(got[fixed], want[fixed], err_msg=f"{case} {name}")
        rnd_got, rnd_want = got[~fixed], want[~fixed]
        if rnd_want.size:
            bound = np.abs(rnd_want).max()
            assert np.abs(rnd_got).max() <= 1.5 * bound, (case, name)
            if rnd_want.size >= 30:
                ratio = rnd_got.std() / rnd_want.std()
                assert 0.6 < ratio < 1.6, (case, name, ratio)


@pytest.mark.parametrize("case", sorted(gen.INIT_CASES))
def test_init_attributes_match_mxnet(case, meta):
    """The ``__init__`` strings on variables (Variable(init=...), BatchNorm's moving
    stats, PReLU's gamma, LSTMCell's i2h_bias, FusedRNNCell's parameters) are MXNet's."""
    sym = gen.INIT_CASES[case](mx)[0]
    ours = {k: v["__init__"] for k, v in sym.attr_dict().items() if "__init__" in v}
    theirs = {k: v["__init__"] for k, v in meta["attrs"][case].items() if "__init__" in v}
    assert ours == theirs


@pytest.mark.parametrize("i", range(len(gen.FUSED_DIRECT)))
def test_fused_rnn_layout_matches_mxnet(i, ref, meta):
    """FusedRNN(One()) called directly (weights 1, biases 0, LSTM forget biases of i2h and
    h2h both set), and FusedRNN(None) as a vector's ``__init__`` under the global
    Constant(0.25): the same vectors as MXNet, for every mode, depth and direction."""
    h, layers, mode, bi, fb, ninput = gen.FUSED_DIRECT[i]
    got = gen.fused_direct(mx, h, layers, mode, bi, fb, ninput, mx.init.One())
    np.testing.assert_array_equal(got, ref[f"fused_one/{i}"])
    got = gen.fused_direct(mx, h, layers, mode, bi, fb, ninput, None)
    np.testing.assert_array_equal(got, ref[f"fused_global/{i}"])
    assert mx.init.FusedRNN(mx.init.One(), h, layers, mode, bi, fb).dumps() == \
        meta["dumps"][f"fused_{i}"]


def test_fused_rnn_dumps_without_init_round_trips(meta):
    text = meta["dumps"]["fused_none"]
    assert mx.init.FusedRNN(None, 4, 1, "lstm").dumps() == text
    again = mx.init.create(text)
    assert type(again).__name__ == "FusedRNN" and again.dumps() == text


def test_fused_rnn_accepts_a_json_init_where_mxnet_fails(meta):
    """MXNet 1.9.1 looks a string init up in the wrong registry dict and raises KeyError
    (so a FusedRNN with an init cannot come back from its own JSON); we create it."""
    assert meta["fused_str_error"].startswith("KeyError")
    spec = '["xavier", {"magnitude": 2}]'
    fused = mx.init.FusedRNN(spec, 4, 2, "gru", True, 0.0)
    assert fused._init == mx.init.Xavier(magnitude=2)
    assert mx.init.create(fused.dumps()).dumps() == fused.dumps()


def test_fused_rnn_rejects_a_vector_of_the_wrong_size():
    fused = mx.init.FusedRNN(mx.init.One(), 3, 1, "lstm")
    with pytest.raises(MXNetValueError, match="invalid parameters size 10"):
        fused(mx.init.InitDesc("rnn_weight"), mx.nd.zeros((10,)))
    with pytest.raises(MXNetValueError, match="unknown mode 'lstmx'"):
        mx.init.FusedRNN(None, 3, 1, "lstmx")


def _gram(arr, scale):
    """W W^T (rows orthonormal) when rows <= columns, else W^T W, divided by scale^2."""
    w = arr.reshape(arr.shape[0], -1).astype(np.float64)
    g = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    return g / scale ** 2


@pytest.mark.parametrize("scale,rand_type", [(1.414, "uniform"), (0.5, "normal")])
@pytest.mark.parametrize("shape", gen.ORTHO_SHAPES)
def test_orthogonal_has_mxnets_orthonormal_side_and_scale(scale, rand_type, shape, ref):
    want = ref[f"ortho/{scale}/{rand_type}/{shape}"]
    arr = mx.nd.zeros(shape)
    mx.init.Orthogonal(scale, rand_type)(mx.init.InitDesc("o_weight"), arr)
    got = arr.asnumpy()
    np.testing.assert_allclose(_gram(want, scale), np.eye(_gram(want, scale).shape[0]),
                               atol=1e-5)  # the property holds in MXNet's own array
    np.testing.assert_allclose(_gram(got, scale), _gram(want, scale), atol=1e-5)
