"""Unrolled LSTM cells run as one ``torch.lstm`` call per chain of steps.

An LSTM unrolled step by step (``mx.rnn.LSTMCell.unroll``, Gluon's ``LSTMCell`` exported
to JSON, or any graph with the same nodes) costs 13 ops per step, each a small kernel
with its own autograd node. ``find_lstm_chains`` finds every run of such steps that share
their four parameters and hands codegen one call to torch's fused LSTM (oneDNN on CPU,
cuDNN on GPU) for the whole run. The Symbol is untouched (names, arguments, JSON,
``get_internals``); only the generated code differs, and its results equal the step by
step ones to float rounding. A step is fused only when none of its intermediate values is
used outside it (an output of the graph, a monitor, another node), and a chain only when
none of its inputs depends on it; anything else runs node by node as before.

MXNet's step (rnn_cell.py ``LSTMCell``, gates in cuDNN's order i, f, g, o -- torch's):
``gates = FC(x, i2h) + FC(h, h2h)``, four slices, ``c' = sig(f)*c + sig(i)*tanh(g)``,
``h' = sig(o)*tanh(c')``.
"""
import torch

__all__ = ["find_lstm_chains", "schedule", "LSTMChain", "lstm_steps"]


class LSTMChain:
    """Consecutive LSTM steps sharing ``i2h``/``h2h`` weights and biases.

    ``xs`` are the step inputs, ``h0``/``c0`` the first step's states, ``params`` the
    entries of (i2h weight, i2h bias, h2h weight, h2h bias); ``outs`` the nodes of each
    step's ``h'`` and ``state`` the last step's ``c'`` node (the chain's outputs);
    ``nodes`` the ids of every node the chain replaces.
    """
    __slots__ = ("xs", "h0", "c0", "params", "outs", "state", "nodes")

    def __init__(self, steps):
        first = steps[0]
        self.xs = [s.x for s in steps]
        self.h0, self.c0 = first.h, first.c
        self.params = first.params
        self.outs = [s.out for s in steps]
        self.state = steps[-1].state
        self.nodes = {id(n) for s in steps for n in s.nodes}

    def inputs(self):
        return [self.h0, self.c0] + list(self.params) + self.xs


def _op(entry, name, index=0):
    """The node of ``entry`` if it is output ``index`` of an ``name`` op, else None."""
    node, k = entry
    if k == index and node.op is not None and node.op.name == name:
        return node
    return None


def _act(entry, act_type, index=0):
    node = _op(entry, "Activation", index)
    return node if node is not None and node.params.act_type == act_type else None


def _gate(entry, slicer, k, act_type):
    """The Activation node of ``entry`` if it applies ``act_type`` to slice ``k``."""
    node = _act(entry, act_type)
    return node if node is not None and node.inputs[0] == (slicer, k) else None


def _pairs(node):
    """Both orders of a binary node's two inputs (the elementwise ops commute)."""
    a, b = node.inputs
    return ((a, b), (b, a))


class _Step:
    """One matched step: its nodes, its input entries and its two FullyConnected nodes
    (which one is ``i2h`` is settled when steps are linked)."""
    __slots__ = ("out", "state", "fcs", "c", "mf", "tanh_c", "nodes", "x", "h", "params",
                 "prev")

    def set_h2h(self, h2h):
        i2h = self.fcs[1] if self.fcs[0] is h2h else self.fcs[0]
        self.x, self.h = i2h.inputs[0], h2h.inputs[0]
        self.params = (i2h.inputs[1], i2h.inputs[2], h2h.inputs[1], h2h.inputs[2])


def _fc_ok(node):
    p = node.params
    return not p.no_bias and p.flatten and len(node.inputs) == 3


def _match(out):
    """The step whose ``h'`` is ``out``, or None."""
    if out.op is None or out.op.name != "elemwise_mul" or len(out.inputs) != 2:
        return None
    for o_ent, tc_ent in _pairs(out):
        o_act, tanh_c = _act(o_ent, "sigmoid"), _act(tc_ent, "tanh")
        if o_act is not None and tanh_c is not None:
            break
    else:
        return None
    state, slicer = _op(tanh_c.inputs[0], "elemwise_add"), o_act.inputs[0][0]
    if state is None or o_act.inputs[0][1] != 3 or slicer.op is None \
            or slicer.op.name != "SliceChannel":
        return None
    sp = slicer.params
    if sp.num_outputs != 4 or sp.axis not in (1, -1) or sp.squeeze_axis:
        return None
    plus = _op(slicer.inputs[0], "elemwise_add")
    if plus is None:
        return None
    fcs = [_op(e, "FullyConnected") for e in plus.inputs]
    if None in fcs or fcs[0] is fcs[1] or not all(_fc_ok(fc) for fc in fcs):
        return None
    for fc_ent, ig_ent in _pairs(state):     # c' = f*c + i*g
        mf, mig = _op(fc_ent, "elemwise_mul"), _op(ig_ent, "elemwise_mul")
        if mf is None or mig is None:
            continue
        c = f_act = None
        for g_ent, c_ent in _pairs(mf):
            f_act = _gate(g_ent, slicer, 1, "sigmoid")
            if f_act is not None:
                c = c_ent
                break
        ig = None
        for a, b in _pairs(mig):
            i_act, g_act = _gate(a, slicer, 0, "sigmoid"), _gate(b, slicer, 2, "tanh")
            if i_act is not None and g_act is not None:
                ig = (i_act, g_act)
                break
        if c is not None and ig is not None:
            step = _Step()
            step.out, step.state, step.fcs, step.c, step.prev = out, state, fcs, c, None
            step.mf, step.tanh_c, step.params = mf, tanh_c, None
            step.nodes = [out, o_act, tanh_c, state, mf, mig, f_act, *ig, slicer, plus, *fcs]
            return step
    return None


