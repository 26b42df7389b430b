"""``NdArray``: the storage of a Variable's data or gradient, a mutable handle on one
torch tensor, read and written from numpy through views. It owns nnabla's lazy
"zeroing" flag that solvers use to skip parameters no backward has touched."""
import numbers

import numpy as np
import torch

from ..base import MXNetTypeError, MXNetValueError, np_dtype, torch_dtype

__all__ = ["NdArray", "as_shape"]


def as_shape(shape, where="shape"):
    """A shape as a tuple of non-negative ints; raises MXNetValueError naming ``where``."""
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        raise MXNetTypeError(f"{where} must be a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise MXNetValueError(f"{where} {out} has a negative dimension")
    return out


class NdArray:
    """An n-d array held as a torch tensor (allocated lazily, filled with zeros).

    Parameters
    ----------
    shape : tuple of int, default ()
    dtype : numpy dtype, default float32

    Notes
    -----
    ``data`` returns a numpy **view** of the tensor (CPU): writing into it changes the
    array. ``zeroing`` is True after :meth:`zero` until something writes the array
    again; solvers skip parameters whose gradient is still ``zeroing`` (nnabla's rule).
    """

    def __init__(self, shape=(), dtype=np.float32):
        self._shape = as_shape(shape)
        self._dtype = torch_dtype(dtype)
        self._t = None
        self.zeroing = False

    @classmethod
    def from_numpy_array(cls, nparr):
        """A new NdArray holding a copy of ``nparr`` in its own dtype."""
        arr = np.asarray(nparr)
        out = cls(arr.shape, arr.dtype)
        out._t = torch.from_numpy(np.array(arr, copy=True))
        return out

    # ------------------------------------------------------------------ tensor access
    @property
    def tensor(self):
        """The torch tensor (allocated as zeros on first access)."""
        if self._t is None:
            self._t = torch.zeros(self._shape, dtype=self._dtype)
        return self._t

    def set_tensor(self, t):
        """Make ``t`` the storage (no copy); shape and dtype follow it."""
        self._t = t
        self._shape = tuple(t.shape)
        self._dtype = t.dtype
        self.zeroing = False

    def release(self):
        """Drop the storage; the next read sees zeros."""
        self._t = None

    @property
    def allocated(self):
        """Whether storage exists (False after :meth:`release` or before first use)."""
        return self._t is not None

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        return self._shape

    @property
    def ndim(self):
        return len(self._shape)

    @property
    def size(self):
        return int(np.prod(self._shape, dtype=np.int64))

    @property
    def dtype(self):
        """The numpy dtype of the storage."""
        return np_dtype(self._dtype)

    @property
    def torch_dtype(self):
        """The torch dtype of the storage (known before it is allocated)."""
        return self._dtype

    # ------------------------------------------------------------------ numpy views
    @property
    def data(self):
        """The values as a numpy view (a copy for a tensor off the CPU)."""
        self.zeroing = False
        t = self.tensor.detach()
        return t.numpy() if t.device.type == "cpu" else t.cpu().numpy()

    @data.setter
    def data(self, value):
        """``0`` zeroes, any other scalar fills, an array replaces the storage with a
        copy in the array's dtype (the shape must match)."""
        if isinstance(value, NdArray):
            value = value.data
        if isinstance(value, (numbers.Number, np.number)) and not isinstance(value, bool):
            if value == 0:
                self.zero()
            else:
                self.fill(value)
            return
        arr = np.asarray(value)
        if arr.ndim == 0:
            self.fill(arr.item())
            return
        if arr.shape != self._shape:
            raise MXNetValueError(f"cannot assign an array of shape {arr.shape} to an array of "
                                  f"shape {self._shape}: reshape the value first (or use "
                                  "Variable.reset_shape to change the variable's shape)")
        self.set_tensor(torch.from_numpy(np.array(arr, copy=True)))

    def cast(self, dtype, ctx=None):
        """Convert the storage to ``dtype`` and return it as a numpy view."""
        td = torch_dtype(dtype)
        if self.tensor.dtype != td:
            self.set_tensor(self.tensor.to(td))
        return self.data

    # ------------------------------------------------------------------ in-place writes
    def zero(self):
        """Set every element to 0 and mark the array as lazily zeroed."""
        if self._t is not None:
            self._t.zero_()
        self.zeroing = True

    def fill(self, value):
        """Set every element to ``value``."""
        self.tensor.fill_(value)
        self.zeroing = False

    def copy_from(self, other):
        """Copy the values of a tensor, NdArray or array-like of the same shape in place."""
        if isinstance(other, NdArray):
            src = other.tensor
        elif isinstance(other, torch.Tensor):
            src = other
        else:
            src = torch.as_tensor(np.asarray(other))
        self.tensor.copy_(src.reshape(self._shape))
        self.zeroing = False

    def accumulate(self, t):
        """Add tensor ``t`` into the array (a gradient arriving from backward)."""
        t = t.detach().reshape(self._shape)
        if self._t is None or self.zeroing:
            self.set_tensor(t.to(self._dtype).clone())
        else:
            self._t.add_(t.to(self._t.dtype))
        self.zeroing = False

    def __repr__(self):
        return f"<NdArray{self._shape} of {self.dtype}>"
