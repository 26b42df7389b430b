"""Parameter files: one currency, an ordered ``name -> (numpy array, need_grad)`` dict,
and thin readers/writers for nnabla's ``.h5`` layout (h5py), ``.safetensors`` and
MXNet's ``.params`` (``arg:``/``aux:`` keys for need_grad True/False). Files are written
atomically; nothing is unpickled.

Trust: ``.params`` and ``.safetensors`` are parsed here (or by safetensors) with every
size checked against the bytes present, so a damaged or crafted file is a FormatError.
``.h5`` is parsed by libhdf5, which does not defend against crafted files: mxtorch reads
only plain-number values from it (damaged ones are a FormatError), but a crafted file can
still make libhdf5 allocate without bound or crash while walking the file's structure
(both found by fuzzing, inside libhdf5 2.0). Load ``.h5`` only from sources you trust;
use ``.safetensors`` for the others."""
import io
import json
import os
import struct
from collections import OrderedDict

import numpy as np

from ..base import FormatError, MXNetTypeError, MXNetValueError
from ..util.atomic import atomic_write

__all__ = ["SUPPORTED", "file_extension", "save_arrays", "load_arrays"]

SUPPORTED = (".h5", ".safetensors", ".params")


def file_extension(path, extension, call):
    """The format of ``path``: its file extension for a str/PathLike, else ``extension``."""
    if isinstance(path, (str, os.PathLike)):
        ext = os.path.splitext(os.fspath(path))[1]
    else:
        ext = extension
    if ext not in SUPPORTED:
        raise MXNetValueError(f"{call}: unsupported parameter file format {ext!r} for "
                              f"{path!r}; use one of {', '.join(SUPPORTED)}")
    return ext


def _emit(path, data):
    if isinstance(path, (str, os.PathLike)):
        atomic_write(path, data)
    elif hasattr(path, "write"):
        path.write(data)
    else:
        raise MXNetTypeError(f"expected a file path or a writable file object, got "
                             f"{type(path).__name__}")


def _slurp(path):
    if isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as f:
            return f.read()
    if hasattr(path, "read"):
        return path.read()
    raise MXNetTypeError(f"expected a file path or a readable file object, got "
                         f"{type(path).__name__}")


# ---------------------------------------------------------------------- .h5
def _h5_bytes(items):
    import h5py
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for index, (key, (arr, need_grad)) in enumerate(items.items()):
            f[key] = arr
            f[key].attrs["need_grad"] = np.bool_(need_grad)
            f[key].attrs["index"] = np.int64(index)
    return buf.getvalue()


# what h5py raises for damaged files
H5_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, OverflowError)


def h5_number(obj, source, attr=None):
    """The value of dataset ``obj`` (or of its attribute ``attr``), read only if it is a
    plain number array: reading a variable-length (compound, reference ...) value from a
    damaged file can crash libhdf5 itself (found by fuzzing: a vlen need_grad attribute
    with a bad heap index).

    Raises
    ------
    FormatError
        If the value is of any other HDF5 type, or ``obj`` is a group.
    """
    import h5py
    if attr is None and not isinstance(obj, h5py.Dataset):
        raise FormatError(f"{source}: {obj.name!r} is a group where an array belongs")
    type_id = (obj.attrs.get_id(attr) if attr is not None else obj.id).get_type()
    if (type_id.get_class() not in (h5py.h5t.INTEGER, h5py.h5t.FLOAT, h5py.h5t.ENUM)
            or type_id.get_size() > 16):
        what = f"{obj.name!r}" + (f"'s attribute {attr!r}" if attr is not None else "")
        raise FormatError(f"{source}: {what} is not a plain number array (HDF5 type class "
                          f"{type_id.get_class()}, {type_id.get_size()} bytes)")
    return obj.attrs[attr] if attr is not None else np.array(obj[()])


