"""Golden fixtures for the optimizers beyond SGD/NAG/Adam (AdaGrad, RMSProp, AdaDelta,
Adamax, Nadam, Signum, Ftrl, FTML, LAMB, LARS, LBSGD, SGLD, DCASGD, Test,
contrib.GroupAdaGrad)
with real MXNet 1.9.1,
and the ``.states`` round trip in both directions.

The case list and :func:`run` take the library as an argument, so the tests
(tests/optimizer/test_optimizer_breadth.py, test_states_interop.py) rerun the very same
code with mxtorch.

Two steps:
1. ``.mxnet-ref/bin/python tools/gen_optimizer_breadth_fixtures.py``
   runs every case for 20 steps with MXNet (3 parameters of different shapes, wd,
   rescale_grad, clip_gradient, an lr_mult on one) and writes
   tests/compat/fixtures/optimizer_breadth/: arrays.npz (initial weights, gradients,
   weights after every step, final states, SGLD's noise), cases.json, facts.json
   (behaviour worth pinning down) and ``<case>.states``: ``Updater.get_states(
   dump_optimizer=True)`` after step 10.
2. ``.venv/bin/python tools/gen_optimizer_breadth_fixtures.py --ours``
   runs every case for 10 steps with mxtorch, converts its states to MXNet's pickle
   layout (``mxtorch.optimizer.states.to_mxnet_states``), writes them to
   ``ours/<case>.states`` with ``ours/weights.npz``, then runs step 1's interpreter with
   ``--continue-ours DIR``: MXNet loads each file with ``Updater.set_states``, runs steps
   11-20, and its weights go to ``ours/in_mxnet.npz`` (errors to ``ours/in_mxnet.json``).
"""
import json
import math
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "optimizer_breadth")
OURS = os.path.join(FIX, "ours")
ORACLE = os.path.join(ROOT, ".mxnet-ref", "bin", "python")

STEPS = 20
SPLIT = 10
SHAPES = [(3, 4), (5,), (2, 3, 2)]
NAMES = ["fc1_weight", "fc1_bias", "bn_gamma"]
SHAPES5 = SHAPES + [(4, 2), (3,)]
SHAPES_2D = [(3, 4), (5, 2), (2, 6)]
NAMES5 = NAMES + ["fc2_weight", "bn_beta"]
COMMON = {"wd": 0.01, "rescale_grad": 0.5, "clip_gradient": 0.8}
LR_MULT = {"fc1_bias": 0.5}


def _case(name, optimizer, kwargs, dtype="float32", shapes=SHAPES, names=NAMES, sched=None,
          common=True):
    kw = dict(COMMON) if common else {}
    kw.update(kwargs)
    return {"name": name, "optimizer": optimizer, "kwargs": kw, "dtype": dtype,
            "shapes": [list(s) for s in shapes], "names": list(names), "sched": sched,
            "lr_mult": LR_MULT}


