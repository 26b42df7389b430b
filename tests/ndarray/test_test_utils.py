"""mx.test_utils: tolerance defaults and messages as MXNet's, same_array by memory,
default context, random shapes and arrays."""
import numpy as np
import pytest
import torch

import mxtorch as mx
import mxtorch.test_utils as tu


def test_default_context_roundtrip():
    assert tu.default_context() == mx.cpu(0)
    try:
        tu.set_default_context(mx.cpu(2))
        assert tu.default_context() == mx.cpu(2)
        assert mx.nd.zeros((1,)).context == mx.cpu(2)
        assert tu.rand_ndarray((2,)).context == mx.cpu(2)
    finally:
        tu.set_default_context(mx.cpu(0))
    assert tu.default_context() == mx.cpu(0)


def test_tolerance_defaults_follow_dtype():
    a = np.ones(3, np.float32)
    tu.assert_almost_equal(a, a + 9e-4)                     # float32 atol 1e-3
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(a, a + 2e-3)
    tu.assert_almost_equal(a.astype(np.float16), (a + 0.09).astype(np.float16))  # atol 0.1
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(a.astype(np.float64), a.astype(np.float64) + 1e-4)
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(np.array([1, 2]), np.array([1, 3]))  # ints: exact
    assert tu.get_tols(np.float16(1), np.float64(1), None, None) == (1e-2, 1e-1)
    assert tu.get_tols(a, a, {np.dtype(np.float32): 0.5}, 0.25) == (0.5, 0.25)


def test_mixed_inputs_ndarray_numpy_scalar_tensor():
    tu.assert_almost_equal(mx.nd.array([1.0, 2.0]), np.array([1.0, 2.0]))
    tu.assert_almost_equal(mx.nd.array([3.0]), 3.0)
    tu.assert_almost_equal(torch.tensor([1.0, 2.0]), mx.nd.array([1.0, 2.0]))
    tu.assert_almost_equal(np.array([True, False]), np.array([True, False]))
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(np.array([True, False]), np.array([True, True]))


def test_message_names_worst_location_and_share():
    # expected lines: what MXNet 1.9.1 printed for the same call
    a = np.zeros((2, 3), np.float32)
    b = a.copy()
    b[1, 2] = 5.0
    b[0, 0] = 0.5
    with pytest.raises(AssertionError) as e:
        tu.assert_almost_equal(a, b, rtol=0, atol=0.1, names=("ours", "ref"))
    msg = str(e.value)
    assert "Error 50.000000 exceeds tolerance rtol=0.000000e+00, atol=1.000000e-01" in msg
    assert "(mismatch 33.333333%)" in msg
    assert "Location of maximum error: (1, 2), ours=0.00000000, ref=5.00000000" in msg


def test_nan_handling():
    a = np.array([1.0, np.nan])
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(a, a)
    tu.assert_almost_equal(a, a, equal_nan=True)
    tu.assert_almost_equal_ignore_nan(a, np.array([np.nan, 5.0]) * 0 + [1.0, np.nan])
    assert tu.almost_equal(a, a, equal_nan=True) and not tu.almost_equal(a, a)


def test_shape_check_without_broadcast():
    tu.assert_almost_equal(np.ones((2, 3)), np.ones(3))
    with pytest.raises(AssertionError, match="are not equal"):
        tu.assert_almost_equal(np.ones((2, 3)), np.ones(3), use_broadcast=False)


def test_same_and_same_array():
    x = mx.nd.array(np.arange(6).reshape(2, 3))
    assert tu.same(x, np.arange(6).reshape(2, 3)) and not tu.same(x, np.zeros((2, 3)))
    assert tu.same_array(x, x)
    assert tu.same_array(x, mx.nd.from_torch(x.torch))          # same memory, other handle
    assert not tu.same_array(x, x.copy())                        # equal values, own memory
    assert not tu.same_array(x, mx.nd.from_torch(x.torch[1:]))  # shares storage, other view
    assert not tu.same_array(x, x.reshape((3, 2)))
    before = x.asnumpy()
    tu.same_array(x, x.copy())
    np.testing.assert_array_equal(x.asnumpy(), before)           # nothing written


