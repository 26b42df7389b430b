"""The exception hierarchy of mxtorch and small shared helpers (dtype tables).

Every user error raised by the library is an ``MXNetError``. Where MXNet raises a
built-in type (ValueError, TypeError, RuntimeError, ...) our subclass derives from
that type too, so existing ``except`` clauses keep working.
"""
import numpy as np
import torch

__all__ = ["MXNetError", "MXNetValueError", "MXNetTypeError", "MXNetRuntimeError",
           "MXNetKeyError", "MXNetIndexError", "MXNetNotImplementedError", "StateError",
           "ShapeError", "FormatError", "numeric_types", "integer_types", "string_types",
           "np_dtype", "torch_dtype", "DTYPE_NP_TO_MX", "DTYPE_MX_TO_NP",
           "OptionalDependencyError"]


class MXNetError(Exception):
    """Base class of every error raised by mxtorch."""


class MXNetValueError(MXNetError, ValueError):
    """A bad value (MXNet raises ValueError here)."""


class MXNetTypeError(MXNetError, TypeError):
    """A value of the wrong type (MXNet raises TypeError here)."""


class MXNetRuntimeError(MXNetError, RuntimeError):
    """A failure at run time (MXNet raises RuntimeError here)."""


class MXNetKeyError(MXNetError, KeyError):
    """An unknown name."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class MXNetIndexError(MXNetError, IndexError):
    """An index out of range."""


class MXNetNotImplementedError(MXNetError, NotImplementedError):
    """A documented feature that this version does not provide."""


class StateError(MXNetError, AssertionError, RuntimeError):
    """A call made in the wrong state of the module state machine (e.g. forward
    before bind). MXNet asserts here, so it is also an AssertionError."""


class ShapeError(MXNetValueError):
    """A shape that does not fit, or that cannot be inferred."""


class OptionalDependencyError(MXNetError, ImportError):
    """A feature needs a package that is not installed (the message says which and how to
    install it)."""


class FormatError(MXNetValueError):
    """A file that is truncated, corrupt or not in the expected format."""


numeric_types = (float, int, np.generic)
integer_types = (int, np.integer)
string_types = (str,)

# mshadow type flags used in .params files and symbol JSON (__dtype__)
DTYPE_MX_TO_NP = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32,
                  5: np.int8, 6: np.int64, 7: np.bool_, 8: np.int16, 9: np.uint16,
                  10: np.uint32, 11: np.uint64}
DTYPE_NP_TO_MX = {np.dtype(v): k for k, v in DTYPE_MX_TO_NP.items()}

_TORCH_OF_NP = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
                np.dtype(np.float16): torch.float16, np.dtype(np.uint8): torch.uint8,
                np.dtype(np.int32): torch.int32, np.dtype(np.int8): torch.int8,
                np.dtype(np.int64): torch.int64, np.dtype(np.bool_): torch.bool,
                np.dtype(np.int16): torch.int16, np.dtype(np.uint16): torch.uint16,
                np.dtype(np.uint32): torch.uint32, np.dtype(np.uint64): torch.uint64}
_NP_OF_TORCH = {v: k for k, v in _TORCH_OF_NP.items()}


def np_dtype(dtype):
    """Normalize a dtype given as a numpy type, string, torch dtype or MXNet code
    to a ``numpy.dtype``."""
    if dtype is None:
        return np.dtype(np.float32)
    if isinstance(dtype, torch.dtype):
        if dtype == torch.bfloat16:
            raise MXNetTypeError("bfloat16 has no numpy dtype; use the torch tensor (.torch)")
        return _NP_OF_TORCH[dtype]
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
        if int(dtype) not in DTYPE_MX_TO_NP:
            raise MXNetTypeError(f"unknown MXNet dtype code {dtype}")
        return np.dtype(DTYPE_MX_TO_NP[int(dtype)])
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise MXNetTypeError(f"unknown dtype {dtype!r}: use a numpy dtype such as 'float32'") from e


def torch_dtype(dtype):
    """Normalize any dtype spelling to a ``torch.dtype``."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype == "bfloat16":
        return torch.bfloat16
    nd = np_dtype(dtype)
    try:
        return _TORCH_OF_NP[nd]
    except KeyError:
        raise MXNetTypeError(f"dtype {nd} is not supported") from None