FACTOR = ["FactorScheduler", {"step": 4, "factor": 0.7, "base_lr": 0.05}]
CASES = [
    _case("adagrad", "adagrad", {"learning_rate": 0.1, "eps": 1e-6}),
    _case("adagrad_defaults", "AdaGrad", {}, common=False),
    _case("rmsprop", "rmsprop", {"learning_rate": 0.01}),
    _case("rmsprop_clip_weights", "rmsprop", {"learning_rate": 0.05, "gamma1": 0.8,
                                              "epsilon": 1e-6, "clip_weights": 0.9}),
    _case("rmsprop_centered", "RMSProp", {"learning_rate": 0.01, "centered": True,
                                          "gamma1": 0.85, "gamma2": 0.8, "epsilon": 1e-6,
                                          "clip_weights": 1.5}),
    _case("rmsprop_mp", "rmsprop", {"learning_rate": 0.01, "centered": True,
                                    "multi_precision": True}, dtype="float16"),
    _case("adadelta", "adadelta", {"rho": 0.8, "epsilon": 1e-4}),
    _case("adadelta_defaults", "AdaDelta", {}, common=False),
    _case("adamax", "adamax", {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.99}),
    _case("adamax_f64", "adamax", {}, dtype="float64"),
    _case("nadam", "nadam", {"learning_rate": 0.01, "schedule_decay": 0.01}),
    _case("nadam_sched", "Nadam", {"beta1": 0.85, "epsilon": 1e-6}, sched=FACTOR),
    _case("signum", "signum", {"learning_rate": 0.01, "momentum": 0.85, "wd_lh": 0.02}),
    _case("signum_f64", "signum", {"learning_rate": 0.01}, dtype="float64"),
    _case("signsgd", "signum", {"learning_rate": 0.01, "momentum": 0.0}),
    _case("ftrl", "ftrl", {"lamda1": 0.01, "learning_rate": 0.1, "beta": 1.0}),
    _case("ftrl_sched", "Ftrl", {"lamda1": 0.02, "beta": 0.5}, sched=FACTOR),
    _case("ftml", "ftml", {"learning_rate": 0.05, "beta1": 0.6, "beta2": 0.99,
                           "epsilon": 1e-6}),
    _case("ftml_f64", "FTML", {"learning_rate": 0.02}, dtype="float64"),
    _case("lamb", "lamb", {"learning_rate": 0.01}),
    _case("lamb_bounds", "LAMB", {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95,
                                  "epsilon": 1e-5, "lower_bound": 0.5, "upper_bound": 1.2,
                                  "bias_correction": False}),
    _case("lamb_sched_f64", "lamb", {}, dtype="float64", sched=FACTOR),
    _case("lamb_mp", "lamb", {"learning_rate": 0.01, "multi_precision": True},
          dtype="float16"),
    _case("lars", "lars", {"learning_rate": 0.1, "momentum": 0.9, "eta": 0.01, "eps": 1e-6},
          shapes=SHAPES5, names=NAMES5, sched=FACTOR),
    _case("lars_nomom", "LARS", {"learning_rate": 0.1, "eta": 0.02,
                                 "momentum_correction": False}),
    _case("lars_mp", "lars", {"learning_rate": 0.1, "momentum": 0.8, "eta": 0.01,
                              "multi_precision": True}, dtype="float16",
          shapes=SHAPES5, names=NAMES5),
    _case("dcasgd", "dcasgd", {"learning_rate": 0.1, "lamda": 0.1}),
    _case("sgld", "sgld", {"learning_rate": 0.01}),
    _case("test", "test", {"rescale_grad": 0.3}, common=False),
    _case("lbsgd", "lbsgd", {"learning_rate": 0.1, "momentum": 0.9}, sched=FACTOR),
    _case("lbsgd_scale3", "LBSGD", {"learning_rate": 0.1, "batch_scale": 3,
                                    "warmup_strategy": "power2", "warmup_epochs": 2,
                                    "updates_per_epoch": 5}),
    _case("lbsgd_lars", "lbsgd", {"learning_rate": 0.05, "momentum": 0.5,
                                  "warmup_strategy": "lars", "batch_scale": 2}),
    _case("lbsgd_mp", "lbsgd", {"learning_rate": 0.1, "momentum": 0.9, "batch_scale": 2,
                                "warmup_strategy": "sqrt", "multi_precision": True},
          dtype="float16"),
    _case("groupadagrad", "groupadagrad", {"learning_rate": 0.1, "eps": 1e-6, "wd": 0.0},
          shapes=SHAPES_2D),
    _case("groupadagrad_noclip", "GroupAdaGrad", {"learning_rate": 0.05, "wd": 0.0,
                                                  "clip_gradient": None}, shapes=SHAPES_2D),
]
CASE_BY_NAME = {c["name"]: c for c in CASES}


# ---------------------------------------------------------------- shared (either library)
def make_optimizer(mx, case):
    """The case's optimizer, built through ``mx.optimizer.create`` as user code would."""
    kw = dict(case["kwargs"])
    kw["param_idx2name"] = dict(enumerate(case["names"]))
    if case["sched"] is not None:
        kind, skw = case["sched"]
        kw["lr_scheduler"] = getattr(mx.lr_scheduler, kind)(**skw)
    opt = mx.optimizer.create(case["optimizer"], **kw)
    opt.set_lr_mult(dict(case["lr_mult"]))
    return opt