def _consumers(nodes, heads):
    """``{id(node): [consumer node or None for a graph output, ...]}``."""
    users = {}
    for n in nodes:
        for src, _ in n.inputs:
            users.setdefault(id(src), []).append(n)
    for n, _ in heads:
        users.setdefault(id(n), []).append(None)
    return users


def _sealed(step, users):
    """Whether every intermediate node of ``step`` is used inside the step only."""
    inside = {id(n) for n in step.nodes}
    return all(u is not None and id(u) in inside
               for n in step.nodes if n is not step.out and n is not step.state
               for u in users.get(id(n), ()))


def _link(step, prev, users):
    """Make ``step`` follow ``prev`` if it reads prev's ``h'`` and ``c'``, nothing else
    reads prev's ``c'``, and both use the same parameters (a chain's first step learns
    here which of its FullyConnected is ``h2h``)."""
    if step.c != (prev.state, 0) or any(u is not step.mf and u is not prev.tanh_c
                                        for u in users.get(id(prev.state), ())):
        return False
    h2h = next((fc for fc in step.fcs if fc.inputs[0] == (prev.out, 0)), None)
    if h2h is None:
        return False
    step.set_h2h(h2h)
    if prev.prev is None:   # prev's h2h: its FC with step's h2h parameters
        same = [fc for fc in prev.fcs if (fc.inputs[1], fc.inputs[2]) == step.params[2:]]
        if not same:
            return False
        prev.set_h2h(same[0])
    if step.params != prev.params:
        return False
    step.prev = prev
    return True


def _depends(entries, nodes):
    """Whether any of ``entries`` is computed from a node whose id is in ``nodes``."""
    seen, stack = set(), [n for n, _ in entries]
    while stack:
        n = stack.pop()
        if id(n) in nodes:
            return True
        if id(n) not in seen:
            seen.add(id(n))
            stack.extend(s for s, _ in n.inputs)
    return False


def find_lstm_chains(nodes, heads, min_steps=2):
    """The fusable LSTM chains of a graph (``nodes`` in topological order, ``heads`` the
    output entries), longest runs of linked steps of at least ``min_steps`` steps."""
    users = _consumers(nodes, heads)
    steps = {}
    for n in nodes:
        step = _match(n)
        if step is not None and _sealed(step, users):
            steps[id(n)] = step
    by_state = {id(s.state): s for s in steps.values()}
    has_next = set()
    for step in steps.values():
        prev = by_state.get(id(step.c[0])) if step.c[1] == 0 else None
        if prev is not None and id(prev.out) not in has_next and _link(step, prev, users):
            has_next.add(id(prev.out))
    chains = []
    for step in steps.values():
        if id(step.out) in has_next:
            continue                       # not the last step of its chain
        run = [step]
        while run[-1].prev is not None:
            run.append(run[-1].prev)
        run.reverse()
        if len(run) < min_steps:
            continue
        chain = LSTMChain(run)
        if not _depends(chain.inputs(), chain.nodes):
            chains.append(chain)
    return chains


def schedule(nodes, heads, chains):
    """Topological order of the graph with each chain as one item (the chain object in
    place of its nodes), or None if the chains cannot be ordered (two chains feeding each
    other); variables and untouched nodes keep their place where they can."""
    owner = {}
    for chain in chains:
        for i in chain.nodes:
            owner[i] = chain

    def item(node):
        return owner.get(id(node), node)

    def sources(it):
        entries = it.inputs() if isinstance(it, LSTMChain) else it.inputs
        return iter([item(n) for n, _ in entries])

    order, done, active = [], set(), set()
    for head, _ in heads:
        root = item(head)
        if id(root) in done:
            continue
        stack = [(root, sources(root))]
        active.add(id(root))
        while stack:
            it, srcs = stack[-1]
            for src in srcs:
                if id(src) in active:
                    return None            # a cycle through a chain
                if id(src) not in done:
                    active.add(id(src))
                    stack.append((src, sources(src)))
                    break
            else:
                stack.pop()
                active.discard(id(it))
                done.add(id(it))
                order.append(it)
    return order


def lstm_steps(is_train, xs, h0, c0, wi, bi, wh, bh):
    """The steps of one chain: ``(h'_0, ..., h'_T-1, c'_T-1)``, by ``torch.lstm`` when the
    states have its shapes, else step by step (a first ``h`` wider than the cell's, which
    the FullyConnected flattens)."""
    x = torch.stack([x if x.dim() == 2 else x.reshape(x.shape[0], -1) for x in xs])
    if h0.dim() == 2 and h0.shape == c0.shape and wh.shape[1] == c0.shape[1]:
        out, _, c = torch.lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)), (wi, wh, bi, bh),
                               True, 1, 0.0, is_train, False, False)
        return (*out.unbind(0), c[0])
    h, c, outs = h0.reshape(h0.shape[0], -1), c0, []
    for xt in x.unbind(0):
        gates = torch.nn.functional.linear(xt, wi, bi) + torch.nn.functional.linear(h, wh, bh)
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return (*outs, c)

