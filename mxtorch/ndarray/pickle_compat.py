"""MXNet optimizer ``.states`` pickles without running code: a restricted unpickler that
rebuilds NDArrays from their raw records and turns MXNet optimizer / lr_scheduler objects
into plain :class:`PickledObject` dicts; and a writer of pickles MXNet 1.9 can read."""
import _compat_pickle
import io
import pickle
import pickletools
import struct
from collections import OrderedDict

import numpy as np
import torch

from ..base import FormatError, MXNetError, MXNetTypeError
from .ndarray import NDArray
from .serialize import dumps_record, loads_record

__all__ = ["loads_mxnet_pickle", "dumps_mxnet_pickle", "PickledObject"]

_NDARRAY_PATHS = {("mxnet.ndarray.ndarray", "NDArray"), ("mxnet.ndarray", "NDArray"),
                  ("mxnet.ndarray.sparse", "RowSparseNDArray"),
                  ("mxnet.ndarray.sparse", "CSRNDArray")}
# modules whose classes may appear in a dump_optimizer=True file (never instantiated)
_OBJECT_MODULES = {"mxnet.optimizer.optimizer", "mxnet.optimizer", "mxnet.optimizer.contrib",
                   "mxnet.lr_scheduler"}
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")


class PickledObject(dict):
    """An MXNet object found in a pickle (optimizer, lr_scheduler), kept as data.

    A plain dict with keys ``'module'`` (e.g. ``'mxnet.optimizer.optimizer'``),
    ``'class'`` (e.g. ``'SGD'``) and ``'state'`` (the object's pickled ``__dict__``, with
    NDArrays and nested objects already converted). Nothing of MXNet is imported or run.
    """
    _mx_module = _mx_name = None

    def __new__(cls, *args, **kwargs):
        self = dict.__new__(PickledObject)
        dict.update(self, {"module": cls._mx_module, "class": cls._mx_name, "state": {}})
        return self

    def __init__(self, *args, **kwargs):  # constructor arguments are never used
        pass

    @staticmethod
    def of(module, name, state):
        """A PickledObject for ``module.name`` with ``state`` (e.g. to write with
        :func:`dumps_mxnet_pickle`)."""
        obj = _object_stub(module, name).__new__(_object_stub(module, name))
        obj["state"] = dict(state)
        return obj

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:   # (dict state, slot state)
            merged = dict(state[0] or {})
            merged.update(state[1] or {})
            state = merged
        if not isinstance(state, dict):
            raise FormatError(f"the state of {self['module']}.{self['class']} is a "
                              f"{type(state).__name__}, expected a dict")
        self["state"] = state

    def __reduce__(self):
        return dict, (dict(self),)


def _object_stub(module, name):
    return type("PickledObject", (PickledObject,), {"_mx_module": module, "_mx_name": name})


class _PickledNDArray(NDArray):
    """Target of ``mxnet.ndarray.ndarray.NDArray`` (and the sparse classes) in a pickle;
    becomes an NDArray of the record's storage type once its ``{'handle':
    bytearray(record)}`` state is set."""
    __slots__ = ()

    def __init__(self, handle=None, *args, **kwargs):
        if handle is not None:
            raise FormatError("a pickled NDArray must be built with handle None and a state; "
                              f"got handle {type(handle).__name__}")
        NDArray.__init__(self, torch.empty((0,), dtype=torch.float32))

    def __setstate__(self, state):
        if not isinstance(state, dict) or "handle" not in state:
            raise FormatError(f"a pickled NDArray's state must be {{'handle': bytearray}}, got "
                              f"{type(state).__name__}")
        handle = state["handle"]
        if handle is not None:
            if not isinstance(handle, (bytes, bytearray)):
                raise FormatError(f"a pickled NDArray's handle must be bytes, got "
                                  f"{type(handle).__name__}")
            arr = loads_record(handle, source="pickled NDArray")
            self._data, self._ctx = arr._data, None
            self.__class__ = type(arr)
            return
        self.__class__ = NDArray


