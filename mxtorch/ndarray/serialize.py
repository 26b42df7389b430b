"""MXNet's binary NDArray files (``mx.nd.save`` / ``mx.nd.load``, ``.params``) and the
raw single-array records used by pickled NDArrays. Layout: reference section 3.1-3.2
(little-endian; dense and sparse V2 records written, V0/V1/V2/V3 dense and V2 row_sparse /
csr records read)."""
import math
import os
import struct
import sys

import numpy as np
import torch

from ..base import (DTYPE_MX_TO_NP, FormatError, MXNetTypeError,
                    MXNetValueError)
from ..context import Context, num_gpus
from ..util.atomic import atomic_open
from .ndarray import NDArray

__all__ = ["save", "load", "load_frombuffer", "dumps", "loads", "dumps_record",
           "loads_record"]

LIST_MAGIC = 0x112
V0_MAX_NDIM = 32                 # a legacy record's first uint32 is ndim; larger => not a record
V1_MAGIC, V2_MAGIC, V3_MAGIC = 0xF993FAC8, 0xF993FAC9, 0xF993FACA
STYPE_DENSE, STYPE_ROW_SPARSE, STYPE_CSR, STYPE_UNDEFINED = 0, 1, 2, -1
_SPARSE_NAMES = {STYPE_ROW_SPARSE: "row_sparse", STYPE_CSR: "csr"}
_DEV_CPU, _DEV_GPU = 1, 2
_KNOWN_DEV_TYPES = (1, 2, 3, 5)  # cpu, gpu, cpu_pinned, cpu_shared

# dtype code -> (little-endian numpy dtype of the raw bytes, torch dtype)
_CODE_TO_TYPES = {code: (np.dtype(t).newbyteorder("<"), None) for code, t in DTYPE_MX_TO_NP.items()}
_CODE_TO_TYPES[12] = (np.dtype("<u2"), torch.bfloat16)          # bfloat16: raw uint16 bits
_TORCH_TO_CODE = {torch.float32: 0, torch.float64: 1, torch.float16: 2, torch.uint8: 3,
                  torch.int32: 4, torch.int8: 5, torch.int64: 6, torch.bool: 7, torch.int16: 8,
                  torch.uint16: 9, torch.uint32: 10, torch.uint64: 11, torch.bfloat16: 12}
_BIG_ENDIAN_HOST = sys.byteorder != "little"


# ------------------------------------------------------------------------------- writing
def _tensor_of(value, where):
    if isinstance(value, NDArray):
        return value._data
    if isinstance(value, torch.Tensor):
        return value
    raise MXNetTypeError(f"mx.nd.save: {where} is a {type(value).__name__}; save only accepts an "
                         "NDArray, a list of NDArrays or a dict str->NDArray")


def _raw(t):
    """The bytes of a dense tensor in C order, little-endian (no copy on CPU)."""
    t = t.to("cpu").contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    arr = t.numpy()
    if _BIG_ENDIAN_HOST:
        arr = arr.byteswap()
    return memoryview(arr.reshape(-1)).cast("B")


def _tshape(shape):
    return struct.pack(f"<i{len(shape)}q", len(shape), *shape)


def _sparse_record_parts(t, code, dev_type, dev_id):
    """A row_sparse / csr record: storage shape, shape, context, dtype, the aux arrays'
    types and shapes, then the values and the aux arrays (int64 ids, as MXNet)."""
    if t.layout is torch.sparse_csr:
        stype, values = STYPE_CSR, t.values()
        aux = [t.crow_indices().to(torch.int64), t.col_indices().to(torch.int64)]
    else:
        t = t.coalesce()
        stype, values, aux = STYPE_ROW_SPARSE, t.values(), [t.indices()[0].to(torch.int64)]
    header = (struct.pack("<Ii", V2_MAGIC, stype) + _tshape(tuple(values.shape)) +
              _tshape(tuple(t.shape)) + struct.pack("<iii", dev_type, dev_id, code) +
              b"".join(struct.pack("<i", 6) + _tshape(tuple(a.shape)) for a in aux))
    return [header, _raw(values)] + [_raw(a) for a in aux]


