"""``mx.nd.sparse``: CSRNDArray and RowSparseNDArray on torch's sparse tensors.

- ``CSRNDArray`` wraps a 2-D ``torch.sparse_csr`` tensor: ``data`` (the values),
  ``indices`` (column ids) and ``indptr`` (row pointers), int64 as in MXNet.
- ``RowSparseNDArray`` wraps a coalesced ``torch.sparse_coo`` tensor with one sparse
  dimension (the rows) and the others dense: ``data`` has shape
  ``(len(indices),) + shape[1:]`` and ``indices`` are the sorted ids of the stored rows.

What MXNet keeps sparse stays sparse here: csr row slices, ``*``/``/`` by a scalar,
``+``/``-`` of two arrays of one storage type, negation, ``square``/``sqrt``/``abs``-style
ops that map 0 to 0, and ``dot`` (``dot(csr.T, dense)`` is row_sparse, ``dot(dense, csr)``
csr, as MXNet's ``sparse.dot``). Anything else is computed on a dense copy (MXNet's
"storage fallback") and returns a dense NDArray.

In a bound graph (see ``mxtorch.executor``) csr inputs stay csr, row_sparse *weights* are
held dense on the device (every row is stored, as after MXNet's initializers) and their
gradients are row_sparse: only the rows a batch touches, updated lazily by the optimizers.
"""
import numbers
import warnings

import numpy as np
import torch

from ..base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError, torch_dtype
from .ndarray import NDArray, _ctx_device

__all__ = ["BaseSparseNDArray", "CSRNDArray", "RowSparseNDArray", "csr_matrix",
           "row_sparse_array", "zeros", "empty", "array", "dot", "cast_storage", "retain",
           "add", "subtract", "multiply", "divide", "wrap", "rebind", "is_sparse"]

# torch flags its CSR support as beta on every construction; the layout is all we use
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta",
                        category=UserWarning)

STYPES = ("default", "row_sparse", "csr")


# ------------------------------------------------------------------ tensor helpers
def _coo(indices, values, size, is_coalesced=None):
    return torch.sparse_coo_tensor(indices, values, size=size, is_coalesced=is_coalesced,
                                   check_invariants=False)


def is_sparse(t):
    """Whether a tensor has a sparse layout (csr or coo)."""
    return t.layout is not torch.strided


def stype_of(t):
    """MXNet's storage type name of a tensor's layout."""
    if t.layout is torch.sparse_csr:
        return "csr"
    if t.layout is torch.sparse_coo:
        return "row_sparse"
    return "default"


def csr_tensor(values, indices, indptr, shape):
    """A csr tensor from MXNet's three arrays (ids as int64)."""
    return torch.sparse_csr_tensor(indptr.to(torch.int64), indices.to(torch.int64), values,
                                   size=tuple(shape), check_invariants=False)


def csr_problem(values, indices, indptr, shape):
    """Why three arrays do not make a valid csr array of ``shape`` (None when they do).
    torch builds csr tensors without checking them (a bad one crashes the process later),
    so every csr array made from outside data is checked here first."""
    if len(shape) != 2 or len(indptr) != shape[0] + 1 or len(values) != len(indices):
        return (f"{len(values)} values, {len(indices)} column indices and {len(indptr)} row "
                f"pointers do not fit shape {tuple(shape)} (needs shape[0] + 1 row pointers "
                "and one index per value)")
    if len(indptr) and (int(indptr[0]) != 0 or int(indptr[-1]) != len(values) or
                        bool((indptr[1:] < indptr[:-1]).any())):
        return "row pointers must start at 0, never decrease and end at the number of values"
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= shape[1]):
        return f"column indices must be in [0, {shape[1]})"
    return None


def rsp_tensor(values, rows, shape):
    """A row_sparse (coalesced coo, one sparse dim) tensor from its rows and their ids."""
    rows = rows.to(torch.int64).reshape(1, -1)
    t = _coo(rows, values, tuple(shape))
    return t.coalesce()


def to_dense(t):
    return t.to_dense() if is_sparse(t) else t


def dense_to_rsp(t, all_rows=False):
    """row_sparse from a dense tensor: the rows with a nonzero (MXNet's cast_storage), or
    every row (``all_rows``: a gradient of a weight whose rows are all stored)."""
    if all_rows:
        rows = torch.arange(t.shape[0], device=t.device)
    else:
        rows = t.reshape(t.shape[0], -1).ne(0).any(dim=1).nonzero().reshape(-1)
    return _coo(rows.reshape(1, -1), t.index_select(0, rows), size=t.shape,
                                   is_coalesced=True)