def _safe_bytearray(*args):
    if not args:
        return bytearray()
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytearray(args[0])
    if len(args) == 2 and isinstance(args[0], str) and args[1] in ("latin-1", "latin1"):
        return bytearray(args[0], "latin-1")      # Python 2 / protocol 2 pickles
    raise FormatError(f"refusing bytearray{tuple(type(a).__name__ for a in args)}: only bytes "
                      "(or a latin-1 str) are accepted")


def _safe_encode(obj, encoding="utf-8", *rest):
    if isinstance(obj, str) and encoding in ("latin1", "latin-1") and not rest:
        return obj.encode("latin-1")
    raise FormatError("refusing _codecs.encode other than (str, 'latin1')")


class _NdarrayClassToken:
    """Stands for ``numpy.ndarray`` inside a pickle; only ``_reconstruct`` accepts it."""


def _safe_reconstruct(cls, shape, dtype):
    if cls is not _NdarrayClassToken:
        raise FormatError("refusing numpy _reconstruct of anything but numpy.ndarray")
    return np.ndarray.__new__(np.ndarray, (0,), dtype=np.uint8)


def _safe_dtype(obj, align=False, copy=False):
    if not isinstance(obj, str):
        raise FormatError(f"refusing numpy.dtype({type(obj).__name__}): only type strings")
    return np.dtype(obj, align=bool(align), copy=bool(copy))


def _safe_scalar(dtype, data=None):
    if isinstance(data, str):                     # Python 2 pickles: latin-1 str of bytes
        data = data.encode("latin-1")
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise FormatError("refusing a numpy scalar that is not plain numeric bytes")
    return np.frombuffer(data, dtype=dtype, count=1)[0].copy()


def _safe_copyreg_reconstructor(cls, base, state):
    if isinstance(cls, type) and issubclass(cls, PickledObject) and state is None:
        return cls.__new__(cls)
    raise FormatError("refusing copyreg._reconstructor for anything but an MXNet optimizer "
                      "or lr_scheduler")


_SAFE = {("builtins", "bytearray"): _safe_bytearray, ("builtins", "set"): set,
         ("builtins", "frozenset"): frozenset, ("collections", "OrderedDict"): OrderedDict,
         ("_codecs", "encode"): _safe_encode, ("numpy", "ndarray"): _NdarrayClassToken,
         ("numpy", "dtype"): _safe_dtype,
         ("copyreg", "_reconstructor"): _safe_copyreg_reconstructor}
for _core in _NUMPY_CORE:
    _SAFE[(_core, "_reconstruct")] = _safe_reconstruct
    _SAFE[(_core, "scalar")] = _safe_scalar


_MEMO_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}


