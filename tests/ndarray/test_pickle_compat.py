"""The restricted .states unpickler: refuses anything that is not MXNet optimizer state,
and runs nothing while refusing (MXNet-written files: tests/compat/test_params_format.py)."""
import collections
import os
import pickle
import pickletools

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import FormatError, MXNetTypeError
from mxtorch.ndarray import serialize
from mxtorch.ndarray.pickle_compat import PickledObject, dumps_mxnet_pickle, loads_mxnet_pickle


class _Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def test_os_system_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({0: _Evil(f"touch {marker}")}, protocol=4)
    with pytest.raises(FormatError, match=r"refusing to unpickle (posix|os|nt)\.system"):
        loads_mxnet_pickle(payload, source="evil.states")
    assert not marker.exists()


@pytest.mark.parametrize("proto", [0, 2, 4, 5])
def test_other_gadgets_are_refused(proto):
    for obj in (eval, getattr, __import__, pickle.loads, collections.namedtuple):
        with pytest.raises(FormatError, match="refusing"):
            loads_mxnet_pickle(pickle.dumps(obj, protocol=proto))


def test_mxnet_looking_names_outside_the_allowlist_are_refused():
    for module, name in [("mxnet.base", "check_call"), ("mxnet.ndarray.ndarray", "_new_alloc_handle"),
                         ("mxnet.optimizer.optimizer", "a.b"), ("builtins", "exec")]:
        buf = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b")R."
        with pytest.raises(FormatError, match=f"refusing to unpickle {module}.{name}"):
            loads_mxnet_pickle(buf)


def test_restricted_helpers_refuse_misuse():
    # bytearray(huge int) would allocate; a crafted NDArray handle must be bytes
    big = b"\x80\x02cbuiltins\nbytearray\nJ\x00\x00\x00\x40\x85R."
    with pytest.raises(FormatError, match="refusing bytearray"):
        loads_mxnet_pickle(big)
    fake = b"\x80\x02cmxnet.ndarray.ndarray\nNDArray\nN\x85R}X\x06\x00\x00\x00handleK\x05sb."
    with pytest.raises(FormatError, match="handle must be bytes"):
        loads_mxnet_pickle(fake)


def test_corrupt_and_truncated_pickles_are_format_errors():
    good = dumps_mxnet_pickle({0: mx.nd.ones((2, 2))})
    for n in (0, 1, 5, len(good) // 2, len(good) - 1):
        with pytest.raises(FormatError, match="x.states"):
            loads_mxnet_pickle(good[:n], source="x.states")
    with pytest.raises(MXNetTypeError):
        loads_mxnet_pickle("text")


@pytest.mark.parametrize("put", [b"r\x75\x65\x2c\x20", b"p539780469\n", b"q\xff"])
def test_huge_memo_index_is_refused_before_any_allocation(put):
    # CPython's unpickler sizes its memo array by the largest index: `(true, ` (found by
    # the atheris fuzzer) asked for ~8 GB; a memo index must count the pickle's stores
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bad = b"(t" + put + b"."
    with pytest.raises(FormatError, match="x.states: memo index .* out of range"):
        loads_mxnet_pickle(bad, source="x.states")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024
    good = pickle.dumps([[1.0], [1.0]], protocol=0)      # memoized values still load
    assert any(op.name == "PUT" for op, _, _ in pickletools.genops(good))
    assert loads_mxnet_pickle(good) == [[1.0], [1.0]]


def test_sparse_ndarray_in_pickle_loads():
    rsp = mx.nd.sparse.row_sparse_array(([[1.0, 2.0]], [3]), shape=(5, 2))
    rec = serialize.dumps_record(rsp)
    buf = (b"\x80\x03cmxnet.ndarray.ndarray\nNDArray\nN\x85R}X\x06\x00\x00\x00handle"
           b"cbuiltins\nbytearray\nB" + len(rec).to_bytes(4, "little") + rec + b"\x85Rsb.")
    out = loads_mxnet_pickle(buf)
    assert out.stype == "row_sparse"
    np.testing.assert_array_equal(out.asnumpy(), rsp.asnumpy())


def test_writer_roundtrip_all_value_types():
    states = {0: None, 1: mx.nd.array([[1.5, -2.0]]), "w": (mx.nd.ones((3,), dtype="int64"),
                                                          mx.nd.zeros((1,), dtype="float16")),
              2: [True, False, 2 ** 40, -7, 300, 1e-3, "é"],
              "opt": PickledObject.of("mxnet.optimizer.optimizer", "Adam", {"beta1": 0.9})}
    back = loads_mxnet_pickle(dumps_mxnet_pickle(states))
    assert back[0] is None
    np.testing.assert_array_equal(back[1].asnumpy(), [[1.5, -2.0]])
    assert back["w"][0].dtype == np.int64 and back["w"][1].dtype == np.float16
    assert back[2] == [True, False, 2 ** 40, -7, 300, 1e-3, "é"]
    assert back["opt"] == {"module": "mxnet.optimizer.optimizer", "class": "Adam",
                           "state": {"beta1": 0.9}}
    # only allowlisted globals appear in what we write
    globs = {arg for op, arg, _ in pickletools.genops(dumps_mxnet_pickle(states))
             if op.name == "GLOBAL"}
    assert globs == {"mxnet.ndarray.ndarray NDArray", "builtins bytearray",
                     "mxnet.optimizer.optimizer Adam"}
    with pytest.raises(MXNetTypeError, match="cannot write a set"):
        dumps_mxnet_pickle({0: {1, 2}})


def test_python2_style_and_numpy_values_load():
    # protocol-0 pickle of an OrderedDict holding numpy scalars and a numpy array, as an
    # optimizer with numpy hyper-parameters would be written
    obj = collections.OrderedDict([("lr", np.float32(0.5)), ("arr", np.arange(3.0))])
    back = loads_mxnet_pickle(pickle.dumps(obj, protocol=0))
    assert isinstance(back, collections.OrderedDict)
    assert back["lr"] == np.float32(0.5) and back["lr"].dtype == np.float32
    np.testing.assert_array_equal(back["arr"], [0.0, 1.0, 2.0])
    assert loads_mxnet_pickle(pickle.dumps({1, 2}, protocol=2)) == {1, 2}
    assert loads_mxnet_pickle(pickle.dumps(bytearray(b"ab"), protocol=2)) == bytearray(b"ab")
