"""Module on several contexts with a kvstore: MXNet's choice of kvstore and
update_on_kvstore, idx2name, the update paths, optimizer states (test_save_load on 2
cpus), test_module_reshape, and multi-context fits against MXNet 1.9.1 fixtures
(tools/gen_module_fixtures.py) and against one context."""
import importlib.util
import os
import types

import numpy as np
import pytest

import mxtorch as mx
from mxtorch import kvstore as kv
from mxtorch.base import MXNetTypeError
from mxtorch.optimizer import Updater

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "module")
spec = importlib.util.spec_from_file_location("gen_module", os.path.join(
    ROOT, "tools", "gen_module_fixtures.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)

TWO = [mx.cpu(0), mx.cpu(1)]


def _fc(num_hidden=20, name="fc"):
    return mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=num_hidden, name=name)


# ---------------------------------------------------------------- fits vs MXNet, vs 1 ctx
@pytest.mark.parametrize("case", sorted(gen.FIT_CASES))
def test_multi_context_fit_matches_mxnet(case):
    ref = np.load(os.path.join(FIX, case + ".npz"))
    res = gen.run_fit(mx, case)
    assert bool(res["update_on_kvstore"]) == bool(ref["update_on_kvstore"])
    assert bool(res["has_kvstore"]) == bool(ref["has_kvstore"])
    np.testing.assert_allclose(res["train_acc"], ref["train_acc"], rtol=0, atol=1e-6)
    for key in ref.files:
        if key.startswith("arg:"):
            np.testing.assert_allclose(res[key], ref[key], rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("case", ["mc_local_sgd", "mc_device_adam_noupd"])
def test_two_contexts_with_work_load_1_2_equal_one_context(case):
    """The issue's done-when: [cpu(0), cpu(1)] with work_load_list [1, 2] trains to the
    parameters of one context on the same batches."""
    two = gen.run_fit(mx, case)
    one = gen.run_fit(mx, case, contexts=[mx.cpu(0)])
    for key in two:
        if key.startswith("arg:"):
            np.testing.assert_allclose(two[key], one[key], rtol=1e-5, atol=1e-5, err_msg=key)


# ---------------------------------------------------------------- kvstore choice
def _bound(ctx, sym=None, batch=8):
    mod = mx.mod.Module(sym if sym is not None else _fc(), label_names=None, context=ctx)
    mod.bind(data_shapes=[("data", (batch, 20))])
    mod.init_params()
    return mod


def test_single_device_string_means_no_kvstore():
    mod = _bound(mx.cpu())
    mod.init_optimizer(kvstore="local")
    assert mod._kvstore is None and mod._update_on_kvstore is False
    assert isinstance(mod._updater, Updater)
    assert mod._optimizer.idx2name == {0: "fc_weight", 1: "fc_bias"}


def test_two_devices_update_on_kvstore_by_name():
    mod = _bound(TWO)
    mod.init_optimizer(kvstore="device", optimizer_params={"learning_rate": 0.1})
    assert isinstance(mod._kvstore, kv.KVStore) and mod._kvstore.type == "device"
    assert mod._update_on_kvstore is True and mod._updater is None
    assert mod._optimizer.idx2name == {0: "fc_weight", 1: "fc_bias"}
    assert isinstance(mod._kvstore._updater, Updater)


def test_two_devices_without_update_on_kvstore(monkeypatch):
    monkeypatch.setenv("MXNET_UPDATE_ON_KVSTORE", "0")
    mod = _bound(TWO)
    mod.init_optimizer()
    assert isinstance(mod._kvstore, kv.KVStore) and mod._update_on_kvstore is False
    assert mod._kvstore._updater is None
    # MXNet's verified idx2name on 2 devices without update_on_kvstore
    assert mod._optimizer.idx2name == {0: "fc_weight", 1: "fc_weight", 2: "fc_bias",
                                       3: "fc_bias"}


def test_local_turns_update_on_kvstore_off_for_huge_params():
    """MXNet's rule: 'local' stops updating on the kvstore when the largest parameter has
    more than 16 * 2**20 elements (checked on the decision itself, without allocating)."""
    big = {"w": types.SimpleNamespace(size=16 * 2 ** 20 + 1)}
    small = {"w": types.SimpleNamespace(size=16 * 2 ** 20)}
    store, upd = kv.select("local", 2, big)
    assert isinstance(store, kv.KVStore) and upd is False
    assert kv.select("local", 2, small)[1] is True
    assert kv.select("device", 2, big)[1] is True  # 'local' only
    assert kv.select("local", 1, big) == (None, False)


def test_kvstore_object_and_errors(monkeypatch):
    store = kv.create("local")
    mods = [_bound(mx.cpu()), _bound(mx.cpu())]
    mods[1].set_params(*mods[0].get_params())
    mods[0].init_optimizer(kvstore=store, optimizer_params={"learning_rate": 0.5,
                                                            "momentum": 0.9})
    mods[1].init_optimizer(kvstore=None, optimizer_params={"learning_rate": 0.5,
                                                           "momentum": 0.9})
    # an object is used even on one device, and updates as the module updater does
    assert mods[0]._kvstore is store and mods[0]._update_on_kvstore is True
    x = np.random.RandomState(0).randn(8, 20).astype(np.float32)
    for mod in mods:
        for _ in range(2):
            mod.forward(mx.io.DataBatch(data=[mx.nd.array(x)], label=None))
            mod.backward([mx.nd.array(x)])
            mod.update()
    a, b = mods[0].get_params()[0], mods[1].get_params()[0]
    for k in a:
        np.testing.assert_allclose(a[k].asnumpy(), b[k].asnumpy(), rtol=1e-6, atol=1e-7)
    assert set(store._updater.states) == {"fc_weight", "fc_bias"}
    assert set(mods[1]._updater.states) == {0, 1}
    mod = _bound(TWO)
    for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(mx.MXNetError, match="torchrun"):
        mod.init_optimizer(kvstore="dist_sync")     # outside a launcher
    assert not mod.optimizer_initialized
    with pytest.raises(MXNetTypeError, match="kvstore must be"):
        mod.init_optimizer(kvstore=3)
    mod2 = mx.mod.Module(_fc(), label_names=None, context=TWO,
                         compression_params={"type": "3bit"})
    mod2.bind(data_shapes=[("data", (8, 20))])
    mod2.init_params()
    with pytest.raises(ValueError, match="use '2bit'"):
        mod2.init_optimizer(kvstore="device")
    assert not mod2.optimizer_initialized
    mod3 = mx.mod.Module(_fc(), label_names=None, context=TWO,
                         compression_params={"type": "2bit", "threshold": 0.5})
    mod3.bind(data_shapes=[("data", (8, 20))])
    mod3.init_params()
    mod3.init_optimizer(kvstore="device")
    assert mod3._kvstore._compression.threshold == 0.5


def test_kvstore_none_on_two_devices_updates_each_device_alone():
    """MXNet: without a kvstore nothing sums the gradients; each device steps on its own
    slice's gradient (so the devices differ until get_params averages them)."""
    mod = _bound(TWO, batch=4)
    mod.set_params({"fc_weight": mx.nd.zeros((20, 20)), "fc_bias": mx.nd.zeros((20,))}, {})
    mod.init_optimizer(kvstore=None, optimizer_params={"learning_rate": 1.0})
    x = np.zeros((4, 20), np.float32)
    mod.forward(mx.io.DataBatch(data=[mx.nd.array(x)], label=None))
    og = np.concatenate([np.ones((2, 20)), 3 * np.ones((2, 20))]).astype(np.float32)
    mod.backward([mx.nd.array(og)])
    mod.update()
    biases = [a.asnumpy() for a in mod._exec_group.param_arrays[1]]
    np.testing.assert_allclose(biases[0], -2 / 4)   # lr * rescale(1/4) * sum of 2 rows of 1
    np.testing.assert_allclose(biases[1], -6 / 4)
    np.testing.assert_allclose(mod.get_params()[0]["fc_bias"].asnumpy(), -1.0)


def test_update_is_one_kvstore_call_with_all_parameters():
    mod = _bound(TWO, sym=mx.sym.FullyConnected(_fc(), num_hidden=5, name="fc2"))
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1})
    calls = []

    class Counting(Updater):
        def __call__(self, index, grad, weight):
            calls.append(list(index))
            return super().__call__(index, grad, weight)

    mod._kvstore.set_updater(Counting(mod._optimizer))
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones((8, 20))], label=None))
    mod.backward([mx.nd.ones((8, 5))])
    mod.update()
    assert calls == [["fc_weight", "fc_bias", "fc2_weight", "fc2_bias"]]


