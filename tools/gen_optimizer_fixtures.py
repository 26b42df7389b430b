"""Generate golden fixtures for mx.optimizer (SGD, NAG, Adam through the Updater),
mx.lr_scheduler and optimizer ``.states`` files with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_optimizer_fixtures.py
Writes tests/compat/fixtures/optimizer/: updates.json + updates.npz (cases: optimizer
kwargs, initial weights, per-step gradients, weights after every step, final states),
schedulers.json, lr_wd_mult.json, and *.states files (Updater.get_states bytes) with
states_expect.npz (their arrays and one more update step after reloading them).
"""
import json
import logging
import os
import warnings

import numpy as np
import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "compat", "fixtures", "optimizer")

SHAPES = [(2, 3), (4,), (3, 1, 2)]
NAMES = ["a_weight", "a_bias", "b_gamma"]
STEPS = 3


def _flat_state(state):
    """The arrays of a (possibly nested) state in depth-first order, None skipped."""
    if state is None:
        return []
    if isinstance(state, mx.nd.NDArray):
        return [state.asnumpy()]
    out = []
    for s in state:
        out.extend(_flat_state(s))
    return out


def _make_sched(spec):
    if spec is None:
        return None
    kind, kw = spec
    return getattr(mx.lr_scheduler, kind)(**kw)


def run_case(name, opt_name, kwargs, dtype, seed, shapes=SHAPES, names=NAMES, steps=STEPS,
             sched=None, devices=1, arrays=None):
    """One update sequence through mx.optimizer.get_updater. Arrays are stored per case as
    flat concatenations over the indices in sorted order: ``w0`` (initial weights), ``g``
    and ``out`` (steps x total: gradients and weights after each step), ``state`` (the
    final states, index by index, depth first)."""
    rs = np.random.RandomState(seed)
    kw = dict(kwargs)
    n = len(shapes)
    # Module-style indices: parameter i on device k has index i * devices + k
    idx2name = {i * devices + k: names[i] for i in range(n) for k in range(devices)}
    kw["param_idx2name"] = idx2name
    if sched is not None:
        kw["lr_scheduler"] = _make_sched(sched)
    opt = mx.optimizer.create(opt_name, **kw)
    upd = mx.optimizer.get_updater(opt)
    weights = {}
    for i, shp in enumerate(shapes):
        w0 = rs.randn(*shp).astype(dtype)
        for k in range(devices):
            weights[i * devices + k] = mx.nd.array(w0, ctx=mx.cpu(k), dtype=dtype)
    order = sorted(weights)
    flat = lambda d: np.concatenate([np.asarray(d[i]).ravel() for i in order])
    arrays[f"{name}/w0"] = flat({i: w.asnumpy() for i, w in weights.items()})
    g_all, out_all = [], []
    for _ in range(steps):
        gstep = {}
        for k in range(devices):
            idxs = [i * devices + k for i in range(n)]
            grads = []
            for i in idxs:
                gstep[i] = (rs.randn(*weights[i].shape) * 2).astype(dtype)
                grads.append(mx.nd.array(gstep[i], ctx=mx.cpu(k), dtype=dtype))
            upd(idxs, grads, [weights[i] for i in idxs])
        g_all.append(flat(gstep))
        out_all.append(flat({i: w.asnumpy() for i, w in weights.items()}))
    arrays[f"{name}/g"] = np.stack(g_all)
    arrays[f"{name}/out"] = np.stack(out_all)
    states = [a.ravel() for i in order for a in _flat_state(upd.states[i])]
    arrays[f"{name}/state"] = np.concatenate(states) if states else np.zeros(0, dtype)
    return {"name": name, "optimizer": opt_name, "kwargs": kwargs, "dtype": dtype,
            "shapes": [list(s) for s in shapes], "names": names, "steps": steps,
            "devices": devices, "sched": sched, "order": order,
            "state_kinds": [_kind(upd.states[i]) for i in order],
            "num_update": int(opt.num_update),
            "counts": {str(d): {str(i): int(c) for i, c in cnt.items()}
                       for d, cnt in opt._all_index_update_counts.items()}}


