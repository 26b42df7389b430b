"""Updater.get_states / set_states: our pickle-free format round trip (with and without
the optimizer), and real MXNet 1.9.1 ``.states`` pickles loaded and trained on."""
import pickle

import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch import lr_scheduler
from mxtorch import optimizer as opt
from mxtorch.base import FormatError
from mxtorch.ndarray import serialize

from ._fixtures import load_json, load_npz, read_bytes

META = load_json("states.json")
EXP = load_npz("states_expect.npz")


def _flat(state):
    if state is None:
        return []
    if isinstance(state, mx.nd.NDArray):
        return [state.asnumpy()]
    return [a for s in state for a in _flat(s)]


def _kind(state):
    if state is None:
        return None
    if isinstance(state, mx.nd.NDArray):
        return "array"
    return [_kind(s) for s in state]


def _train(upd, keys, dtype, steps, seed):
    r = np.random.RandomState(seed)
    ws = [mx.nd.array(r.randn(3, 2), dtype=dtype) for _ in keys]
    for _ in range(steps):
        upd(list(keys), [mx.nd.array(r.randn(3, 2), dtype=dtype) for _ in keys], ws)
    return ws


@pytest.mark.parametrize("make,dtype,keys", [
    (lambda: opt.SGD(learning_rate=0.1, momentum=0.9, wd=0.01), "float32", [0, 1]),
    (lambda: opt.SGD(learning_rate=0.1), "float64", [0, "fc_bias"]),
    (lambda: opt.SGD(learning_rate=0.1, momentum=0.9, multi_precision=True), "float16",
     [2, 5]),
    (lambda: opt.NAG(learning_rate=0.1, multi_precision=True), "float16", ["a/b=c", 1]),
    (lambda: opt.Adam(learning_rate=0.01, multi_precision=True), "float16", [0, 1]),
    (lambda: opt.Adam(learning_rate=0.01, wd=0.1), "float32", ["w_weight", "w_bias"]),
], ids=["sgd_mom", "sgd_none", "sgd_mp", "nag_mp_nomom", "adam_mp", "adam_str"])
def test_round_trip_continues_identically(make, dtype, keys):
    upd = opt.get_updater(make())
    ws = _train(upd, keys, dtype, 2, 0)
    blob = upd.get_states()
    assert isinstance(blob, bytes) and blob[:1] != b"\x80"        # not a pickle
    assert isinstance(serialize.loads(blob), dict)                  # an nd.save container
    upd2 = opt.get_updater(make())
    upd2.set_states(blob)
    assert set(upd2.states) == set(keys)
    assert upd2.states_synced == dict.fromkeys(keys, False)
    for k in keys:
        assert _kind(upd2.states[k]) == _kind(upd.states[k])
        for a, b in zip(_flat(upd2.states[k]), _flat(upd.states[k])):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    # one more step on both (fresh counters on upd2 give Adam t=1 there, so compare SGD/NAG
    # directly and Adam against a fresh-counter copy)
    r = np.random.RandomState(3)
    gs = [mx.nd.array(r.randn(3, 2), dtype=dtype) for _ in keys]
    w_a = [w.copy() for w in ws]
    w_b = [w.copy() for w in ws]
    upd.optimizer._all_index_update_counts = {0: {}}
    upd.optimizer._index_update_count = upd.optimizer._all_index_update_counts[0]
    upd(list(keys), gs, w_a)
    upd2(list(keys), gs, w_b)
    assert all(upd2.states_synced.values())
    for a, b in zip(w_a, w_b):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def test_dump_optimizer_restores_class_hyperparameters_schedule_and_counts():
    sch = lr_scheduler.MultiFactorScheduler(step=[1, 3], factor=0.5, base_lr=0.2)
    o = opt.SGD(learning_rate=0.2, momentum=0.8, wd=0.03, rescale_grad=0.5,
                clip_gradient=2.0, lr_scheduler=sch, param_idx2name={0: "a_weight",
                                                                     1: "a_bias"})
    o.set_lr_mult({"a_weight": 0.5})
    upd = opt.get_updater(o)
    ws = _train(upd, [0, 1], "float32", 3, 1)
    blob = upd.get_states(dump_optimizer=True)
    upd2 = opt.get_updater(opt.Adam())
    upd2.set_states(blob)
    o2 = upd2.optimizer
    assert type(o2) is opt.SGD and o2 is not o
    for attr in ("lr", "momentum", "wd", "rescale_grad", "clip_gradient", "num_update",
                 "begin_num_update", "multi_precision", "aggregate_num"):
        assert getattr(o2, attr) == getattr(o, attr), attr
    assert o2.lr_mult == {"a_weight": 0.5} and o2.wd_mult == {"a_bias": 0.0}
    assert o2.idx2name == {0: "a_weight", 1: "a_bias"}
    assert o2._all_index_update_counts == {0: {0: 3, 1: 3}}
    assert type(o2.lr_scheduler) is lr_scheduler.MultiFactorScheduler
    assert vars(o2.lr_scheduler) == vars(sch)
    r = np.random.RandomState(5)
    gs = [mx.nd.array(r.randn(3, 2)) for _ in range(2)]
    w_a, w_b = [w.copy() for w in ws], [w.copy() for w in ws]
    upd([0, 1], gs, w_a)
    upd2([0, 1], gs, w_b)
    for a, b in zip(w_a, w_b):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    assert o2.num_update == o.num_update == 4
    assert o2.learning_rate == o.learning_rate == pytest.approx(0.05)