def to_stype(t, stype):
    """The tensor in storage ``stype`` ('default', 'row_sparse' or 'csr')."""
    if stype not in STYPES:
        raise MXNetValueError(f"unknown storage type {stype!r}; use one of {STYPES}")
    have = stype_of(t)
    if have == stype:
        return t
    if stype == "default":
        return t.to_dense()
    if stype == "csr":
        if t.dim() != 2:
            raise MXNetValueError(f"a csr array must be 2-D; this one has shape {tuple(t.shape)}")
        return t.to_dense().to_sparse_csr() if have == "row_sparse" else t.to_sparse_csr()
    return dense_to_rsp(t.to_dense() if have == "csr" else t)


def csr_rows(t, start, end):
    """Rows ``[start, end)`` of a csr tensor (a new csr tensor sharing no storage)."""
    crow = t.crow_indices()
    lo, hi = int(crow[start]), int(crow[end])
    return csr_tensor(t.values()[lo:hi].clone(), t.col_indices()[lo:hi].clone(),
                      crow[start:end + 1] - lo, (end - start, t.shape[1]))


def csr_take(t, rows):
    """The csr tensor of ``rows`` (an int64 tensor) of ``t``, in that order."""
    crow = t.crow_indices()
    counts = (crow[1:] - crow[:-1]).index_select(0, rows)
    new_crow = torch.zeros(len(rows) + 1, dtype=torch.int64, device=crow.device)
    torch.cumsum(counts, 0, out=new_crow[1:])
    nnz = int(new_crow[-1])
    shift = torch.repeat_interleave(crow.index_select(0, rows) - new_crow[:-1], counts)
    pos = torch.arange(nnz, device=crow.device) + shift
    return csr_tensor(t.values().index_select(0, pos), t.col_indices().index_select(0, pos),
                      new_crow, (len(rows), t.shape[1]))


def csr_cat(parts):
    """Row-wise concatenation of csr tensors of one width."""
    if len(parts) == 1:
        return parts[0]
    values = torch.cat([p.values() for p in parts])
    indices = torch.cat([p.col_indices() for p in parts])
    ptrs, offset = [torch.zeros(1, dtype=torch.int64)], 0
    for p in parts:
        crow = p.crow_indices()
        ptrs.append(crow[1:] + offset)
        offset += int(crow[-1])
    rows = sum(p.shape[0] for p in parts)
    return csr_tensor(values, indices, torch.cat(ptrs), (rows, parts[0].shape[1]))


def map_values(t, fn):
    """``fn`` applied to the stored values (for functions that map 0 to 0)."""
    if t.layout is torch.sparse_csr:
        return torch.sparse_csr_tensor(t.crow_indices(), t.col_indices(), fn(t.values()),
                                       size=t.shape, check_invariants=False)
    t = t.coalesce()
    return _coo(t.indices(), fn(t.values()), size=t.shape, is_coalesced=True)


def _sparse_sum(a, b, alpha=1):
    """``a + alpha * b`` of two tensors of one sparse layout, in that layout."""
    if a.layout is torch.sparse_csr:
        return torch.add(a.to_sparse_coo(), b.to_sparse_coo(), alpha=alpha).coalesce() \
            .to_sparse_csr()
    return torch.add(a, b, alpha=alpha).coalesce()


