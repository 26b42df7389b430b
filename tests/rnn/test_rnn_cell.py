"""mx.rnn cells beyond the fixtures: weight packing, the fused cell against its unfused
stack, the FusedRNN initializer, begin states, modifiers and misuse errors."""
import numpy as np
import pytest

import mxtorch as mx
import mxtorch.rnn  # noqa: F401
from mxtorch.rnn.rnn_cell import BaseRNNCell


def _nd(a):
    return mx.nd.array(np.asarray(a, np.float32))


def test_lstm_unpack_pack_round_trip_by_gate():
    cell = mx.rnn.LSTMCell(3, prefix="l0_")
    rng = np.random.RandomState(0)
    args = {"l0_i2h_weight": _nd(rng.randn(12, 5)), "l0_i2h_bias": _nd(rng.randn(12)),
            "l0_h2h_weight": _nd(rng.randn(12, 3)), "l0_h2h_bias": _nd(rng.randn(12)),
            "other": _nd([1.0])}
    un = cell.unpack_weights(args)
    assert sorted(un) == sorted(["other"] + ["l0_%s_%s_%s" % (g, c, k) for g in ("i2h", "h2h")
                                             for c in "ifco" for k in ("weight", "bias")])
    np.testing.assert_array_equal(un["l0_i2h_f_weight"].asnumpy(),
                                  args["l0_i2h_weight"].asnumpy()[3:6])
    np.testing.assert_array_equal(un["l0_h2h_o_bias"].asnumpy(), args["l0_h2h_bias"].asnumpy()[9:])
    back = cell.pack_weights(un)
    assert sorted(back) == sorted(args)
    for k in args:
        np.testing.assert_array_equal(back[k].asnumpy(), args[k].asnumpy())


def _fused_vs_unfused(mode, bidirectional, layers=2, hidden=4, inp=3, t=5, n=2):
    fused = mx.rnn.FusedRNNCell(hidden, num_layers=layers, mode=mode, bidirectional=bidirectional,
                                prefix="f_")
    data = mx.sym.Variable("data")
    f_out, _ = fused.unroll(t, data, layout="TNC", merge_outputs=True)
    u_out, _ = fused.unfuse().unroll(t, data, layout="TNC", merge_outputs=True)
    ex_f = f_out.simple_bind(mx.cpu(), data=(t, n, inp))
    ex_u = u_out.simple_bind(mx.cpu(), data=(t, n, inp))
    rng = np.random.RandomState(1)
    x = rng.randn(t, n, inp).astype(np.float32)
    flat = rng.randn(ex_f.arg_dict["f_parameters"].size).astype(np.float32) * 0.5
    ex_f.arg_dict["f_parameters"][:] = flat
    unpacked = fused.unpack_weights({"f_parameters": _nd(flat)})
    packed_u = fused.unfuse().pack_weights(unpacked)
    for k, v in packed_u.items():
        ex_u.arg_dict[k][:] = v
    ex_f.arg_dict["data"][:] = x
    ex_u.arg_dict["data"][:] = x
    a = ex_f.forward(is_train=True)[0].asnumpy()
    b = ex_u.forward(is_train=True)[0].asnumpy()
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    g = rng.randn(*a.shape).astype(np.float32)
    ex_f.backward(_nd(g))
    ex_u.backward(_nd(g))
    np.testing.assert_allclose(ex_f.grad_dict["data"].asnumpy(), ex_u.grad_dict["data"].asnumpy(),
                               rtol=1e-4, atol=1e-5)
    # the fused gradient, unpacked, is the unfused per-gate gradients
    gu = fused.unfuse().unpack_weights({k: v for k, v in ex_u.grad_dict.items() if k != "data"})
    gf = fused.unpack_weights({"f_parameters": ex_f.grad_dict["f_parameters"]})
    for k in gf:
        np.testing.assert_allclose(gf[k].asnumpy(), gu[k].asnumpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=k)