def _h5_items(data, source):
    import h5py
    found = []
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    if "need_grad" not in obj.attrs:
                        raise FormatError(f"{source}: dataset {name!r} has no 'need_grad' "
                                          "attribute: not an nnabla parameter file")
                    index = h5_number(obj, source, "index") if "index" in obj.attrs else None
                    found.append((int(index) if index is not None else None, name,
                                  h5_number(obj, source),
                                  bool(h5_number(obj, source, "need_grad"))))
            f.visititems(visit)
    except FormatError:
        raise
    except H5_ERRORS as e:
        raise FormatError(f"{source} is not a readable HDF5 file ({e})") from e
    found.sort(key=lambda r: (r[0] is None, r[0] if r[0] is not None else 0, r[1]))
    return OrderedDict((name, (arr, ng)) for _, name, arr, ng in found)


# ---------------------------------------------------------------------- .safetensors
def _safetensors_bytes(items):
    from safetensors.numpy import save
    meta = {"format": "nnabla-parameters", "order": json.dumps(list(items)),
            "need_grad": json.dumps([bool(ng) for _, ng in items.values()])}
    return save({k: np.ascontiguousarray(a) for k, (a, _) in items.items()}, metadata=meta)


def _safetensors_items(data, source):
    from safetensors.numpy import load
    try:
        arrays = load(data)
        (n,) = struct.unpack("<Q", data[:8])      # header: u64 length, then JSON
        meta = json.loads(data[8:8 + n]).get("__metadata__") or {}
        order = json.loads(meta.get("order", "null")) or sorted(arrays)
        flags = json.loads(meta.get("need_grad", "null")) or [True] * len(order)
        if not (isinstance(order, list) and all(isinstance(k, str) for k in order)
                and isinstance(flags, list) and len(flags) == len(order)):
            raise ValueError("metadata 'order'/'need_grad' are not lists of names and flags "
                             "of one length")
    except Exception as e:  # noqa: BLE001  (safetensors raises its own error types)
        raise FormatError(f"{source} is not a readable safetensors file ({e})") from e
    out = OrderedDict((k, (arrays[k], bool(ng))) for k, ng in zip(order, flags) if k in arrays)
    for k in sorted(set(arrays) - set(out)):
        out[k] = (arrays[k], True)
    return out


# ---------------------------------------------------------------------- .params
def _params_bytes(items):
    from ..ndarray import serialize
    from ..ndarray.ndarray import from_numpy
    return serialize.dumps({("arg:" if ng else "aux:") + k: from_numpy(np.ascontiguousarray(a))
                            for k, (a, ng) in items.items()})


def _params_items(data, source):
    from ..ndarray import serialize
    arrays = serialize.loads(data, source)
    if not isinstance(arrays, dict):
        raise FormatError(f"{source} holds an unnamed list of arrays; parameters need names")
    out = OrderedDict()
    for k, v in arrays.items():
        kind, _, name = k.partition(":")
        if not name:
            kind, name = "arg", k
        out[name] = (v.asnumpy(), kind != "aux")
    return out


_WRITERS = {".h5": _h5_bytes, ".safetensors": _safetensors_bytes, ".params": _params_bytes}
_READERS = {".h5": _h5_items, ".safetensors": _safetensors_items, ".params": _params_items}


def save_arrays(path, items, extension=".h5", call="save_parameters"):
    """Write ``items`` (OrderedDict name -> (array, need_grad)) to ``path``.

    Parameters
    ----------
    path : str, os.PathLike or writable binary file object
    items : OrderedDict
    extension : str, default '.h5'
        The format for a file object (a path's own extension wins).
    """
    ext = file_extension(path, extension, call)
    _emit(path, _WRITERS[ext](items))


def load_arrays(path, extension=".h5", call="load_parameters"):
    """Read a parameter file into an OrderedDict name -> (numpy array, need_grad), in the
    file's order (the 'index' attributes for .h5)."""
    ext = file_extension(path, extension, call)
    return _READERS[ext](_slurp(path), repr(path))
