"""Optimizer states move both ways between mxtorch and MXNet 1.9.1 for every optimizer:
MXNet continues from the ``.states`` files mxtorch writes (``to_mxnet_states``) exactly
as from its own (record made by ``tools/gen_optimizer_breadth_fixtures.py --ours``, which
runs MXNet on our files); the record is what mxtorch writes today; the pickles name only
MXNet classes; and MXNet's own files rewrite to themselves."""
import importlib.util
import json
import os
import pickletools

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import FormatError, MXNetTypeError
from mxtorch.ndarray.pickle_compat import PickledObject, loads_mxnet_pickle
from mxtorch.optimizer.states import loads_states, mxnet_optimizer_object, to_mxnet_states

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "gen_breadth", os.path.join(ROOT, "tools", "gen_optimizer_breadth_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

with np.load(os.path.join(gen.FIX, "arrays.npz")) as _z:
    ARR = {k: _z[k] for k in _z.files}
with np.load(os.path.join(gen.OURS, "in_mxnet.npz")) as _z:
    IN_MXNET = {k: _z[k] for k in _z.files}
with open(os.path.join(gen.OURS, "in_mxnet.json")) as _f:
    IN_MXNET_LOG = json.load(_f)
with open(os.path.join(gen.FIX, "cases.json")) as _f:
    META = {m["name"]: m for m in json.load(_f)["meta"]}
with open(os.path.join(gen.FIX, "facts.json")) as _f:
    FACTS = json.load(_f)
NAMES = [c["name"] for c in gen.CASES]


def _read(*parts):
    with open(os.path.join(*parts), "rb") as f:
        return f.read()


def _tol(case):
    return dict(rtol=2e-3, atol=2e-3) if case["dtype"] == "float16" else dict(rtol=1e-5,
                                                                               atol=1e-6)


@pytest.mark.parametrize("case", gen.CASES, ids=NAMES)
def test_mxnet_continues_from_our_states_as_from_its_own(case):
    name = case["name"]
    assert name not in IN_MXNET_LOG["errors"], IN_MXNET_LOG["errors"].get(name)
    assert str(IN_MXNET[f"{name}/class"]) == \
        FACTS["defaults"][case["optimizer"].lower()]["class"]
    assert int(IN_MXNET[f"{name}/num_update"]) == META[name]["num_update"]
    np.testing.assert_allclose(IN_MXNET[f"{name}/out"], ARR[f"{name}/out"][gen.SPLIT:],
                               **_tol(case))


def _ours_after_split(case):
    seed = gen.case_seed(case)
    opt = gen.make_optimizer(mx, case)
    if case["optimizer"] == "sgld":
        gen.feed_recorded_noise(opt, case, ARR[f"{case['name']}/noise"])
    upd = mx.optimizer.get_updater(opt)
    weights = [mx.nd.array(w, dtype=case["dtype"]) for w in gen.initial_weights(case, seed)]
    gen.run(mx, case, upd, weights, gen.gradients(case, seed), 0, gen.SPLIT)
    return upd, weights


def _flat(state):
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in _flat(s)]
    return [state.asnumpy()]


@pytest.mark.parametrize("case", gen.CASES, ids=NAMES)
def test_recorded_files_are_what_mxtorch_writes_now(case):
    """The files MXNet was run on (ours/) still come out of today's code."""
    upd, weights = _ours_after_split(case)
    now_states, now_opt = loadable = loads_mxnet_pickle(
        to_mxnet_states(upd.get_states(dump_optimizer=True)))
    rec_states, rec_opt = loads_mxnet_pickle(_read(gen.OURS, f"{case['name']}.states"))
    assert isinstance(loadable, tuple) and sorted(now_states) == sorted(rec_states)
    for k in rec_states:
        for a, b in zip(_flat(now_states[k]), _flat(rec_states[k])):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert (now_opt["module"], now_opt["class"]) == (rec_opt["module"], rec_opt["class"])
    assert now_opt["state"]["num_update"] == rec_opt["state"]["num_update"]
    with np.load(os.path.join(gen.OURS, "weights.npz")) as z:
        for i, w in enumerate(weights):
            np.testing.assert_allclose(w.asnumpy(), z[f"{case['name']}/{i}"], **_tol(case))


_ALLOWED_GLOBALS = {"mxnet.ndarray.ndarray NDArray", "builtins bytearray"}


@pytest.mark.parametrize("case", gen.CASES, ids=NAMES)
def test_written_pickle_names_only_mxnet_classes(case):
    upd, _ = _ours_after_split(case)
    blob = to_mxnet_states(upd.get_states(dump_optimizer=True))
    names = {arg for op, arg, _ in pickletools.genops(blob) if op.name == "GLOBAL"}
    cls = FACTS["defaults"][case["optimizer"].lower()]
    optimizer = f"{cls['module']} {cls['class']}"
    scheds = {f"mxnet.lr_scheduler {case['sched'][0]}"} if case["sched"] else set()
    assert names - _ALLOWED_GLOBALS == {optimizer} | scheds


