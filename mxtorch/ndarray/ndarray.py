"""NDArray: a thin handle on one ``torch.Tensor``.

The handle owns no data of its own: ``.torch`` returns the wrapped tensor with no
copy and ``from_torch`` wraps one. Internals work on raw tensors and wrap only at
the public boundary. Writes (``x[:] = y``, ``+=``) go into the wrapped tensor, so
every holder of the handle (executors, optimizer states) sees them.
"""
import numpy as np
import torch

from ..base import MXNetValueError, MXNetTypeError, np_dtype, torch_dtype
from ..context import Context, current_context

__all__ = ["NDArray", "array", "zeros", "ones", "full", "empty", "arange", "concat",
           "concatenate", "waitall", "from_torch", "from_numpy", "ones_like", "zeros_like",
           "_as_tensor", "_ctx_device"]


def _ctx_device(ctx):
    if ctx is None:
        ctx = current_context()
    if isinstance(ctx, torch.device):
        return ctx
    return ctx.torch_device


def _as_tensor(x, device=None, dtype=None):
    """A tensor from an NDArray, tensor, numpy array or scalar (no copy when possible)."""
    if isinstance(x, NDArray):
        t = x._data
    elif isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
    else:
        t = torch.as_tensor(np.asarray(x, dtype=np_dtype(dtype) if dtype is not None else None))
    if dtype is not None or device is not None:
        t = t.to(device=device, dtype=torch_dtype(dtype) if dtype is not None else None)
    return t