# ------------------------------------------------------------------ classes
class BaseSparseNDArray(NDArray):
    """Common behaviour of the sparse arrays: dense fallback for what has no sparse form."""
    __slots__ = ()
    _stype = None

    @property
    def stype(self):
        return self._stype

    def __repr__(self):
        shape = "x".join(str(s) for s in self.shape)
        return f"\n<{type(self).__name__} {shape} @{self.context}>"

    def asnumpy(self):
        return NDArray(self._data.to_dense(), self._ctx).asnumpy()

    def tostype(self, stype):
        """This array in storage ``stype`` ('default', 'row_sparse' or 'csr')."""
        return wrap(to_stype(self._data, stype), self._ctx)

    def copy(self):
        return type(self)(self._data.clone(), self._ctx)

    def _copy_into(self, other):
        """A sparse destination takes this array's storage, a dense one its values."""
        if isinstance(other, BaseSparseNDArray):
            other._data = to_stype(self._data, other.stype).to(
                device=other._data.device, dtype=other._data.dtype, copy=True)
        else:
            with torch.no_grad():
                other._data.copy_(self._data.to_dense())

    def _new(self, tensor, ctx):
        return type(self)(tensor, ctx)

    def astype(self, dtype, copy=True):
        td = torch_dtype(dtype)
        if not copy and td == self._data.dtype:
            return self
        return type(self)(self._data.to(td, copy=True), self._ctx)

    def todense(self):
        return self.tostype("default")

    def _dense(self):
        return NDArray(self._data.to_dense(), self._ctx)

    def __setitem__(self, key, value):
        if not (isinstance(key, slice) and key == slice(None)):
            raise MXNetValueError(f"{type(self).__name__} only supports assignment to the whole "
                                  "array (x[:] = value); convert with tostype('default') to "
                                  "assign to parts")
        if isinstance(value, NDArray):
            src = value._data
        elif isinstance(value, numbers.Number):
            raise MXNetValueError(f"assigning a scalar to a {type(self).__name__} would make it "
                                  "dense; use tostype('default') first")
        else:
            src = torch.as_tensor(np.asarray(value))
        if tuple(src.shape) != self.shape:
            raise MXNetValueError(f"cannot assign an array of shape {tuple(src.shape)} to a "
                                  f"{type(self).__name__} of shape {self.shape}")
        self._data = to_stype(src.to(device=self._data.device, dtype=self._data.dtype),
                              self.stype).clone()

    # arithmetic: sparse where MXNet keeps it sparse, else dense fallback
    def _binary(self, fn, other):
        return NDArray(fn(self._data.to_dense(), self._other(other)), self._ctx)

    def _inplace(self, fn, other):
        self._data = to_stype(fn(self._data.to_dense(), self._other(other)), self.stype)
        return self

    def _cmp(self, fn, o):
        return self._dense()._cmp(fn, o)

    def _reduce(self, fn, axis=None, keepdims=False):
        return self._dense()._reduce(fn, axis, keepdims)

    def _same_stype(self, o):
        return isinstance(o, BaseSparseNDArray) and o.stype == self.stype

    def __add__(self, o):
        if self._same_stype(o):
            return type(self)(_sparse_sum(self._data, o._data), self._ctx)
        return self._binary(torch.add, o)

    __radd__ = __add__

    def __sub__(self, o):
        if self._same_stype(o):
            return type(self)(_sparse_sum(self._data, o._data, alpha=-1), self._ctx)
        return self._binary(torch.sub, o)

    def __mul__(self, o):
        if isinstance(o, numbers.Number):
            return type(self)(map_values(self._data, lambda v: v * o), self._ctx)
        return self._binary(torch.mul, o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, numbers.Number):
            return type(self)(map_values(self._data, lambda v: v / o), self._ctx)
        return self._binary(torch.true_divide, o)

    def __neg__(self):
        return type(self)(map_values(self._data, torch.neg), self._ctx)

    def __abs__(self):
        return type(self)(map_values(self._data, torch.abs), self._ctx)

    def abs(self):
        return abs(self)

    def square(self):
        return type(self)(map_values(self._data, torch.square), self._ctx)

    def sqrt(self):
        return type(self)(map_values(self._data, torch.sqrt), self._ctx)

    def _no_view(self, name):
        raise MXNetNotImplementedError(f"{name} is not supported on a {type(self).__name__}; "
                                       "convert with tostype('default') first")

    def reshape(self, *shape, **kwargs):
        self._no_view("reshape")

    def transpose(self, axes=None):
        self._no_view("transpose")

    def broadcast_to(self, shape):
        self._no_view("broadcast_to")

    def expand_dims(self, axis):
        self._no_view("expand_dims")

    def slice_axis(self, axis, begin, end):
        self._no_view("slice_axis")


