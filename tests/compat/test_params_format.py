"""MXNet 1.9.1 binary files (written by tools/gen_params_fixtures.py with the oracle):
byte-exact writes, exact loads of every record version and dtype, .states pickles, and
the record of MXNet loading files mxtorch wrote."""
import json
import os

import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.base import FormatError
from mxtorch.ndarray import serialize
from mxtorch.ndarray.pickle_compat import PickledObject, dumps_mxnet_pickle, loads_mxnet_pickle

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "params")
MANIFEST = json.load(open(os.path.join(FIX, "manifest.json")))
EXPECTED = np.load(os.path.join(FIX, "expected.npz"))
PARAM_FILES = sorted(MANIFEST["files"])


def _path(name):
    return os.path.join(FIX, name)


def _assert_array(got, spec):
    want = EXPECTED[spec["npz"]]
    assert list(got.shape) == spec["shape"]
    if spec["dtype"] == "bfloat16":
        assert got.torch.dtype == torch.bfloat16
        np.testing.assert_array_equal(got.torch.view(torch.int16).numpy().view(np.uint16), want)
    else:
        assert np.dtype(got.dtype).name == spec["dtype"]
        np.testing.assert_array_equal(got.asnumpy(), want)


def test_worked_example_is_byte_exact():
    ours = serialize.dumps({"arg:w": mx.nd.array([[1, 2, 3], [4, 5, 6]]),
                            "aux:b": mx.nd.array([7], dtype="int32")})
    theirs = open(_path("worked_example.params"), "rb").read()
    assert len(theirs) == 158
    assert ours == theirs


@pytest.mark.parametrize("name", PARAM_FILES)
def test_mxnet_files_load_exactly(name):
    spec = MANIFEST["files"][name]
    loaded = mx.nd.load(_path(name))
    if spec["kind"] == "dict":
        assert isinstance(loaded, dict)
        assert list(loaded) == [a["name"] for a in spec["arrays"]]
        arrays = list(loaded.values())
    else:
        assert isinstance(loaded, list)
        arrays = loaded
    assert len(arrays) == len(spec["arrays"])
    for got, a in zip(arrays, spec["arrays"]):
        _assert_array(got, a)


RESAVE_EXACT = ["worked_example.params", "all_dtypes_dict.params", "list.params",
                "single.params", "empty_list.params", "unicode_names.params"]


@pytest.mark.parametrize("name", RESAVE_EXACT)
def test_resaving_mxnet_files_gives_the_same_bytes(name, tmp_path):
    out = tmp_path / name
    mx.nd.save(str(out), mx.nd.load(_path(name)))
    assert out.read_bytes() == open(_path(name), "rb").read()


def test_cpu_id_is_written_like_mxnet():
    ours = serialize.dumps([mx.nd.array([1, 2], ctx=mx.cpu(3))])
    assert ours == open(_path("cpu3_context.params"), "rb").read()


def test_gpu_record_loads_where_mxnet_puts_it():
    (arr, _) = mx.nd.load(_path("gpu1_context.params"))
    np.testing.assert_array_equal(arr.asnumpy(), EXPECTED["list.params/0"])
    if torch.cuda.device_count() > 1:
        assert arr.context == mx.gpu(1)
    else:   # MXNet without that GPU loads on the CPU too (recorded by the generator)
        assert MANIFEST["gpu1_context_loaded_on"] == "cpu(0)"
        assert arr.context == mx.cpu(0)


def test_np_shape_v3_scalar_and_zero_size():
    loaded = mx.nd.load(_path("np_shape_v3.params"))
    assert loaded["scalar"].shape == () and loaded["scalar"].asscalar() == 2.5
    assert loaded["zero"].shape == (0, 3)


def test_sparse_files_load_and_resave_byte_identical():
    rsp = mx.nd.load(_path("sparse_row_sparse.params"))["w"]
    assert rsp.stype == "row_sparse" and rsp.shape == (5, 2)
    np.testing.assert_array_equal(rsp.indices.asnumpy(), [1, 3])
    np.testing.assert_array_equal(rsp.data.asnumpy(), [[1, 2], [3, 4]])
    ones, csr = mx.nd.load(_path("sparse_csr.params"))
    assert ones.stype == "default" and csr.stype == "csr" and csr.shape == (3, 3)
    np.testing.assert_array_equal(csr.asnumpy(), [[1, 0, 2], [0, 0, 0], [0, 3, 0]])
    np.testing.assert_array_equal(csr.indptr.asnumpy(), [0, 2, 2, 3])
    for name, value in (("sparse_row_sparse.params", {"w": rsp}),
                        ("sparse_csr.params", [ones, csr])):
        with open(_path(name), "rb") as f:
            assert serialize.dumps(value) == f.read()