def gen_updates():
    arrays, cases = {}, []
    seed = 0
    for momentum in (0.0, 0.9):
        for clip in (None, 0.4):
            for rescale in (1.0, 0.14):
                for wd in (0.0, 0.05):
                    for dtype in ("float32", "float64"):
                        kw = {"learning_rate": 0.1, "momentum": momentum, "wd": wd,
                              "rescale_grad": rescale, "clip_gradient": clip}
                        nm = f"sgd_m{momentum}_c{clip}_r{rescale}_wd{wd}_{dtype}"
                        seed += 1
                        cases.append(run_case(nm, "sgd", kw, dtype, seed, arrays=arrays))
    for momentum in (0.0, 0.9):
        for clip in (None, 0.4):
            for wd in (0.0, 0.05):
                kw = {"learning_rate": 0.1, "momentum": momentum, "wd": wd,
                      "rescale_grad": 0.14, "clip_gradient": clip, "multi_precision": True}
                seed += 1
                cases.append(run_case(f"sgd_mp_m{momentum}_c{clip}_wd{wd}", "sgd", kw,
                                      "float16", seed, arrays=arrays))
    # scheduler + lr/wd mults + 5 params (MXNet aggregates 4 at a time) + begin_num_update
    shapes5 = [(2, 2), (3,), (2, 1), (4,), (1, 3)]
    names5 = ["p0_weight", "p1_weight", "p2_bias", "p3_weight", "p4_beta"]
    for begin in (0, 3):
        seed += 1
        cases.append(run_case(
            f"sgd_sched_b{begin}", "SGD",
            {"learning_rate": 0.2, "momentum": 0.9, "wd": 0.01, "begin_num_update": begin},
            "float32", seed, shapes=shapes5, names=names5, steps=6,
            sched=["FactorScheduler", {"step": 2, "factor": 0.5, "base_lr": 0.2}],
            arrays=arrays))
    # two devices, Module-style indices
    seed += 1
    cases.append(run_case("sgd_2dev", "sgd", {"learning_rate": 0.1, "momentum": 0.9,
                                              "wd": 0.02}, "float32", seed, devices=2,
                          sched=["MultiFactorScheduler", {"step": [1, 2], "factor": 0.5,
                                                          "base_lr": 0.1}],
                          arrays=arrays))
    for momentum in (0.0, 0.9):
        for clip in (None, 0.4):
            for rescale in (1.0, 0.14):
                for wd in (0.0, 0.05):
                    kw = {"learning_rate": 0.1, "momentum": momentum, "wd": wd,
                          "rescale_grad": rescale, "clip_gradient": clip}
                    seed += 1
                    cases.append(run_case(f"nag_m{momentum}_c{clip}_r{rescale}_wd{wd}",
                                          "nag", kw, "float32", seed, arrays=arrays))
    seed += 1
    cases.append(run_case("nag_f64", "NAG", {"learning_rate": 0.1, "momentum": 0.9,
                                             "wd": 0.05, "rescale_grad": 0.14,
                                             "clip_gradient": 0.4}, "float64", seed,
                          arrays=arrays))
    for momentum in (0.0, 0.9):
        seed += 1
        cases.append(run_case(f"nag_mp_m{momentum}", "nag",
                              {"learning_rate": 0.1, "momentum": momentum, "wd": 0.05,
                               "rescale_grad": 0.5, "clip_gradient": 0.4,
                               "multi_precision": True}, "float16", seed, arrays=arrays))
    for clip in (None, 0.4):
        for rescale in (1.0, 0.14):
            for wd in (0.0, 0.05):
                for dtype in ("float32", "float64"):
                    kw = {"learning_rate": 0.01, "wd": wd, "rescale_grad": rescale,
                          "clip_gradient": clip}
                    seed += 1
                    cases.append(run_case(f"adam_c{clip}_r{rescale}_wd{wd}_{dtype}", "adam",
                                          kw, dtype, seed, arrays=arrays))
    seed += 1
    cases.append(run_case("adam_betas", "Adam", {"learning_rate": 0.05, "beta1": 0.5,
                                                 "beta2": 0.9, "epsilon": 1e-3, "wd": 0.01},
                          "float32", seed, steps=4, arrays=arrays))
    seed += 1
    cases.append(run_case("adam_default_lr", "adam", {}, "float32", seed, arrays=arrays))
    for wd in (0.0, 0.05):
        seed += 1
        cases.append(run_case(f"adam_mp_wd{wd}", "adam",
                              {"learning_rate": 0.01, "wd": wd, "rescale_grad": 0.5,
                               "clip_gradient": 0.4, "multi_precision": True}, "float16",
                              seed, arrays=arrays))
    seed += 1
    cases.append(run_case("adam_sched_2dev", "adam", {"learning_rate": 0.02, "wd": 0.01},
                          "float32", seed, devices=2, steps=4,
                          sched=["PolyScheduler", {"max_update": 6, "base_lr": 0.02,
                                                   "pwr": 2}], arrays=arrays))
    np.savez_compressed(os.path.join(FIX, "updates.npz"), **arrays)
    with open(os.path.join(FIX, "updates.json"), "w") as f:
        json.dump(cases, f, indent=1)


