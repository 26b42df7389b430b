"""Executor behaviour: grad_req write/add/null, reshape sharing parameter arrays,
copy_params_from, and clear errors for backward misuse. Expected numbers come from numpy."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetError

RNG = np.random.RandomState(0)
X = RNG.randn(4, 3).astype(np.float32)
W = RNG.randn(2, 3).astype(np.float32)
B = RNG.randn(2).astype(np.float32)
G = RNG.randn(4, 2).astype(np.float32)


def _fc():
    return mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2, name="fc")


def _bind(grad_req="write", shape=(4, 3)):
    ex = _fc().simple_bind(mx.cpu(), grad_req=grad_req, data=shape)
    ex.arg_dict["data"][:] = X[:shape[0]]
    ex.arg_dict["fc_weight"][:] = W
    ex.arg_dict["fc_bias"][:] = B
    return ex


def test_forward_backward_write():
    ex = _bind()
    out = ex.forward(is_train=True)[0].asnumpy()
    np.testing.assert_allclose(out, X @ W.T + B, rtol=1e-5, atol=1e-6)
    ex.backward(mx.nd.array(G))
    np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), G.T @ X, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ex.grad_dict["fc_bias"].asnumpy(), G.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(), G @ W, rtol=1e-5, atol=1e-6)
    # write overwrites on the next step
    ex.forward(is_train=True)
    ex.backward(mx.nd.array(G))
    np.testing.assert_allclose(ex.grad_dict["fc_bias"].asnumpy(), G.sum(0), rtol=1e-5, atol=1e-6)


def test_grad_req_add_accumulates():
    ex = _bind("add")
    for _ in range(3):
        ex.forward(is_train=True)
        ex.backward(mx.nd.array(G))
    np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), 3 * G.T @ X, rtol=1e-5,
                               atol=1e-5)


def test_grad_req_null_and_mixed():
    ex = _bind({"data": "null", "fc_weight": "write", "fc_bias": "null"})
    assert ex.grad_dict["data"] is None and ex.grad_dict["fc_bias"] is None
    ex.forward(is_train=True)
    ex.backward(mx.nd.array(G))
    np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), G.T @ X, rtol=1e-5, atol=1e-6)
    ex = _bind("null")
    out = ex.forward(is_train=True)[0].asnumpy()
    np.testing.assert_allclose(out, X @ W.T + B, rtol=1e-5, atol=1e-6)
    ex.backward(mx.nd.array(G))  # nothing to compute: a no-op, as in MXNet
    assert all(g is None for g in ex.grad_arrays)


def test_bad_grad_req_is_rejected():
    with pytest.raises(ValueError, match="grad_req"):
        _bind("sometimes")


def test_reshape_shares_parameters():
    ex = _bind()
    ex2 = ex.reshape(data=(2, 3))
    assert ex2.arg_dict["data"].shape == (2, 3)
    ex2.arg_dict["data"][:] = X[:2]
    ex.arg_dict["fc_bias"][:] = np.zeros(2, np.float32)  # seen by both: one array
    out = ex2.forward()[0].asnumpy()
    np.testing.assert_allclose(out, X[:2] @ W.T, rtol=1e-5, atol=1e-6)
    ex2.forward(is_train=True)
    ex2.backward(mx.nd.array(G[:2]))
    np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), G[:2].T @ X[:2], rtol=1e-5,
                               atol=1e-6)


def test_reshape_refuses_parameter_shape_change_without_partial_shaping():
    ex = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2,
                               name="fc").simple_bind(mx.cpu(), data=(4, 3))
    with pytest.raises(MXNetError, match="partial_shaping"):
        ex.reshape(data=(4, 5))
    ex2 = ex.reshape(partial_shaping=True, data=(4, 5))
    assert ex2.arg_dict["fc_weight"].shape == (2, 5)


def test_copy_params_from():
    ex = _fc().simple_bind(mx.cpu(), data=(4, 3))
    ex.copy_params_from({"fc_weight": mx.nd.array(W), "fc_bias": mx.nd.array(B)})
    np.testing.assert_array_equal(ex.arg_dict["fc_weight"].asnumpy(), W)
    with pytest.raises(ValueError, match="extra"):
        ex.copy_params_from({"other": mx.nd.array(B)})
    ex.copy_params_from({"other": mx.nd.array(B)}, allow_extra_params=True)
    with pytest.raises(MXNetError, match="shape"):
        ex.copy_params_from({"fc_bias": mx.nd.array(W)})


def test_backward_without_out_grads_on_non_loss_head_is_clear():
    ex = _bind()
    ex.forward(is_train=True)
    with pytest.raises(ValueError, match="out_grads"):
        ex.backward()


def test_backward_with_wrong_out_grad_shape():
    ex = _bind()
    ex.forward(is_train=True)
    with pytest.raises(MXNetError, match="shape"):
        ex.backward(mx.nd.array(G[:2]))


def test_backward_before_forward_is_clear():
    ex = _bind()
    with pytest.raises(MXNetError, match="forward"):
        ex.backward(mx.nd.array(G))
    ex.forward(is_train=False)
    with pytest.raises(MXNetError, match="forward"):
        ex.backward(mx.nd.array(G))


def test_loss_head_needs_no_out_grads():
    net = mx.sym.SoftmaxOutput(_fc(), name="softmax")
    ex = net.simple_bind(mx.cpu(), data=(4, 3))
    ex.copy_params_from({"fc_weight": mx.nd.array(W), "fc_bias": mx.nd.array(B)})
    ex.arg_dict["data"][:] = X
    label = np.array([0, 1, 1, 0], np.float32)
    ex.arg_dict["softmax_label"][:] = label
    prob = ex.forward(is_train=True)[0].asnumpy()
    ex.backward()
    logits = X @ W.T + B
    want = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(prob, want, rtol=1e-5, atol=1e-6)
    want[np.arange(4), label.astype(int)] -= 1
    np.testing.assert_allclose(ex.grad_dict["fc_bias"].asnumpy(), want.sum(0), rtol=1e-5,
                               atol=1e-6)


def test_forward_kwargs_and_unknown_name():
    ex = _bind()
    out = ex.forward(data=mx.nd.array(2 * X))[0].asnumpy()
    np.testing.assert_allclose(out, 2 * X @ W.T + B, rtol=1e-5, atol=1e-5)
    with pytest.raises(KeyError, match="dta"):
        ex.forward(dta=mx.nd.array(X))


def test_bind_with_given_arrays():
    args = {"data": mx.nd.array(X), "fc_weight": mx.nd.array(W), "fc_bias": mx.nd.array(B)}
    grads = {"fc_weight": mx.nd.zeros((2, 3))}
    ex = _fc().bind(mx.cpu(), args, args_grad=grads)
    ex.forward(is_train=True)
    ex.backward(mx.nd.array(G))
    np.testing.assert_allclose(grads["fc_weight"].asnumpy(), G.T @ X, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="missing"):
        _fc().bind(mx.cpu(), {"data": mx.nd.array(X)})