def _record_parts(tensor, ctx=None):
    """The byte chunks of one record (header bytes, then the data buffer, no copy of it)."""
    t = tensor.detach()
    code = _TORCH_TO_CODE.get(t.dtype)
    if code is None:
        raise MXNetTypeError(f"mx.nd.save: dtype {t.dtype} has no MXNet type code; cast with "
                             ".astype('float32') (codes exist for float16/32/64, bfloat16, "
                             "int8/16/32/64, uint8/16/32/64 and bool)")
    if ctx is None:
        ctx = Context.from_torch(t.device)
    dev_type = _DEV_GPU if t.device.type == "cuda" else ctx.device_typeid
    if t.layout is not torch.strided:
        return _sparse_record_parts(t, code, dev_type, ctx.device_id)
    shape = tuple(t.shape)
    # legacy (V2) shapes cannot hold a 0-d array or a zero-size dim: MXNet writes those as V3
    # records (numpy shape semantics), so we do the same.
    magic = V2_MAGIC if shape and all(shape) else V3_MAGIC
    header = struct.pack(f"<IiI{len(shape)}qiii", magic, STYPE_DENSE, len(shape), *shape,
                         dev_type, ctx.device_id, code)
    return [header, _raw(t)]


def _normalize(data):
    """``(tensors, names)`` from an NDArray, a list/tuple or a dict; checks every entry
    before anything is written."""
    if isinstance(data, (NDArray, torch.Tensor)):
        return [_tensor_of(data, "the array")], []
    if isinstance(data, dict):
        names, tensors = [], []
        for k, v in data.items():
            if not isinstance(k, str):
                raise MXNetTypeError(f"mx.nd.save: dict key {k!r} is a {type(k).__name__}; save "
                                     "only accepts dict str->NDArray")
            names.append(k)
            tensors.append(_tensor_of(v, f"data[{k!r}]"))
        return tensors, names
    if isinstance(data, (list, tuple)):
        return [_tensor_of(v, f"data[{i}]") for i, v in enumerate(data)], []
    raise MXNetValueError(f"mx.nd.save: data is a {type(data).__name__}; data needs to either be "
                          "a NDArray, dict of str, NDArray pairs or a list of NDarrays.")


def _file_parts(data):
    tensors, names = _normalize(data)
    contexts = [v._ctx if isinstance(v, NDArray) else None
                for v in (data.values() if isinstance(data, dict) else
                          data if isinstance(data, (list, tuple)) else [data])]
    parts = [struct.pack("<QQQ", LIST_MAGIC, 0, len(tensors))]
    for t, ctx in zip(tensors, contexts):
        parts.extend(_record_parts(t, ctx))
    parts.append(struct.pack("<Q", len(names)))
    for name in names:
        raw = name.encode("utf-8")
        parts.append(struct.pack("<Q", len(raw)))
        parts.append(raw)
    return parts


def dumps(data):
    """The bytes ``mx.nd.save`` would write for ``data`` (see :func:`save`)."""
    return b"".join(_file_parts(data))


def dumps_record(arr):
    """One array record without the list container: MXNet's raw single-array bytes
    (``MXNDArraySaveRawBytes``), as stored in a pickled NDArray's ``handle``."""
    return b"".join(_record_parts(_tensor_of(arr, "the array"),
                                  arr._ctx if isinstance(arr, NDArray) else None))


def save(fname, data):
    """Save arrays to ``fname`` in MXNet's binary format (readable by MXNet's ``nd.load``).

    Parameters
    ----------
    fname : str or os.PathLike
        Target file; written to a temporary name and renamed, so a failure never leaves a
        partial file.
    data : NDArray, list of NDArray or dict of str to NDArray
        A list (or a single array) is stored without names and loads back as a list;
        a dict keeps its keys in iteration order and loads back as a dict.

    Raises
    ------
    MXNetValueError
        If ``data`` is none of the accepted containers.
    MXNetTypeError
        If a key is not a str or a value not an NDArray (nothing is written).
    Notes
    -----
    Arrays with ndim >= 1 and no zero-size dimension are written as V2 records, byte-for-byte
    what MXNet 1.9 writes. A 0-d array or one with a zero-size dimension is written as a V3
    record (what MXNet writes in numpy-shape mode); MXNet reads it only inside
    ``mx.util.np_shape(True)``.
    """
    if not isinstance(fname, (str, os.PathLike)):
        raise MXNetTypeError(f"mx.nd.save: fname required to be a string, got "
                             f"{type(fname).__name__}")
    parts = _file_parts(data)
    with atomic_open(fname, "wb") as f:
        for part in parts:
            f.write(part)