def initial_weights(case, seed):
    rs = np.random.RandomState(seed)
    return [rs.randn(*s).astype(case["dtype"]) for s in case["shapes"]]


def gradients(case, seed):
    """STEPS lists of gradients (randn * 2, so clip_gradient 0.8 bites)."""
    rs = np.random.RandomState(seed + 1000)
    return [[(rs.randn(*s) * 2).astype(case["dtype"]) for s in case["shapes"]]
            for _ in range(STEPS)]


def run(mx, case, upd, weights, grads, start, stop, before_step=None):
    """Steps ``start .. stop-1`` through ``upd`` (one call per step with every index, as
    Module does); returns the weights after each step as numpy arrays, and the gradient
    arrays as they are after the last call (AdaDelta scales them in place)."""
    out, g_nd = [], None
    idx = list(range(len(weights)))
    for s in range(start, stop):
        g_nd = [mx.nd.array(g, dtype=case["dtype"]) for g in grads[s]]
        if before_step is not None:
            before_step(s)
        upd(idx, g_nd, weights)
        out.append([w.asnumpy() for w in weights])
    return out, g_nd


def flat_state(state):
    """The arrays of a state in depth-first order (None skipped)."""
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in flat_state(s)]
    return [state.asnumpy()]


def state_kind(state):
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return [state_kind(s) for s in state]
    return str(state.dtype.__name__ if hasattr(state.dtype, "__name__") else state.dtype)


def case_seed(case):
    return 17 + CASES.index(case)


def split_flat(flat, shapes):
    """Cut a flat concatenation into arrays of ``shapes``."""
    out, pos = [], 0
    for s in shapes:
        n = int(np.prod(s))
        out.append(flat[pos:pos + n].reshape(s))
        pos += n
    return out


def feed_recorded_noise(opt, case, noise_rows):
    """mxtorch's SGLD draws its noise through ``opt._noise(W, lrs)``; make it return
    MXNet's recorded draws (rows of steps), parameter by parameter in update order, so
    the deterministic part of the update is compared exactly."""
    import torch
    queue = [n for row in noise_rows for n in split_flat(row, case["shapes"])]

    def draw(W, lrs):
        return [torch.from_numpy(queue.pop(0).copy()).to(w.dtype) for w in W]
    opt._noise = draw


# ---------------------------------------------------------------- step 1: MXNet
def _sgld_noise_hook(mx, case, opt, weights, noise_out):
    """Seed MXNet's generator before each step; after it, redraw the same normals to learn
    the noise SGLD added (the deterministic part is then exact)."""
    def before(s):
        mx.random.seed(5000 + s)
    lrs = [opt.lr * case["lr_mult"].get(n, 1.0) for n in case["names"]]

    def after(s):
        mx.random.seed(5000 + s)
        noise_out.append([mx.nd.random.normal(0, math.sqrt(lr), shape=w.shape,
                                              dtype=w.dtype).asnumpy()
                          for lr, w in zip(lrs, weights)])
    return before, after


