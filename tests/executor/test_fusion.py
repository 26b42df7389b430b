"""Unrolled LSTM and GRU cells fused into one torch.lstm/torch.gru call per chain
(executor/fusion.py): the fused graph gives the outputs and gradients of the node-by-node
graph, the chains found are the ones a reader would draw, and whatever cannot be fused (an
intermediate value used elsewhere, an input fed back from the chain, a monitor) runs node by
node."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.executor import codegen, fusion

B, H, E = 3, 4, 5
CELLS = [mx.rnn.LSTMCell, mx.rnn.GRUCell]


def _stack(*cells):
    """One layer per cell class (two LSTMCells by default), prefixed l0_, l1_, ..."""
    stack = mx.rnn.SequentialRNNCell()
    for i, cell in enumerate(cells or (mx.rnn.LSTMCell,) * 2):
        stack.add(cell(num_hidden=H, prefix="l%d_" % i))
    return stack


def _begin(cell):
    """Variables s0, s1, ... for the begin states of ``cell`` and their shapes."""
    names = ["s%d" % i for i in range(len(cell.state_info))]
    return [mx.sym.Variable(n) for n in names], {n: (B, H) for n in names}


def _chain_lengths(sym):
    return sorted(len(c.xs) for c in fusion.find_chains(sym._topo(), sym._outputs))


def _run_both(sym, shapes, seed=0, dtype="float32", ints=()):
    """Outputs and gradients (head gradients all ones; loss heads ignore them) of ``sym``
    with and without fusion, the arguments named in ``ints`` holding integers in [0, 20);
    returns both results and the fused executor's generated source."""
    results, source = [], None
    for fuse in (False, True):
        ex = sym.simple_bind(mx.cpu(), type_dict={n: dtype for n in shapes}, **shapes)
        if not fuse:
            ex._graph = ex._run = codegen.compile_graph(
                sym, ex._grad_pos, shapes=ex._bind_shapes, device=ex._ctx.torch_device)
        else:
            source = ex._graph.source
        rng = np.random.RandomState(seed)
        for name, arr in ex.arg_dict.items():
            arr[:] = (rng.randint(0, 20, size=arr.shape) if name in ints
                      else rng.uniform(-0.5, 0.5, size=arr.shape))
        outs = ex.forward(is_train=True)
        ex.backward([mx.nd.ones(o.shape, dtype=dtype) for o in outs])
        results.append(([o.asnumpy() for o in outs],
                        {k: g.asnumpy() for k, g in ex.grad_dict.items() if g is not None}))
    return results, source


