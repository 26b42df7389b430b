"""Unrolled LSTM cells fused into one torch.lstm call per chain (executor/fusion.py): the
fused graph gives the outputs and gradients of the node-by-node graph, the chains found
are the ones a reader would draw, and whatever cannot be fused (an intermediate value
used elsewhere, an input fed back from the chain, a monitor) runs node by node."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.executor import codegen, fusion

B, H, E = 3, 4, 5


def _stack(layers=2, prefix="l%d_"):
    stack = mx.rnn.SequentialRNNCell()
    for i in range(layers):
        stack.add(mx.rnn.LSTMCell(num_hidden=H, prefix=prefix % i))
    return stack


def _chain_lengths(sym):
    return sorted(len(c.outs) for c in fusion.find_lstm_chains(sym._topo(), sym._outputs))


def _run_both(sym, shapes, seed=0, dtype="float32"):
    """Outputs and gradients (head gradients all ones) of ``sym`` with and without fusion;
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
            arr[:] = rng.uniform(-0.5, 0.5, size=arr.shape)
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


@pytest.mark.parametrize("merge", [True, False])
def test_stacked_unroll_fuses_each_layer_and_matches(merge):
    stack = _stack()
    outputs, states = stack.unroll(6, mx.sym.Variable("data"), merge_outputs=merge)
    outs = [outputs] if merge else list(outputs)
    sym = mx.sym.Group(outs + list(states))
    assert _chain_lengths(sym) == [6, 6]
    results, source = _run_both(sym, {"data": (B, 6, E)})
    assert "= L" in source   # the fused call
    _assert_same(results)


def test_given_begin_states_get_gradients():
    cell = mx.rnn.LSTMCell(num_hidden=H, prefix="c_")
    h0, c0 = mx.sym.Variable("h0"), mx.sym.Variable("c0")
    outputs, states = cell.unroll(4, mx.sym.Variable("data"), begin_state=[h0, c0],
                                  merge_outputs=True)
    sym = mx.sym.Group([outputs, states[1]])
    assert _chain_lengths(sym) == [4]
    results, _ = _run_both(sym, {"data": (B, 4, E), "h0": (B, H), "c0": (B, H)})
    assert {"h0", "c0", "data"} <= set(results[1][1])
    _assert_same(results)


def test_float64_matches():
    """float64 throughout (the begin states given: ``zeros`` states are float32, and
    MXNet refuses to mix them with float64 gates)."""
    cell = mx.rnn.LSTMCell(num_hidden=H, prefix="c_")
    outputs, _ = cell.unroll(3, mx.sym.Variable("data"), merge_outputs=True,
                             begin_state=[mx.sym.Variable("h0"), mx.sym.Variable("c0")])
    results, _ = _run_both(outputs, {"data": (B, 3, E), "h0": (B, H), "c0": (B, H)},
                           dtype="float64")
    _assert_same(results, tol=1e-12)


def test_lstm_language_model_trains_the_same_fused():
    """A bucketing-style LM (Embedding, 2 layers, SoftmaxOutput ignoring 0): same loss
    gradients fused and not."""
    data = mx.sym.Embedding(mx.sym.Variable("data"), input_dim=20, output_dim=E, name="emb")
    outputs, _ = _stack().unroll(5, data, merge_outputs=True)
    pred = mx.sym.FullyConnected(mx.sym.Reshape(outputs, shape=(-1, H)), num_hidden=20,
                                 name="pred")
    sym = mx.sym.SoftmaxOutput(pred, mx.sym.Reshape(mx.sym.Variable("softmax_label"),
                                                    shape=(-1,)),
                               use_ignore=True, ignore_label=0, name="softmax")
    assert _chain_lengths(sym) == [5, 5]
    for fuse in (False, True):
        mx.random.seed(7)
        ex = sym.simple_bind(mx.cpu(), data=(B, 5), softmax_label=(B, 5))
        rng = np.random.RandomState(1)
        for name, arr in ex.arg_dict.items():
            arr[:] = (rng.randint(0, 20, size=arr.shape) if name in ("data", "softmax_label")
                      else rng.uniform(-0.5, 0.5, size=arr.shape))
        if not fuse:
            ex._graph = ex._run = codegen.compile_graph(
                sym, ex._grad_pos, shapes=ex._bind_shapes, device=ex._ctx.torch_device)
        ex.forward(is_train=True)
        ex.backward()
        grads = {k: g.asnumpy() for k, g in ex.grad_dict.items() if g is not None}
        if fuse:
            for k in grads:
                np.testing.assert_allclose(grads[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)
        ref = grads


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


def test_gate_used_elsewhere_keeps_that_step_unfused():
    cell = mx.rnn.LSTMCell(num_hidden=H, prefix="c_")
    outputs, _ = cell.unroll(5, mx.sym.Variable("data"), merge_outputs=True)
    gate = outputs.get_internals()["c_t2_i_output"]
    sym = mx.sym.Group([outputs, gate])
    assert _chain_lengths(sym) == [2, 2]      # steps 0-1 and 3-4; step 2 node by node
    results, _ = _run_both(sym, {"data": (B, 5, E)})
    _assert_same(results)


def test_all_internals_bound_fuses_nothing():
    outputs, _ = _stack(1).unroll(3, mx.sym.Variable("data"), merge_outputs=True)
    sym = outputs.get_internals()
    assert _chain_lengths(sym) == []
    results, source = _run_both(sym, {"data": (B, 3, E)})
    assert "= L" not in source
    _assert_same(results)


def test_input_fed_back_from_the_chain_is_not_fused():
    """A decoder whose next input is computed from its previous output: the step inputs
    depend on the chain, so one call cannot compute it."""
    cell = mx.rnn.LSTMCell(num_hidden=H, prefix="dec_")
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
    outputs, _ = _stack(1).unroll(3, mx.sym.Variable("data"), merge_outputs=True)
    mod = mx.mod.Module(outputs, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", (B, 3, E))])
    mod.init_params()
    mon = mx.mon.Monitor(1, pattern=".*state.*")
    mod.install_monitor(mon)
    mon.tic()
    mod.forward(mx.io.DataBatch([mx.nd.ones((B, 3, E))]), is_train=False)
    names = [name for _, name, _ in mon.toc()]
    assert any("l0_t1_state" in n for n in names)