def gen_schedulers():
    ns = list(range(0, 30)) + list(range(30, 1200, 13)) + [1000, 1001]
    specs = [
        ["FactorScheduler", {"step": 100, "factor": 0.1, "stop_factor_lr": 1e-4,
                             "base_lr": 1, "warmup_steps": 20, "warmup_begin_lr": 0.1,
                             "warmup_mode": "constant"}],
        ["FactorScheduler", {"step": 7, "factor": 0.9, "base_lr": 0.5}],
        ["MultiFactorScheduler", {"step": [15, 25], "factor": 0.1, "base_lr": 0.1,
                                  "warmup_steps": 10, "warmup_begin_lr": 0.05,
                                  "warmup_mode": "linear"}],
        ["MultiFactorScheduler", {"step": [3, 100, 400], "factor": 0.5}],
        ["PolyScheduler", {"max_update": 1000, "base_lr": 3, "warmup_steps": 100,
                           "warmup_begin_lr": 0, "warmup_mode": "linear"}],
        ["PolyScheduler", {"max_update": 500, "base_lr": 0.7, "pwr": 3, "final_lr": 0.01}],
        ["CosineScheduler", {"max_update": 1000, "base_lr": 3, "final_lr": 0.1}],
        ["CosineScheduler", {"max_update": 800, "base_lr": 1.0, "final_lr": 0.0,
                             "warmup_steps": 50, "warmup_begin_lr": 0.2,
                             "warmup_mode": "constant"}],
    ]
    out = []
    for kind, kw in specs:
        s = getattr(mx.lr_scheduler, kind)(**kw)
        out.append({"kind": kind, "kwargs": kw, "n": ns, "lr": [float(s(n)) for n in ns]})
    # optimizer learning-rate rules (test_learning_rate)
    o1 = mx.optimizer.SGD(learning_rate=0.3)
    sch = mx.lr_scheduler.FactorScheduler(step=3, base_lr=0.4)
    o2 = mx.optimizer.SGD(learning_rate=0.3, lr_scheduler=sch)
    sch3 = mx.lr_scheduler.FactorScheduler(step=3, base_lr=0.4)
    o3 = mx.optimizer.SGD(lr_scheduler=sch3)
    rules = {"lr_only": o1.learning_rate, "lr_and_sched": o2.learning_rate,
             "sched_base_after": sch.base_lr, "sched_only": o3.learning_rate,
             "default": mx.optimizer.SGD().learning_rate,
             "adam_default": mx.optimizer.Adam().learning_rate}
    with open(os.path.join(FIX, "schedulers.json"), "w") as f:
        json.dump({"schedules": out, "rules": rules}, f, indent=1)