# ---------------------------------------------------------------- MXNet test_module 7 and 9
def test_save_load_optimizer_states_two_devices(tmp_path):
    """MXNet's test_save_load, multi-device half: the kvstore updater's states (keyed by
    name) survive save_checkpoint / Module.load on one device."""
    prefix = str(tmp_path / "test")
    sym = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=100)
    mod = mx.mod.Module(sym, ("data",), context=TWO)
    mod.bind(data_shapes=[("data", (10, 10))])
    mod.init_params()
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    mod.update()
    mod.save_checkpoint(prefix, 0, save_optimizer_states=True)
    mod2 = mx.mod.Module.load(prefix, 0, load_optimizer_states=True, data_names=("data",))
    mod2.bind(data_shapes=[("data", (10, 10))])
    mod2.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    assert mod._symbol.tojson() == mod2._symbol.tojson()
    a, b = mod.get_params()[0], mod2.get_params()[0]
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k].asnumpy(), b[k].asnumpy())
    s1, s2 = mod._kvstore._updater.states, mod2._updater.states
    assert set(s1) == set(s2) == set(mod._param_names)  # str names, not indices
    for k in s1:
        np.testing.assert_array_equal(s1[k].asnumpy(), s2[k].asnumpy())
    # back onto two devices: the file goes into the kvstore's updater
    mod3 = mx.mod.Module.load(prefix, 0, load_optimizer_states=True, data_names=("data",),
                              context=TWO)
    mod3.bind(data_shapes=[("data", (10, 10))])
    mod3.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    assert set(mod3._kvstore._updater.states) == set(s1)


