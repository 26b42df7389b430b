"""AdaGrad, RMSProp, AdaDelta, Adamax, Nadam, Signum, Ftrl, FTML, LAMB, LARS, LBSGD, SGLD,
DCASGD, Test and contrib.GroupAdaGrad against real MXNet 1.9.1: 20-step trajectories (3-5 parameters of different
shapes, wd, rescale_grad, clip_gradient, an lr_mult), for the fused (torch _foreach_) path
and the per-parameter reference, and continuing from MXNet's ``.states`` after step 10.
Fixtures: tools/gen_optimizer_breadth_fixtures.py, whose run code is reused here."""
import importlib.util
import json
from contextlib import nullcontext
import math
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetValueError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "gen_breadth", os.path.join(ROOT, "tools", "gen_optimizer_breadth_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

with open(os.path.join(gen.FIX, "cases.json")) as _f:
    META = {m["name"]: m for m in json.load(_f)["meta"]}
with open(os.path.join(gen.FIX, "facts.json")) as _f:
    FACTS = json.load(_f)
with np.load(os.path.join(gen.FIX, "arrays.npz")) as _z:
    ARR = {k: _z[k] for k in _z.files}
NAMES = [c["name"] for c in gen.CASES]


def tol(case):
    """1e-5 relative; float16 weights are compared to one float16 step (their float32
    master copies, in the states, to 1e-5)."""
    if case["dtype"] == "float16":
        return dict(rtol=2e-3, atol=2e-3)
    return dict(rtol=1e-5, atol=1e-6)


split = gen.split_flat


def _grads(case):
    return [split(row, case["shapes"]) for row in ARR[f"{case['name']}/g"]]


def _run(case, mode, start=0, states=None, w_start=None):
    opt = gen.make_optimizer(mx, case)
    opt.fused = mode == "fused"
    upd = mx.optimizer.get_updater(opt)
    if states is not None:
        upd.set_states(states)
    if case["optimizer"] == "sgld":
        gen.feed_recorded_noise(upd.optimizer, case, ARR[f"{case['name']}/noise"][start:])
    if w_start is None:
        w_start = split(ARR[f"{case['name']}/w0"], case["shapes"])
    weights = [mx.nd.array(w, dtype=case["dtype"]) for w in w_start]
    traj, _ = gen.run(mx, case, upd, weights, _grads(case), start, gen.STEPS)
    return upd, traj


def _compare(case, traj, start):
    expect = ARR[f"{case['name']}/out"]
    for k, ws in enumerate(traj):
        got = np.concatenate([w.ravel() for w in ws]).astype(np.float64)
        np.testing.assert_allclose(got, expect[start + k], **tol(case),
                                   err_msg=f"{case['name']} step {start + k + 1}")


@pytest.mark.parametrize("mode", ["fused", "reference"])
@pytest.mark.parametrize("case", gen.CASES, ids=NAMES)
def test_trajectory_matches_mxnet(case, mode):
    upd, traj = _run(case, mode)
    _compare(case, traj, 0)
    meta = META[case["name"]]
    states = [a.ravel().astype(np.float64) for i in range(len(case["shapes"]))
              for a in gen.flat_state(upd.states[i])]
    got = np.concatenate(states) if states else np.zeros(0)
    np.testing.assert_allclose(got, ARR[f"{case['name']}/state"], rtol=1e-5, atol=1e-6)
    assert [_kind(upd.states[i]) for i in range(len(case["shapes"]))] == meta["state_kinds"]
    assert upd.optimizer.num_update == meta["num_update"]
    assert upd.optimizer.learning_rate == pytest.approx(meta["lr_after"], rel=1e-12)


def _kind(state):
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return [_kind(s) for s in state]
    return np.dtype(state.dtype).name


@pytest.mark.parametrize("case", gen.CASES, ids=NAMES)
def test_continues_from_mxnet_states_file(case):
    """MXNet's ``get_states(dump_optimizer=True)`` after step 10 loads here (optimizer,
    counts, schedules, states) and the last 10 steps match MXNet's."""
    with open(os.path.join(gen.FIX, f"{case['name']}.states"), "rb") as f:
        blob = f.read()
    w10 = split(ARR[f"{case['name']}/out"][gen.SPLIT - 1], case["shapes"])
    upd, traj = _run(case, "fused", start=gen.SPLIT, states=blob, w_start=w10)
    assert type(upd.optimizer).__name__ == FACTS["defaults"][case["optimizer"].lower()]["class"]
    _compare(case, traj, gen.SPLIT)


def test_registered_under_mxnet_names_with_mxnet_defaults():
    for name, expect in FACTS["defaults"].items():
        opt = mx.optimizer.create(name.upper() if name == "sgld" else name)
        assert type(opt).__name__ == expect["class"]
        for k, v in expect.items():
            if k not in ("class", "module"):
                assert getattr(opt, k) == v, (name, k)


def test_state_layouts_for_float16_weights_match_mxnet():
    for key, expect in FACTS["state_layouts_fp16"].items():
        name, mp = key.rsplit("_mp", 1)
        kw = {"multi_precision": bool(int(mp))}
        if name in ("signum", "lars"):
            kw["momentum"] = 0.9
        opt = mx.optimizer.create(name, **kw)
        with pytest.warns(UserWarning) if not kw["multi_precision"] else nullcontext():
            st = opt.create_state_multi_precision(0, mx.nd.ones((2,), dtype="float16"))
        assert _kind(st) == expect, key


def test_adadelta_scales_the_gradient_in_place_like_mxnet():
    upd = mx.optimizer.get_updater(mx.optimizer.create("adadelta", rescale_grad=0.5))
    g = mx.nd.array(np.full((2, 3), 3.0, np.float32))
    upd(0, g, mx.nd.array(np.ones((2, 3), np.float32)))
    np.testing.assert_array_equal(g.asnumpy(), FACTS["adadelta_grad_after_update"])


def test_signsgd_with_wd_lh_is_refused_at_construction():
    assert FACTS["signsgd_with_wd_lh"] == "MXNetError"        # MXNet fails at the update
    with pytest.raises(MXNetValueError, match="wd_lh needs momentum"):
        mx.optimizer.create("signum", momentum=0.0, wd_lh=0.1)


def test_dcasgd_momentum_follows_the_intended_rule():
    """MXNet 1.9.1 raises here (facts); we run the rule its code means, checked
    against a plain numpy loop."""
    assert FACTS["dcasgd_momentum_2d"] == "ValueError"
    rs = np.random.RandomState(3)
    w0, gs = rs.randn(3, 2).astype(np.float64), rs.randn(4, 3, 2)
    lr, mu, lamda, wd, rescale = 0.1, 0.9, 0.3, 0.02, 0.5
    for fused in (True, False):
        opt = mx.optimizer.create("dcasgd", learning_rate=lr, momentum=mu, lamda=lamda,
                                  wd=wd, rescale_grad=rescale, param_idx2name={0: "w_weight"})
        opt.fused = fused
        upd = mx.optimizer.get_updater(opt)
        w = mx.nd.array(w0, dtype="float64")
        ref_w, prev, mom = w0.copy(), w0.copy(), np.zeros_like(w0)
        for g in gs:
            upd(0, mx.nd.array(g, dtype="float64"), w)
            gg = g * rescale
            mom = mu * mom - lr * (gg + wd * ref_w + lamda * gg * gg * (ref_w - prev))
            prev = ref_w.copy()
            ref_w = ref_w + mom
            np.testing.assert_allclose(w.asnumpy(), ref_w, rtol=1e-12, atol=1e-14)


def test_sgld_noise_has_mxnets_distribution():
    """The noise is N(0, lr): MXNet's recorded draws and ours have the same mean and
    standard deviation (to sampling error)."""
    lr = 0.04
    rec = ARR["sgld/noise"].ravel() / math.sqrt(0.01)      # MXNet's draws, unit scale
    assert abs(rec.mean()) < 4 / math.sqrt(rec.size)
    assert abs(rec.std() - 1) < 0.1
    mx.random.seed(7)
    opt = mx.optimizer.create("sgld", learning_rate=lr)
    w = mx.nd.array(np.zeros(200000, np.float32))
    mx.optimizer.get_updater(opt)(0, mx.nd.array(np.zeros(200000, np.float32)), w)
    noise = w.asnumpy() / math.sqrt(lr)
    assert abs(noise.mean()) < 4 / math.sqrt(noise.size)
    assert abs(noise.std() - 1) < 0.01


@pytest.mark.parametrize("name, kw, word", [
    ("adagrad", {"eps": -1}, "eps"), ("rmsprop", {"gamma1": 1.5}, "gamma1"),
    ("adadelta", {"rho": -0.1}, "rho"), ("adamax", {"beta1": 1.0}, "beta1"),
    ("nadam", {"schedule_decay": -1}, "schedule_decay"), ("signum", {"momentum": 2}, "momentum"),
    ("ftrl", {"lamda1": -1}, "lamda1"), ("ftml", {"beta2": 1.0}, "beta2"),
    ("lamb", {"epsilon": -1e-6}, "epsilon"), ("lars", {"eta": -1}, "eta"),
    ("dcasgd", {"lamda": -0.1}, "lamda"), ("rmsprop", {"epsilon": "x"}, "epsilon")])
def test_bad_hyperparameters_name_the_value(name, kw, word):
    with pytest.raises((MXNetValueError, TypeError), match=word):
        mx.optimizer.create(name, **kw)
