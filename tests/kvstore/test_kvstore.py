"""The local KVStore: init/push/pull/pushpull/broadcast semantics (sums over device
copies), the updater on push, optimizer states by key, and the errors. Expected values
are computed with numpy."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch import kvstore as kv
from mxtorch.base import (MXNetKeyError, MXNetNotImplementedError, MXNetTypeError,
                          MXNetValueError, StateError)
from mxtorch.optimizer import Updater

SHAPE = (2, 3)


def _arr(v):
    return mx.nd.array(np.asarray(v, dtype=np.float32))


def _rand(seed, shape=SHAPE):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


@pytest.mark.parametrize("name", ["local", "device", "local_allreduce_cpu", "nccl"])
def test_create_local_types(name):
    store = kv.create(name)
    assert isinstance(store, kv.KVStore)
    assert store.type == name
    assert (store.rank, store.num_workers) == (0, 1)
    assert store.is_capable("optimizer") is True
    store.barrier()  # nothing to wait for


@pytest.mark.parametrize("name", ["dist_sync", "dist_async", "dist_device_sync"])
def test_create_dist_outside_a_launcher_says_how_to_launch(name, monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(mx.MXNetError, match="torchrun --nproc_per_node"):
        kv.create(name)


@pytest.mark.parametrize("name", ["horovod", "byteps"])
def test_create_other_engines_point_to_dist_sync(name):
    with pytest.raises(MXNetNotImplementedError, match="dist_sync"):
        kv.create(name)


def test_create_errors():
    with pytest.raises(MXNetValueError, match="unknown kvstore type 'locl'"):
        kv.create("locl")
    with pytest.raises(MXNetTypeError):
        kv.create(3)
    with pytest.raises(MXNetValueError, match="capability"):
        kv.create().is_capable("sparse")


@pytest.mark.parametrize("key", [3, "w"])
def test_push_sums_device_copies_and_pull(key):
    store = kv.create()
    store.init(key, _arr(np.zeros(SHAPE)))
    vals = [_rand(i) for i in range(3)]
    store.push(key, [_arr(v) for v in vals])
    outs = [mx.nd.zeros(SHAPE) for _ in range(3)]
    store.pull(key, out=outs)
    for o in outs:
        np.testing.assert_allclose(o.asnumpy(), vals[0] + vals[1] + vals[2], rtol=1e-6)
    # a push replaces (no updater): the stored value is the new sum, not an accumulation
    store.push(key, _arr(vals[0]))
    store.pull(key, out=outs[0])
    np.testing.assert_array_equal(outs[0].asnumpy(), vals[0])


def test_push_leaves_inputs_untouched_and_init_copies():
    store = kv.create()
    init = _arr(np.ones(SHAPE))
    store.init("a", init)
    init[:] = 5  # the store holds a copy
    a, b = _arr(_rand(1)), _arr(_rand(2))
    store.push("a", [a, b])
    np.testing.assert_array_equal(a.asnumpy(), _rand(1))
    np.testing.assert_array_equal(b.asnumpy(), _rand(2))
    out = mx.nd.zeros(SHAPE)
    store.pull("a", out=out)
    np.testing.assert_allclose(out.asnumpy(), _rand(1) + _rand(2), rtol=1e-6)


def test_many_keys_in_one_call():
    store = kv.create()
    keys = ["x", "y", "z"]
    shapes = [(2,), (3, 1), (4, 2)]
    store.init(keys, [mx.nd.zeros(s) for s in shapes])
    grads = [[_rand(10 * i + d, s) for d in range(2)] for i, s in enumerate(shapes)]
    store.pushpull(keys, [[_arr(g) for g in gl] for gl in grads],
                   out=[[mx.nd.zeros(s) for _ in range(2)] for s in shapes])
    outs = [[mx.nd.zeros(s) for _ in range(2)] for s in shapes]
    store.pull(keys, out=outs)
    for gl, ol in zip(grads, outs):
        for o in ol:
            np.testing.assert_allclose(o.asnumpy(), gl[0] + gl[1], rtol=1e-6)


def test_pushpull_without_out_writes_the_sum_in_place():
    store = kv.create()
    store.init("g", mx.nd.zeros(SHAPE))
    vals = [_arr(_rand(i)) for i in range(2)]
    store.pushpull("g", vals)
    for v in vals:
        np.testing.assert_allclose(v.asnumpy(), _rand(0) + _rand(1), rtol=1e-6)


def test_broadcast_inits_and_copies():
    store = kv.create("device")
    outs = [mx.nd.zeros(SHAPE) for _ in range(2)]
    store.broadcast("w", _arr(_rand(4)), out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), _rand(4))
    with pytest.raises(MXNetKeyError, match="duplicate init"):
        store.broadcast("w", _arr(_rand(4)), out=outs)


def test_set_optimizer_updates_stored_weight_once_on_the_sum():
    """SGD with momentum applied once per push on the summed gradient (numpy reference),
    states keyed by the str key."""
    store = kv.create()
    w0 = _rand(7)
    store.init("fc_weight", _arr(w0))
    store.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, rescale_grad=0.5))
    assert isinstance(store._updater, Updater)
    w, mom = w0.copy(), np.zeros(SHAPE, np.float32)
    outs = [mx.nd.zeros(SHAPE) for _ in range(2)]
    for step in range(3):
        g = [_rand(100 + 2 * step), _rand(101 + 2 * step)]
        store.pushpull("fc_weight", [_arr(x) for x in g], out=outs)
        mom = 0.9 * mom - 0.1 * 0.5 * (g[0] + g[1])
        w = w + mom
        for o in outs:
            np.testing.assert_allclose(o.asnumpy(), w, rtol=1e-5, atol=1e-6)
    assert list(store._updater.states) == ["fc_weight"]
    np.testing.assert_allclose(store._updater.states["fc_weight"].asnumpy(), mom, rtol=1e-5,
                               atol=1e-6)


def test_one_updater_call_per_push_of_many_keys():
    calls = []

    class Counting(Updater):
        def __call__(self, index, grad, weight):
            calls.append(list(index))
            return super().__call__(index, grad, weight)

    store = kv.create()
    store.init(["a", "b", "c"], [mx.nd.zeros((2,))] * 3)
    store.set_updater(Counting(mx.optimizer.SGD(learning_rate=1.0)))
    store.push(["a", "b", "c"], [[mx.nd.ones((2,))] * 2] * 3)
    assert calls == [["a", "b", "c"]]
    out = mx.nd.zeros((2,))
    store.pull("b", out=out)
    np.testing.assert_array_equal(out.asnumpy(), [-2.0, -2.0])


def test_plain_function_updater_called_per_key():
    seen = []

    def upd(key, grad, stored):
        seen.append((key, grad.asnumpy().copy()))
        stored[:] = stored + 10 * grad

    store = kv.create()
    store.init([0, 1], [mx.nd.zeros((1,)), mx.nd.ones((1,))])
    store.set_updater(upd)
    store.push([0, 1], [[_arr([1.0]), _arr([2.0])], [_arr([0.5])]])
    assert [k for k, _ in seen] == [0, 1]
    np.testing.assert_array_equal(seen[0][1], [3.0])
    outs = [mx.nd.zeros((1,)), mx.nd.zeros((1,))]
    store.pull([0, 1], out=outs)
    assert [o.asscalar() for o in outs] == [30.0, 6.0]
    with pytest.raises(MXNetTypeError, match="callable"):
        store.set_updater(3)


def test_save_load_optimizer_states(tmp_path):
    store = kv.create()
    store.init(["fc_weight", "fc_bias"], [_arr(_rand(1)), _arr(_rand(2, (3,)))])
    store.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    store.push(["fc_weight", "fc_bias"], [_arr(_rand(3)), _arr(_rand(4, (3,)))])
    fname = str(tmp_path / "kv.states")
    store.save_optimizer_states(fname)
    other = kv.create()
    other.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    other.load_optimizer_states(fname)
    assert set(other._updater.states) == {"fc_weight", "fc_bias"}
    for k, v in store._updater.states.items():
        np.testing.assert_array_equal(other._updater.states[k].asnumpy(), v.asnumpy())
    with pytest.raises(StateError, match="set_optimizer"):
        kv.create().save_optimizer_states(fname)
    with pytest.raises(StateError, match="set_optimizer"):
        kv.create().load_optimizer_states(fname)


def test_errors_change_nothing():
    store = kv.create()
    store.init("a", mx.nd.ones((2,)))
    with pytest.raises(MXNetKeyError, match="duplicate init of key 'a'"):
        store.init(["b", "a"], [mx.nd.zeros((2,)), mx.nd.zeros((2,))])
    with pytest.raises(MXNetKeyError, match="not initialized"):
        store.pull("b", out=mx.nd.zeros((2,)))  # 'b' was not added by the failed init
    with pytest.raises(MXNetKeyError, match="not initialized"):
        store.push(["a", "zz"], [mx.nd.ones((2,)), mx.nd.ones((2,))])
    out = mx.nd.zeros((2,))
    store.pull("a", out=out)
    np.testing.assert_array_equal(out.asnumpy(), [1.0, 1.0])  # the failed push did nothing
    with pytest.raises(MXNetValueError, match="out is required"):
        store.pull("a")
    with pytest.raises(MXNetValueError, match="one"):
        store.init("c", [mx.nd.ones((2,)), mx.nd.ones((2,))])
    with pytest.raises(MXNetTypeError, match="mix int and str"):
        store.init([1, "d"], [mx.nd.ones((1,)), mx.nd.ones((1,))])
    with pytest.raises(MXNetValueError, match="2 keys need"):
        store.push(["a", "a"], [mx.nd.ones((2,))])
    with pytest.raises(MXNetTypeError, match="NDArray"):
        store.push("a", np.ones(2))
    with pytest.raises(MXNetValueError, match="shape"):
        store.pull("a", out=mx.nd.zeros((3,)))
    with pytest.raises(MXNetTypeError, match="Optimizer"):
        store.set_optimizer("sgd")
