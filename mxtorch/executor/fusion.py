"""Unrolled LSTM and GRU cells run as one ``torch.lstm``/``torch.gru`` call per chain.

An LSTM or GRU unrolled step by step (``mx.rnn.LSTMCell.unroll``/``GRUCell.unroll``,
Gluon's cells exported to JSON, or any graph with the same nodes) costs 13 (LSTM) or 15
(GRU) ops per step, each a small kernel with its own autograd node. ``find_chains`` finds
every run of such steps that share their four parameters and hands codegen one call to
torch's fused LSTM or GRU for the whole run (cuDNN on GPU; on CPU oneDNN for the LSTM,
torch's own loop over the steps for the GRU). The Symbol is untouched (names, arguments,
JSON, ``get_internals``); only the generated code differs, and its results equal the step
by step ones to float rounding. A step is fused only when none of its intermediate values
is used outside it (an output of the graph, a monitor, another node), and a chain only
when none of its inputs depends on it; anything else runs node by node as before.

MXNet's steps (rnn_cell.py; gates in cuDNN's order, which is torch's):

- ``LSTMCell``, gates i, f, g, o: ``gates = FC(x, i2h) + FC(h, h2h)``, four slices,
  ``c' = sig(f)*c + sig(i)*tanh(g)``, ``h' = sig(o)*tanh(c')``.
- ``GRUCell``, gates r, z, n: ``FC(x, i2h)`` and ``FC(h, h2h)`` in three slices each,
  ``r = sig(x_r + h_r)``, ``z = sig(x_z + h_z)``, ``n = tanh(x_n + r*h_n)``,
  ``h' = (1 - z)*n + z*h`` (Gluon writes ``1 - z`` as ``ones_like(z) - z``).
"""
import torch

__all__ = ["find_chains", "schedule", "Chain", "lstm_steps", "gru_steps"]


class Chain:
    """Consecutive steps of one ``kind`` ('lstm' or 'gru') sharing ``i2h``/``h2h`` weights
    and biases.

    ``xs`` are the step inputs, ``begin`` the first step's states (``h``, then ``c`` for an
    LSTM), ``params`` the entries of (i2h weight, i2h bias, h2h weight, h2h bias); ``outs``
    the nodes of each step's ``h'`` then, for an LSTM, the last step's ``c'`` (the chain's
    outputs, in the order of its fused call's results); ``nodes`` the ids of every node the
    chain replaces.
    """
    __slots__ = ("kind", "xs", "begin", "params", "outs", "nodes")

    def __init__(self, steps):
        first, last = steps[0], steps[-1]
        lstm = first.kind == "lstm"
        self.kind = first.kind
        self.xs = [s.x for s in steps]
        self.begin = [first.h, first.state_in] if lstm else [first.h]
        self.params = first.params
        self.outs = [s.out for s in steps] + ([last.state] if lstm else [])
        self.nodes = {id(n) for s in steps for n in s.nodes}

    def inputs(self):
        return self.begin + list(self.params) + self.xs


def _op(entry, name, index=0):
    """The node of ``entry`` if it is output ``index`` of an ``name`` op, else None."""
    node, k = entry
    if k == index and node.op is not None and node.op.name == name:
        return node
    return None


def _act(entry, act_type):
    """The Activation node of ``entry`` if it applies ``act_type``."""
    node = _op(entry, "Activation")
    return node if node is not None and node.params.act_type == act_type else None


def _gate(entry, slicer, k, act_type):
    """The Activation node of ``entry`` if it applies ``act_type`` to slice ``k``."""
    node = _act(entry, act_type)
    return node if node is not None and node.inputs[0] == (slicer, k) else None


def _pairs(node):
    """Both orders of a binary node's two inputs (the elementwise ops commute)."""
    a, b = node.inputs
    return ((a, b), (b, a))


def _bin(entry, name, first, second):
    """``(node, first(a), second(b))`` if ``entry`` is a binary ``name`` node whose inputs
    ``a``, ``b``, taken in either order, both match (neither result None), else None."""
    node = _op(entry, name)
    for a, b in _pairs(node) if node is not None and len(node.inputs) == 2 else ():
        fa, fb = first(a), second(b)
        if fa is not None and fb is not None:
            return node, fa, fb
    return None


def _is(entry):
    """The matcher (for ``_bin``) of ``entry`` itself."""
    return lambda e: e if e == entry else None


