"""NDArrayIter against MXNet 1.9.1 (fixtures from tools/gen_io_init_fixtures.py) and
MXNet's test_io facts."""
import json
import os

import numpy as np
import pytest
import torch

import mxtorch as mx
import mxtorch.io as mio
from mxtorch.base import MXNetTypeError, MXNetValueError, StateError

FIX = os.path.join(os.path.dirname(__file__), "..", "compat", "fixtures", "io",
                   "ndarray_iter.json")


@pytest.fixture(scope="module")
def fx():
    with open(FIX) as f:
        return json.load(f)


def _ints(x):
    return [int(round(v)) for v in np.asarray(x).ravel()]


def _epochs(it, n_epochs, scale=1.0, with_idx=False):
    """The same record as the generator's, taken from mxtorch."""
    out = []
    for _ in range(n_epochs):
        ep = []
        try:
            for b in it:
                first = b.data[0].asnumpy().reshape(b.data[0].shape[0], -1)[:, 0]
                lab = _ints(b.label[0].asnumpy() * scale) if b.label else None
                ep.append([_ints(first * scale), lab, int(b.pad)])
        except MXNetValueError:
            out.append({"batches": ep, "error": True})
            return out
        rec = {"batches": ep, "cursor": int(it.cursor)}
        if with_idx:
            rec["idx"] = [int(i) for i in it.idx]
        out.append(rec)
        it.reset()
    return out


def _test_io_data():
    data = np.ones([1000, 2, 2])
    label = np.ones([1000, 1])
    for i in range(1000):
        data[i] = i / 100
        label[i] = i / 100
    return data, label


@pytest.mark.parametrize("mode", ["pad", "discard", "roll_over"])
def test_test_io_scenario_matches_mxnet(fx, mode):
    data, label = _test_io_data()
    it = mio.NDArrayIter(data, label, 128, False, last_batch_handle=mode)
    assert _epochs(it, 3, scale=100.0) == fx["test_io"][mode]


def test_test_io_facts():
    # MXNet's tests/python/unittest/test_io.py::test_NDArrayIter numbers
    data, label = _test_io_data()
    for mode, nbatch, count0, count8 in (("pad", 8, 124, 100), ("discard", 7, 100, 96),
                                         ("roll_over", 7, 100, 96)):
        it = mio.NDArrayIter(data, label, 128, False, last_batch_handle=mode)
        counts = np.zeros(10, int)
        n = 0
        for batch in it:
            lab = batch.label[0].asnumpy().ravel()
            assert (batch.data[0].asnumpy()[:, 0, 0] == lab).all()
            np.add.at(counts, lab.astype(int), 1)
            n += 1
        assert n == nbatch
        assert counts[0] == count0 and counts[8] == count8
    # shuffled 'pad' still gives 8 batches
    assert sum(1 for _ in mio.NDArrayIter(data, label, 128, True, last_batch_handle="pad")) == 8


def test_roll_over_reset_equals_last_pad_batch():
    data, label = _test_io_data()
    pad_it = mio.NDArrayIter(data, label, 128, last_batch_handle="pad")
    last = list(pad_it)[-1]
    it = mio.NDArrayIter(data, label, 128, last_batch_handle="roll_over")
    for _ in it:
        pass
    it.reset()
    first = it.next()
    np.testing.assert_array_equal(first.data[0].asnumpy(), last.data[0].asnumpy())
    np.testing.assert_array_equal(first.label[0].asnumpy(), last.label[0].asnumpy())
    assert first.pad == 104  # MXNet's quirk: the count of carried rows


def test_size_grid_matches_mxnet(fx):
    for case in fx["grid"]:
        n, bs, mode = case["n"], case["bs"], case["mode"]
        d = np.arange(n * 2, dtype=np.float32).reshape(n, 2) / 2
        lab = np.arange(n, dtype=np.float32)
        it = mio.NDArrayIter(d, lab, bs, last_batch_handle=mode)
        assert _epochs(it, 3) == case["epochs"], (n, bs, mode)


def test_seeded_shuffle_matches_mxnet(fx):
    for case in fx["shuffle"]:
        np.random.seed(case["seed"])
        n, bs = case["n"], case["bs"]
        d = np.arange(n * 2, dtype=np.float32).reshape(n, 2) / 2
        lab = np.arange(n, dtype=np.float32)
        it = mio.NDArrayIter(d, lab, bs, shuffle=True, last_batch_handle=case["mode"])
        assert it.idx.tolist() == case["idx0"]
        assert _epochs(it, 3, with_idx=True) == case["epochs"], case["seed"]


