"""Solvers against nnabla's update formulas written in numpy (reference section 5),
the skip rule, weight decay, clipping, registration and state files."""
import h5py
import numpy as np
import pytest

import mxtorch.nn as nn
import mxtorch.nn.solvers as S
from mxtorch.base import FormatError, MXNetKeyError, MXNetValueError

W0 = np.array([0.5, -1.0, 2.0], np.float32)
GRADS = [np.array([0.1, -0.2, 0.3]), np.array([-0.5, 0.4, 0.05]), np.array([1.0, 1.0, -2.0])]


def np_sgd(w, gs, lr=0.1):
    for g in gs:
        w = w - lr * g
    return w


def np_momentum(w, gs, lr=0.1, mom=0.9):
    v = 0
    for g in gs:
        v = mom * v + lr * g
        w = w - v
    return w


def np_nesterov(w, gs, lr=0.1, mom=0.9):
    v = 0
    for g in gs:
        v_new = mom * v - lr * g
        w = w - mom * v + (1 + mom) * v_new
        v = v_new
    return w


def np_adam(w, gs, alpha=0.1, b1=0.9, b2=0.999, eps=1e-8):
    m = v = 0
    for t, g in enumerate(gs, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - alpha * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    return w


def np_adagrad(w, gs, lr=0.1, eps=1e-8):
    v = 0
    for g in gs:
        v = v + g * g
        w = w - lr * g / (np.sqrt(v) + eps)
    return w


def np_rmsprop(w, gs, lr=0.1, decay=0.9, eps=1e-8):
    v = 0
    for g in gs:
        v = decay * v + (1 - decay) * g * g
        w = w - lr * g / (np.sqrt(v) + eps)
    return w


def np_adadelta(w, gs, lr=0.1, decay=0.95, eps=1e-6):
    eg = ed = 0
    for g in gs:
        eg = decay * eg + (1 - decay) * g * g
        delta = np.sqrt((ed + eps) / (eg + eps)) * g
        ed = decay * ed + (1 - decay) * delta * delta
        w = w - lr * delta
    return w


CASES = [(S.Sgd(0.1), np_sgd), (S.Momentum(0.1), np_momentum), (S.Nesterov(0.1), np_nesterov),
         (S.Adam(0.1), np_adam), (S.Adagrad(0.1), np_adagrad), (S.RMSprop(0.1), np_rmsprop),
         (S.Adadelta(0.1), np_adadelta)]


def make_param():
    return nn.Variable.from_numpy_array(W0.copy(), need_grad=True)


@pytest.mark.parametrize("solver,ref", CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_update_formula(solver, ref):
    w = make_param()
    solver.set_parameters({"w": w})
    for g in GRADS:
        solver.zero_grad()
        w.g = g
        solver.update()
    np.testing.assert_allclose(w.d, ref(W0.astype(np.float64), GRADS), rtol=1e-5, atol=1e-6)
    assert solver.get_states()["w"].t == 3


def test_defaults_and_names():
    assert S.Sgd().info == {"lr": 1e-3}
    assert S.Momentum().info == {"lr": 1e-3, "momentum": 0.9}
    assert S.Adam().info == {"alpha": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert S.Adagrad().info == {"lr": 1e-2, "eps": 1e-8} and S.AdaGrad is S.Adagrad
    assert S.RMSprop().info == {"lr": 1e-3, "decay": 0.9, "eps": 1e-8}
    assert S.Adadelta().info == {"lr": 1.0, "decay": 0.95, "eps": 1e-6}
    assert S.Adam().name == "Adam"
    assert list(S.Adam().__class__._STATES) == ["mean", "var"]
    assert S.Momentum._STATES == ("m",) and S.RMSprop._STATES == ("v",)


def test_learning_rate_is_float32_rounded():
    s = S.Adam(alpha=0.1)
    assert s.learning_rate() == float(np.float32(0.1)) != 0.1
    s.set_learning_rate(0.5)
    assert s.learning_rate() == 0.5


def test_invalid_hyperparameters():
    with pytest.raises(MXNetValueError, match="Invalid momentum value: -1"):
        S.Momentum(momentum=-1)
    with pytest.raises(MXNetValueError, match="Invalid lr"):
        S.Sgd(lr=-0.1)


def test_skip_rule_after_zero_grad():
    w = make_param()
    s = S.Momentum(0.1)
    s.set_parameters({"w": w})
    w.g = GRADS[0]
    s.update()
    after_one = w.d.copy()
    s.zero_grad()
    s.update()                               # gradient still lazily zero: skipped
    np.testing.assert_array_equal(w.d, after_one)
    w.g = 0
    s.update()
    np.testing.assert_array_equal(w.d, after_one)
    assert s.get_states()["w"].t == 1


def test_weight_decay_and_clip():
    w = make_param()
    s = S.Sgd(1.0)
    s.set_parameters({"w": w})
    w.g = np.zeros(3)
    s.weight_decay(0.1)
    np.testing.assert_allclose(w.g, 0.1 * W0, rtol=1e-6)
    w.g = np.array([3.0, 4.0, 0.0])
    s.clip_grad_by_norm(1.0)
    np.testing.assert_allclose(w.g, [0.6, 0.8, 0.0], rtol=1e-6)
    assert not s.check_inf_or_nan_grad()
    w.g = np.array([np.inf, 0, 0])
    assert s.check_inf_grad() and not s.check_nan_grad()


def test_adamw_decoupled_decay():
    w = make_param()
    s = S.AdamW(alpha=0.1, wd=0.01)
    s.set_parameters({"w": w})
    w.g = GRADS[0]
    s.update()
    expect = np_adam(W0.astype(np.float64), GRADS[:1]) - 0.01 * W0
    np.testing.assert_allclose(w.d, expect, rtol=1e-5)


def test_set_parameters_reset_and_retain_state():
    w, u = make_param(), make_param()
    s = S.Momentum(0.1)
    s.set_parameters({"w": w})
    w.g = GRADS[0]
    s.update()
    s.set_parameters({"u": u}, reset=False)
    assert list(s.get_parameters()) == ["w", "u"]
    s.set_parameters({"w": w}, reset=False, retain_state=True)
    assert s.get_states()["w"].t == 1
    s.set_parameters({"w": w}, reset=False)
    assert s.get_states()["w"].t == 0
    s.set_parameters({"u": u})
    assert list(s.get_parameters()) == ["u"]
    with pytest.raises(MXNetKeyError, match="Set weight parameter for w first"):
        s.set_states({"w": S.SolverState()})


def test_states_h5_layout_and_round_trip(tmp_path):
    params = {"conv/W": make_param(), "b": make_param()}
    s = S.Adam(0.1)
    s.set_parameters(params)
    for p in params.values():
        p.g = GRADS[0]
    s.update()
    path = str(tmp_path / "states.h5")
    s.save_states(path)
    with h5py.File(path, "r") as f:
        assert f["conv/W"].attrs["index"] == 0 and f["b"].attrs["index"] == 1
        assert f["conv/W/t"][()] == 1 and dict(f["conv/W/t"].attrs) == {}
        assert f["conv/W/mean"].attrs["index"] == 0 and f["conv/W/var"].attrs["index"] == 1
    s2 = S.Adam(0.1)
    s2.set_parameters({k: make_param() for k in params})
    s2.load_states(path)
    for k in params:
        st, st2 = s.get_states()[k], s2.get_states()[k]
        assert st2.t == 1 and list(st2.pstate) == ["mean", "var"]
        for n in st.pstate:
            np.testing.assert_array_equal(st2.pstate[n].d, st.pstate[n].d)
    with pytest.raises(MXNetValueError, match=r"only \.h5"):
        s.save_states(str(tmp_path / "states.protobuf"))


@pytest.mark.parametrize("damage", ["text_state", "text_index", "group_state", "junk"])
def test_damaged_states_h5_is_a_format_error(tmp_path, damage):
    """Only plain numbers are read (libhdf5 can crash on damaged variable-length values);
    every other damage is a FormatError naming the file, and the solver keeps its states."""
    path = tmp_path / "states.h5"
    if damage == "junk":
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\xff" * 64)
    else:
        with h5py.File(path, "w") as f:
            f["w/t"] = np.int64(1)
            if damage == "group_state":
                f.create_group("w/mean")
            else:
                f.create_dataset("w/mean", data="x" if damage == "text_state" else 0.5,
                                 dtype=h5py.string_dtype() if damage == "text_state" else None)
            if damage == "text_index":
                f["w/mean"].attrs.create("index", "0", dtype=h5py.string_dtype())
    s = S.Momentum(0.1)
    s.set_parameters({"w": make_param()})
    before = s.get_states()["w"].pstate["m"].d.copy()
    with pytest.raises(FormatError, match="states.h5"):
        s.load_states(str(path))
    np.testing.assert_array_equal(s.get_states()["w"].pstate["m"].d, before)


@pytest.mark.parametrize("make", [lambda: S.Sgd(0.1), lambda: S.Momentum(0.1),
                                  lambda: S.Adam(0.1)], ids=["Sgd", "Momentum", "Adam"])
def test_foreach_path_agrees_with_reference_loop(make):
    rs = np.random.RandomState(3)
    init = {"a": rs.randn(3, 2), "b": rs.randn(4)}
    grads = [{k: rs.randn(*v.shape) for k, v in init.items()} for _ in range(4)]
    results = []
    for foreach in (True, False):
        solver = make()
        solver.foreach = foreach
        params = {k: nn.Variable.from_numpy_array(v.astype(np.float32), need_grad=True)
                  for k, v in init.items()}
        solver.set_parameters(params)
        for step, g in enumerate(grads):
            solver.zero_grad()
            for k, p in params.items():
                if not (k == "b" and step == 1):          # b skipped once: its t lags
                    p.g = g[k]
            solver.update()
        results.append({k: p.d.copy() for k, p in params.items()})
        assert solver.get_states()["b"].t == 3
    for k in init:
        np.testing.assert_allclose(results[0][k], results[1][k], rtol=1e-6, atol=1e-7)