class NDArray:
    """An n-dimensional array on a device, wrapping one torch.Tensor.

    Parameters
    ----------
    data : torch.Tensor
        The tensor to wrap (not copied).
    ctx : Context, optional
        The context label of the array. Defaults to the context of the tensor's device;
        CPU ids other than 0 are kept as labels (``cpu(1)``).
    """
    __slots__ = ("_data", "_ctx", "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, data, ctx=None):
        if not isinstance(data, torch.Tensor):
            raise MXNetTypeError(f"NDArray wraps a torch.Tensor, got {type(data).__name__}; "
                                 "use mx.nd.array(...) to build one from data")
        self._data = data
        self._ctx = ctx

    # ----------------------------------------------------------------- identity
    @property
    def torch(self):
        """The wrapped torch.Tensor (no copy)."""
        return self._data

    @property
    def handle(self):
        return self._data

    @property
    def shape(self):
        return tuple(self._data.shape)

    @property
    def dtype(self):
        if self._data.dtype == torch.bfloat16:
            return torch.bfloat16
        return np_dtype(self._data.dtype).type

    @property
    def size(self):
        return int(self._data.numel())

    @property
    def ndim(self):
        return self._data.dim()

    @property
    def stype(self):
        return "default"

    @property
    def context(self):
        if self._ctx is not None:
            return self._ctx
        return Context.from_torch(self._data.device)

    ctx = context

    @property
    def T(self):
        return NDArray(self._data.t() if self.ndim <= 2 else self._data.permute(
            *reversed(range(self.ndim))), self._ctx)

    def __repr__(self):
        shape = "x".join(str(s) for s in self.shape)
        return f"\n{self.asnumpy()!s}\n<NDArray {shape} @{self.context}>"

    def __len__(self):
        return self.shape[0]

    def __iter__(self):
        for i in range(self.shape[0]):
            yield self[i]

    def __bool__(self):
        if self.size == 1:
            return bool(self._data.item())
        if self.size == 0:
            return False
        raise MXNetValueError("The truth value of an NDArray with more than one element is "
                              "ambiguous.")

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- host transfer
    def asnumpy(self):
        """A numpy copy of the data (synchronizes with the device)."""
        t = self._data.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.cpu().numpy().copy()

    def __array__(self, dtype=None, copy=None):
        a = self.asnumpy()
        return a.astype(dtype) if dtype is not None else a

    def asscalar(self):
        """The value of a one-element array as a numpy scalar."""
        if self.size != 1:
            raise MXNetValueError(f"The current array is not a scalar (shape {self.shape}); "
                                  "asscalar needs exactly one element")
        return self.asnumpy().reshape(())[()]

    def item(self):
        return self.asscalar().item()

    def tolist(self):
        return self.asnumpy().tolist()

    def wait_to_read(self):
        """Block until the array's pending computation is done."""
        if self._data.is_cuda:
            torch.cuda.current_stream(self._data.device).synchronize()

    wait_to_write = wait_to_read

    # ----------------------------------------------------------------- copies
    def copy(self):
        """A deep copy on the same context."""
        return NDArray(self._data.clone(), self._ctx)

    def copyto(self, other):
        """Copy into another NDArray (in place) or to a new array on a Context."""
        if isinstance(other, NDArray):
            if other is self:
                return other
            if other.shape != self.shape:
                raise MXNetValueError(f"copyto: shape mismatch, source {self.shape} vs "
                                      f"destination {other.shape}")
            self._copy_into(other)
            return other
        if isinstance(other, Context):
            return self._new(self._data.to(other.torch_device, copy=True), other)
        raise MXNetTypeError(f"copyto does not support type {type(other).__name__}; "
                             "pass an NDArray or a Context")

    def _copy_into(self, other):
        """copyto's in-place part: ``other``'s values become this array's."""
        with torch.no_grad():
            other._data.copy_(self._data)

    @staticmethod
    def _new(tensor, ctx):
        """copyto's array on another context (the storage type's class)."""
        return NDArray(tensor, ctx)

    def as_in_context(self, context):
        """This array if already on ``context``, else a copy there."""
        if self.context == context:
            return self
        return self.copyto(context)

    as_in_ctx = as_in_context

    def astype(self, dtype, copy=True):
        """A copy with elements cast to ``dtype`` (no copy if same dtype and copy=False)."""
        td = torch_dtype(dtype)
        if not copy and td == self._data.dtype:
            return self
        return NDArray(self._data.to(td, copy=True), self._ctx)

    def reshape(self, *shape, **kwargs):
        """A view with a new shape; MXNet's special values 0 (keep) and -1 (infer) work."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if "shape" in kwargs:
            shape = tuple(kwargs.pop("shape"))
        if kwargs.get("reverse"):
            raise MXNetValueError("reshape(reverse=True) is only supported on symbols")
        shape = tuple(self.shape[i] if s == 0 else s for i, s in enumerate(shape))
        try:
            return NDArray(self._data.reshape(shape), self._ctx)
        except RuntimeError as e:
            raise MXNetValueError(f"cannot reshape array of shape {self.shape} into {shape}") from e

    def reshape_like(self, other):
        return self.reshape(other.shape)

    def flatten(self):
        return NDArray(self._data.reshape(self.shape[0], -1), self._ctx)

    def expand_dims(self, axis):
        return NDArray(self._data.unsqueeze(axis), self._ctx)

    def squeeze(self, axis=None):
        return NDArray(self._data.squeeze() if axis is None else self._data.squeeze(axis), self._ctx)

    def transpose(self, axes=None):
        if axes is None:
            axes = tuple(reversed(range(self.ndim)))
        return NDArray(self._data.permute(*axes), self._ctx)

    def broadcast_to(self, shape):
        return NDArray(self._data.expand(*shape), self._ctx)

    def slice_axis(self, axis, begin, end):
        end = self.shape[axis] if end is None else end
        return NDArray(self._data.narrow(axis, begin, end - begin), self._ctx)

    def detach(self):
        return NDArray(self._data.detach(), self._ctx)

    def tostype(self, stype):
        """This array in storage ``stype``: 'default', 'csr' (2-D) or 'row_sparse' (see
        :mod:`mxtorch.ndarray.sparse`)."""
        if stype == "default":
            return self
        from . import sparse
        return sparse.cast_storage(self, stype)

    # ----------------------------------------------------------------- indexing
    @staticmethod
    def _key(key):
        if isinstance(key, NDArray):
            return key._data.long()
        if isinstance(key, tuple):
            return tuple(k._data.long() if isinstance(k, NDArray) else k for k in key)
        return key

    def __getitem__(self, key):
        return NDArray(self._data[self._key(key)], self._ctx)

    def __setitem__(self, key, value):
        with torch.no_grad():
            if isinstance(value, NDArray):
                value = self._other(value)
            elif isinstance(value, np.ndarray):
                value = torch.from_numpy(np.ascontiguousarray(value))
            if isinstance(value, torch.Tensor):
                value = value.to(device=self._data.device, dtype=self._data.dtype)
            self._data[self._key(key)] = value

    # ----------------------------------------------------------------- arithmetic
    def _other(self, o):
        if isinstance(o, NDArray):
            return o._data if o._data.layout is torch.strided else o._data.to_dense()
        if isinstance(o, np.ndarray):
            return torch.from_numpy(o).to(self._data.device)
        return o

    def _binary(self, fn, other):
        return NDArray(fn(self._data, self._other(other)), self._ctx)

    def _inplace(self, fn, other):
        with torch.no_grad():
            fn(self._data, self._other(other))
        return self

    def __add__(self, o): return self._binary(torch.add, o)
    def __radd__(self, o): return self._binary(torch.add, o)
    def __sub__(self, o): return self._binary(torch.sub, o)
    def __rsub__(self, o): return NDArray(self._other(o) - self._data, self._ctx)
    def __mul__(self, o): return self._binary(torch.mul, o)
    def __rmul__(self, o): return self._binary(torch.mul, o)
    def __truediv__(self, o): return self._binary(torch.true_divide, o)
    def __rtruediv__(self, o): return NDArray(self._other(o) / self._data, self._ctx)
    def __mod__(self, o): return self._binary(torch.remainder, o)
    def __rmod__(self, o): return NDArray(torch.remainder(torch.as_tensor(self._other(o)), self._data), self._ctx)
    def __pow__(self, o): return self._binary(torch.pow, o)
    def __rpow__(self, o): return NDArray(torch.pow(self._other(o), self._data), self._ctx)
    def __neg__(self): return NDArray(-self._data, self._ctx)
    def __abs__(self): return NDArray(self._data.abs(), self._ctx)
    def __iadd__(self, o): return self._inplace(torch.Tensor.add_, o)
    def __isub__(self, o): return self._inplace(torch.Tensor.sub_, o)
    def __imul__(self, o): return self._inplace(torch.Tensor.mul_, o)
    def __itruediv__(self, o): return self._inplace(torch.Tensor.div_, o)

    def _cmp(self, fn, o):
        return NDArray(fn(self._data, self._other(o)).to(self._data.dtype), self._ctx)

    def __eq__(self, o): return self._cmp(torch.eq, o)
    def __ne__(self, o): return self._cmp(torch.ne, o)
    def __lt__(self, o): return self._cmp(torch.lt, o)
    def __le__(self, o): return self._cmp(torch.le, o)
    def __gt__(self, o): return self._cmp(torch.gt, o)
    def __ge__(self, o): return self._cmp(torch.ge, o)

    # ----------------------------------------------------------------- reductions and math
    def _reduce(self, fn, axis=None, keepdims=False):
        if axis is None:
            r = fn(self._data)
            return NDArray(r.reshape((1,) * self.ndim if keepdims else (1,)), self._ctx)
        return NDArray(fn(self._data, dim=axis, keepdim=keepdims), self._ctx)

    def sum(self, axis=None, keepdims=False): return self._reduce(torch.sum, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return self._reduce(torch.mean, axis, keepdims)
    def prod(self, axis=None, keepdims=False): return self._reduce(torch.prod, axis, keepdims)
    def max(self, axis=None, keepdims=False): return self._reduce(torch.amax, axis, keepdims) if axis is not None else self._reduce(torch.max)
    def min(self, axis=None, keepdims=False): return self._reduce(torch.amin, axis, keepdims) if axis is not None else self._reduce(torch.min)

    def norm(self):
        return NDArray(torch.linalg.vector_norm(self._data.float()).reshape(1).to(self._data.dtype), self._ctx)

    def argmax(self, axis=None):
        return NDArray(self._data.argmax(dim=axis).to(self._data.dtype), self._ctx)

    def argmin(self, axis=None):
        return NDArray(self._data.argmin(dim=axis).to(self._data.dtype), self._ctx)

    def abs(self): return NDArray(self._data.abs(), self._ctx)
    def sqrt(self): return NDArray(self._data.sqrt(), self._ctx)
    def square(self): return NDArray(self._data.square(), self._ctx)
    def exp(self): return NDArray(self._data.exp(), self._ctx)
    def log(self): return NDArray(self._data.log(), self._ctx)
    def sign(self): return NDArray(self._data.sign(), self._ctx)
    def relu(self): return NDArray(self._data.relu(), self._ctx)
    def sigmoid(self): return NDArray(self._data.sigmoid(), self._ctx)
    def tanh(self): return NDArray(self._data.tanh(), self._ctx)

    def clip(self, a_min, a_max):
        return NDArray(self._data.clamp(a_min, a_max), self._ctx)

    def zeros_like(self):
        return NDArray(torch.zeros_like(self._data), self._ctx)

    def ones_like(self):
        return NDArray(torch.ones_like(self._data), self._ctx)


# --------------------------------------------------------------------- creation
def _wrap(t, ctx):
    return NDArray(t, ctx if ctx is not None else current_context())


def from_torch(tensor, ctx=None):
    """Wrap a torch.Tensor without copying."""
    return NDArray(tensor, ctx)


def from_numpy(a, zero_copy=False):
    """An NDArray from a numpy array (shares memory when ``zero_copy``)."""
    t = torch.from_numpy(a if zero_copy else np.array(a))
    return NDArray(t)


def array(source_array, ctx=None, dtype=None):
    """An NDArray copied from ``source_array`` (array-like, NDArray or tensor).

    ``dtype`` defaults to the source's dtype for an NDArray (and a torch tensor), else
    float32: as MXNet 1.9.1, a numpy array of any dtype (float64, int64, ...) becomes
    float32 unless ``dtype`` says otherwise.
    """
    if dtype is None:
        if isinstance(source_array, NDArray):
            dtype = source_array._data.dtype
        elif isinstance(source_array, torch.Tensor):
            dtype = source_array.dtype
        else:
            dtype = np.float32
    dev = _ctx_device(ctx)
    if isinstance(source_array, NDArray):
        t = source_array._data.detach().to(device=dev, dtype=torch_dtype(dtype), copy=True)
    elif isinstance(source_array, torch.Tensor):
        t = source_array.detach().to(device=dev, dtype=torch_dtype(dtype), copy=True)
    else:
        a = np.array(source_array, dtype=np_dtype(dtype) if not isinstance(dtype, torch.dtype) else None)
        t = torch.from_numpy(a).to(device=dev, dtype=torch_dtype(dtype))
    return _wrap(t, ctx)


def _shape(shape):
    return (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def empty(shape, ctx=None, dtype=None):
    """An uninitialized array."""
    return _wrap(torch.empty(_shape(shape), dtype=torch_dtype(dtype or np.float32),
                             device=_ctx_device(ctx)), ctx)


def zeros(shape, ctx=None, dtype=None, stype=None, **kwargs):
    """An array of zeros (float32 unless ``dtype``); ``stype`` 'csr' or 'row_sparse'
    gives a sparse one storing nothing."""
    if stype not in (None, "default"):
        from .sparse import zeros as sparse_zeros
        return sparse_zeros(stype, shape, ctx=ctx, dtype=dtype)
    return _wrap(torch.zeros(_shape(shape), dtype=torch_dtype(dtype or np.float32),
                             device=_ctx_device(ctx)), ctx)


def ones(shape, ctx=None, dtype=None, **kwargs):
    """An array of ones (float32 unless ``dtype``)."""
    return _wrap(torch.ones(_shape(shape), dtype=torch_dtype(dtype or np.float32),
                            device=_ctx_device(ctx)), ctx)


def full(shape, val, ctx=None, dtype=np.float32, out=None):
    """An array filled with ``val``."""
    if out is not None:
        out[:] = val
        return out
    return _wrap(torch.full(_shape(shape), val, dtype=torch_dtype(dtype),
                            device=_ctx_device(ctx)), ctx)


def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype=np.float32, infer_range=False):
    """Evenly spaced values in [start, stop) (each repeated ``repeat`` times)."""
    if stop is None:
        start, stop = 0, start
    t = torch.arange(start, stop, step, dtype=torch.float64).to(torch_dtype(dtype))
    if repeat > 1:
        t = t.repeat_interleave(repeat)
    return _wrap(t.to(_ctx_device(ctx)), ctx)


def zeros_like(a):
    return a.zeros_like()


def ones_like(a):
    return a.ones_like()


def concat(*arrays, dim=1):
    """Concatenate arrays along ``dim`` (MXNet's default dim is 1)."""
    if len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):
        arrays = arrays[0]
    return NDArray(torch.cat([a._data for a in arrays], dim=dim), arrays[0]._ctx)


def concatenate(arrays, axis=0, always_copy=True):
    """Concatenate along ``axis`` (default 0)."""
    if not always_copy and len(arrays) == 1:
        return arrays[0]
    return concat(*arrays, dim=axis)


def waitall():
    """Wait for all pending device work."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
