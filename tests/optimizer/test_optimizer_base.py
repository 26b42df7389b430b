"""Optimizer base rules: registry, learning-rate rules, lr_mult/wd_mult (MXNet's
test_lr_wd_mult facts), per-device counters, validation, user subclasses."""
import copy

import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch import lr_scheduler
from mxtorch import optimizer as opt
from mxtorch.base import MXNetTypeError, MXNetValueError

from ._fixtures import load_json

RULES = load_json("schedulers.json")["rules"]
MULT = load_json("lr_wd_mult.json")


class FakeSym:
    """The two Symbol calls the optimizer uses."""

    def __init__(self, attr, args):
        self._attr, self._args = attr, args

    def attr_dict(self):
        return self._attr

    def list_arguments(self):
        return self._args


def _int_keys(d):
    return {int(k): v for k, v in d.items()}


# ----------------------------------------------------------------------------- registry
def test_create_is_case_insensitive_and_returns_registered_classes():
    assert type(opt.create("SGD")) is opt.SGD
    assert type(opt.create("sGd", momentum=0.5)) is opt.SGD
    assert type(opt.Optimizer.create_optimizer("adam")) is opt.Adam
    assert type(opt.create("NAG")) is opt.NAG
    assert type(opt.create("ccsgd")) is opt.ccSGD
    assert opt.create("nag", momentum=0.7).momentum == 0.7


def test_create_unknown_name_lists_registered():
    with pytest.raises(MXNetValueError) as e:
        opt.create("adamw_nope")
    msg = str(e.value)
    assert "adamw_nope" in msg and "sgd" in msg and "adam" in msg and "nag" in msg
    with pytest.raises(ValueError):     # MXNet raises ValueError here
        opt.create("nope")


def test_register_custom_optimizer():
    class MyOpt(opt.Optimizer):
        pass
    try:
        assert opt.register(MyOpt) is MyOpt
        assert type(opt.create("myopt")) is MyOpt
        with pytest.warns(UserWarning, match="overriding"):
            opt.register(MyOpt)
    finally:
        opt.Optimizer.opt_registry.pop("myopt")


# ----------------------------------------------------------------------------- learning rate
def test_learning_rate_rules_match_mxnet():
    assert opt.SGD(learning_rate=0.3).learning_rate == RULES["lr_only"]
    sch = lr_scheduler.FactorScheduler(step=3, base_lr=0.4)
    o = opt.SGD(learning_rate=0.3, lr_scheduler=sch)
    assert o.learning_rate == RULES["lr_and_sched"]
    assert sch.base_lr == RULES["sched_base_after"]
    assert sch.warmup_final_lr == 0.4       # MXNet does not update it
    sch3 = lr_scheduler.FactorScheduler(step=3, base_lr=0.4)
    assert opt.SGD(lr_scheduler=sch3).learning_rate == RULES["sched_only"]
    assert opt.SGD().learning_rate == RULES["default"]
    assert opt.Adam().learning_rate == RULES["adam_default"]


def test_set_learning_rate_and_scheduler_property():
    # MXNet's test_learning_rate
    o1 = opt.Optimizer(learning_rate=0.01)
    o1.set_learning_rate(0.2)
    assert o1.learning_rate == 0.2
    o2 = opt.Optimizer(lr_scheduler=lr_scheduler.FactorScheduler(step=1), learning_rate=0.3)
    assert o2.learning_rate == 0.3
    o2.lr_scheduler.base_lr = 0.4
    assert o2.learning_rate == 0.4


def test_set_learning_rate_with_scheduler_raises_user_warning():
    o = opt.Optimizer(lr_scheduler=lr_scheduler.FactorScheduler(step=1), learning_rate=0.3)
    with pytest.raises(UserWarning):
        o.set_learning_rate(0.5)


def test_set_learning_rate_changes_the_next_update():
    o = opt.SGD(learning_rate=0.1)
    upd = opt.get_updater(o)
    w = mx.nd.array([1.0, 2.0])
    upd(0, mx.nd.array([1.0, 1.0]), w)
    o.set_learning_rate(0.5)
    upd(0, mx.nd.array([1.0, 1.0]), w)
    np.testing.assert_allclose(w.asnumpy(), [1.0 - 0.1 - 0.5, 2.0 - 0.1 - 0.5], rtol=1e-6)


# ----------------------------------------------------------------------------- mults
def _mult_opt(**kw):
    return opt.SGD(learning_rate=1.0, wd=0.1, sym=FakeSym(MULT["attr_dict"],
                                                         MULT["list_arguments"]),
                   param_idx2name=_int_keys(MULT["idx2name"]), **kw)


def test_lr_wd_mult_from_symbol_match_mxnet():
    o = _mult_opt()
    assert o.lr_mult == MULT["lr_mult"] == {'fc1_bias': 1.0, 'fc1_weight': 0.0}
    assert o.wd_mult == MULT["wd_mult"] == {'fc2_bias': 0.5, 'fc2_weight': 0.5,
                                            'fc1_bias': 0.0}
    for k, v in MULT["lrs"].items():
        assert o._get_lr(int(k)) == pytest.approx(v)
    for k, v in MULT["wds"].items():
        assert o._get_wd(int(k)) == pytest.approx(v)