class CSRNDArray(BaseSparseNDArray):
    """A 2-D array in compressed sparse row storage (``stype == 'csr'``)."""
    __slots__ = ()
    _stype = "csr"

    @property
    def data(self):
        """The stored values (1-D)."""
        return NDArray(self._data.values(), self._ctx)

    @property
    def indices(self):
        """The column id of each stored value (int64)."""
        return NDArray(self._data.col_indices(), self._ctx)

    @property
    def indptr(self):
        """Row pointers: row i holds values ``indptr[i]:indptr[i+1]`` (int64)."""
        return NDArray(self._data.crow_indices(), self._ctx)

    def __getitem__(self, key):
        """Rows: ``x[i]`` (a 1-row csr array) or ``x[a:b]`` (step 1)."""
        n = self.shape[0]
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            i = int(key) + (n if key < 0 else 0)
            if not 0 <= i < n:
                raise MXNetValueError(f"index {key} is out of bounds for a CSRNDArray with {n} rows")
            return CSRNDArray(csr_rows(self._data, i, i + 1), self._ctx)
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                raise MXNetValueError("CSRNDArray slicing needs step 1")
            return CSRNDArray(csr_rows(self._data, start, max(start, stop)), self._ctx)
        raise MXNetValueError(f"CSRNDArray supports an int or a slice of rows as key, got "
                              f"{key!r}; convert with tostype('default') for other indexing")

    def asscipy(self):
        """A ``scipy.sparse.csr_matrix`` with copies of the three arrays (needs scipy)."""
        try:
            import scipy.sparse as spsp
        except ImportError as e:
            raise MXNetNotImplementedError("asscipy needs scipy; pip install scipy") from e
        t = self._data.cpu()
        return spsp.csr_matrix((t.values().numpy().copy(), t.col_indices().numpy().copy(),
                                t.crow_indices().numpy().copy()), shape=self.shape)


class RowSparseNDArray(BaseSparseNDArray):
    """An array whose stored rows are listed in ``indices`` (``stype == 'row_sparse'``)."""
    __slots__ = ()
    _stype = "row_sparse"

    def __init__(self, data, ctx=None):
        super().__init__(data if not data.is_sparse or data.is_coalesced() else data.coalesce(),
                         ctx)

    @property
    def data(self):
        """The stored rows, shape ``(len(indices),) + shape[1:]``."""
        return NDArray(self._data.values(), self._ctx)

    @property
    def indices(self):
        """The sorted ids of the stored rows (int64)."""
        return NDArray(self._data.indices()[0], self._ctx)

    def __getitem__(self, key):
        if isinstance(key, slice) and key == slice(None):
            return self
        raise MXNetValueError(f"RowSparseNDArray only supports x[:] as key, got {key!r}; "
                              "convert with tostype('default') for other indexing")

    def retain(self, indices):
        """The rows of ``indices`` that are stored (MXNet's ``sparse.retain``)."""
        return retain(self, indices)


_CLASSES = {torch.strided: NDArray, torch.sparse_csr: CSRNDArray,
            torch.sparse_coo: RowSparseNDArray}


# ------------------------------------------------------------------ creation
def wrap(t, ctx=None):
    """The NDArray class for a tensor's layout around it."""
    if t.layout is torch.sparse_csr:
        return CSRNDArray(t, ctx)
    if t.layout is torch.sparse_coo:
        return RowSparseNDArray(t, ctx)
    return NDArray(t, ctx)


def rebind(arr, t):
    """Make the NDArray ``arr`` hold ``t`` (no copy), its class following t's layout (a
    gradient array turns row_sparse when its gradient is)."""
    arr._data = t
    cls = _CLASSES[t.layout]
    if type(arr) is not cls and type(arr) in _CLASSES.values():
        arr.__class__ = cls


def _tensor(x, dtype=None, device=None):
    if isinstance(x, NDArray):
        t = x._data
    elif isinstance(x, torch.Tensor):
        t = x
    else:
        t = torch.from_numpy(np.ascontiguousarray(np.asarray(x)))
    return t.to(device=device, dtype=dtype) if (dtype is not None or device is not None) else t


def _is_shape(arg):
    return isinstance(arg, tuple) and arg and all(isinstance(d, numbers.Integral) for d in arg)


def _dtype_of(dtype, values):
    if dtype is not None:
        return torch_dtype(dtype)
    if isinstance(values, (NDArray, torch.Tensor)):
        return None
    return torch.float32


