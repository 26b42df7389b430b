"""DataDesc, DataBatch, the DataIter protocol, ResizeIter and PrefetchingIter."""
import json
import os

import numpy as np
import pytest

import mxtorch as mx
import mxtorch.io as mio
from mxtorch.base import MXNetError, MXNetNotImplementedError, MXNetValueError

FIX = os.path.join(os.path.dirname(__file__), "..", "compat", "fixtures", "io",
                   "ndarray_iter.json")


@pytest.fixture(scope="module")
def fx():
    with open(FIX) as f:
        return json.load(f)


def test_datadesc_repr_and_tuple_behaviour(fx):
    reprs = [repr(mio.DataDesc("a", (1, 2))), repr(mio.DataDesc("b", (3,), np.int32, "NTC")),
             repr(mio.DataDesc("c", (4, 5), "float16", "TNC"))]
    assert reprs == fx["datadesc_repr"]
    d = mio.DataDesc("data", (2, 3), np.float16, "NC")
    assert d == ("data", (2, 3)) and tuple(d) == ("data", (2, 3))
    name, shape = d
    assert (name, shape, d.dtype, d.layout) == ("data", (2, 3), np.float16, "NC")
    assert d.name == "data" and d[1] == (2, 3)
    assert mio.DataDesc("data", (2, 3)).dtype is np.float32
    assert mio.DataDesc("data", (2, 3)).layout == "NCHW"


def test_datadesc_copy_keeps_dtype_and_layout():
    import copy
    d = mio.DataDesc("x", (4,), np.int32, "TN")
    c = copy.deepcopy(d)
    assert (c, c.dtype, c.layout) == (d, np.int32, "TN")


def test_get_batch_axis_and_get_list(fx):
    for layout, axis in fx["batch_axis"].items():
        assert mio.DataDesc.get_batch_axis(None if layout == "None" else layout) == axis
    lst = mio.DataDesc.get_list([("a", (1, 2)), ("b", (3,))], [("a", np.int32), ("b", np.float64)])
    assert [(x, x.dtype) for x in lst] == [(("a", (1, 2)), np.int32), (("b", (3,)), np.float64)]
    assert [x.dtype for x in mio.DataDesc.get_list([("a", (1,))], None)] == [np.float32]


def test_databatch_str(fx):
    assert str(mio.DataBatch(data=[mx.nd.ones((2, 3))])) == fx["databatch_str"][0]
    assert (str(mio.DataBatch(data=[mx.nd.ones((2, 3)), mx.nd.ones((2,))],
                              label=[mx.nd.ones((2, 1))])) == fx["databatch_str"][1])
    assert fx["databatch_str"][0] == "DataBatch: data shapes: [(2, 3)] label shapes: None"


def test_databatch_rejects_non_lists():
    for kw in (dict(data=mx.nd.ones((2, 3))), dict(data=[mx.nd.ones((2,))], label=mx.nd.ones(2))):
        with pytest.raises(mio.BatchTypeError, match="list"):
            mio.DataBatch(**kw)
        with pytest.raises(AssertionError):  # MXNet asserts here
            mio.DataBatch(**kw)
        with pytest.raises(TypeError):
            mio.DataBatch(**kw)
    b = mio.DataBatch((mx.nd.ones((1,)),), pad=2, index=np.arange(1), bucket_key=5)
    assert (b.pad, b.bucket_key, b.label) == (2, 5, None)


class _Counter(mio.DataIter):
    """A DataIter written the MXNet way: iter_next + getdata/getlabel/getpad."""

    def __init__(self, n):
        super().__init__(batch_size=2)
        self.n = n
        self.i = 0
        self.provide_data = [("data", (2, 1))]
        self.provide_label = [mio.DataDesc("lab", (2,))]

    def reset(self):
        self.i = 0

    def iter_next(self):
        self.i += 1
        return self.i <= self.n

    def getdata(self):
        return [mx.nd.full((2, 1), self.i)]

    def getlabel(self):
        return [mx.nd.full((2,), -self.i)]

    def getpad(self):
        return 0


def test_dataiter_protocol():
    it = _Counter(3)
    assert iter(it) is it
    vals = [int(b.data[0].asnumpy()[0, 0]) for b in it]
    assert vals == [1, 2, 3]
    it.reset()
    b = it.next()
    assert b.label[0].asnumpy().tolist() == [-1, -1] and b.pad == 0 and b.index is None
    assert it.provide_data == [("data", (2, 1))] and it.batch_size == 2


def test_dataiter_base_errors():
    class NoDesc(mio.DataIter):
        pass
    it = NoDesc()
    with pytest.raises(MXNetNotImplementedError, match="iter_next"):
        next(it)
    with pytest.raises(AttributeError, match="provide_data"):
        it.provide_data
    assert not hasattr(it, "provide_label")
    with pytest.raises(MXNetError):
        it.provide_label


def test_resize_iter_wraps_and_stops():
    base = mio.NDArrayIter(np.arange(5, dtype=np.float32).reshape(5, 1), batch_size=2,
                           last_batch_handle="discard")
    it = mio.ResizeIter(base, 5)
    got = [b.data[0].asnumpy().ravel().tolist() for b in it]
    assert got == [[0, 1], [2, 3], [0, 1], [2, 3], [0, 1]]
    assert it.provide_data == base.provide_data and it.batch_size == 2
    it.reset()
    assert [b.data[0].asnumpy().ravel().tolist() for b in it][:2] == [[0, 1], [2, 3]]
    short = mio.ResizeIter(mio.NDArrayIter(np.zeros((10, 1)), batch_size=2), 2)
    assert sum(1 for _ in short) == 2
    short.reset()
    assert short.next().pad == 0


def test_prefetching_iter_joins_and_renames():
    x = np.arange(6, dtype=np.float32).reshape(6, 1)
    i1 = mio.NDArrayIter({"data": x}, {"lab": x[:, 0]}, batch_size=4)
    i2 = mio.NDArrayIter({"data": -x}, batch_size=4)
    it = mio.PrefetchingIter([i1, i2], rename_data=[{"data": "d1"}, {"data": "d2"}])
    try:
        assert [d.name for d in it.provide_data] == ["d1", "d2"]
        assert [d.name for d in it.provide_label] == ["lab"]
        assert it.batch_size == 4
        for _ in range(2):
            batches = list(it)
            assert len(batches) == 2
            b = batches[1]
            assert b.pad == 2 and len(b.data) == 2 and len(b.label) == 1
            np.testing.assert_array_equal(b.data[1].asnumpy().ravel(), [-4, -5, -0, -1])
            it.reset()
    finally:
        it.close()


def test_prefetching_iter_mismatch_and_errors_surface():
    a = mio.NDArrayIter(np.zeros((4, 1)), batch_size=2)
    b = mio.NDArrayIter(np.zeros((6, 1)), batch_size=2)
    it = mio.PrefetchingIter([a, b])
    try:
        with pytest.raises(MXNetValueError, match="different"):
            list(it)
    finally:
        it.close()

    class Boom(_Counter):
        def getdata(self):
            raise RuntimeError("disk gone")
    it = mio.PrefetchingIter(Boom(2))
    try:
        with pytest.raises(RuntimeError, match="disk gone"):
            next(it)
    finally:
        it.close()
    with pytest.raises(MXNetValueError):
        mio.PrefetchingIter([])