def test_shuffle_idx_is_the_permutation():
    np.random.seed(7)
    x = np.arange(20, dtype=np.float32).reshape(20, 1)
    it = mio.NDArrayIter(x, x[:, 0], batch_size=20, shuffle=True)
    assert sorted(it.idx.tolist()) == list(range(20))
    b = next(it)
    np.testing.assert_array_equal(b.data[0].asnumpy()[:, 0], x[it.idx, 0])
    np.testing.assert_array_equal(b.label[0].asnumpy(), x[it.idx, 0])


def test_pad_tiles_when_batch_exceeds_data(fx):
    d = np.arange(10, dtype=np.float32).reshape(10, 1)
    b = next(mio.NDArrayIter(d, batch_size=205, last_batch_handle="pad"))
    want = fx["pad_tile"]
    assert b.data[0].asnumpy().ravel().tolist() == want["data"]
    np.testing.assert_array_equal(b.data[0].asnumpy().ravel(),
                                  np.concatenate([np.tile(np.arange(10), 20), np.arange(5)]))
    assert b.pad == want["pad"] == 195
    assert b.label == want["label"] == []


_NAMING = {
    "single": lambda: (np.zeros((6, 3)), None, {}),
    "list1": lambda: ([np.zeros((6, 3))], [np.zeros((6,))], {}),
    "list12": lambda: ([np.zeros((6, i + 1), dtype=np.float32) for i in range(12)],
                       [np.zeros((6,)), np.zeros((6, 2))], {}),
    "dict": lambda: ({"b": np.zeros((6, 2)), "a": np.zeros((6, 3, 4))}, {"lab": np.zeros((6,))},
                     {}),
    "names": lambda: (np.zeros((6, 3)), np.zeros((6,)), {"data_name": "x", "label_name": "y"}),
    "int_numpy": lambda: (np.zeros((6, 3), dtype=np.int64), np.zeros((6,), dtype=np.int32), {}),
    "nd_int32": lambda: (mx.nd.zeros((6, 3), dtype="int32"), mx.nd.zeros((6,), dtype="float64"),
                         {}),
    "empty_label": lambda: (np.zeros((6, 3)), [], {}),
}


@pytest.mark.parametrize("key", sorted(_NAMING))
def test_naming_and_descs_match_mxnet(fx, key):
    dat, lab, kw = _NAMING[key]()
    it = mio.NDArrayIter(dat, lab, batch_size=4, **kw)
    b = next(it)
    want = fx["naming"][key]
    assert [repr(x) for x in it.provide_data] == want["provide_data"]
    assert [repr(x) for x in it.provide_label] == want["provide_label"]
    assert str(b) == want["batch"]
    assert isinstance(b.label, list) and len(b.label) == want["n_label"]
    assert b.index is None and b.provide_data is None and b.bucket_key is None


def test_full_batches_are_views_and_pad_batches_copies():
    x = mx.nd.array(np.arange(10, dtype=np.float32).reshape(5, 2))
    it = mio.NDArrayIter(x, batch_size=2, last_batch_handle="pad")
    b0, b1, b2 = list(it)
    base = x.torch.untyped_storage().data_ptr()
    assert b0.data[0].torch.untyped_storage().data_ptr() == base
    assert b1.data[0].torch.data_ptr() == x.torch[2:].data_ptr()
    assert b2.data[0].torch.untyped_storage().data_ptr() != base
    np.testing.assert_array_equal(b2.data[0].asnumpy(), [[8, 9], [0, 1]])
    assert b2.pad == 1


def test_ndarray_input_keeps_dtype_and_device_numpy_becomes_float32():
    it = mio.NDArrayIter(mx.nd.zeros((4, 2), dtype="int32"), np.arange(4), batch_size=2)
    b = next(it)
    assert b.data[0].dtype == np.int32 and b.label[0].dtype == np.float32
    it = mio.NDArrayIter(torch.arange(6).reshape(3, 2), batch_size=3)
    assert next(it).data[0].torch.dtype == torch.int64


def test_layout_moves_the_batch_axis():
    x = np.arange(24, dtype=np.float32).reshape(3, 4, 2)  # T=3, N=4, C=2
    it = mio.NDArrayIter(x, batch_size=3, layout="TNC", last_batch_handle="pad")
    assert it.provide_data[0].shape == (3, 3, 2) and it.provide_data[0].layout == "TNC"
    b0, b1 = list(it)
    np.testing.assert_array_equal(b0.data[0].asnumpy(), x[:, :3])
    np.testing.assert_array_equal(b1.data[0].asnumpy(), np.concatenate([x[:, 3:], x[:, :2]], 1))
    assert b1.pad == 2


