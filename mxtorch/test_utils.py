"""``mx.test_utils``: the helpers MXNet's own tests use (default context, tolerance-based
comparisons with MXNet's defaults and messages, random shapes and arrays, and the
operator checks: finite-difference gradients, symbolic forward and backward)."""
import numbers

import numpy as np
import numpy.testing as npt
import torch

from .base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError
from .context import Context, current_context
from .ndarray.ndarray import NDArray, array

__all__ = ["default_context", "set_default_context", "default_dtype", "default_rtols",
           "default_atols", "get_tolerance", "get_tols", "get_rtol", "get_atol", "same",
           "almost_equal", "assert_almost_equal", "assert_allclose",
           "assert_almost_equal_ignore_nan", "same_array", "assert_exception", "random_arrays",
           "random_uniform_arrays", "rand_shape_2d", "rand_shape_3d", "rand_shape_nd",
           "rand_ndarray", "check_numeric_gradient", "check_symbolic_forward",
           "check_symbolic_backward"]


def default_context():
    """The context tests run on: ``current_context()`` (set it with
    :func:`set_default_context` to rerun a test body on a GPU)."""
    return current_context()


def set_default_context(ctx):
    """Make ``ctx`` the default (and current) context of this thread."""
    Context._local.value = Context(ctx)


def default_dtype():
    """The default data type of test arrays (float32)."""
    return np.float32


_INT_KINDS = (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
              np.int64, np.uint64)


def default_rtols():
    """Default relative tolerance per dtype (MXNet's table)."""
    tols = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5}
    tols.update({np.dtype(t): 0 for t in _INT_KINDS})
    return tols


def default_atols():
    """Default absolute tolerance per dtype (MXNet's table)."""
    tols = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3,
            np.dtype(np.float64): 1e-20}
    tols.update({np.dtype(t): 0 for t in _INT_KINDS})
    return tols


def _dtype_of(x):
    if isinstance(x, NDArray):
        return np.dtype(np.float32) if x._data.dtype == torch.bfloat16 else np.dtype(x.dtype)
    if isinstance(x, torch.Tensor):
        return np.dtype(np.float32) if x.dtype == torch.bfloat16 else np.dtype(
            x.detach().cpu()[:0].numpy().dtype)
    return np.asarray(x).dtype


def get_tolerance(dat, tol, default_tol):
    """``tol`` if it is a number, else the entry for ``dat``'s dtype in ``tol`` (a dict)
    or in ``default_tol``."""
    if isinstance(tol, numbers.Number):
        return tol
    dtype = _dtype_of(dat)
    tol = {} if tol is None else tol
    if dtype in tol:
        return tol[dtype]
    return default_tol.get(dtype, default_tol[np.dtype(np.float64)])


def get_tols(x, y, rtol, atol):
    """The (rtol, atol) to compare ``x`` and ``y``: the larger default of the two dtypes
    unless given."""
    return (max(get_tolerance(x, rtol, default_rtols()), get_tolerance(y, rtol, default_rtols())),
            max(get_tolerance(x, atol, default_atols()), get_tolerance(y, atol, default_atols())))


def get_atol(atol=None, dtype=np.dtype(np.float64)):
    """``atol``, or the default absolute tolerance of ``dtype``."""
    return default_atols()[np.dtype(dtype)] if atol is None else atol


def get_rtol(rtol=None, dtype=np.dtype(np.float64)):
    """``rtol``, or the default relative tolerance of ``dtype``."""
    return default_rtols()[np.dtype(dtype)] if rtol is None else rtol


def _np(x):
    if isinstance(x, NDArray):
        return x.asnumpy()
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        return (t.float() if t.dtype == torch.bfloat16 else t).numpy()
    return np.asarray(x)


def same(a, b):
    """True when ``a`` and ``b`` (NDArray, numpy, tensor or scalar) have equal shape and
    values."""
    return np.array_equal(_np(a), _np(b))


