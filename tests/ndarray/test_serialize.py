"""nd.save / nd.load: round trips for every dtype, record versions, and refusal of
truncated, foreign or inconsistent files (MXNet byte-level fixtures: tests/compat)."""
import os
import struct

import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.base import FormatError, MXNetTypeError, MXNetValueError
from mxtorch.ndarray import serialize

RNG = np.random.RandomState(0)
NP_DTYPES = ["float32", "float64", "float16", "uint8", "int8", "int16", "int32", "int64",
             "uint16", "uint32", "uint64", "bool"]
SHAPES = [(3,), (2, 3), (2, 1, 4), (1, 2, 1, 2, 3), (), (0,), (2, 0, 3)]


def _np_values(dtype, shape):
    if dtype == "bool":
        return RNG.rand(*shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return RNG.randint(max(info.min, -10 ** 6), min(info.max, 10 ** 6), size=shape,
                           dtype=np.int64).astype(dtype)
    return np.asarray(RNG.randn(*shape) * 100).astype(dtype)


def _check_same(got, want):
    assert got.shape == want.shape
    assert got.torch.dtype == want.torch.dtype
    assert torch.equal(got.torch.cpu(), want.torch.cpu())


@pytest.mark.parametrize("dtype", NP_DTYPES)
def test_roundtrip_every_dtype_and_shape(tmp_path, dtype):
    arrays = {f"arg:{i}": mx.nd.array(_np_values(dtype, s), dtype=dtype)
              for i, s in enumerate(SHAPES)}
    path = str(tmp_path / "x.params")
    mx.nd.save(path, arrays)
    back = mx.nd.load(path)
    assert list(back) == list(arrays)
    for k in arrays:
        _check_same(back[k], arrays[k])
        np.testing.assert_array_equal(back[k].asnumpy(), arrays[k].asnumpy())


def test_roundtrip_bfloat16_bits():
    bits = torch.from_numpy(RNG.randint(0, 2 ** 16, size=(3, 5)).astype(np.int64)).to(torch.int16)
    t = bits.view(torch.bfloat16)
    back = serialize.loads(serialize.dumps([mx.nd.from_torch(t)]))[0]
    assert back.torch.dtype == torch.bfloat16
    assert torch.equal(back.torch.view(torch.int16), bits)
    code = struct.unpack_from("<i", serialize.dumps_record(mx.nd.from_torch(t)), 36)[0]
    assert code == 12


def test_list_and_single_are_the_same_file(tmp_path):
    a = mx.nd.array(np.arange(12, dtype=np.float32).reshape(3, 4))
    mx.nd.save(str(tmp_path / "one"), a)
    mx.nd.save(str(tmp_path / "lst"), [a])
    one, lst = (open(tmp_path / n, "rb").read() for n in ("one", "lst"))
    assert one == lst
    back = mx.nd.load(str(tmp_path / "one"))
    assert isinstance(back, list) and len(back) == 1
    np.testing.assert_array_equal(back[0].asnumpy(), np.arange(12).reshape(3, 4))


def test_dict_order_and_pathlike(tmp_path):
    names = ["z", "a", "m", "arg:é"]
    data = {n: mx.nd.full((2,), i, dtype="int32") for i, n in enumerate(names)}
    mx.nd.save(tmp_path / "d.params", data)
    back = mx.nd.load(tmp_path / "d.params")
    assert list(back) == names
    assert [int(v.asnumpy()[0]) for v in back.values()] == [0, 1, 2, 3]


def test_empty_list_and_empty_dict():
    assert serialize.loads(serialize.dumps([])) == []
    assert serialize.loads(serialize.dumps({})) == []  # no names in file: MXNet gives a list


def test_noncontiguous_and_grad_tensors_saved_by_value():
    base = torch.arange(6, dtype=torch.float32, requires_grad=True).reshape(2, 3)
    t = base.t()                      # non-contiguous view of a graph tensor
    back = serialize.loads(serialize.dumps([mx.nd.from_torch(t)]))[0]
    np.testing.assert_array_equal(back.asnumpy(), np.arange(6).reshape(2, 3).T)


def test_record_versions_written():
    v2 = serialize.dumps_record(mx.nd.ones((2, 2)))
    v3_scalar = serialize.dumps_record(mx.nd.from_torch(torch.tensor(3.0)))
    v3_empty = serialize.dumps_record(mx.nd.zeros((0, 2)))
    assert v2[:4] == bytes.fromhex("c9fa93f9")
    assert v3_scalar[:4] == bytes.fromhex("cafa93f9") and v3_empty[:4] == bytes.fromhex("cafa93f9")
    s = serialize.loads_record(v3_scalar)
    assert s.shape == () and s.asscalar() == 3.0
    assert serialize.loads_record(v3_empty).shape == (0, 2)


def test_v2_record_without_shape_loads_as_empty():
    rec = struct.pack("<Iii", 0xF993FAC9, -1, 0)          # MXNet's "none" array
    buf = struct.pack("<QQQ", 0x112, 0, 1) + rec + struct.pack("<Q", 0)
    (arr,) = serialize.loads(buf)
    assert arr.shape == (0,)


def test_cpu_label_written_and_dropped_on_load():
    a = mx.nd.array([1, 2], ctx=mx.cpu(3))
    rec = serialize.dumps_record(a)
    assert struct.unpack_from("<ii", rec, 4 + 4 + 4 + 8) == (1, 3)
    assert serialize.loads_record(rec).context == mx.cpu(0)


# ----------------------------------------------------------------------- bad input on save
def test_save_refuses_bad_data_and_writes_nothing(tmp_path):
    path = tmp_path / "x.params"
    with pytest.raises(MXNetTypeError, match="dict key 1"):
        mx.nd.save(str(path), {1: mx.nd.ones(1)})
    with pytest.raises(MXNetTypeError, match=r"data\['b'\] is a ndarray"):
        mx.nd.save(str(path), {"a": mx.nd.ones(1), "b": np.ones(1)})
    with pytest.raises(TypeError):
        mx.nd.save(str(path), [mx.nd.ones(1), 3])
    with pytest.raises(MXNetValueError, match="data needs to either be"):
        mx.nd.save(str(path), 3)
    with pytest.raises(MXNetTypeError, match="fname required to be a string"):
        mx.nd.save(3, [mx.nd.ones(1)])
    assert os.listdir(tmp_path) == []


def test_sparse_arrays_roundtrip(tmp_path):
    csr = mx.nd.array([[0, 1.5, 0], [0, 0, 0], [2, 0, -3]]).tostype("csr")
    rsp = mx.nd.array([[0, 0], [1, 2], [0, 0], [3, 0]]).tostype("row_sparse")
    mx.nd.save(str(tmp_path / "s.params"), {"c": csr, "r": rsp, "d": mx.nd.ones((2,))})
    back = mx.nd.load(str(tmp_path / "s.params"))
    assert [back[k].stype for k in "crd"] == ["csr", "row_sparse", "default"]
    for k, v in (("c", csr), ("r", rsp)):
        np.testing.assert_array_equal(back[k].asnumpy(), v.asnumpy())
    np.testing.assert_array_equal(back["r"].indices.asnumpy(), [1, 3])


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ck.params"
    mx.nd.save(str(path), [mx.nd.ones((3,))])
    before = path.read_bytes()
    real = serialize._file_parts

    def broken(data):
        return real(data)[:2] + [object()]    # f.write raises half-way through the file
    monkeypatch.setattr(serialize, "_file_parts", broken)
    with pytest.raises(TypeError):
        mx.nd.save(str(path), [mx.nd.zeros((1000,))])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.params"]


# ----------------------------------------------------------------------- bad files on load
WORKED = {"arg:w": mx.nd.array([[1, 2, 3], [4, 5, 6]]), "aux:b": mx.nd.array([7], dtype="int32")}


def test_every_truncation_is_refused(tmp_path):
    full = serialize.dumps(WORKED)
    path = tmp_path / "t.params"
    for n in range(len(full)):
        path.write_bytes(full[:n])
        with pytest.raises(FormatError) as e:
            mx.nd.load(str(path))
        assert str(path) in str(e.value)
    msg = _error(full[:70])
    assert "truncated at byte 64: array 0 data of shape (2, 3) (float32) needs 24 bytes" in msg


def _error(buf):
    with pytest.raises(FormatError) as e:
        serialize.loads(buf, source="f.params")
    return str(e.value)


def test_foreign_files_are_refused():
    assert "bad magic" in _error(b"PK\x03\x04" + b"\0" * 60)        # a zip / npz
    assert "bad magic" in _error(b'{"nodes": []}' + b" " * 20)       # symbol JSON
    assert "truncated at byte 0" in _error(b"")


def test_oversized_headers_refused_before_allocating():
    head = struct.pack("<QQ", 0x112, 0)
    assert "claims 1152921504606846976 arrays" in _error(head + struct.pack("<Q", 2 ** 60))
    huge = (struct.pack("<QQQ", 0x112, 0, 1) + struct.pack("<Iii2q", 0xF993FAC9, 0, 2,
                                                            2 ** 40, 2 ** 40)
            + struct.pack("<iii", 1, 0, 0) + b"\0" * 16)
    msg = _error(huge)
    assert "needs 4835703278458516698824704 bytes" in msg and "only 16 remain" in msg
    many_dims = struct.pack("<QQQ", 0x112, 0, 1) + struct.pack("<Iii", 0xF993FAC9, 0, 10 ** 9)
    assert "claims ndim=1000000000" in _error(many_dims)
    full = serialize.dumps(WORKED)
    bad_name = full[:-26] + struct.pack("<Q", 2 ** 62) + full[-18:]   # first name's length
    assert "name 0 needs 4611686018427387904 bytes" in _error(bad_name)


def test_inconsistent_headers_refused():
    full = bytearray(serialize.dumps(WORKED))
    names_at = len(full) - 2 * (8 + 5) - 8
    bad = bytes(full[:names_at]) + struct.pack("<Q", 1) + bytes(full[names_at + 8:])
    assert "names count is 1" in _error(bad) and "expected 0 or 2" in _error(bad)
    bad_dtype = bytearray(full)
    struct.pack_into("<i", bad_dtype, 24 + 28 + 8, 99)             # first record's dtype code
    assert "unknown dtype code 99" in _error(bytes(bad_dtype))
    bad_magic = bytearray(full)
    struct.pack_into("<I", bad_magic, 24, 0xDEADBEEF)
    assert "0xDEADBEEF, which is no record magic" in _error(bytes(bad_magic))
    bad_dev = bytearray(full)
    struct.pack_into("<i", bad_dev, 24 + 28, 7)
    assert "unknown device type 7" in _error(bytes(bad_dev))
    neg = bytearray(full)
    struct.pack_into("<q", neg, 24 + 12, -2)
    assert "negative dimension" in _error(bytes(neg))


def test_truncated_sparse_record_is_a_format_error():
    rec = struct.pack("<Iii", 0xF993FAC9, 1, 1) + struct.pack("<q", 2)
    buf = struct.pack("<QQQ", 0x112, 0, 1) + rec + b"\0" * 64
    with pytest.raises(FormatError):
        serialize.loads(buf)


def test_load_missing_file_and_bad_fname(tmp_path):
    with pytest.raises(FileNotFoundError):
        mx.nd.load(str(tmp_path / "nope.params"))
    with pytest.raises(MXNetTypeError):
        mx.nd.load(42)
    with pytest.raises(MXNetTypeError):
        mx.nd.load_frombuffer("not bytes")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_arrays_save_with_gpu_context_and_load_back_on_it(tmp_path):
    a = mx.nd.array(np.arange(6, dtype=np.float32).reshape(2, 3), ctx=mx.gpu(0))
    rec = serialize.dumps_record(a)
    assert struct.unpack_from("<ii", rec, 4 + 4 + 4 + 16) == (2, 0)
    mx.nd.save(str(tmp_path / "g.params"), {"w": a})
    back = mx.nd.load(str(tmp_path / "g.params"))["w"]
    assert back.context == mx.gpu(0) and back.torch.is_cuda
    np.testing.assert_array_equal(back.asnumpy(), np.arange(6).reshape(2, 3))


def test_corrupt_csr_row_pointers_are_refused_not_built():
    """torch builds csr tensors unchecked (a bad one crashed the process when used), so the
    reader checks that row pointers start at 0, never decrease and end at nnz."""
    csr = mx.nd.array([[1, 0, 2], [0, 0, 0], [0, 3, 0]]).tostype("csr")
    good = serialize.dumps([csr])
    ptrs = struct.pack("<4q", 0, 2, 2, 3)
    assert good.count(ptrs) == 1
    for bad_ptrs in ((0, 3, 2, 3), (1, 2, 2, 3)):
        with pytest.raises(FormatError, match="row pointers"):
            serialize.loads(good.replace(ptrs, struct.pack("<4q", *bad_ptrs)))
    with pytest.raises(MXNetValueError, match="row pointers"):
        mx.nd.sparse.csr_matrix(([1.0, 2.0, 3.0], [0, 2, 1], [0, 3, 2, 3]), shape=(3, 3))