def test_hard_reset_drops_rolled_over_rows():
    x = np.arange(5, dtype=np.float32).reshape(5, 1)
    it = mio.NDArrayIter(x, batch_size=2, last_batch_handle="roll_over")
    assert len(list(it)) == 2
    it.hard_reset()
    b = next(it)
    assert b.data[0].asnumpy().ravel().tolist() == [0, 1] and b.pad == 0


def test_reading_past_the_end_is_a_state_error():
    it = mio.NDArrayIter(np.zeros((4, 1)), batch_size=2)
    list(it)
    with pytest.raises(StateError, match="reset"):
        it.getdata()


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=-3), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(batch_size=2, last_batch_handle="keep"), "last_batch_handle"),
    (dict(batch_size=2, layout="CHW"), "layout"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(MXNetValueError, match=match):
        mio.NDArrayIter(np.zeros((4, 2)), **kwargs)


def test_bad_inputs():
    with pytest.raises(MXNetValueError, match="same number of examples"):
        mio.NDArrayIter(np.zeros((4, 2)), np.zeros((5,)), batch_size=2)
    with pytest.raises(MXNetValueError, match="same number of examples"):
        mio.NDArrayIter([np.zeros((4, 2)), np.zeros((3, 2))], batch_size=2)
    with pytest.raises(MXNetValueError, match="no examples"):
        mio.NDArrayIter(np.zeros((0, 2)), batch_size=2)
    with pytest.raises(MXNetValueError, match="empty list"):
        mio.NDArrayIter([], batch_size=2)
    with pytest.raises(MXNetValueError, match="None"):
        mio.NDArrayIter(None, batch_size=2)
    with pytest.raises(MXNetTypeError, match="input must be"):
        mio.NDArrayIter("abc", batch_size=2)
    with pytest.raises(MXNetTypeError, match="invalid type"):
        mio.NDArrayIter({"data": object()}, batch_size=2)
    with pytest.raises(MXNetValueError, match="scalar"):
        mio.NDArrayIter({"data": 3.0}, batch_size=2)
    with pytest.raises(ValueError):  # still a ValueError for `except ValueError`
        mio.NDArrayIter(np.zeros((4, 2)), batch_size=0)


_CTXS = [mx.cpu()] + ([mx.gpu(0)] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("ctx", _CTXS, ids=str)
def test_batches_stay_on_the_arrays_device(ctx):
    np.random.seed(3)
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    it = mio.NDArrayIter(mx.nd.array(x, ctx=ctx), mx.nd.array(x[:, 0], ctx=ctx), batch_size=2,
                         shuffle=True, last_batch_handle="pad")
    for _ in range(2):
        rows = []
        for b in it:
            assert b.data[0].torch.device.type == ctx.torch_device.type
            assert b.label[0].torch.device.type == ctx.torch_device.type
            np.testing.assert_array_equal(b.data[0].asnumpy()[:, 0], b.label[0].asnumpy())
            rows += b.data[0].asnumpy()[:, 0].tolist()
        assert sorted(rows[:5]) == [0, 2, 4, 6, 8]  # one epoch holds every row once
        it.reset()


def test_numpy_inputs_are_page_locked_where_a_gpu_is(monkeypatch):
    """numpy inputs (copied anyway) go to page-locked memory on a machine with a GPU, so
    batches reach it by asynchronous copies; NDArrays given are kept as they are."""
    from mxtorch.io import ndarray_iter
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.Tensor, "pin_memory",
                        lambda self: calls.append(tuple(self.shape)) or self.clone())
    given = mx.nd.ones((4, 2))
    it = ndarray_iter.NDArrayIter({"a": np.ones((4, 3)), "b": given}, np.zeros(4),
                                  batch_size=2)
    assert sorted(calls) == [(4,), (4, 3)]
    assert dict(it.data)["b"] is given


@pytest.mark.skipif(not torch.cuda.is_available(), reason="page-locked memory needs CUDA")
def test_batches_stay_page_locked_after_shuffles_on_gpu_machines():
    it = mx.io.NDArrayIter(np.arange(40, dtype="f").reshape(10, 4), np.arange(10), 5,
                           shuffle=True)
    for _ in range(2):
        it.reset()
        rows = []
        for batch in it:
            assert batch.data[0]._data.is_pinned() and batch.label[0]._data.is_pinned()
            rows.extend(batch.label[0].asnumpy().tolist())
        assert sorted(rows) == list(range(10))