def generate():
    import logging
    import warnings
    import mxnet as mx
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    os.makedirs(FIX, exist_ok=True)
    arrays, meta = {}, []
    for case in CASES:
        name, seed = case["name"], case_seed(case)
        w0, grads = initial_weights(case, seed), gradients(case, seed)
        arrays[f"{name}/w0"] = np.concatenate([w.ravel() for w in w0])
        arrays[f"{name}/g"] = np.stack([np.concatenate([g.ravel() for g in gs])
                                        for gs in grads])
        opt = make_optimizer(mx, case)
        upd = mx.optimizer.get_updater(opt)
        weights = [mx.nd.array(w, dtype=case["dtype"]) for w in w0]
        traj, noise = [], []
        if case["optimizer"] == "sgld":
            before, after = _sgld_noise_hook(mx, case, opt, weights, noise)
            for s in range(STEPS):
                o, _ = run(mx, case, upd, weights, grads, s, s + 1, before_step=before)
                after(s)
                traj += o
                if s + 1 == SPLIT:
                    blob = upd.get_states(dump_optimizer=True)
        else:
            traj, _ = run(mx, case, upd, weights, grads, 0, SPLIT)
            blob = upd.get_states(dump_optimizer=True)
            more, g_last = run(mx, case, upd, weights, grads, SPLIT, STEPS)
            traj += more
        with open(os.path.join(FIX, f"{name}.states"), "wb") as f:
            f.write(blob)
        arrays[f"{name}/out"] = np.stack([np.concatenate([w.ravel() for w in ws])
                                          for ws in traj])
        states = [a.ravel().astype(np.float64) for i in range(len(w0))
                  for a in flat_state(upd.states[i])]
        arrays[f"{name}/state"] = (np.concatenate(states) if states else np.zeros(0))
        if noise:
            arrays[f"{name}/noise"] = np.stack([np.concatenate([n.ravel() for n in ns])
                                                for ns in noise])
        meta.append({"name": name, "num_update": int(opt.num_update),
                     "state_kinds": [state_kind(upd.states[i]) for i in range(len(w0))],
                     "lr_after": float(opt.learning_rate)})
    np.savez_compressed(os.path.join(FIX, "arrays.npz"), **arrays)
    with open(os.path.join(FIX, "cases.json"), "w") as f:
        json.dump({"steps": STEPS, "split": SPLIT, "cases": CASES, "meta": meta}, f, indent=1)
    with open(os.path.join(FIX, "facts.json"), "w") as f:
        json.dump(_facts(mx), f, indent=1, sort_keys=True)
    for fn in sorted(os.listdir(FIX)):
        print(fn, os.path.getsize(os.path.join(FIX, fn)))


def _facts(mx):
    """Behaviour of MXNet 1.9.1 that the tests pin down besides the trajectories."""
    facts = {}
    w = mx.nd.array(np.ones((2, 3)))
    g = mx.nd.array(np.full((2, 3), 3.0))
    upd = mx.optimizer.get_updater(mx.optimizer.create("adadelta", rescale_grad=0.5))
    upd(0, g, w)
    facts["adadelta_grad_after_update"] = g.asnumpy().tolist()
    for shape in ((2, 3), (1,)):
        upd = mx.optimizer.get_updater(mx.optimizer.create("dcasgd", momentum=0.9))
        try:
            upd(0, mx.nd.ones(shape), mx.nd.ones(shape))
            facts[f"dcasgd_momentum_{len(shape)}d"] = "ok"
        except Exception as e:  # noqa: BLE001 - recorded
            facts[f"dcasgd_momentum_{len(shape)}d"] = type(e).__name__
    upd = mx.optimizer.get_updater(mx.optimizer.create("signum", momentum=0.0, wd_lh=0.1))
    try:
        upd(0, mx.nd.ones((2,)), mx.nd.ones((2,)))
        facts["signsgd_with_wd_lh"] = "ok"
    except Exception as e:  # noqa: BLE001 - recorded
        facts["signsgd_with_wd_lh"] = type(e).__name__
    defaults = {}
    for name in ("adagrad", "rmsprop", "adadelta", "adamax", "nadam", "signum", "ftrl",
                 "ftml", "lamb", "lars", "sgld", "dcasgd", "test", "groupadagrad", "lbsgd"):
        opt = mx.optimizer.create(name)
        defaults[name] = {k: v for k, v in sorted(vars(opt).items())
                          if isinstance(v, (int, float, bool, str, type(None)))
                          and k not in ("allow_np_array",)}
        defaults[name]["class"] = type(opt).__name__
        defaults[name]["module"] = type(opt).__module__
    facts["defaults"] = defaults
    facts["attributes"] = {name: sorted(k for k in vars(mx.optimizer.create(name))
                                        if k != "param_dict")
                           for name in defaults}
    # state layouts (create_state) for a float16 weight with and without multi_precision
    layouts = {}
    for name in ("adagrad", "rmsprop", "adadelta", "adamax", "nadam", "signum", "ftrl",
                 "ftml", "lamb", "lars", "dcasgd", "test"):
        for mp in (False, True):
            opt = mx.optimizer.create(name, multi_precision=mp, momentum=0.9) \
                if name in ("signum", "lars") else mx.optimizer.create(name,
                                                                       multi_precision=mp)
            st = opt.create_state_multi_precision(0, mx.nd.ones((2,), dtype="float16"))
            layouts[f"{name}_mp{int(mp)}"] = _layout(st)
    facts["state_layouts_fp16"] = layouts
    return facts