@pytest.mark.parametrize("mode,bi", [("lstm", True), ("gru", False), ("rnn_tanh", True),
                                     ("rnn_relu", False)])
def test_fused_cell_equals_its_unfused_stack(mode, bi):
    _fused_vs_unfused(mode, bi)


def test_fused_rnn_initializer_sets_forget_bias_and_global_init():
    fused = mx.rnn.FusedRNNCell(4, num_layers=1, mode="lstm", forget_bias=2.5, prefix="f_")
    sym, _ = fused.unroll(2, mx.sym.Variable("data"), layout="TNC")
    attrs = sym.attr_dict()["f_parameters"]
    assert attrs["__init__"].startswith('["fusedrnn", ')
    arr = mx.nd.zeros((sym.infer_shape(data=(2, 3, 5))[0][1][0],))
    mx.init.One()(mx.init.InitDesc("f_parameters", attrs=attrs), arr)  # as Module does
    parts = fused.unpack_weights({"f_parameters": arr})
    np.testing.assert_array_equal(parts["f_l0_i2h_f_bias"].asnumpy(), np.full(4, 2.5))
    np.testing.assert_array_equal(parts["f_l0_h2h_f_bias"].asnumpy(), np.full(4, 2.5))
    np.testing.assert_array_equal(parts["f_l0_i2h_i_bias"].asnumpy(), np.zeros(4))  # bias rule
    np.testing.assert_array_equal(parts["f_l0_h2h_c_weight"].asnumpy(), np.ones((4, 4)))


def test_begin_state_names_layout_and_variable_func():
    cell = mx.rnn.SequentialRNNCell()
    cell.add(mx.rnn.LSTMCell(5, prefix="a_"))
    cell.add(mx.rnn.GRUCell(6, prefix="b_"))
    states = cell.begin_state(func=mx.sym.Variable)
    assert [s.name for s in states] == ["a_begin_state_0", "a_begin_state_1", "b_begin_state_0"]
    assert states[0].attr("__layout__") == "NC"
    assert cell.state_shape == [(0, 5), (0, 5), (0, 6)]
    zeros = cell.begin_state()
    assert [s.name for s in zeros] == ["a_begin_state_2", "a_begin_state_3", "b_begin_state_1"]


def test_module_states_of_an_unrolled_lstm():
    """test_module_states in MXNet: states fed as inputs change the outputs."""
    stack = mx.rnn.SequentialRNNCell()
    for i in range(2):
        stack.add(mx.rnn.LSTMCell(num_hidden=4, prefix="lstm_l%d_" % i))
    begin = stack.begin_state(func=mx.sym.Variable)
    _, states = stack.unroll(3, begin_state=begin, inputs=mx.sym.Variable("data"))
    names = [s.name for s in begin]
    mod = mx.mod.Module(mx.sym.Group(states), context=[mx.cpu(0), mx.cpu(1)],
                        label_names=None, state_names=names)
    mod.bind(data_shapes=[("data", (4, 3, 2))], label_shapes=None, for_training=False)
    mod.init_params()
    batch = mx.io.DataBatch(data=[mx.nd.zeros((4, 3, 2))], label=[])
    mod.set_states(value=1)
    mod.forward(batch)
    out = mod.get_outputs(merge_multi_context=False)
    out1 = mod.get_outputs(merge_multi_context=True)
    mod.set_states(states=out)
    mod.forward(batch)
    out2 = mod.get_outputs(merge_multi_context=True)
    for x1, x2 in zip(out1, out2):
        assert not np.allclose(x1.asnumpy(), x2.asnumpy(), rtol=1e-3)