def csr_matrix(arg1, shape=None, ctx=None, dtype=None):
    """A CSRNDArray (MXNet's ``mx.nd.sparse.csr_matrix``).

    Parameters
    ----------
    arg1 : one of
        - ``(data, indices, indptr)`` with ``shape``: MXNet's/scipy's three arrays;
        - ``(data, (row, col))`` with ``shape``: coordinates (duplicates are summed);
        - a 2-D dense NDArray / numpy array (zeros are dropped);
        - a CSRNDArray or a scipy.sparse matrix (copied);
        - a shape ``(rows, cols)``: an all-zero array.
    shape : tuple of int, optional
    ctx : Context, optional
    dtype : str or numpy dtype, optional
        Default float32 (or the dtype of an NDArray / csr argument).

    Raises
    ------
    MXNetValueError
        For inconsistent arrays or a missing shape.
    """
    device = _ctx_device(ctx)
    if _is_shape(arg1):
        return zeros("csr", arg1, ctx=ctx, dtype=dtype)
    if hasattr(arg1, "tocsr") and not isinstance(arg1, NDArray):   # scipy.sparse
        m = arg1.tocsr()
        arg1, shape = (m.data, m.indices, m.indptr), m.shape
    if isinstance(arg1, tuple) and len(arg1) == 2 and isinstance(arg1[1], tuple):
        values, (row, col) = arg1
        if shape is None:
            raise MXNetValueError("csr_matrix((data, (row, col))) needs shape=")
        td = _dtype_of(dtype, values)
        v = _tensor(values, td, device).reshape(-1)
        idx = torch.stack([_tensor(row, torch.int64, device).reshape(-1),
                           _tensor(col, torch.int64, device).reshape(-1)])
        coo = _coo(idx, v, size=tuple(shape)).coalesce()
        return CSRNDArray(coo.to_sparse_csr(), ctx)
    if isinstance(arg1, tuple) and len(arg1) == 3:
        values, indices, indptr = arg1
        td = _dtype_of(dtype, values)
        v = _tensor(values, td, device).reshape(-1)
        ind = _tensor(indices, torch.int64, device).reshape(-1)
        ptr = _tensor(indptr, torch.int64, device).reshape(-1)
        if shape is None:
            shape = (len(ptr) - 1, int(ind.max()) + 1 if len(ind) else 0)
        problem = csr_problem(v, ind, ptr, shape)
        if problem:
            raise MXNetValueError(f"csr_matrix: inconsistent arrays: {problem}")
        return CSRNDArray(csr_tensor(v, ind, ptr, shape), ctx)
    if isinstance(arg1, CSRNDArray):
        t = arg1._data.to(device=device, dtype=torch_dtype(dtype) if dtype else None, copy=True)
        return CSRNDArray(t, ctx)
    t = _tensor(arg1, _dtype_of(dtype, arg1), device)
    if isinstance(arg1, BaseSparseNDArray):
        t = t.to_dense()
    if t.dim() != 2:
        raise MXNetValueError(f"csr_matrix needs a 2-D array, got shape {tuple(t.shape)}")
    return CSRNDArray(t.to_sparse_csr(), ctx)


def row_sparse_array(arg1, shape=None, ctx=None, dtype=None):
    """A RowSparseNDArray (MXNet's ``mx.nd.sparse.row_sparse_array``).

    Parameters
    ----------
    arg1 : one of
        - ``(data, indices)`` with ``shape``: the stored rows and their ids;
        - a dense NDArray / numpy array (rows of zeros are dropped);
        - a RowSparseNDArray (copied);
        - a shape: an array with no stored row.
    shape : tuple of int, optional
    ctx : Context, optional
    dtype : str or numpy dtype, optional

    Raises
    ------
    MXNetValueError
        For inconsistent arrays or a missing shape.
    """
    device = _ctx_device(ctx)
    if _is_shape(arg1):
        return zeros("row_sparse", arg1, ctx=ctx, dtype=dtype)
    if isinstance(arg1, tuple) and len(arg1) == 2:
        values, indices = arg1
        td = _dtype_of(dtype, values)
        v = _tensor(values, td, device)
        ind = _tensor(indices, torch.int64, device).reshape(-1)
        if shape is None:
            shape = (int(ind.max()) + 1 if len(ind) else 0,) + tuple(v.shape[1:])
        if v.dim() == 0 or v.shape[0] != len(ind) or tuple(v.shape[1:]) != tuple(shape[1:]):
            raise MXNetValueError(f"row_sparse_array: data of shape {tuple(v.shape)} does not "
                                  f"fit {len(ind)} row ids and shape {tuple(shape)} (data must "
                                  "be (len(indices),) + shape[1:])")
        if len(ind) and (int(ind.min()) < 0 or int(ind.max()) >= shape[0]):
            raise MXNetValueError(f"row_sparse_array: row ids must be in [0, {shape[0]})")
        if len(torch.unique(ind)) != len(ind):
            raise MXNetValueError("row_sparse_array: row ids must be unique")
        return RowSparseNDArray(rsp_tensor(v, ind, shape), ctx)
    if isinstance(arg1, RowSparseNDArray):
        t = arg1._data.to(device=device, dtype=torch_dtype(dtype) if dtype else None, copy=True)
        return RowSparseNDArray(t, ctx)
    t = _tensor(arg1, _dtype_of(dtype, arg1), device)
    return RowSparseNDArray(dense_to_rsp(t.to_dense() if is_sparse(t) else t), ctx)