@pytest.mark.parametrize("meta", META, ids=[m["name"] for m in META])
def test_mxnet_states_file_loads_and_training_continues(meta):
    name, keys, dtype = meta["name"], meta["keys"], meta["dtype"]
    upd = opt.get_updater(opt.create(meta["optimizer"], learning_rate=0.5))
    fresh = opt.get_updater(_fresh_like(meta))
    target = upd if meta["dump"] else fresh
    target.set_states(read_bytes(f"{name}.states"))
    assert sorted(target.states, key=str) == sorted(keys, key=str)
    for j, k in enumerate(keys):
        assert _kind(target.states[k]) == meta["state_kinds"][str(k)]
        for q, a in enumerate(_flat(target.states[k])):
            np.testing.assert_array_equal(a, EXP[f"{name}/state_{j}_{q}"])
    ws = [mx.nd.array(EXP[f"{name}/w_{j}"], dtype=dtype) for j in range(len(keys))]
    gs = [mx.nd.array(EXP[f"{name}/g_next_{j}"], dtype=dtype) for j in range(len(keys))]
    target(list(keys), gs, ws)
    for j in range(len(keys)):
        expect = EXP[f"{name}/w_next_{j}"]
        tol = dict(rtol=1e-3, atol=1e-3) if dtype == "float16" else dict(rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ws[j].asnumpy().astype(np.float64), expect, **tol)
    assert target.optimizer.num_update == meta["num_update_after"]
    assert target.optimizer.learning_rate == pytest.approx(meta["lr_after"], rel=1e-12)


def _fresh_like(meta):
    """The optimizer the generator built for the non-dump files."""
    kw = {"sgd_mom": dict(learning_rate=0.1, momentum=0.9, wd=0.01),
          "sgd_plain": dict(learning_rate=0.1),
          "sgd_mp": dict(learning_rate=0.1, momentum=0.9, multi_precision=True),
          "adam_mp": dict(learning_rate=0.01, multi_precision=True)}.get(meta["name"], {})
    return opt.create(meta["optimizer"], **kw)


def test_mxnet_dump_optimizer_file_restores_adam_and_scheduler():
    upd = opt.get_updater(opt.SGD())
    upd.set_states(read_bytes("adam_dump.states"))
    o = upd.optimizer
    assert type(o) is opt.Adam
    assert (o.lr, o.wd, o.clip_gradient, o.beta1, o.beta2) == (0.01, 0.01, 0.5, 0.9, 0.999)
    assert type(o.lr_scheduler) is lr_scheduler.FactorScheduler
    assert o.lr_scheduler.count == 1 and o.lr_scheduler.base_lr == pytest.approx(0.009)
    assert o._index_update_count is o._all_index_update_counts[0]
    assert o._index_update_count == {"fc_weight": 2, "fc_bias": 2}


def test_rejects_bytes_that_are_not_states():
    upd = opt.get_updater(opt.SGD())
    with pytest.raises(FormatError):
        upd.set_states(b"garbage bytes that are no container")
    with pytest.raises(FormatError, match="header"):
        upd.set_states(serialize.dumps({"a": mx.nd.ones((2,))}))

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))
    with pytest.raises(FormatError, match="refusing"):
        upd.set_states(pickle.dumps({0: Evil()}))
    assert upd.states == {}


def test_unknown_optimizer_class_in_dump():
    upd = opt.get_updater(opt.SGD())
    blob = upd.get_states(dump_optimizer=True).replace(b'"class": "SGD"',
                                                       b'"class": "Zzz"')
    with pytest.raises(FormatError, match="Zzz"):
        opt.get_updater(opt.SGD()).set_states(blob)


def test_states_move_to_the_weights_context_on_first_use():
    upd = opt.get_updater(opt.SGD(momentum=0.9))
    w = mx.nd.NDArray(torch.ones(2), mx.cpu(1))
    upd(0, mx.nd.NDArray(torch.ones(2), mx.cpu(1)), w)
    upd2 = opt.get_updater(opt.SGD(momentum=0.9))
    upd2.set_states(upd.get_states())
    assert upd2.states[0].context == mx.cpu(0)
    upd2(0, mx.nd.NDArray(torch.ones(2), mx.cpu(1)), w)
    assert upd2.states[0].context == mx.cpu(1) and upd2.states_synced[0]