def test_user_mult_overrides_match_mxnet():
    o = _mult_opt()
    o.set_lr_mult({"fc2_weight": 0.3})
    o.set_wd_mult({"fc1_weight": 2.0})
    ov = MULT["override"]
    assert o.lr_mult == ov["lr_mult"] and o.wd_mult == ov["wd_mult"]
    for k, v in ov["lrs"].items():
        assert o._get_lr(int(k)) == pytest.approx(v)
    for k, v in ov["wds"].items():
        assert o._get_wd(int(k)) == pytest.approx(v)


def test_lr_mult_zero_leaves_weight_unchanged_and_mutation_is_seen():
    o = _mult_opt()
    upd = opt.get_updater(o)
    ws = [mx.nd.ones((2, 3)) for _ in range(4)]
    gs = [mx.nd.ones((2, 3)) for _ in range(4)]
    upd([0, 1, 2, 3], gs, ws)
    np.testing.assert_array_equal(ws[0].asnumpy(), np.ones((2, 3)))   # fc1_weight lr 0
    np.testing.assert_allclose(ws[1].asnumpy(), 0.0, atol=1e-7)         # bias: no wd
    np.testing.assert_allclose(ws[2].asnumpy(), 1 - 0.05 - 1, atol=1e-6)
    o.lr_mult["fc1_weight"] = 0.5      # in-place edit of the dict: the cache notices
    upd([0], [gs[0]], [ws[0]])
    np.testing.assert_allclose(ws[0].asnumpy(), 1 - 0.5 * (1 + 0.1), rtol=1e-6)
    o.idx2name = {}                     # no names: every mult falls back to 1
    assert o._get_lr(0) == 1.0 and o._get_wd(1) == pytest.approx(0.1)


def test_index_keyed_mults_and_param_dict():
    class P:
        lr_mult, wd_mult = 0.25, 3.0
    o = opt.SGD(learning_rate=0.2, wd=0.1, param_idx2name={0: "a_weight", 1: "b_weight"},
                param_dict={1: P()})
    o.set_lr_mult({0: 0.5, "a_weight": 4.0})   # index beats name
    assert o._get_lr(0) == pytest.approx(0.1)
    assert o._get_lr(1) == pytest.approx(0.05) and o._get_wd(1) == pytest.approx(0.3)
    assert "param_dict" not in o.__getstate__()
    o2 = copy.deepcopy(o)
    assert o2.param_dict == {} and o2.lr_mult == {0: 0.5, "a_weight": 4.0}
    assert o2._get_lr(0) == pytest.approx(0.1)


# ----------------------------------------------------------------------------- counters
def test_update_counts_per_device_and_num_update():
    o = opt.SGD(begin_num_update=5)
    o._update_count([0, 1])
    o._update_count(0)
    assert o._index_update_count == {0: 7, 1: 6} and o.num_update == 7
    o._set_current_context(3)
    o._update_count(0)
    assert o._all_index_update_counts == {0: {0: 7, 1: 6}, 3: {0: 6}}
    assert o.num_update == 7


def test_adam_uses_the_count_of_the_weights_device():
    """Adam's bias correction uses the per-device count: index 0 on cpu(1) starts at t=1
    even after two updates of index 0 on cpu(0)."""
    o = opt.Adam(learning_rate=0.1)
    upd = opt.get_updater(o)
    w0 = mx.nd.array([1.0])
    for _ in range(2):
        upd(0, mx.nd.array([0.5]), w0)
    w1 = mx.nd.NDArray(torch.tensor([1.0]), mx.cpu(1))
    upd(7, mx.nd.array([0.5]), w1)
    # t=1: m = 0.05, v = 0.00025, lr_t = 0.1*sqrt(0.001)/0.1 ; step = lr_t*m/sqrt(v)
    lr_t = 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expect = 1.0 - lr_t * 0.05 / (np.sqrt(0.001 * 0.25) + 1e-8)
    np.testing.assert_allclose(w1.asnumpy(), [expect], rtol=1e-6)
    assert o._all_index_update_counts == {0: {0: 2}, 1: {7: 1}}


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("ctor,bad", [
    (lambda: opt.SGD(momentum=-1), "momentum value: -1"),
    (lambda: opt.NAG(momentum=-0.5), "momentum value: -0.5"),
    (lambda: opt.SGD(learning_rate=-0.1), "learning_rate value: -0.1"),
    (lambda: opt.Adam(beta1=1.0), "beta1 value: 1.0"),
    (lambda: opt.Adam(beta2=-0.1), "beta2 value: -0.1"),
    (lambda: opt.Adam(epsilon=-1e-8), "epsilon value: -1e-08"),
    (lambda: opt.SGD(wd=-0.01), "wd value: -0.01"),
    (lambda: opt.SGD(begin_num_update=-1), "begin_num_update value: -1"),
])
def test_bad_hyperparameters_name_the_value(ctor, bad):
    with pytest.raises(MXNetValueError, match=bad.replace(".", r"\.")):
        ctor()