def zeros(stype, shape, ctx=None, dtype=None, **kwargs):
    """An all-zero array of storage ``stype`` (nothing stored for the sparse types)."""
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    shape = tuple(int(d) for d in shape)
    td = torch_dtype(dtype) if dtype is not None else torch.float32
    device = _ctx_device(ctx)
    if stype == "default":
        return NDArray(torch.zeros(shape, dtype=td, device=device), ctx)
    if stype == "csr":
        if len(shape) != 2:
            raise MXNetValueError(f"a csr array must be 2-D, got shape {shape}")
        return CSRNDArray(csr_tensor(torch.zeros(0, dtype=td, device=device),
                                     torch.zeros(0, dtype=torch.int64, device=device),
                                     torch.zeros(shape[0] + 1, dtype=torch.int64, device=device),
                                     shape), ctx)
    if stype == "row_sparse":
        return RowSparseNDArray(_coo(
            torch.zeros((1, 0), dtype=torch.int64, device=device),
            torch.zeros((0,) + shape[1:], dtype=td, device=device), size=shape,
            is_coalesced=True), ctx)
    raise MXNetValueError(f"unknown storage type {stype!r}; use one of {STYPES}")


def empty(stype, shape, ctx=None, dtype=None):
    """Same as :func:`zeros` (a sparse array stores nothing to leave uninitialized)."""
    return zeros(stype, shape, ctx=ctx, dtype=dtype)


def array(source_array, ctx=None, dtype=None):
    """A sparse array from a CSRNDArray, RowSparseNDArray or scipy.sparse matrix."""
    if isinstance(source_array, CSRNDArray) or hasattr(source_array, "tocsr"):
        return csr_matrix(source_array, ctx=ctx, dtype=dtype)
    if isinstance(source_array, RowSparseNDArray):
        return row_sparse_array(source_array, ctx=ctx, dtype=dtype)
    raise MXNetValueError(f"mx.nd.sparse.array takes a sparse array or a scipy.sparse matrix, "
                          f"got {type(source_array).__name__}; use csr_matrix / "
                          "row_sparse_array for dense input")


def cast_storage(data, stype):
    """``data`` in storage ``stype`` (MXNet's ``cast_storage``)."""
    return wrap(to_stype(data._data, stype), data._ctx)


def retain(data, indices):
    """The stored rows of a RowSparseNDArray whose ids are in ``indices``."""
    if not isinstance(data, RowSparseNDArray):
        raise MXNetTypeError(f"retain needs a RowSparseNDArray, got {type(data).__name__}")
    t = data._data
    keep = torch.isin(t.indices()[0], _tensor(indices, torch.int64, t.device).reshape(-1))
    return RowSparseNDArray(_coo(
        t.indices()[:, keep], t.values()[keep], size=t.shape, is_coalesced=True), data._ctx)


def dot(lhs, rhs, transpose_a=False, transpose_b=False, forward_stype=None):
    """Matrix product with sparse operands (MXNet's ``sparse.dot``).

    Output storage as MXNet: ``dot(csr, dense)``, ``dot(csr, row_sparse)`` -> dense;
    ``dot(csr, dense, transpose_a=True)`` -> row_sparse; ``dot(dense, csr)`` -> csr; a
    ``forward_stype`` overrides it.
    """
    from ..symbol.ops.linalg import sparse_dot
    out = sparse_dot(lhs._data, rhs._data, transpose_a, transpose_b)
    if forward_stype is None:
        ls, rs = lhs.stype, rhs.stype
        forward_stype = ("row_sparse" if ls == "csr" and transpose_a and rs == "default" else
                         "csr" if ls == "default" and rs == "csr" and not transpose_b else
                         "default")
    ctx = lhs._ctx
    return wrap(to_stype(out, forward_stype), ctx)


def add(lhs, rhs):
    """``lhs + rhs`` (sparse when both have one sparse storage type)."""
    return lhs + rhs


def subtract(lhs, rhs):
    """``lhs - rhs`` (sparse when both have one sparse storage type)."""
    return lhs - rhs


def multiply(lhs, rhs):
    """``lhs * rhs``; by a scalar a sparse array stays sparse."""
    return lhs * rhs


def divide(lhs, rhs):
    """``lhs / rhs``; by a scalar a sparse array stays sparse."""
    return lhs / rhs