def _any(entry):
    return entry


def _slices(node, num):
    """Whether ``node`` is a SliceChannel into ``num`` parts along the features."""
    p = node.params
    return node.op is not None and node.op.name == "SliceChannel" and p.num_outputs == num \
        and p.axis in (1, -1) and not p.squeeze_axis


def _third(k):
    """The matcher of slice ``k`` of a SliceChannel into three: that SliceChannel node."""
    return lambda e: e[0] if e[1] == k and _slices(e[0], 3) else None


def _one_minus(entry):
    """``(z, nodes)`` if ``entry`` is ``1 - z``: ``_rminus_scalar`` (rnn_cell.py) or
    ``ones_like(z) - z`` (Gluon), else None."""
    node = _op(entry, "_rminus_scalar")
    if node is not None:
        return (node.inputs[0], [node]) if node.params.scalar == 1 else None
    node = _op(entry, "elemwise_sub")
    ones = _op(node.inputs[0], "ones_like") if node is not None else None
    if ones is None or ones.inputs[0] != node.inputs[1]:
        return None
    return node.inputs[1], [node, ones]


class _Step:
    """One matched step of ``kind``: its nodes, its ``h'`` node ``out``, the node ``state``
    the next step reads as its state and the entry ``state_in`` this step reads as such
    (``c'`` and ``c`` in an LSTM, ``h'`` and ``h`` in a GRU), its input entries and its two
    FullyConnected nodes (which of an LSTM's is ``i2h`` is settled when steps are linked);
    an LSTM's ``mf`` (``f*c``) and ``tanh_c`` (``tanh(c')``) read its ``c`` and ``c'``."""
    __slots__ = ("kind", "out", "state", "state_in", "fcs", "nodes", "mf", "tanh_c", "x",
                 "h", "params", "prev")

    def __init__(self, kind, out, state, state_in, fcs, nodes):
        self.kind, self.out, self.state, self.state_in = kind, out, state, state_in
        self.fcs, self.nodes, self.params, self.prev = fcs, nodes, None, None

    def set_h2h(self, h2h):
        i2h = self.fcs[1] if self.fcs[0] is h2h else self.fcs[0]
        self.x, self.h = i2h.inputs[0], h2h.inputs[0]
        self.params = (i2h.inputs[1], i2h.inputs[2], h2h.inputs[1], h2h.inputs[2])


def _fc_ok(node):
    p = node.params
    return not p.no_bias and p.flatten and len(node.inputs) == 3


def _match_lstm(out):
    """The LSTM step whose ``h'`` is ``out``, or None."""
    top = _bin((out, 0), "elemwise_mul", lambda e: _act(e, "sigmoid"), lambda e: _act(e, "tanh"))
    if top is None:
        return None
    _, o_act, tanh_c = top
    state, (slicer, k) = _op(tanh_c.inputs[0], "elemwise_add"), o_act.inputs[0]
    if state is None or k != 3 or not _slices(slicer, 4):
        return None
    plus = _op(slicer.inputs[0], "elemwise_add")
    if plus is None:
        return None
    fcs = [_op(e, "FullyConnected") for e in plus.inputs]
    if None in fcs or fcs[0] is fcs[1] or not all(_fc_ok(fc) for fc in fcs):
        return None
    cell = _bin((state, 0), "elemwise_add",     # c' = f*c + i*g
                lambda e: _bin(e, "elemwise_mul", lambda e: _gate(e, slicer, 1, "sigmoid"), _any),
                lambda e: _bin(e, "elemwise_mul", lambda e: _gate(e, slicer, 0, "sigmoid"),
                               lambda e: _gate(e, slicer, 2, "tanh")))
    if cell is None:
        return None
    _, (mf, f_act, c), (mig, i_act, g_act) = cell
    step = _Step("lstm", out, state, c, fcs, [out, o_act, tanh_c, state, mf, mig, f_act, i_act,
                                             g_act, slicer, plus, *fcs])
    step.mf, step.tanh_c = mf, tanh_c
    return step