def _assert_same(results, tol=1e-5):
    (outs_a, grads_a), (outs_b, grads_b) = results
    assert len(outs_a) == len(outs_b)
    for a, b in zip(outs_a, outs_b):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert grads_a.keys() == grads_b.keys()
    for k in grads_a:
        np.testing.assert_allclose(grads_a[k], grads_b[k], rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("merge", [True, False])
def test_stacked_unroll_fuses_each_layer_and_matches(cell, merge):
    stack = _stack(cell, cell)
    outputs, states = stack.unroll(6, mx.sym.Variable("data"), merge_outputs=merge)
    outs = [outputs] if merge else list(outputs)
    sym = mx.sym.Group(outs + list(states))
    assert _chain_lengths(sym) == [6, 6]
    results, source = _run_both(sym, {"data": (B, 6, E)})
    assert "= L" in source   # the fused call
    _assert_same(results)


@pytest.mark.parametrize("cell", CELLS)
def test_given_begin_states_get_gradients(cell):
    cell = cell(num_hidden=H, prefix="c_")
    begin, shapes = _begin(cell)
    outputs, states = cell.unroll(4, mx.sym.Variable("data"), begin_state=begin,
                                  merge_outputs=True)
    sym = mx.sym.Group([outputs, states[-1]])
    assert _chain_lengths(sym) == [4]
    shapes["data"] = (B, 4, E)
    results, _ = _run_both(sym, shapes)
    assert set(shapes) <= set(results[1][1])
    _assert_same(results)


@pytest.mark.parametrize("cell", CELLS)
def test_float64_matches(cell):
    """float64 throughout (the begin states given: ``zeros`` states are float32, and
    MXNet refuses to mix them with float64 gates)."""
    cell = cell(num_hidden=H, prefix="c_")
    begin, shapes = _begin(cell)
    outputs, _ = cell.unroll(3, mx.sym.Variable("data"), merge_outputs=True,
                             begin_state=begin)
    results, _ = _run_both(outputs, dict(shapes, data=(B, 3, E)), dtype="float64")
    _assert_same(results, tol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_language_model_trains_the_same_fused(cell):
    """A bucketing-style LM (Embedding, 2 layers, SoftmaxOutput ignoring 0): same loss
    gradients fused and not."""
    data = mx.sym.Embedding(mx.sym.Variable("data"), input_dim=20, output_dim=E, name="emb")
    outputs, _ = _stack(cell, cell).unroll(5, data, merge_outputs=True)
    pred = mx.sym.FullyConnected(mx.sym.Reshape(outputs, shape=(-1, H)), num_hidden=20,
                                 name="pred")
    sym = mx.sym.SoftmaxOutput(pred, mx.sym.Reshape(mx.sym.Variable("softmax_label"),
                                                    shape=(-1,)),
                               use_ignore=True, ignore_label=0, name="softmax")
    assert _chain_lengths(sym) == [5, 5]
    results, _ = _run_both(sym, {"data": (B, 5), "softmax_label": (B, 5)},
                           ints=("data", "softmax_label"))
    _assert_same(results)


def test_internal_state_used_elsewhere_splits_the_chain():
    """A middle step's cell state read by another node: the chain ends at that step (its
    ``c'`` becomes an output of the fused call) and the rest fuses after it."""
    cell = mx.rnn.LSTMCell(num_hidden=H, prefix="c_")
    outputs, states = cell.unroll(6, mx.sym.Variable("data"), merge_outputs=True)
    internals = outputs.get_internals()
    c2 = internals["c_t2_state_output"]
    sym = mx.sym.Group([outputs, c2 * 2])
    assert _chain_lengths(sym) == [3, 3]
    results, _ = _run_both(sym, {"data": (B, 6, E)})
    _assert_same(results)


def test_gru_output_used_elsewhere_keeps_the_chain():
    """A GRU's state is its output ``h'``, which the fused call returns for every step: a
    middle step's ``h'`` read by another node does not split the chain."""
    cell = mx.rnn.GRUCell(num_hidden=H, prefix="c_")
    outputs, _ = cell.unroll(6, mx.sym.Variable("data"))
    sym = mx.sym.Group([outputs[-1], outputs[2] * 2])
    assert _chain_lengths(sym) == [6]
    results, _ = _run_both(sym, {"data": (B, 6, E)})
    _assert_same(results)


def test_mixed_stack_fuses_both_layers():
    outputs, states = _stack(mx.rnn.LSTMCell, mx.rnn.GRUCell).unroll(
        5, mx.sym.Variable("data"), merge_outputs=True)
    sym = mx.sym.Group([outputs] + list(states))
    chains = fusion.find_chains(sym._topo(), sym._outputs)
    assert sorted((c.kind, len(c.xs)) for c in chains) == [("gru", 5), ("lstm", 5)]
    results, source = _run_both(sym, {"data": (B, 5, E)})
    assert source.count("= L") == 4     # one call per chain, training and inference
    _assert_same(results)


def test_gru_written_as_gluon_with_operands_swapped_fuses():
    """Gluon's GRUCell writes ``1 - z`` as ``ones_like(z) - z``; the operands of the
    commutative ops in the other order too."""
    wi, bi, wh, bh = (mx.sym.Variable("g_" + n) for n in ("iw", "ib", "hw", "hb"))
    h, outs = mx.sym.Variable("h0"), []
    for x in mx.sym.SliceChannel(mx.sym.Variable("data"), num_outputs=4, squeeze_axis=True):
        i_r, i_z, i_n = mx.sym.SliceChannel(mx.sym.FullyConnected(x, wi, bi, num_hidden=3 * H),
                                            num_outputs=3)
        h_r, h_z, h_n = mx.sym.SliceChannel(mx.sym.FullyConnected(h, wh, bh, num_hidden=3 * H),
                                            num_outputs=3)
        r = mx.sym.Activation(h_r + i_r, act_type="sigmoid")
        z = mx.sym.Activation(h_z + i_z, act_type="sigmoid")
        n = mx.sym.Activation(h_n * r + i_n, act_type="tanh")
        h = z * h + n * mx.sym.elemwise_sub(mx.sym.ones_like(z), z)
        outs.append(h)
    sym = mx.sym.Group(outs)
    assert _chain_lengths(sym) == [4]
    results, _ = _run_both(sym, {"data": (B, 4, E), "h0": (B, H)})
    _assert_same(results)


@pytest.mark.parametrize("cell, gate", [(mx.rnn.LSTMCell, "c_t2_i_output"),
                                        (mx.rnn.GRUCell, "c_t2__z_act_output")])
def test_gate_used_elsewhere_keeps_that_step_unfused(cell, gate):
    cell = cell(num_hidden=H, prefix="c_")
    outputs, _ = cell.unroll(5, mx.sym.Variable("data"), merge_outputs=True)
    gate = outputs.get_internals()[gate]
    sym = mx.sym.Group([outputs, gate])
    assert _chain_lengths(sym) == [2, 2]      # steps 0-1 and 3-4; step 2 node by node
    results, _ = _run_both(sym, {"data": (B, 5, E)})
    _assert_same(results)


@pytest.mark.parametrize("cell", CELLS)
def test_all_internals_bound_fuses_nothing(cell):
    outputs, _ = _stack(cell).unroll(3, mx.sym.Variable("data"), merge_outputs=True)
    sym = outputs.get_internals()
    assert _chain_lengths(sym) == []
    results, source = _run_both(sym, {"data": (B, 3, E)})
    assert "= L" not in source
    _assert_same(results)


@pytest.mark.parametrize("cell", CELLS)
def test_input_fed_back_from_the_chain_is_not_fused(cell):
    """A decoder whose next input is computed from its previous output: the step inputs
    depend on the chain, so one call cannot compute it."""
    cell = cell(num_hidden=H, prefix="dec_")
    x = mx.sym.Variable("data")
    states = cell.begin_state()
    outs = []
    for _ in range(4):
        out, states = cell(x, states)
        outs.append(out)
        x = mx.sym.FullyConnected(out, num_hidden=E, name="feed%d" % len(outs))
    sym = mx.sym.Group(outs)
    assert _chain_lengths(sym) == []
    results, _ = _run_both(sym, {"data": (B, E)})
    _assert_same(results)


def test_first_hidden_state_of_another_shape_runs_step_by_step():
    """A first ``h`` of shape (B, 2, H/2), which the h2h FullyConnected flattens: not
    torch.lstm's shape, so ``lstm_steps`` runs the chain step by step, same results."""
    cell = mx.rnn.LSTMCell(num_hidden=H, prefix="c_")
    h0, c0 = mx.sym.Variable("h0"), mx.sym.Variable("c0")
    outputs, _ = cell.unroll(3, mx.sym.Variable("data"), begin_state=[h0, c0],
                             merge_outputs=True)
    assert _chain_lengths(outputs) == [3]
    results, _ = _run_both(outputs, {"data": (B, 3, E), "h0": (B, 2, H // 2), "c0": (B, H)})
    _assert_same(results)


def test_monitor_sees_every_node_of_an_unrolled_cell():
    outputs, _ = _stack(mx.rnn.LSTMCell).unroll(3, mx.sym.Variable("data"),
                                                merge_outputs=True)
    mod = mx.mod.Module(outputs, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", (B, 3, E))])
    mod.init_params()
    mon = mx.mon.Monitor(1, pattern=".*state.*")
    mod.install_monitor(mon)
    mon.tic()
    mod.forward(mx.io.DataBatch([mx.nd.ones((B, 3, E))]), is_train=False)
    names = [name for _, name, _ in mon.toc()]
    assert any("l0_t1_state" in n for n in names)


def test_bidirectional_and_wrapped_cells_match():
    """MXNet's cell wrappers over LSTM/GRU steps: a bidirectional layer (its backward cell
    reads the steps in reverse; two chains), dropout between layers, a residual cell (adds
    the input to h') and a zoneout cell that mixes nothing: every layer fuses, with the
    results of the node-by-node graph."""
    bi = mx.rnn.BidirectionalCell(mx.rnn.LSTMCell(H, prefix="f_"), mx.rnn.GRUCell(H, prefix="b_"))
    outputs, _ = bi.unroll(5, mx.sym.Variable("data"), merge_outputs=True)
    assert _chain_lengths(outputs) == [5, 5]
    _assert_same(_run_both(outputs, {"data": (B, 5, E)})[0])

    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.LSTMCell(H, prefix="l0_"))
    stack.add(mx.rnn.DropoutCell(0.0, prefix="d0_"))
    stack.add(mx.rnn.ResidualCell(mx.rnn.LSTMCell(H, prefix="l1_")))
    stack.add(mx.rnn.ZoneoutCell(mx.rnn.LSTMCell(H, prefix="l2_"), zoneout_states=0.0))
    outputs, _ = stack.unroll(4, mx.sym.Variable("data"), merge_outputs=True)
    assert _chain_lengths(outputs) == [4, 4, 4]
    _assert_same(_run_both(outputs, {"data": (B, 4, E)})[0])