def test_assert_exception():
    tu.assert_exception(lambda v: int(v), ValueError, "x")
    with pytest.raises(AssertionError, match="did not raise ValueError"):
        tu.assert_exception(lambda v: int(v), ValueError, "3")
    with pytest.raises(TypeError):            # a different exception propagates
        tu.assert_exception(lambda: None + 1, KeyError)


def test_random_shapes_and_arrays():
    np.random.seed(0)
    for _ in range(50):
        s2, s3, sn = tu.rand_shape_2d(4, 5), tu.rand_shape_3d(), tu.rand_shape_nd(4, dim=3)
        assert len(s2) == 2 and 1 <= s2[0] <= 4 and 1 <= s2[1] <= 5
        assert len(s3) == 3 and all(1 <= d <= 10 for d in s3)
        assert len(sn) == 4 and all(1 <= d <= 3 for d in sn)
    assert 0 in {d for _ in range(100) for d in tu.rand_shape_2d(1, 1, allow_zero_size=True)}
    np.random.seed(5)
    want = np.random.randn(3, 4).astype(np.float32)
    np.random.seed(5)
    arr = tu.rand_ndarray((3, 4), dtype="float64")
    assert arr.dtype == np.float64
    np.testing.assert_array_equal(arr.asnumpy(), want.astype(np.float64))
    np.random.seed(3)
    csr = tu.rand_ndarray((30, 40), stype="csr", density=0.2)
    dense = csr.asnumpy()
    assert csr.stype == "csr" and 0.1 < (dense != 0).mean() < 0.3
    rsp = tu.rand_ndarray((30, 4), stype="row_sparse", density=0.5)
    assert rsp.stype == "row_sparse" and 0 < len(rsp.indices) < 30


# ---------------------------------------------------------------- operator checks
class _WrongGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g  # the true gradient is 2 * x * g


def _wrong_grad_symbol():
    from mxtorch.symbol.registry import OpDef, register, list_ops
    if "_test_wrong_grad" not in list_ops():
        register(OpDef("_test_wrong_grad", lambda p, is_train, x: _WrongGrad.apply(x)))
    from mxtorch.symbol.symbol import _create
    return _create("_test_wrong_grad", [mx.sym.Variable("data")], {})


def test_check_numeric_gradient_passes_and_catches_a_wrong_gradient():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(mx.sym.Activation(data, act_type="tanh"), num_hidden=3,
                                name="fc")
    rng = np.random.RandomState(0)
    loc = {"data": rng.rand(2, 4), "fc_weight": rng.rand(3, 4), "fc_bias": rng.rand(3)}
    mx.test_utils.check_numeric_gradient(net, loc)
    with pytest.raises(AssertionError, match="NUMERICAL_data"):
        mx.test_utils.check_numeric_gradient(_wrong_grad_symbol(), [rng.rand(3, 2) + 1])


def test_check_numeric_gradient_with_aux_states_and_grad_nodes():
    bn = mx.sym.BatchNorm(mx.sym.Variable("data"), fix_gamma=False, name="bn")
    rng = np.random.RandomState(1)
    mx.test_utils.check_numeric_gradient(
        bn, {"data": rng.rand(4, 3), "bn_gamma": rng.rand(3) + 0.5, "bn_beta": rng.rand(3)},
        aux_states=[np.zeros(3), np.ones(3)], grad_nodes=["data", "bn_gamma"])


def test_check_symbolic_forward_and_backward():
    data = mx.sym.Variable("data")
    x = np.random.RandomState(2).rand(2, 3)
    out = mx.test_utils.check_symbolic_forward(mx.sym.exp(data), [x], [np.exp(x)])
    assert out[0].shape == (2, 3)
    grads = mx.test_utils.check_symbolic_backward(mx.sym.exp(data), [x], [np.ones((2, 3))],
                                                  {"data": np.exp(x)}, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads["data"], np.exp(x), rtol=1e-5)
    with pytest.raises(AssertionError, match="BACKWARD_data"):
        mx.test_utils.check_symbolic_backward(mx.sym.exp(data), [x], [np.ones((2, 3))],
                                              [np.exp(x) * 1.1])
    with pytest.raises(ValueError, match="1 arguments"):
        mx.test_utils.check_symbolic_forward(mx.sym.exp(data), [x, x], [np.exp(x)])