def _match_gru(out):
    """The GRU step whose ``h'`` is ``out``, or None."""
    top = _bin((out, 0), "elemwise_add",        # h' = (1 - z)*n + z*h
               lambda e: _bin(e, "elemwise_mul", _one_minus, lambda e: _act(e, "tanh")),
               lambda e: _op(e, "elemwise_mul"))
    if top is None:
        return None
    _, (new, (z, one_minus), n_act), keep = top
    keep = _bin((keep, 0), "elemwise_mul", _is(z), _any)
    z_act = _act(z, "sigmoid")
    n_sum = _bin(n_act.inputs[0], "elemwise_add", _third(2),     # x_n + r*h_n
                 lambda e: _bin(e, "elemwise_mul", lambda e: _act(e, "sigmoid"), _third(2)))
    if keep is None or z_act is None or n_sum is None:
        return None
    (keep, _, h), (n_sum, x_parts, (r_mul, r_act, h_parts)) = keep, n_sum
    r_sum = _bin(r_act.inputs[0], "elemwise_add", _is((x_parts, 0)), _is((h_parts, 0)))
    z_sum = _bin(z_act.inputs[0], "elemwise_add", _is((x_parts, 1)), _is((h_parts, 1)))
    fcs = [_op(s.inputs[0], "FullyConnected") for s in (x_parts, h_parts)]
    if r_sum is None or z_sum is None or None in fcs or fcs[0] is fcs[1] \
            or not all(_fc_ok(fc) for fc in fcs) or fcs[1].inputs[0] != h:
        return None
    step = _Step("gru", out, out, h, fcs, [out, new, *one_minus, n_act, keep, z_act, n_sum,
                                          r_mul, r_act, r_sum[0], z_sum[0], x_parts, h_parts,
                                          *fcs])
    step.set_h2h(fcs[1])
    return step


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
    """Make ``step`` follow ``prev``, whose state it reads, if both are of one kind and use
    the same parameters; an LSTM step must also read prev's ``h'``, and be the only reader of
    prev's ``c'`` (a chain's first LSTM step learns here which of its FullyConnected is
    ``h2h``; a GRU step reads prev's ``h'`` only, and knows its ``h2h`` from its shape)."""
    if step.kind != prev.kind:
        return False
    if step.kind == "lstm":
        if any(u is not step.mf and u is not prev.tanh_c
               for u in users.get(id(prev.state), ())):
            return False
        h2h = next((fc for fc in step.fcs if fc.inputs[0] == (prev.out, 0)), None)
        if h2h is None:
            return False
        step.set_h2h(h2h)
        if prev.prev is None:   # prev's h2h: its FC with step's h2h parameters
            same = [fc for fc in prev.fcs
                    if (fc.inputs[1], fc.inputs[2]) == step.params[2:]]
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


def find_chains(nodes, heads, min_steps=2):
    """The fusable LSTM and GRU chains of a graph (``nodes`` in topological order, ``heads``
    the output entries), longest runs of linked steps of at least ``min_steps`` steps."""
    users = _consumers(nodes, heads)
    steps = {}
    for n in nodes:
        step = _match_lstm(n) or _match_gru(n)
        if step is not None and _sealed(step, users):
            steps[id(n)] = step
    by_state = {id(s.state): s for s in steps.values()}
    has_next = set()
    for step in steps.values():
        node, k = step.state_in
        prev = by_state.get(id(node)) if k == 0 else None
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
        chain = Chain(run)
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
        entries = it.inputs() if isinstance(it, Chain) else it.inputs
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


def _stack(xs):
    """The step inputs as one (steps, batch, features) tensor (as the FullyConnected flattens
    them)."""
    return torch.stack([x if x.dim() == 2 else x.reshape(x.shape[0], -1) for x in xs])


def lstm_steps(is_train, xs, h0, c0, wi, bi, wh, bh):
    """The steps of one chain: ``(h'_0, ..., h'_T-1, c'_T-1)``, by ``torch.lstm`` when the
    states have its shapes, else step by step (a first ``h`` wider than the cell's, which
    the FullyConnected flattens)."""
    x = _stack(xs)
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


def gru_steps(is_train, xs, h0, wi, bi, wh, bh):
    """The steps of one chain: ``(h'_0, ..., h'_T-1)``, by ``torch.gru``. Unlike an LSTM's,
    the first ``h`` always has its shape, (batch, hidden): ``z*h`` needs the gates' shape."""
    out, _ = torch.gru(_stack(xs), h0.unsqueeze(0), (wi, wh, bi, bh), True, 1, 0.0, is_train,
                       False, False)
    return out.unbind(0)
