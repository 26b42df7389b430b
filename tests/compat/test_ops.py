"""Each operator gives MXNet 1.9.1's outputs, input gradients and aux states after one
forward(is_train)+backward step (fixtures from tools/gen_op_fixtures.py, run under the
real MXNet). Every case is rebuilt twice: from Python calls and from MXNet's JSON."""
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "ops")
_spec = importlib.util.spec_from_file_location("gen_op", os.path.join(ROOT, "tools",
                                                                      "gen_op_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

CASES = sorted(gen.CASES)
RTOL, ATOL = 1e-5, 1e-6  # fp32; every case passes at this tolerance


def _step(opcase, name, sym):
    cfg = gen.CASES[name]
    ref, inputs, aux0, ograds = opcase.load(FIX, name)
    res = gen.run(mx, sym, cfg["shapes"], inputs, aux0, ograds, cfg["train"], cfg["no_grad"])
    opcase.compare(name, ref, res, RTOL, ATOL)


@pytest.mark.parametrize("name", CASES)
def test_op_from_python(opcase, name):
    _step(opcase, name, gen.build(mx, name))


@pytest.mark.parametrize("name", CASES)
def test_op_from_mxnet_json(opcase, name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    _step(opcase, name, mx.sym.load_json(str(ref["json"])))


@pytest.mark.parametrize("name", CASES)
def test_op_json_identical(name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    assert gen.build(mx, name).tojson() == str(ref["json"])


def test_all_fixtures_have_a_case():
    names = {f[:-4] for f in os.listdir(FIX) if f.endswith(".npz")}
    assert names == set(CASES)


def test_dropout_always_mode_statistics():
    """mode='always' drops in inference too: kept values are x / (1 - p), the drop rate is
    about p, and the gradient goes through the same mask."""
    p = 0.3
    x = np.random.RandomState(0).uniform(1, 2, (200, 50)).astype(np.float32)
    sym = mx.sym.Dropout(mx.sym.Variable("data"), p=p, mode="always")
    ex = sym.simple_bind(mx.cpu(), data=x.shape)
    ex.arg_dict["data"][:] = x
    for is_train in (False, True):
        out = ex.forward(is_train=is_train)[0].asnumpy()
        kept = out != 0
        assert abs(1 - kept.mean() - p) < 0.02
        np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
    ograd = np.random.RandomState(1).randn(*x.shape).astype(np.float32)
    ex.backward(mx.nd.array(ograd))
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(),
                               np.where(kept, ograd / (1 - p), 0), rtol=1e-6)


def test_dropout_training_mode_is_identity_in_inference():
    x = np.random.RandomState(2).randn(4, 5).astype(np.float32)
    sym = mx.sym.Dropout(mx.sym.Variable("data"), p=0.9)
    ex = sym.simple_bind(mx.cpu(), data=x.shape)
    ex.arg_dict["data"][:] = x
    np.testing.assert_array_equal(ex.forward(is_train=False)[0].asnumpy(), x)
    out = ex.forward(is_train=True)[0].asnumpy()
    assert (out == 0).mean() > 0.5