@pytest.mark.parametrize("name", ["sparse_row_sparse.params", "sparse_csr.params"])
def test_corrupt_sparse_records_raise_format_errors(name):
    with open(_path(name), "rb") as f:
        good = f.read()
    for cut in range(24, len(good) - 8, 7):
        with pytest.raises(FormatError):
            serialize.loads(good[:cut])


@pytest.mark.parametrize("dtype", sorted(MANIFEST["records"]))
def test_raw_records_match_pickled_mxnet_handles(dtype):
    spec = MANIFEST["records"][dtype]
    raw = bytes.fromhex(spec["hex"])
    arr = serialize.loads_record(raw)
    np.testing.assert_array_equal(arr.asnumpy(), EXPECTED[spec["npz"]])
    assert np.dtype(arr.dtype).name == dtype
    assert serialize.dumps_record(mx.nd.array(EXPECTED[spec["npz"]], dtype=dtype)) == raw


# ----------------------------------------------------------------------------- .states
def _match(got, desc):
    if "ndarray" in desc:
        assert type(got) is mx.nd.NDArray
        assert list(got.shape) == desc["shape"] and np.dtype(got.dtype).name == desc["dtype"]
        np.testing.assert_array_equal(got.asnumpy(), EXPECTED[desc["ndarray"]])
    elif "tuple" in desc or "list" in desc:
        items = desc.get("tuple", desc.get("list"))
        assert isinstance(got, tuple if "tuple" in desc else list) and len(got) == len(items)
        for g, d in zip(got, items):
            _match(g, d)
    elif "dict" in desc:
        assert isinstance(got, dict) and len(got) == len(desc["dict"])
        for (gk, gv), (dk, dv) in zip(got.items(), desc["dict"]):
            _match(gk, dk)
            _match(gv, dv)
    elif "object" in desc:
        assert isinstance(got, PickledObject)
        assert f"{got['module']}.{got['class']}" == desc["object"]
        _match(got["state"], desc["state"])
    else:
        assert type(got).__name__ == desc["type"] and got == desc["value"]


@pytest.mark.parametrize("name", sorted(MANIFEST["states"]))
def test_mxnet_states_load_into_the_same_structure(name):
    buf = open(_path(f"{name}.states"), "rb").read()
    _match(loads_mxnet_pickle(buf, source=name), MANIFEST["states"][name])


@pytest.mark.parametrize("name", sorted(MANIFEST["states"]))
def test_states_rewritten_by_us_read_back_the_same(name):
    first = loads_mxnet_pickle(open(_path(f"{name}.states"), "rb").read())
    _match(loads_mxnet_pickle(dumps_mxnet_pickle(first)), MANIFEST["states"][name])


def test_dump_optimizer_file_keeps_the_optimizer_as_data():
    states, opt = loads_mxnet_pickle(open(_path("sgd_momentum_int_dump.states"), "rb").read())
    assert sorted(states) == [0, 1]
    assert (opt["module"], opt["class"]) == ("mxnet.optimizer.optimizer", "SGD")
    assert opt["state"]["momentum"] == 0.9 and opt["state"]["num_update"] == 2
    sched = opt["state"]["lr_scheduler"]
    assert sched["class"] == "FactorScheduler" and sched["state"]["factor"] == 0.5


# ------------------------------------------------- files mxtorch wrote, as MXNet read them
def test_mxnet_loaded_the_files_we_wrote():
    record = json.load(open(_path("ours_in_mxnet.json")))
    assert set(record["files"]) == {"ours_dict.params", "ours_list.params",
                                    "ours_single.params", "ours_scalar_v3.params"}
    for name, r in record["files"].items():
        assert r == {"mxnet_loaded": True, "values_equal": True, "dtypes_equal": True,
                     "mxnet_error": None}, name
    st = record["states"]
    assert st["keys"] == ["0", "2", "fc_weight"]
    assert st["0"] == [[[1.0, 2.0]], [[3.0, 4.0]]] and st["fc_weight"] == [0.5, -0.5]
    assert st["2"] is None


def test_mxnet_read_our_dump_optimizer_pickle():
    r = json.load(open(_path("ours_in_mxnet.json")))["dump_optimizer_states"]
    assert (r["optimizer"], r["lr_scheduler"]) == ("SGD", "FactorScheduler")
    assert (r["momentum"], r["factor"], r["num_update"], r["keys"]) == (0.9, 0.5, 2, [0, 1])
    want = EXPECTED["states.sgd_momentum_int_dump.0.v1"]
    np.testing.assert_array_equal(np.asarray(r["state_1"], dtype=np.float32), want)