def _check_shapes(a, b):
    if a.shape != b.shape:
        raise AssertionError(npt.build_err_msg(
            [a, b], err_msg=f"a.shape = {a.shape} and b.shape = {b.shape} are not equal"))


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """True when ``|a - b| <= atol + rtol * |b|`` everywhere (``np.allclose``; defaults are
    float64's: rtol 1e-5, atol 1e-20)."""
    a, b = _np(a), _np(b)
    if not use_broadcast:
        _check_shapes(a, b)
    return np.allclose(a, b, rtol=get_rtol(rtol), atol=get_atol(atol), equal_nan=equal_nan)


def _violations(a, b, rtol, atol, equal_nan):
    with np.errstate(invalid="ignore", over="ignore"):
        a64, b64 = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
        absdiff = np.where(np.equal(a64, b64), 0, np.abs(a64 - b64))
        if equal_nan:
            absdiff = np.where(np.isnan(a64) & np.isnan(b64), 0, absdiff)
        absdiff = np.where(np.isnan(absdiff), np.inf, absdiff)
        return absdiff / (atol + rtol * np.abs(b64) + 1e-20)


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False,
                        use_broadcast=True, mismatches=(10, 10)):
    """Raise AssertionError unless ``a`` and ``b`` are close (``|a-b| <= atol + rtol*|b|``).

    Parameters
    ----------
    a, b : NDArray, numpy.ndarray, torch.Tensor or number
    rtol, atol : float or dict of dtype to float, optional
        Default: the larger of MXNet's per-dtype defaults for the two inputs (float32:
        rtol 1e-4, atol 1e-3; float16: 1e-2, 1e-1; float64: 1e-5, 1e-20; integers 0).
    names : tuple of str, default ('a', 'b')
        Names used in the message.
    equal_nan : bool, default False
        Whether NaNs in the same place compare equal.
    use_broadcast : bool, default True
        When False, the shapes must be equal.
    mismatches : tuple, default (10, 10)
        Kept for MXNet compatibility (the message reports the exact mismatch share).

    Raises
    ------
    AssertionError
        With the worst error, the tolerances, the share of mismatching elements and the
        location and values of the worst one (MXNet's message).
    """
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _np(a), _np(b)
    if not use_broadcast:
        _check_shapes(a, b)
    if a.dtype == np.bool_ and b.dtype == np.bool_:
        npt.assert_equal(a, b)
        return
    if np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan):
        return
    viol = _violations(a, b, rtol, atol, equal_nan)
    if viol.size == 0:
        err = "Error: shapes %s and %s cannot be compared" % (a.shape, b.shape)
    else:
        idx = np.unravel_index(np.argmax(viol), viol.shape)
        rel = viol[idx]
        share = 100.0 * np.count_nonzero(viol > 1) / viol.size
        ab, bb = np.broadcast_arrays(a, b)
        err = ("Error %f exceeds tolerance rtol=%e, atol=%e (mismatch %f%%).\n"
               "Location of maximum error: %s, %s=%.8f, %s=%.8f"
               % (rel, rtol, atol, share, str(tuple(int(i) for i in idx)), names[0],
                  float(ab[idx]), names[1], float(bb[idx])))
    with np.printoptions(threshold=4, suppress=True):
        msg = npt.build_err_msg([a, b], err_msg=err)
    raise AssertionError(msg)


def assert_allclose(a, b, rtol=1e-07, atol=0, equal_nan=True):
    """:func:`assert_almost_equal` with numpy's assert_allclose defaults."""
    assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def assert_almost_equal_ignore_nan(a, b, rtol=None, atol=None, names=("a", "b")):
    """:func:`assert_almost_equal` after zeroing every place where either input is NaN."""
    a, b = np.copy(_np(a)), np.copy(_np(b))
    mask = np.logical_or(np.isnan(a), np.isnan(b))
    a[mask] = 0
    b[mask] = 0
    assert_almost_equal(a, b, rtol, atol, names)