@pytest.mark.parametrize("name", sorted(FACTS["attributes"]))
def test_pickled_optimizer_has_mxnets_attribute_names(name):
    obj = mxnet_optimizer_object(mx.optimizer.create(name))
    assert sorted(obj["state"]) == FACTS["attributes"][name]


@pytest.mark.parametrize("case", gen.CASES, ids=NAMES)
def test_our_format_and_the_mxnet_layout_continue_identically(case):
    """Ours -> MXNet layout -> back into mxtorch loses nothing: the next 10 steps equal
    those continued from our own (pickle-free) bytes."""
    upd, weights = _ours_after_split(case)
    ours = upd.get_states(dump_optimizer=True)
    results = []
    for blob in (ours, to_mxnet_states(ours)):
        u = mx.optimizer.get_updater(gen.make_optimizer(mx, case))
        u.set_states(blob)
        if case["optimizer"] == "sgld":
            u.optimizer._noise = lambda W, lrs: [w * 0 for w in W]
        ws = [w.copy() for w in weights]
        traj, _ = gen.run(mx, case, u, ws, gen.gradients(case, gen.case_seed(case)),
                          gen.SPLIT, gen.STEPS)
        results.append(np.stack([np.concatenate([w.ravel() for w in t]) for t in traj]))
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("case", gen.CASES, ids=NAMES)
def test_mxnet_files_rewrite_to_the_same_content(case):
    blob = _read(gen.FIX, f"{case['name']}.states")
    states0, opt0 = loads_states(blob)
    states1, opt1 = loads_states(to_mxnet_states(blob))
    assert sorted(states0) == sorted(states1)
    for k in states0:
        for a, b in zip(_flat(states0[k]), _flat(states1[k])):
            np.testing.assert_array_equal(a, b)
    assert type(opt0) is type(opt1) and opt0.num_update == opt1.num_update
    assert vars(opt0).keys() == vars(opt1).keys()


def test_states_without_the_optimizer_write_a_plain_dict():
    case = gen.CASE_BY_NAME["rmsprop_centered"]
    upd, _ = _ours_after_split(case)
    obj = loads_mxnet_pickle(to_mxnet_states(upd.get_states()))
    assert isinstance(obj, dict) and sorted(obj) == [0, 1, 2]
    assert len(obj[0]) == 3
    np.testing.assert_array_equal(obj[1][2].asnumpy(), upd.states[1][2].asnumpy())


def test_bad_input_and_unpicklable_attributes_are_refused():
    with pytest.raises(FormatError):
        to_mxnet_states(b"not optimizer states")
    opt = mx.optimizer.create("adagrad")
    opt.callback = object()
    with pytest.raises(MXNetTypeError, match="'callback'"):
        mxnet_optimizer_object(opt)
    assert isinstance(mxnet_optimizer_object(mx.optimizer.create("ftrl")), PickledObject)


def test_arrays_held_by_the_optimizer_survive_our_format():
    """LBSGD keeps accumulated gradients in the optimizer: after step 10 of
    ``lbsgd_scale3`` a sum is half done, and our (pickle-free) bytes carry it."""
    upd, _ = _ours_after_split(gen.CASE_BY_NAME["lbsgd_scale3"])
    before = upd.optimizer.cumgrads
    assert all(isinstance(c["cum_grad"], mx.nd.NDArray) for c in before.values())
    _, opt = loads_states(upd.get_states(dump_optimizer=True))
    assert sorted(opt.cumgrads) == sorted(before)
    for k, c in before.items():
        assert opt.cumgrads[k]["num_cums"] == c["num_cums"]
        np.testing.assert_array_equal(opt.cumgrads[k]["cum_grad"].asnumpy(),
                                      c["cum_grad"].asnumpy())


@pytest.mark.parametrize("header", [b"{bad json", b"\x80\x81", b"[1, 2]",
                                    b'{"format": "mxtorch.optimizer.states", "version": 1, '
                                    b'"optimizer": {"class": "AdaGrad"}}'])
def test_corrupt_headers_give_format_errors(header):
    import torch
    from mxtorch.ndarray import serialize
    from mxtorch.optimizer.states import HEADER_KEY
    raw = torch.frombuffer(bytearray(header), dtype=torch.uint8)
    blob = serialize.dumps({HEADER_KEY: mx.nd.NDArray(raw.clone())})
    with pytest.raises(FormatError, match="optimizer states"):
        loads_states(blob)