def gen_lr_wd_mult():
    """test_lr_wd_mult from MXNet's test_optimizer.py, with the facts our test needs."""
    data = mx.sym.Variable('data')
    bias = mx.sym.Variable('fc1_bias', lr_mult=1.0)
    fc1 = mx.sym.FullyConnected(data=data, bias=bias, name='fc1', num_hidden=10, lr_mult=0)
    fc2 = mx.sym.FullyConnected(data=fc1, name='fc2', num_hidden=10, wd_mult=0.5)
    mod = mx.mod.Module(symbol=fc2, label_names=None, context=mx.cpu())
    mod.bind(data_shapes=[('data', (5, 10))])
    mod.init_params(initializer=mx.init.Uniform(1.0))
    mod.init_optimizer(optimizer_params={'learning_rate': 1.0, 'wd': 0.1})
    opt = mod._optimizer
    res = {"attr_dict": fc2.attr_dict(), "list_arguments": fc2.list_arguments(),
           "idx2name": {str(k): v for k, v in opt.idx2name.items()},
           "lr_mult": opt.lr_mult, "wd_mult": opt.wd_mult,
           "lrs": {str(k): opt._get_lr(k) for k in opt.idx2name},
           "wds": {str(k): opt._get_wd(k) for k in opt.idx2name}}
    # user overrides on top of the symbol's attributes
    opt.set_lr_mult({"fc2_weight": 0.3})
    opt.set_wd_mult({"fc1_weight": 2.0})
    res["override"] = {"lr_mult": opt.lr_mult, "wd_mult": opt.wd_mult,
                       "lrs": {str(k): opt._get_lr(k) for k in opt.idx2name},
                       "wds": {str(k): opt._get_wd(k) for k in opt.idx2name}}
    with open(os.path.join(FIX, "lr_wd_mult.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)


def gen_states():
    """MXNet-written .states bytes and what continuing from them gives."""
    arrays = {}
    rs = np.random.RandomState(123)
    specs = [
        ("sgd_mom", "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01},
         "float32", [0, 1], False),
        ("sgd_plain", "sgd", {"learning_rate": 0.1}, "float32", [0, 1], False),
        ("adam_dump", "adam", {"learning_rate": 0.01, "wd": 0.01, "clip_gradient": 0.5,
                               "lr_scheduler": ("FactorScheduler",
                                                {"step": 1, "factor": 0.9, "base_lr": 0.01})},
         "float32", ["fc_weight", "fc_bias"], True),
        ("sgd_mp", "sgd", {"learning_rate": 0.1, "momentum": 0.9, "multi_precision": True},
         "float16", [0, 1], False),
        ("sgd_mp_nomom", "sgd", {"learning_rate": 0.1, "multi_precision": True},
         "float16", [0, 1], True),
        ("adam_mp", "adam", {"learning_rate": 0.01, "multi_precision": True}, "float16",
         [3, 5], False),
        ("nag_dump", "nag", {"learning_rate": 0.05, "momentum": 0.8, "wd": 0.02,
                             "rescale_grad": 0.5}, "float64", [0, 1], True),
    ]
    meta = []
    for name, oname, kw, dtype, keys, dump in specs:
        kw = dict(kw)
        sched_spec = kw.pop("lr_scheduler", None)
        if sched_spec is not None:
            kw["lr_scheduler"] = _make_sched(sched_spec)
        opt = mx.optimizer.create(oname, **kw)
        upd = mx.optimizer.get_updater(opt)
        ws = [mx.nd.array(rs.randn(2, 3), dtype=dtype) for _ in keys]
        for _ in range(2):
            gs = [mx.nd.array(rs.randn(2, 3), dtype=dtype) for _ in keys]
            upd(list(keys), gs, ws)
        blob = upd.get_states(dump_optimizer=dump)
        with open(os.path.join(FIX, f"{name}.states"), "wb") as f:
            f.write(blob)
        for j, k in enumerate(keys):
            for q, a in enumerate(_flat_state(upd.states[k])):
                arrays[f"{name}/state_{j}_{q}"] = a
            arrays[f"{name}/w_{j}"] = ws[j].asnumpy()
        # continue: a fresh updater (same optimizer settings) loads the bytes, one more step
        kw2 = dict(kw)
        if sched_spec is not None:
            kw2["lr_scheduler"] = _make_sched(sched_spec)
        upd2 = mx.optimizer.get_updater(mx.optimizer.create(oname, **kw2))
        upd2.set_states(blob)
        gs = [mx.nd.array(rs.randn(2, 3), dtype=dtype) for _ in keys]
        ws2 = [w.copy() for w in ws]
        upd2(list(keys), gs, ws2)
        for j in range(len(keys)):
            arrays[f"{name}/g_next_{j}"] = gs[j].asnumpy()
            arrays[f"{name}/w_next_{j}"] = ws2[j].asnumpy()
        o2 = upd2.optimizer
        meta.append({"name": name, "optimizer": oname, "keys": keys, "dtype": dtype,
                     "dump": dump, "num_update_after": int(o2.num_update),
                     "lr_after": float(o2.learning_rate),
                     "state_kinds": {str(k): _kind(upd.states[k]) for k in keys}})
    np.savez_compressed(os.path.join(FIX, "states_expect.npz"), **arrays)
    with open(os.path.join(FIX, "states.json"), "w") as f:
        json.dump(meta, f, indent=1)


def _kind(state):
    if state is None:
        return None
    if isinstance(state, mx.nd.NDArray):
        return "array"
    return [_kind(s) for s in state]


if __name__ == "__main__":
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    os.makedirs(FIX, exist_ok=True)
    gen_updates()
    gen_schedulers()
    gen_lr_wd_mult()
    gen_states()
    for f in sorted(os.listdir(FIX)):
        print(f, os.path.getsize(os.path.join(FIX, f)))