# ------------------------------------------------------------------------------- reading
class _Reader:
    """Bounds-checked little-endian reads from a buffer; errors name the source and offset."""

    def __init__(self, buf, source):
        self.buf, self.pos, self.source, self.size = memoryview(buf).cast("B"), 0, source, len(buf)

    def fail(self, what):
        raise FormatError(f"{self.source}: not a valid MXNet NDArray file: {what}")

    def need(self, n, what):
        if n > self.size - self.pos:
            self.fail(f"truncated at byte {self.pos}: {what} needs {n} bytes but only "
                      f"{self.size - self.pos} remain (file size {self.size})")

    def unpack(self, fmt, what):
        n = struct.calcsize(fmt)
        self.need(n, what)
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return out

    def shape(self, what, v0=False, ndim=None):
        if ndim is None:
            (ndim,) = self.unpack("<i", f"{what} ndim")
        if ndim < 0:
            return None
        item = 4 if v0 else 8
        if ndim * item > self.size - self.pos:
            self.fail(f"{what} at byte {self.pos} claims ndim={ndim}, more than the "
                      f"{self.size - self.pos} bytes left can hold")
        dims = self.unpack(f"<{ndim}{'I' if v0 else 'q'}", f"{what} dims")
        if any(d < 0 for d in dims):
            self.fail(f"{what} has a negative dimension {dims} at byte {self.pos}")
        return tuple(int(d) for d in dims)


def _empty_record():
    # MXNet returns a "none" NDArray for a record with no shape; we give an empty array
    return NDArray(torch.empty((0,), dtype=torch.float32))


def _target_device(dev_type, dev_id):
    """Where MXNet would put the loaded array: its saved GPU if that GPU exists, else CPU."""
    if dev_type == _DEV_GPU and 0 <= dev_id < num_gpus():
        return torch.device("cuda", dev_id)
    return None


def _read_record(r, index):
    what = f"array {index}"
    start = r.pos
    (magic,) = r.unpack("<I", f"{what} magic")
    stype = STYPE_DENSE
    if magic == V2_MAGIC or magic == V3_MAGIC:
        (stype,) = r.unpack("<i", f"{what} storage type")
        if stype in _SPARSE_NAMES:
            if magic != V2_MAGIC:
                r.fail(f"{what} at byte {start} is a sparse record in numpy-shape (V3) form, "
                       "which MXNet 1.x never writes")
            return _read_sparse(r, what, start, stype)
        if stype not in (STYPE_DENSE, STYPE_UNDEFINED):
            r.fail(f"{what} at byte {start} has unknown storage type {stype}")
        shape = r.shape(what)
        if shape is None or (magic == V2_MAGIC and len(shape) == 0):
            return _empty_record()     # legacy "none" array (V2 ndim 0, V3 ndim -1)
    elif magic == V1_MAGIC:
        shape = r.shape(what)
        if not shape:
            return _empty_record()
    elif magic <= V0_MAX_NDIM:         # V0: the magic is ndim, dims are uint32
        shape = r.shape(what, v0=True, ndim=magic)
        if not shape:
            return _empty_record()
    else:
        r.fail(f"{what} at byte {start} starts with 0x{magic:08X}, which is no record magic "
               "(expected 0xF993FAC9 for MXNet 1.x arrays)")
    dev_type, dev_id, code = r.unpack("<iii", f"{what} context and dtype")
    if dev_type not in _KNOWN_DEV_TYPES:
        r.fail(f"{what} at byte {start} has unknown device type {dev_type}")
    t = _read_raw(r, what, start, shape, code)
    device = _target_device(dev_type, dev_id)
    if device is not None:
        t = t.to(device)
    return NDArray(t)


def _read_raw(r, what, start, shape, code):
    """The ``shape`` array of dtype ``code`` at the reader's position (the record began at
    byte ``start``), checked against the bytes left before anything is allocated."""
    if code not in _CODE_TO_TYPES:
        r.fail(f"{what} at byte {start} has unknown dtype code {code} (known: 0-12)")
    raw_dtype, torch_dt = _CODE_TO_TYPES[code]
    count = math.prod(shape)          # Python ints: a corrupt shape cannot wrap around
    if count == 0 and math.prod(max(d, 1) for d in shape) > 2 ** 62:
        # no data to check, but torch must still be able to make the (empty) tensor
        r.fail(f"{what} at byte {start} has an impossible shape {shape}")
    nbytes = count * raw_dtype.itemsize
    dtype_name = raw_dtype.name if torch_dt is None else "bfloat16"
    r.need(nbytes, f"{what} data of shape {shape} ({dtype_name})")
    arr = np.frombuffer(r.buf, dtype=raw_dtype, count=count, offset=r.pos)
    r.pos += nbytes
    t = torch.from_numpy(arr.astype(raw_dtype.newbyteorder("="), copy=True)).reshape(shape)
    return t.view(torch_dt) if torch_dt is not None else t