def test_dropout_cell_drops_in_training_only():
    cell = mx.rnn.DropoutCell(0.5, prefix="d_")
    out, states = cell.unroll(3, mx.sym.Variable("data"), merge_outputs=True)
    assert states == []
    ex = out.simple_bind(mx.cpu(), data=(20, 3, 10))
    ex.arg_dict["data"][:] = 1.0
    np.testing.assert_array_equal(ex.forward(is_train=False)[0].asnumpy(), 1.0)
    y = ex.forward(is_train=True)[0].asnumpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.3 < (y == 0).mean() < 0.7


def test_zoneout_cell_builds_and_runs():
    cell = mx.rnn.ZoneoutCell(mx.rnn.GRUCell(4, prefix="z_"), zoneout_outputs=0.3,
                              zoneout_states=0.2)
    out, _ = cell.unroll(3, mx.sym.Variable("data"), merge_outputs=True)
    ex = out.simple_bind(mx.cpu(), data=(2, 3, 5))
    assert ex.forward(is_train=True)[0].shape == (2, 3, 4)


def test_modified_base_cell_cannot_be_used_directly():
    base = mx.rnn.LSTMCell(3)
    mx.rnn.ResidualCell(base)
    with pytest.raises(mx.base.StateError, match="modifier"):
        base.begin_state()


def test_fused_and_bidirectional_cells_cannot_step():
    with pytest.raises(NotImplementedError):
        mx.rnn.FusedRNNCell(3)(mx.sym.Variable("x"), [])
    bi = mx.rnn.BidirectionalCell(mx.rnn.RNNCell(2, prefix="l_"), mx.rnn.RNNCell(2, prefix="r_"))
    with pytest.raises(NotImplementedError):
        bi(mx.sym.Variable("x"), [])
    with pytest.raises(ValueError, match="mode"):
        mx.rnn.FusedRNNCell(3, mode="lstmx")


def test_unroll_input_count_and_params_sharing_errors():
    cell = mx.rnn.RNNCell(3)
    with pytest.raises(ValueError, match="2 inputs"):
        cell.unroll(3, [mx.sym.Variable("a"), mx.sym.Variable("b")])
    shared = mx.rnn.RNNParams("s_")
    seq = mx.rnn.SequentialRNNCell(params=shared)
    with pytest.raises(ValueError, match="not both"):
        seq.add(mx.rnn.RNNCell(3, params=mx.rnn.RNNParams("x_")))


def test_cells_share_weights_through_params():
    params = mx.rnn.RNNParams("shared_")
    a = mx.rnn.LSTMCell(3, prefix="a_", params=params)
    b = mx.rnn.LSTMCell(3, prefix="b_", params=params)
    x = mx.sym.Variable("data")
    oa, _ = a.unroll(2, x, merge_outputs=True)
    ob, _ = b.unroll(2, oa, merge_outputs=True)
    args = ob.list_arguments()
    assert args == ["data", "shared_i2h_weight", "shared_i2h_bias", "shared_h2h_weight",
                    "shared_h2h_bias"]
    assert isinstance(a, BaseRNNCell)


def test_rnn_checkpoint_round_trip(tmp_path):
    cell = mx.rnn.LSTMCell(2, prefix="l_")
    out, _ = cell.unroll(2, mx.sym.Variable("data"), merge_outputs=True)
    rng = np.random.RandomState(0)
    args = {"l_i2h_weight": _nd(rng.randn(8, 3)), "l_i2h_bias": _nd(rng.randn(8)),
            "l_h2h_weight": _nd(rng.randn(8, 2)), "l_h2h_bias": _nd(rng.randn(8))}
    prefix = str(tmp_path / "m")
    mx.rnn.save_rnn_checkpoint(cell, prefix, 1, out, args, {})
    saved = mx.nd.load(prefix + "-0001.params")
    assert "arg:l_i2h_f_weight" in saved and "arg:l_i2h_weight" not in saved
    _, arg, _ = mx.rnn.load_rnn_checkpoint(cell, prefix, 1)
    for k in args:
        np.testing.assert_array_equal(arg[k].asnumpy(), args[k].asnumpy())