def same_array(array1, array2):
    """True when two NDArrays view the same memory with the same layout (writing to one
    changes the other identically). Compares storage pointer, offset, shape, strides and
    dtype; nothing is written."""
    if not (isinstance(array1, NDArray) and isinstance(array2, NDArray)):
        raise MXNetTypeError(f"same_array: expects two NDArrays, got {type(array1).__name__} "
                             f"and {type(array2).__name__}")
    t1, t2 = array1._data, array2._data
    return (t1.device == t2.device and t1.dtype == t2.dtype and t1.shape == t2.shape
            and t1.stride() == t2.stride() and t1.storage_offset() == t2.storage_offset()
            and t1.untyped_storage().data_ptr() == t2.untyped_storage().data_ptr())


def assert_exception(f, exception_type, *args, **kwargs):
    """Call ``f(*args, **kwargs)`` and raise AssertionError unless it raises
    ``exception_type``."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError(f"{getattr(f, '__name__', f)!s} did not raise "
                         f"{getattr(exception_type, '__name__', exception_type)}")


def random_arrays(*shapes):
    """float32 standard-normal numpy arrays, one per shape (a single array for one shape)."""
    arrays = [np.array(np.random.randn(), dtype=default_dtype()) if len(s) == 0
              else np.random.randn(*s).astype(default_dtype()) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def random_uniform_arrays(*shapes, low=0.0, high=1.0, dtype=None):
    """Uniform numpy arrays on ``[low, high)``, one per shape."""
    dtype = default_dtype() if dtype is None else dtype
    return [np.random.uniform(low, high, size=s).astype(dtype) for s in shapes]


def rand_shape_2d(dim0=10, dim1=10, allow_zero_size=False):
    """A random 2-d shape with dims in ``[1, dim]`` (``[0, dim]`` with allow_zero_size)."""
    low = 0 if allow_zero_size else 1
    return np.random.randint(low, dim0 + 1), np.random.randint(low, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10, allow_zero_size=False):
    """A random 3-d shape (see :func:`rand_shape_2d`)."""
    low = 0 if allow_zero_size else 1
    return (np.random.randint(low, dim0 + 1), np.random.randint(low, dim1 + 1),
            np.random.randint(low, dim2 + 1))


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    """A random shape of ``num_dim`` dims, each in ``[1, dim]``."""
    low = 0 if allow_zero_size else 1
    return tuple(np.random.randint(low, dim + 1, size=num_dim))


def rand_sparse_ndarray(shape, stype, density=None, dtype=None, distribution=None,
                        data_init=None, rsp_indices=None, modifier_func=None,
                        shuffle_csr_indices=False, ctx=None):
    """A random sparse array and its parts (numpy's global RNG), as MXNet's.

    'row_sparse': each row is stored with probability ``density`` (or the rows
    ``rsp_indices``), values uniform in [0, 1); returns ``(arr, (values, indices))``.
    'csr': each element is kept with probability ``density`` (uniform [0, 1) values
    below it, MXNet's path without scipy); returns ``(arr, (indptr, indices, data))``.

    Raises
    ------
    MXNetValueError
        For another stype, or a csr shape that is not 2-D.
    MXNetNotImplementedError
        For ``distribution='powerlaw'`` or ``shuffle_csr_indices``.
    """
    from .ndarray import sparse
    ctx = ctx if ctx else default_context()
    density = np.random.rand() if density is None else density
    dtype = default_dtype() if dtype is None else dtype
    if distribution not in (None, "uniform") or shuffle_csr_indices:
        raise MXNetNotImplementedError("rand_sparse_ndarray: only the uniform distribution "
                                       "without shuffle_csr_indices is implemented")
    if stype == "row_sparse":
        if rsp_indices is not None:
            indices = np.asarray(rsp_indices)
        else:
            indices = np.argwhere(np.random.rand(shape[0]) < density).flatten()
        if indices.shape[0] == 0:
            return (sparse.zeros("row_sparse", shape, ctx=ctx, dtype=dtype),
                    (np.array([], dtype=dtype), np.array([])))
        val = np.random.rand(indices.shape[0], *shape[1:]).astype(dtype)
        if data_init is not None:
            val.fill(data_init)
        if modifier_func is not None:
            val = np.vectorize(modifier_func)(val).astype(dtype)
        arr = sparse.row_sparse_array((val, indices), shape=shape, dtype=dtype, ctx=ctx)
        return arr, (val, indices)
    if stype == "csr":
        if len(shape) != 2:
            raise MXNetValueError(f"rand_sparse_ndarray: a csr shape must be 2-D, got {shape}")
        dns = np.random.uniform(size=shape).astype(dtype)
        dns = dns * (dns < density)
        if data_init is not None:
            dns[dns != 0] = data_init
        csr = sparse.csr_matrix(dns, ctx=ctx, dtype=dtype)
        return csr, (csr.indptr, csr.indices, csr.data)
    raise MXNetValueError(f"rand_sparse_ndarray: unknown storage type {stype!r}; use 'csr' or "
                          "'row_sparse'")


def rand_ndarray(shape, stype="default", density=None, dtype=None, modifier_func=None,
                 shuffle_csr_indices=False, distribution=None, ctx=None):
    """A random NDArray on ``ctx`` (default :func:`default_context`): dense standard-normal
    values, or a sparse array from :func:`rand_sparse_ndarray` (numpy's global RNG)."""
    ctx = ctx if ctx else default_context()
    if stype == "default":
        return array(random_arrays(tuple(shape)), dtype=dtype, ctx=ctx)
    return rand_sparse_ndarray(shape, stype, density=density, dtype=dtype,
                               modifier_func=modifier_func,
                               shuffle_csr_indices=shuffle_csr_indices,
                               distribution=distribution, ctx=ctx)[0]


# ---------------------------------------------------------------- operator checks
def _location_dict(sym, location, what="location"):
    names = sym.list_arguments()
    if isinstance(location, dict):
        unknown = sorted(set(location) - set(names))
        if unknown:
            raise MXNetValueError(f"{what} names {unknown} are not arguments of the symbol "
                                  f"{names}")
        return {k: _np(v) for k, v in location.items()}
    location = list(location)
    if len(location) != len(names):
        raise MXNetValueError(f"{what} has {len(location)} arrays for the symbol's "
                              f"{len(names)} arguments {names}; pass one per argument or a dict")
    return {k: _np(v) for k, v in zip(names, location)}


def _aux_dict(sym, aux_states):
    if aux_states is None:
        return {}
    if isinstance(aux_states, dict):
        return {k: _np(v) for k, v in aux_states.items()}
    return {k: _np(v) for k, v in zip(sym.list_auxiliary_states(), aux_states)}


def _bind_at(sym, location, aux, ctx, dtype, grad_req):
    ctx = ctx if ctx else default_context()
    from .symbol.ops.sparse import var_stypes
    stypes = var_stypes(sym)        # csr variables are bound csr (the sparse code path)
    args = {k: array(v, dtype=dtype, ctx=ctx) for k, v in location.items()}
    args = {k: a.tostype("csr") if stypes.get(k) == "csr" else a for k, a in args.items()}
    grads = {k: array(np.zeros(v.shape), dtype=dtype, ctx=ctx) for k, v in location.items()}
    aux_states = {k: array(v, dtype=dtype, ctx=ctx) for k, v in aux.items()}
    return sym.bind(ctx, args, args_grad=grads, grad_req=grad_req, aux_states=aux_states)


def _check_grad_stypes(exe, grad_stypes):
    """Every gradient named in ``grad_stypes`` has that storage type."""
    for name, stype in (grad_stypes or {}).items():
        got = exe.grad_dict[name].stype
        if got != stype:
            raise AssertionError(f"the gradient of {name!r} has storage type {got!r}, "
                                 f"expected {stype!r}")


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=1e-3, rtol=1e-2,
                           atol=None, grad_nodes=None, use_forward_train=True, ctx=None,
                           grad_stype_dict=None, dtype=np.float64):
    """Compare the symbol's gradient with central finite differences (MXNet's check).

    The outputs are projected on fixed random arrays, ``L = sum_i sum(out_i * proj_i)``;
    ``backward(proj)`` must give ``dL/dx`` for every node in ``grad_nodes`` (all arguments
    by default) within ``rtol``/``atol``. Runs in ``dtype`` (float64 by default, so the
    differences are not swamped by rounding).
    """
    location = _location_dict(sym, location)
    aux = _aux_dict(sym, aux_states)
    if grad_nodes is None:
        grad_nodes = list(location)
    elif isinstance(grad_nodes, dict):
        grad_nodes = list(grad_nodes)
    rng = np.random.RandomState(1234)
    req = {k: ("write" if k in grad_nodes else "null") for k in location}
    exe = _bind_at(sym, location, aux, ctx, dtype, req)
    exe.forward(is_train=use_forward_train)
    projs = [rng.normal(0, 1, o.shape) for o in exe.outputs]
    exe.backward([array(p, dtype=dtype, ctx=exe.outputs[0].context) for p in projs])
    _check_grad_stypes(exe, grad_stype_dict)
    symbolic = {k: exe.grad_dict[k].asnumpy().astype(np.float64) for k in grad_nodes}

    def loss(loc):
        e = _bind_at(sym, loc, aux, ctx, dtype, "null")
        e.forward(is_train=use_forward_train)
        return sum(float((o.asnumpy().astype(np.float64) * p).sum())
                   for o, p in zip(e.outputs, projs))

    for name in grad_nodes:
        base = location[name].astype(np.float64)
        numeric = np.zeros_like(base)
        flat = numeric.reshape(-1)
        for i in range(base.size):
            loc = dict(location)
            x = base.copy().reshape(-1)
            x[i] += numeric_eps / 2
            loc[name] = x.reshape(base.shape)
            up = loss(loc)
            x[i] -= numeric_eps
            loc[name] = x.reshape(base.shape)
            flat[i] = (up - loss(loc)) / numeric_eps
        assert_almost_equal(numeric, symbolic[name], rtol, atol,
                            names=(f"NUMERICAL_{name}", f"BACKWARD_{name}"))


def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None,
                           ctx=None, equal_nan=False, dtype=np.float32):
    """Bind at ``location``, run forward (inference) and compare each output with
    ``expected`` (a list, or a dict by output name). Returns the outputs as numpy."""
    location = _location_dict(sym, location)
    exe = _bind_at(sym, location, _aux_dict(sym, aux_states), ctx, dtype, "null")
    outputs = [o.asnumpy() for o in exe.forward(is_train=False)]
    if isinstance(expected, dict):
        expected = [expected[k] for k in sym.list_outputs()]
    for i, (want, got) in enumerate(zip(expected, outputs)):
        assert_almost_equal(got, _np(want), rtol, atol, names=(f"FORWARD_{i}", f"EXPECTED_{i}"),
                            equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None,
                            aux_states=None, grad_req="write", ctx=None, grad_stypes=None,
                            equal_nan=False, dtype=np.float32):
    """Bind at ``location``, run forward(is_train=True) and backward(out_grads), and compare
    the input gradients with ``expected`` (a list in argument order, or a dict by name).
    Returns the gradients as a dict of numpy arrays."""
    location = _location_dict(sym, location)
    if not isinstance(expected, dict):
        expected = dict(zip(sym.list_arguments(), expected))
    exe = _bind_at(sym, location, _aux_dict(sym, aux_states), ctx, dtype, grad_req)
    exe.forward(is_train=True)
    ctx_out = exe.outputs[0].context
    out_grads = [array(_np(g), dtype=dtype, ctx=ctx_out) for g in
                 (out_grads if isinstance(out_grads, (list, tuple)) else [out_grads])]
    exe.backward(out_grads)
    _check_grad_stypes(exe, grad_stypes)
    grads = {k: exe.grad_dict[k].asnumpy() for k in location if exe.grad_dict.get(k) is not None}
    for name, want in expected.items():
        if want is None:
            continue
        assert_almost_equal(grads[name], _np(want), rtol, atol,
                            names=(f"BACKWARD_{name}", f"EXPECTED_{name}"), equal_nan=equal_nan)
    return grads