def _read_sparse(r, what, start, stype):
    """The rest of a row_sparse / csr V2 record (layout in :func:`_sparse_record_parts`),
    checked against the logical shape before the tensor is built."""
    from .sparse import CSRNDArray, RowSparseNDArray, csr_problem, csr_tensor, rsp_tensor
    storage_shape = r.shape(f"{what} storage shape")
    shape = r.shape(what)
    if storage_shape is None or shape is None:
        r.fail(f"{what} at byte {start} is a sparse record without a shape")
    if math.prod(max(d, 1) for d in shape) > 2 ** 62:
        r.fail(f"{what} at byte {start} has an impossible shape {shape}")
    dev_type, dev_id, code = r.unpack("<iii", f"{what} context and dtype")
    if dev_type not in _KNOWN_DEV_TYPES:
        r.fail(f"{what} at byte {start} has unknown device type {dev_type}")
    naux = 2 if stype == STYPE_CSR else 1
    aux_meta = []
    for k in range(naux):
        (aux_code,) = r.unpack("<i", f"{what} aux {k} type")
        aux_shape = r.shape(f"{what} aux {k} shape")
        if aux_code not in (4, 6) or aux_shape is None or len(aux_shape) != 1:
            r.fail(f"{what} at byte {start}: aux array {k} must be a 1-D int32/int64 array")
        aux_meta.append((aux_code, aux_shape))
    values = _read_raw(r, f"{what} values", start, storage_shape, code)
    aux = [_read_raw(r, f"{what} aux {k}", start, s, c).to(torch.int64)
           for k, (c, s) in enumerate(aux_meta)]
    if stype == STYPE_CSR:
        indptr, indices = aux
        problem = (csr_problem(values, indices, indptr, shape) if len(storage_shape) == 1
                   else f"values of shape {storage_shape} (must be 1-D)")
        if problem:
            r.fail(f"{what} at byte {start} is an inconsistent csr record: {problem}")
        t, cls = csr_tensor(values, indices, indptr, shape), CSRNDArray
    else:
        (rows,) = aux
        if (not shape or tuple(storage_shape) != (len(rows),) + tuple(shape[1:]) or
                (len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= shape[0]))):
            r.fail(f"{what} at byte {start} is an inconsistent row_sparse record (shape "
                   f"{shape}, stored {storage_shape}, {len(rows)} row ids)")
        t, cls = rsp_tensor(values, rows, shape), RowSparseNDArray
    device = _target_device(dev_type, dev_id)
    return cls(t.to(device) if device is not None else t)


def _parse(buf, source):
    r = _Reader(buf, source)
    magic, _reserved, n = r.unpack("<QQQ", "header")
    if magic != LIST_MAGIC:
        r.fail(f"bad magic 0x{magic:X} at byte 0 (expected 0x112): the file is not an "
               "MXNet NDArray list (nd.save / .params)")
    if n > (r.size - r.pos) // 4:      # every record is at least 4 bytes
        r.fail(f"header claims {n} arrays, more than the {r.size - r.pos} bytes left can hold")
    arrays = [_read_record(r, i) for i in range(n)]
    (k,) = r.unpack("<Q", "names count")
    if k not in (0, n):
        r.fail(f"names count is {k} at byte {r.pos - 8}; expected 0 or {n} (one per array)")
    names = []
    for i in range(k):
        (length,) = r.unpack("<Q", f"name {i} length")
        r.need(length, f"name {i}")
        raw = bytes(r.buf[r.pos:r.pos + length])
        r.pos += length
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            r.fail(f"name {i} is not valid UTF-8: {raw[:40]!r}")
    return dict(zip(names, arrays)) if names else arrays


def loads(buf, source="<buffer>"):
    """Arrays from the bytes of an ``nd.save`` file: a list, or a dict in file order.
    See :func:`load`."""
    return _parse(buf, source)


def load_frombuffer(buf):
    """MXNet's ``mx.nd.load_frombuffer``: :func:`loads` on in-memory file bytes."""
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise MXNetTypeError(f"load_frombuffer: buf required to be bytes, got {type(buf).__name__}")
    return _parse(buf, "<buffer>")


def loads_record(buf, source="<record>"):
    """One NDArray from a raw single-array record (see :func:`dumps_record`)."""
    return _read_record(_Reader(buf, source), 0)


def load(fname):
    """Load arrays saved by MXNet's ``nd.save`` (or :func:`save`).

    Parameters
    ----------
    fname : str or os.PathLike

    Returns
    -------
    list of NDArray or dict of str to NDArray
        A list when the file holds no names, else a dict in file order. Arrays saved on a
        GPU go to that GPU when it exists, else to the CPU; CPU ids are not kept (cpu(0)).

    Raises
    ------
    FormatError
        If the file is truncated, not an NDArray file, or a header is inconsistent (sizes are
        checked against the file length before anything is allocated).
    OSError
        If the file cannot be read.
    """
    if not isinstance(fname, (str, os.PathLike)):
        raise MXNetTypeError(f"mx.nd.load: fname required to be a string, got "
                             f"{type(fname).__name__}")
    with open(fname, "rb") as f:
        buf = f.read()
    return _parse(buf, os.fspath(fname))