def _check_memo_indices(buf):
    """Refuse memo indices no real pickle holds, before unpickling: CPython's unpickler
    keeps its memo as an array sized by the largest index, so ``LONG_BINPUT 2**31`` in a
    few bytes of input would allocate gigabytes. A pickle's memo indices count its
    stores, so each is below the number of opcodes (and so below ``len(buf)``)."""
    for opcode, arg, pos in pickletools.genops(buf):
        if opcode.name in _MEMO_PUTS and not 0 <= int(arg) < len(buf):
            raise FormatError(f"memo index {arg} at byte {pos} is out of range for a "
                              f"{len(buf)}-byte pickle (corrupt or crafted)")


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the names an MXNet ``.states`` file holds; refuses everything else."""

    def find_class(self, module, name):
        # Python 2 names (protocol < 3 pickles): __builtin__ -> builtins, copy_reg -> copyreg
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if (module, name) in _SAFE:
            return _SAFE[(module, name)]
        if (module, name) in _NDARRAY_PATHS:
            return _PickledNDArray
        if module in _OBJECT_MODULES and name.isidentifier():
            return _object_stub(module, name)
        raise FormatError(f"refusing to unpickle {module}.{name}: an MXNet .states file holds "
                          "only NDArrays, containers and MXNet optimizer/lr_scheduler objects, "
                          "so this file is not one (or was crafted to run code)")

    def persistent_load(self, pid):
        raise FormatError("refusing a pickle with persistent ids: not an MXNet .states file")


def loads_mxnet_pickle(buf, source="<buffer>"):
    """Unpickle an MXNet ``.states`` payload (``Updater.get_states()``) safely.

    Parameters
    ----------
    buf : bytes
        The pickle bytes (protocol 0-5; Python 2 pickles are read with latin-1 strings).
    source : str, optional
        Named in error messages (e.g. the file name).

    Returns
    -------
    object
        The states dict ``{index or name: None | NDArray | tuple of NDArray}``, or for
        ``dump_optimizer=True`` files the tuple ``(states, PickledObject)`` where the
        PickledObject holds the optimizer's class name and pickled ``__dict__``.

    Raises
    ------
    FormatError
        If the pickle names any other class or function (nothing of it is run), or is
        corrupt or truncated.
    """
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise MXNetTypeError(f"loads_mxnet_pickle: buf must be bytes, got {type(buf).__name__}")
    try:
        buf = bytes(buf)
        _check_memo_indices(buf)
        return _RestrictedUnpickler(io.BytesIO(buf), encoding="latin1").load()
    except MXNetError as e:
        if isinstance(e, FormatError) and not str(e).startswith(source):
            raise FormatError(f"{source}: {e}") from e
        raise
    except Exception as e:  # noqa: BLE001 - any unpickling failure means a bad file
        raise FormatError(f"{source}: not a valid MXNet .states pickle "
                          f"({type(e).__name__}: {e})") from e


# ----------------------------------------------------------------------------- writing
def _emit(obj, out):
    """Protocol-3 opcodes for the value types a .states payload holds (no memo)."""
    if obj is None:
        out.append(b"N")
    elif obj is True or obj is False:
        out.append(b"\x88" if obj else b"\x89")
    elif isinstance(obj, (int, np.integer)):
        v = int(obj)
        if 0 <= v < 256:
            out.append(b"K" + bytes([v]))
        elif -2 ** 31 <= v < 2 ** 31:
            out.append(b"J" + struct.pack("<i", v))
        else:
            raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
            out.append(b"\x8a" + bytes([len(raw)]) + raw)
    elif isinstance(obj, (float, np.floating)):
        out.append(b"G" + struct.pack(">d", float(obj)))
    elif isinstance(obj, str):
        raw = obj.encode("utf-8")
        out.append(b"X" + struct.pack("<I", len(raw)) + raw)
    elif isinstance(obj, NDArray):
        record = dumps_record(obj)
        out.append(b"cmxnet.ndarray.ndarray\nNDArray\nN\x85R}X\x06\x00\x00\x00handle"
                   b"cbuiltins\nbytearray\nB" + struct.pack("<I", len(record)) + record
                   + b"\x85Rsb")
    elif isinstance(obj, PickledObject):
        out.append(f"c{obj['module']}\n{obj['class']}\n".encode() + b")\x81")
        _emit(dict(obj["state"]), out)
        out.append(b"b")
    elif isinstance(obj, tuple):
        if len(obj) == 0:
            out.append(b")")
            return
        out.append(b"(")
        for v in obj:
            _emit(v, out)
        out.append(b"t")
    elif isinstance(obj, list):
        out.append(b"](")
        for v in obj:
            _emit(v, out)
        out.append(b"e")
    elif isinstance(obj, dict):
        out.append(b"}(")
        for k, v in obj.items():
            _emit(k, out)
            _emit(v, out)
        out.append(b"u")
    else:
        raise MXNetTypeError(f"dumps_mxnet_pickle: cannot write a {type(obj).__name__}; "
                             "states hold None, numbers, str, NDArray, tuple, list and dict")


def dumps_mxnet_pickle(obj):
    """Pickle bytes that MXNet 1.9's ``Updater.set_states`` reads: NDArrays are written as
    ``mxnet.ndarray.ndarray.NDArray`` with their raw record, :class:`PickledObject` as
    the MXNet class it names. Accepts None, bool, int, float, str, NDArray, tuple, list,
    dict and PickledObject.

    Raises
    ------
    MXNetTypeError
        For any other value type.
    """
    out = [b"\x80\x03"]
    _emit(obj, out)
    out.append(b".")
    return b"".join(out)
