"""nn.Variable and the graph (reference section 1): views, setters, deferred forward,
auto_forward, backward accumulation, clear_buffer."""
import numpy as np
import pytest

import mxtorch.nn as nn
import mxtorch.nn.functions as F
from mxtorch.base import MXNetValueError, StateError


def test_constructor_defaults():
    x = nn.Variable((2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6
    assert x.need_grad is False and x.persistent is False
    assert x.d.dtype == np.float32 and x.parent is None
    assert x.size_from_axis(1) == 3
    assert nn.Variable((2,), need_grad=True).need_grad is True


def test_d_and_g_are_views():
    x = nn.Variable((2, 2))
    view = x.d
    view[0, 1] = 5.0
    assert x.d[0, 1] == 5.0
    x.g[1, 1] = 3.0
    assert x.g[1, 1] == 3.0
    assert isinstance(x.data, nn.NdArray) and x.data.shape == (2, 2)


def test_d_setter_rules():
    x = nn.Variable((2,))
    x.d = 2.5
    np.testing.assert_array_equal(x.d, [2.5, 2.5])
    x.d = 0
    assert x.data.zeroing and not x.d.any()
    x.d = np.array([1, 2], dtype=np.int64)          # an array re-creates the storage
    assert x.d.dtype == np.int64
    x.d = 3.0                                        # a scalar keeps the dtype
    assert x.d.dtype == np.int64 and (x.d == 3).all()
    with pytest.raises(MXNetValueError, match="shape"):
        x.d = np.zeros(3)


def test_from_numpy_array_copies_and_keeps_dtype():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = nn.Variable.from_numpy_array(a)
    a[0, 0] = 100
    assert x.d[0, 0] == 0 and x.d.dtype == np.float64 and x.need_grad is False
    i = nn.Variable.from_numpy_array(np.zeros(2, np.int32))
    assert i.d.dtype == np.int32
    with pytest.raises(MXNetValueError, match="grad"):
        nn.Variable.from_numpy_array(np.zeros(2), grad=np.zeros(3))


def test_static_graph_is_deferred():
    x = nn.Variable.from_numpy_array(np.array([1.0, -2.0, 3.0], np.float32))
    y = F.sum(F.relu(x))
    assert y.shape == () and y.parent.info.type_name == "Sum"
    assert y.parent.inputs[0].parent.info.type_name == "ReLU"
    assert y.d == 0                         # not computed yet
    y.forward()
    assert y.d == 4.0
    x.d = np.array([5.0, 5.0, -1.0])         # new data, same graph
    y.forward()
    assert y.d == 10.0


def test_need_grad_propagates():
    a = nn.Variable((2,), need_grad=True)
    b = nn.Variable((2,))
    assert F.add2(a, b).need_grad is True
    assert F.add2(b, b).need_grad is False


def test_backward_accumulates_into_leaves():
    a = nn.Variable.from_numpy_array(np.array([1.0, 2.0], np.float32), need_grad=True)
    y = F.sum(F.mul2(a, a))
    y.forward()
    a.g = 0
    y.backward()
    np.testing.assert_allclose(a.g, [2.0, 4.0])
    y.backward()                                  # a second backward doubles
    np.testing.assert_allclose(a.g, [4.0, 8.0])
    a.g = 0
    y.backward(grad=2)
    np.testing.assert_allclose(a.g, [4.0, 8.0])


def test_intermediate_grad_is_overwritten():
    a = nn.Variable.from_numpy_array(np.array([1.0, 2.0], np.float32), need_grad=True)
    h = F.mul_scalar(a, 3.0)
    y = F.sum(h)
    y.forward()
    y.backward()
    y.backward()
    np.testing.assert_allclose(h.g, [1.0, 1.0])   # not accumulated
    np.testing.assert_allclose(a.g, [6.0, 6.0])   # accumulated


def test_backward_stops_at_need_grad_false():
    a = nn.Variable.from_numpy_array(np.ones(2, np.float32), need_grad=True)
    b = nn.Variable.from_numpy_array(np.ones(2, np.float32))
    y = F.sum(F.mul2(a, b))
    y.forward()
    b.g = 0
    y.backward()
    assert not b.g.any()
    np.testing.assert_allclose(a.g, [1.0, 1.0])


def test_backward_seed_from_existing_g():
    a = nn.Variable.from_numpy_array(np.ones(3, np.float32), need_grad=True)
    y = F.mul_scalar(a, 2.0)
    y.forward()
    y.g = np.array([1.0, 2.0, 3.0])
    a.g = 0
    y.backward(grad=None)
    np.testing.assert_allclose(a.g, [2.0, 4.0, 6.0])


def test_auto_forward_runs_at_once_and_restores_mode():
    assert nn.get_auto_forward() is False
    with nn.auto_forward():
        assert nn.get_auto_forward() is True
        a = nn.Variable.from_numpy_array(np.array([3.0], np.float32), need_grad=True)
        y = F.mul2(a, a)
        assert y.d[0] == 9.0
    assert nn.get_auto_forward() is False
    a.g = 0
    y.backward()
    assert a.g[0] == 6.0


def test_clear_buffer_frees_intermediates_but_not_persistent():
    x = nn.Variable.from_numpy_array(np.full((2,), 2.0, np.float32))
    h1 = F.mul_scalar(x, 3.0)
    h2 = F.add_scalar(h1, 1.0)
    h2.persistent = True
    y = F.sum(h2)
    y.forward(clear_buffer=True)
    assert y.d == 14.0
    np.testing.assert_allclose(h2.d, [7.0, 7.0])
    assert not h1.data.allocated


def test_backward_without_forward_is_a_state_error():
    a = nn.Variable((2,), need_grad=True)
    y = F.sum(a)
    with pytest.raises(StateError, match="forward"):
        y.backward()
    y.forward(clear_buffer=True)
    with pytest.raises(StateError, match="clear_buffer"):
        y.backward()


def test_operators_build_graph():
    a = nn.Variable.from_numpy_array(np.array([1.0, 2.0], np.float32))
    b = nn.Variable.from_numpy_array(np.array([3.0, 5.0], np.float32))
    outs = [a + b, a - b, a * b, a / b, a ** 2, 2 - a, 1 / a, -a, a * 3, a[0:1]]
    for o in outs:
        o.forward()
    expect = [[4, 7], [-2, -3], [3, 10], [1 / 3, 2 / 5], [1, 4], [1, 0], [1, 0.5], [-1, -2],
              [3, 6], [1]]
    for o, e in zip(outs, expect):
        np.testing.assert_allclose(o.d, e, rtol=1e-6)


def test_unlinked_variable_shares_data():
    a = nn.Variable.from_numpy_array(np.ones(2, np.float32))
    u = F.mul_scalar(a, 2.0).get_unlinked_variable(need_grad=True)
    assert u.parent is None and u.need_grad is True
    v = a.get_unlinked_variable()
    v.d[0] = 9
    assert a.d[0] == 9


def test_bad_input_type_names_the_function():
    with pytest.raises(TypeError, match="ReLU.*nn.Variable"):
        F.relu(np.zeros(3))
