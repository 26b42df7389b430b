"""Imperative mx.nd calls (operators from the registry and the arithmetic helpers) give
MXNet 1.9.1's values, shapes and dtypes (fixtures from tools/gen_nd_fixtures.py); unknown
and missing names raise clear errors."""
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("gen_nd", os.path.join(ROOT, "tools",
                                                                      "gen_nd_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
REF = np.load(os.path.join(ROOT, "tests", "compat", "fixtures", "nd", "calls.npz"))
GOT = gen.run(mx)


@pytest.mark.parametrize("key", sorted(REF.files))
def test_call_matches_mxnet(key):
    got, want = GOT[key], REF[key]
    assert got.shape == want.shape, f"{key}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{key}: dtype {got.dtype} != {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=key)


def test_every_case_ran():
    assert sorted(GOT) == sorted(REF.files)


def test_out_argument_and_input_errors():
    x = mx.nd.array(np.arange(6).reshape(2, 3))
    out = mx.nd.zeros((2, 3))
    assert mx.nd.relu(x - 2, out=out) is out
    np.testing.assert_array_equal(out.asnumpy(), np.maximum(np.arange(6).reshape(2, 3) - 2, 0))
    with pytest.raises(ValueError, match=r"missing input arrays \['weight'"):
        mx.nd.FullyConnected(x, num_hidden=4)
    with pytest.raises(TypeError, match="unexpected array argument 'wieght'"):
        mx.nd.FullyConnected(x, wieght=x, num_hidden=4, no_bias=True)
    with pytest.raises(mx.base.MXNetNotImplementedError, match="CTCLoss.*not implement"):
        mx.nd.CTCLoss
    with pytest.raises(AttributeError, match="did you mean 'FullyConnected'"):
        mx.nd.FullyConected