def test_optimizer_states_after_two_steps_match_mxnet():
    ref = np.load(os.path.join(FIX, "optimizer_states.npz"))
    res = gen.run_optimizer_states(mx)
    assert sorted(res) == sorted(ref.files)  # 'mc_state:<name>' and 'sc_state:<index>'
    for key in ref.files:
        np.testing.assert_allclose(res[key], ref[key], rtol=1e-5, atol=1e-7, err_msg=key)


def test_module_reshape_keeps_rescale_grad_two_devices():
    """MXNet's test_module_reshape: fc_bias is -1 after one step at batch 7 and -3 after a
    step at batch 14, because rescale_grad stays 1/7."""
    dshape = (7, 20)
    mod = mx.mod.Module(_fc(), ("data",), None, context=TWO)
    mod.bind(data_shapes=[("data", dshape)])
    mod.init_params()
    mod.init_optimizer(optimizer_params={"learning_rate": 1})
    assert mod._kvstore is not None and mod._update_on_kvstore
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones(dshape)], label=None))
    mod.backward([mx.nd.ones(dshape)])
    mod.update()
    assert mod.get_outputs()[0].shape == dshape
    assert (mod.get_params()[0]["fc_bias"].asnumpy() == -1).all()
    dshape = (14, 20)
    mod.reshape(data_shapes=[("data", dshape)])
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones(dshape)], label=None))
    mod.backward([mx.nd.ones(dshape)])
    mod.update()
    assert mod.get_outputs()[0].shape == dshape
    assert (mod.get_params()[0]["fc_bias"].asnumpy() == -3).all()
    for dev in mod._exec_group.param_arrays[1]:  # every device got the kvstore's weight
        assert (dev.asnumpy() == -3).all()


def test_bucketing_buckets_share_the_kvstore():
    def sym_gen(key):
        data = mx.sym.Variable("data")
        net = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
        return mx.sym.LinearRegressionOutput(net, name="lro"), ("data",), ("lro_label",)

    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=10, context=TWO)
    mod.bind(data_shapes=[("data", (4, 3))], label_shapes=[("lro_label", (4, 4))])
    mod.init_params()
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1})
    mod.switch_bucket(5, [("data", (2, 3))], [("lro_label", (2, 4))])
    cur, default = mod._curr_module, mod._buckets[10]
    assert cur is not default
    assert cur._kvstore is default._kvstore is not None
    assert cur._update_on_kvstore is True and cur._optimizer is default._optimizer


def test_work_load_list_longer_than_contexts_raises():
    with pytest.raises(ValueError, match="work_load_list has 3 entries for 2 contexts"):
        mx.mod.Module(_fc(), label_names=None, context=TWO, work_load_list=[1, 2, 3])
