"""Module states on two contexts (MXNet's test_module_states with explicit state inputs):
set_states(value=), set_states(states=) with the unmerged outputs, get_states, compared
with MXNet 1.9.1 (tools/gen_module_fixtures.py), and the errors."""
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetValueError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "module")
spec = importlib.util.spec_from_file_location("gen_module", os.path.join(
    ROOT, "tools", "gen_module_fixtures.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def test_states_match_mxnet():
    ref = np.load(os.path.join(FIX, "states.npz"))
    res = gen.run_states(mx)
    assert sorted(res) == sorted(ref.files)
    for key in ref.files:
        np.testing.assert_allclose(res[key], ref[key], rtol=1e-5, atol=1e-6, err_msg=key)
    # feeding the outputs back as states changes the outputs (MXNet's assertion)
    assert not np.allclose(res["out1_0"], res["out2_0"], rtol=1e-3)
    assert not np.allclose(res["out1_1"], res["out2_1"], rtol=1e-3)


def _state_module(for_training=False):
    data = mx.sym.Variable("data")
    s0 = mx.sym.Variable("s0")
    h = mx.sym.FullyConnected(data, name="fc", num_hidden=2)
    out = h + s0
    if for_training:
        out = mx.sym.LinearRegressionOutput(out, name="lro")
    mod = mx.mod.Module(out, context=[mx.cpu(0), mx.cpu(1)],
                        label_names=["lro_label"] if for_training else None,
                        state_names=["s0"])
    mod.bind(data_shapes=[("data", (4, 3))],
             label_shapes=[("lro_label", (4, 2))] if for_training else None,
             for_training=for_training)
    mod.init_params(initializer=mx.init.Zero())
    return mod


def test_get_states_per_device_and_value():
    mod = _state_module()
    assert mod._param_names == ["fc_weight", "fc_bias"]  # a state is not a parameter
    mod.set_states(value=2.5)
    states = mod.get_states(merge_multi_context=False)
    assert len(states) == 1 and len(states[0]) == 2
    assert [s.shape for s in states[0]] == [(2, 2), (2, 2)]
    for s in states[0]:
        np.testing.assert_array_equal(s.asnumpy(), 2.5)
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones((4, 3))], label=[]))
    np.testing.assert_array_equal(mod.get_outputs()[0].asnumpy(), 2.5)  # zero weights


def test_set_states_per_device_arrays():
    mod = _state_module()
    mod.set_states(states=[[mx.nd.ones((2, 2)), mx.nd.ones((2, 2)) * 3]])
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones((4, 3))], label=[]))
    out = mod.get_outputs()[0].asnumpy()
    np.testing.assert_array_equal(out[:2], 1.0)
    np.testing.assert_array_equal(out[2:], 3.0)


def test_states_get_no_gradient_and_are_not_updated():
    mod = _state_module(for_training=True)
    mod.init_optimizer(optimizer_params={"learning_rate": 1.0})
    mod.set_states(value=1.0)
    batch = mx.io.DataBatch(data=[mx.nd.ones((4, 3))], label=[mx.nd.zeros((4, 2))])
    mod.forward_backward(batch)
    mod.update()
    assert all(g is None for g in [e.grad_dict["s0"] for e in mod._exec_group.execs])
    for s in mod.get_states(merge_multi_context=False)[0]:
        np.testing.assert_array_equal(s.asnumpy(), 1.0)
    # the parameters moved: out - label = 1 everywhere, /2 outputs, bias step -1 * 4/4 / 2
    np.testing.assert_allclose(mod.get_params()[0]["fc_bias"].asnumpy(), -0.5)


def test_states_errors():
    mod = _state_module()
    with pytest.raises(MXNetValueError, match="Only one of states & value"):
        mod.set_states(states=[[mx.nd.ones((2, 2))] * 2], value=1)
    with pytest.raises(MXNetValueError, match="At least one of states & value"):
        mod.set_states()
    with pytest.raises(MXNetValueError, match="merge_multi_context"):
        mod.get_states(merge_multi_context=True)
    unbound = mx.mod.Module(mx.sym.Variable("data") + mx.sym.Variable("s"), label_names=None,
                            state_names=["s"])
    with pytest.raises(AssertionError):  # StateError is an AssertionError, as MXNet's assert
        unbound.get_states(merge_multi_context=False)
    with pytest.raises(MXNetValueError, match="state"):
        mx.mod.Module(mx.sym.Variable("data") * 2, label_names=None, state_names=["nope"])
