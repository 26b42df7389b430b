"""SGD / NAG / Adam through the Updater against real MXNet 1.9.1 update sequences
(momentum x clip x rescale x wd x dtype grids, multi-precision, schedulers, lr/wd mults,
two devices), for the fused (torch _foreach_) path and the per-parameter reference."""
import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch import lr_scheduler
from mxtorch import optimizer as opt

from ._fixtures import load_json, load_npz, split

CASES = load_json("updates.json")
ARR = load_npz("updates.npz")
TOL = {"float64": dict(rtol=1e-6, atol=1e-7), "float32": dict(rtol=1e-6, atol=1e-6),
       "float16": dict(rtol=1e-6, atol=1e-6)}


MODES = {"fused": (True, 4), "fused_lists": (True, 0), "reference": (False, 4)}


def _replay(case, mode):
    name, devices = case["name"], case["devices"]
    order = case["order"]
    n = len(case["shapes"])
    shapes = [tuple(case["shapes"][i // devices]) for i in order]
    kw = dict(case["kwargs"])
    kw["param_idx2name"] = {i * devices + k: case["names"][i] for i in range(n)
                            for k in range(devices)}
    if case["sched"] is not None:
        kind, skw = case["sched"]
        kw["lr_scheduler"] = getattr(lr_scheduler, kind)(**skw)
    o = opt.create(case["optimizer"], **kw)
    o.fused, o._max_scalar_groups = MODES[mode]
    upd = opt.get_updater(o)
    w0 = split(ARR[f"{name}/w0"], shapes)
    weights = {i: mx.nd.NDArray(torch.from_numpy(w0[p].copy()), mx.cpu(i % devices))
               for p, i in enumerate(order)}
    outs = []
    for s in range(case["steps"]):
        g = split(ARR[f"{name}/g"][s], shapes)
        grads = {i: mx.nd.NDArray(torch.from_numpy(g[p].copy()), mx.cpu(i % devices))
                 for p, i in enumerate(order)}
        keep = {i: grads[i].asnumpy() for i in order}
        for k in range(devices):
            idxs = [i * devices + k for i in range(n)]
            upd(idxs, [grads[i] for i in idxs], [weights[i] for i in idxs])
        for i in order:   # gradients are read, never written
            np.testing.assert_array_equal(grads[i].asnumpy(), keep[i])
        outs.append({i: weights[i].asnumpy() for i in order})
    return o, upd, outs, shapes


def _flat_states(state):
    if state is None:
        return []
    if isinstance(state, mx.nd.NDArray):
        return [state.asnumpy()]
    return [a for s in state for a in _flat_states(s)]


def _kind(state):
    if state is None:
        return None
    if isinstance(state, mx.nd.NDArray):
        return "array"
    return [_kind(s) for s in state]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_mxnet(case, mode):
    o, upd, outs, shapes = _replay(case, mode)
    name, order = case["name"], case["order"]
    tol = TOL[case["dtype"]]
    for s in range(case["steps"]):
        expect = split(ARR[f"{name}/out"][s], shapes)
        for p, i in enumerate(order):
            got = outs[s][i]
            assert got.dtype == np.dtype(case["dtype"])
            if case["dtype"] == "float16":
                # the float16 weight is the rounded float32 master: at most one ulp apart
                np.testing.assert_allclose(got.astype(np.float64), expect[p], rtol=1e-3,
                                           atol=1e-4, err_msg=f"{name} step {s} index {i}")
            else:
                np.testing.assert_allclose(got, expect[p], **tol,
                                           err_msg=f"{name} step {s} index {i}")
    assert [_kind(upd.states[i]) for i in order] == case["state_kinds"]
    flat = [a.ravel() for i in order for a in _flat_states(upd.states[i])]
    got_states = np.concatenate(flat) if flat else np.zeros(0)
    np.testing.assert_allclose(got_states, ARR[f"{name}/state"], **tol)
    assert o.num_update == case["num_update"]
    counts = {str(d): {str(i): c for i, c in cnt.items()}
              for d, cnt in o._all_index_update_counts.items()}
    assert counts == case["counts"]


@pytest.mark.parametrize("name", ["sgd", "nag", "adam"])
def test_fused_and_reference_agree_many_params(name):
    """60 parameters of mixed shapes and dtypes, wd/lr mults, clip: both paths agree."""
    rs = np.random.RandomState(7)
    shapes = [tuple(rs.randint(1, 6, size=rs.randint(1, 4))) for _ in range(60)]
    dtypes = [np.float32 if i % 3 else np.float64 for i in range(60)]
    names = {i: f"p{i}_" + ("weight" if i % 2 else "bias") for i in range(60)}
    kw = dict(learning_rate=0.05, wd=0.01, clip_gradient=0.7, rescale_grad=0.3,
              param_idx2name=names)
    if name != "adam":
        kw["momentum"] = 0.9
    results = []
    for mode in MODES:
        o = opt.create(name, **kw)
        o.set_lr_mult({"p3_weight": 0.5, 4: 2.0})
        o.fused, o._max_scalar_groups = MODES[mode]
        upd = opt.get_updater(o)
        r = np.random.RandomState(1)
        ws = [mx.nd.array(r.randn(*s), dtype=d) for s, d in zip(shapes, dtypes)]
        for _ in range(3):
            gs = [mx.nd.array(r.randn(*s) * 3, dtype=d) for s, d in zip(shapes, dtypes)]
            upd(list(range(60)), gs, ws)
        results.append([w.asnumpy() for w in ws])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