def test_bad_types():
    with pytest.raises(MXNetTypeError, match="param_idx2name"):
        opt.SGD(param_idx2name=["a_weight"])
    with pytest.raises(MXNetTypeError, match="momentum"):
        opt.SGD(momentum="0.9")
    with pytest.raises(MXNetTypeError, match="get_updater"):
        opt.get_updater("sgd")


def test_negative_or_zero_clip_means_off():
    for clip in (0, -1.0):
        o = opt.SGD(learning_rate=1.0, clip_gradient=clip)
        w = mx.nd.array([0.0])
        opt.get_updater(o)(0, mx.nd.array([5.0]), w)
        assert w.asnumpy()[0] == -5.0


# ----------------------------------------------------------------------------- subclasses
class PlusGrad(opt.Optimizer):
    """MXNet's Test optimizer: w += rescale_grad * grad; state = copy of the weight."""

    def create_state(self, index, weight):
        return mx.nd.zeros(weight.shape, weight.context)

    def update(self, index, weight, grad, state):
        weight[:] += grad * self.rescale_grad
        state[:] = weight


def test_user_optimizer_with_only_update_goes_per_parameter():
    o = PlusGrad(rescale_grad=2.0)
    upd = opt.get_updater(o)
    ws = [mx.nd.array([1.0, 2.0]), mx.nd.array([3.0])]
    upd([0, 1], [mx.nd.array([0.5, 0.5]), mx.nd.array([1.0])], ws)
    np.testing.assert_array_equal(ws[0].asnumpy(), [2.0, 3.0])
    np.testing.assert_array_equal(upd.states[1].asnumpy(), [5.0])


def test_user_optimizer_multi_precision_wrapper():
    o = PlusGrad(multi_precision=True)
    upd = opt.get_updater(o)
    w = mx.nd.array([1.0, 2.0], dtype="float16")
    upd(0, mx.nd.array([0.25, 0.5], dtype="float16"), w)
    master, inner = upd.states[0]            # base order: (weight32, state)
    assert master.dtype == np.float32 and w.dtype == np.float16
    np.testing.assert_array_equal(master.asnumpy(), [1.25, 2.5])
    np.testing.assert_array_equal(w.asnumpy(), [1.25, 2.5])


def test_subclass_overriding_update_is_used():
    calls = []

    class LoggedSGD(opt.SGD):
        def update(self, index, weight, grad, state):
            calls.append(index)
            super().update(index, weight, grad, state)
    o = LoggedSGD(learning_rate=1.0)
    ws = [mx.nd.array([1.0]) for _ in range(5)]
    opt.get_updater(o)(list(range(5)), [mx.nd.array([1.0])] * 5, ws)
    assert calls == [0, 1, 2, 3, 4]          # the override sees every parameter
    assert [w.asnumpy()[0] for w in ws] == [0.0] * 5


def test_float16_without_multi_precision_warns():
    with pytest.warns(UserWarning, match="multi_precision"):
        opt.get_updater(opt.SGD(momentum=0.9))(0, mx.nd.ones((2,), dtype="float16"),
                                               mx.nd.ones((2,), dtype="float16"))


def test_single_and_bytes_indices():
    upd = opt.get_updater(opt.SGD(learning_rate=1.0))
    w = mx.nd.array([1.0])
    upd(b"fc_weight", mx.nd.array([1.0]), w)
    assert list(upd.states) == ["fc_weight"] and upd.states_synced == {"fc_weight": True}
    assert w.asnumpy()[0] == 0.0


@pytest.mark.parametrize("name,dtype,mp", [("sgd", "float32", False), ("nag", "float16", True),
                                           ("adam", "float16", True)])
def test_weights_that_require_grad_update_in_place(name, dtype, mp):
    """Executors hold leaf tensors with requires_grad: the update is in place on them."""
    o = opt.create(name, learning_rate=0.5, momentum=0.5, multi_precision=mp) \
        if name != "adam" else opt.create(name, learning_rate=0.5, multi_precision=mp)
    t = torch.ones(3, dtype=getattr(torch, dtype), requires_grad=True)
    w = mx.nd.NDArray(t)
    opt.get_updater(o)(0, mx.nd.NDArray(torch.full((3,), 0.5, dtype=t.dtype)), w)
    assert w._data is t and t.requires_grad
    # first step of every optimizer here moves each element by -lr * factor
    expect = {"sgd": 1 - 0.5 * 0.5, "nag": 1 - 0.5 * 0.5 * 1.5, "adam": 1 - 0.5}[name]
    np.testing.assert_allclose(t.detach().float().numpy(), expect, rtol=1e-3)


def test_shape_mismatch_raises_before_counting():
    o = opt.SGD(momentum=0.9)
    upd = opt.get_updater(o)
    w = mx.nd.ones((2, 3))
    with pytest.raises(MXNetValueError, match=r"\(3, 2\).*\(2, 3\)"):
        upd([0], [mx.nd.ones((3, 2))], [w])
    assert o.num_update == 0 and o._index_update_count == {}
    np.testing.assert_array_equal(w.asnumpy(), np.ones((2, 3)))