def _layout(st):
    if st is None:
        return None
    if isinstance(st, (tuple, list)):
        return [_layout(s) for s in st]
    return np.dtype(st.dtype).name


# ---------------------------------------------------------------- step 2: ours -> MXNet
def write_ours():
    sys.path.insert(0, ROOT)
    import mxtorch as mx
    from mxtorch.optimizer.states import to_mxnet_states
    os.makedirs(OURS, exist_ok=True)
    weights_out = {}
    with np.load(os.path.join(FIX, "arrays.npz")) as z:
        noise = {c["name"]: z[f"{c['name']}/noise"] for c in CASES if c["optimizer"] == "sgld"}
    for case in CASES:
        name, seed = case["name"], case_seed(case)
        opt = make_optimizer(mx, case)
        if name in noise:
            feed_recorded_noise(opt, case, noise[name])
        upd = mx.optimizer.get_updater(opt)
        weights = [mx.nd.array(w, dtype=case["dtype"]) for w in initial_weights(case, seed)]
        run(mx, case, upd, weights, gradients(case, seed), 0, SPLIT)
        with open(os.path.join(OURS, f"{name}.states"), "wb") as f:
            f.write(to_mxnet_states(upd.get_states(dump_optimizer=True)))
        for i, w in enumerate(weights):
            weights_out[f"{name}/{i}"] = w.asnumpy()
    np.savez_compressed(os.path.join(OURS, "weights.npz"), **weights_out)
    subprocess.run([ORACLE, __file__, "--continue-ours", OURS], check=True)


def continue_ours(directory):
    import logging
    import warnings
    import mxnet as mx
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    ws = np.load(os.path.join(directory, "weights.npz"))
    out, errors = {}, {}
    for case in CASES:
        name = case["name"]
        try:
            # as Module.load_optimizer_states: a fresh updater of the same optimizer
            # settings, whose optimizer set_states then replaces with the dumped one
            upd = mx.optimizer.get_updater(make_optimizer(mx, case))
            with open(os.path.join(directory, f"{name}.states"), "rb") as f:
                upd.set_states(f.read())
            weights = [mx.nd.array(ws[f"{name}/{i}"], dtype=case["dtype"])
                       for i in range(len(case["shapes"]))]
            grads = gradients(case, case_seed(case))
            if case["optimizer"] == "sgld":
                traj = []
                noise = []
                before, after = _sgld_noise_hook(mx, case, upd.optimizer, weights, noise)
                for s in range(SPLIT, STEPS):
                    o, _ = run(mx, case, upd, weights, grads, s, s + 1, before_step=before)
                    after(s)
                    traj += o
                out[f"{name}/noise"] = np.stack([np.concatenate([n.ravel() for n in ns])
                                                 for ns in noise])
            else:
                traj, _ = run(mx, case, upd, weights, grads, SPLIT, STEPS)
            out[f"{name}/out"] = np.stack([np.concatenate([w.ravel() for w in t])
                                           for t in traj])
            out[f"{name}/class"] = np.array(type(upd.optimizer).__name__)
            out[f"{name}/num_update"] = np.array(upd.optimizer.num_update)
        except Exception as e:  # noqa: BLE001 - recorded for the test to report
            errors[name] = f"{type(e).__name__}: {e}"
    np.savez_compressed(os.path.join(directory, "in_mxnet.npz"), **out)
    with open(os.path.join(directory, "in_mxnet.json"), "w") as f:
        json.dump({"mxnet_version": mx.__version__, "errors": errors}, f, indent=1)
    print("loaded in MXNet:", len(CASES) - len(errors), "errors:", errors)


if __name__ == "__main__":
    if "--ours" in sys.argv:
        write_ours()
    elif "--continue-ours" in sys.argv:
        continue_ours(sys.argv[sys.argv.index("--continue-ours") + 1])
    else:
        generate()
