"""Compiles a Symbol into straight-line Python functions of torch calls.

``compile_graph`` walks the graph once, at bind time, and emits one function per mode
(training and inference). Each op call in the generated code passes its parsed
parameters as a constant, to the op's forward specialized for them where it has one
(``OpDef.specialize``: geometry worked out at bind); nothing is looked up per node when
a step runs.
"""
import itertools
import linecache

from . import fusion

__all__ = ["compile_graph", "CompiledGraph"]

_counter = itertools.count()


class CompiledGraph:
    """The generated functions of one bound graph.

    ``train(A, X)`` returns ``(outputs, leaves)``: the head tensors and the detached,
    grad-requiring copies of the arguments in ``grad_args`` (for autograd). ``infer(A, X)``
    returns the outputs only. ``A`` and ``X`` are lists of argument and aux tensors in
    ``list_arguments()`` / ``list_auxiliary_states()`` order.
    """

    def __init__(self, train, infer, source, grad_args, devices=None, loss_input=None,
                 sparse=False):
        self.sparse = sparse
        self.train = train
        self.infer = infer
        self.source = source
        self.grad_args = grad_args
        self.devices = devices
        self.loss_input = loss_input


def node_devices(symbol, default_device, group2device):
    """``{id(node): torch.device}`` from the nodes' ``__ctx_group__`` attributes (model
    parallelism); nodes without a group (or with an unmapped one) use the default."""
    if not group2device:
        return None
    return {id(n): group2device.get(n.attrs.get("__ctx_group__"), default_device)
            for n in symbol._topo()}


def needs_shapes(symbol):
    """Whether some op of ``symbol`` takes its parameters from the inferred shapes at bind
    (``OpDef.bind_params``, e.g. ``zeros(shape=(0, H))`` whose 0 dims the graph decides)."""
    return any(n.op.bind_params is not None for n in symbol._topo() if n.op is not None)


def _emit_chain(chain, c, names, env, lines):
    """The call of one fused LSTM or GRU chain (fusion.py), numbered ``c``: its steps' ``h'``
    (and an LSTM's last ``c'``)."""
    env[f"L{c}"] = fusion.lstm_steps if chain.kind == "lstm" else fusion.gru_steps
    xs = "".join(f"{names[(id(n), k)]}, " for n, k in chain.xs)
    rest = ", ".join(names[(id(n), k)] for n, k in [*chain.begin, *chain.params])
    outs = [f"l{c}_{t}" for t in range(len(chain.outs))]
    for mode in (True, False):
        lines[mode].append(f"    {', '.join(outs)} = L{c}({mode}, ({xs}), {rest})")
    for node, var in zip(chain.outs, outs):
        names[(id(node), 0)] = var


def compile_graph(symbol, grad_args=(), monitor=False, devices=None, shapes=None, device=None,
                  loss_input=None, sparse=False, leaves_given=False, fuse=False):
    """Generate the forward functions of ``symbol``.

    Parameters
    ----------
    symbol : Symbol
    grad_args : sequence of int
        Positions (in list_arguments order) of the arguments that need gradients.
    monitor : bool
        When True, the functions take ``mon(name, tensor)``, called on every op output,
        and ``mb((node_position, name), tensor) -> tensor``, which the training function
        applies to every non-aux op input, named as its gradient
        (``<node>_backward_output<k>``; no index for a single input), so the executor can
        report the input gradients of each node (used by ``mx.mon.Monitor``).
    devices : dict of id(node) to torch.device, optional
        Placement of each node (model parallelism): an input produced on another device
        is moved with ``.to`` (autograd carries gradients back).
    shapes : dict of (node position, output index) to shape, optional
        Inferred shapes (``Symbol._infer_shapes``), given to ops with ``bind_params``.
    device : torch.device, optional
        The default device, given to ops with ``bind_params`` (they have no input to
        take it from).
    loss_input : callable(tensor, S) -> tensor, optional
        Applied to every non-label input of a loss op (the accelerators' float32 cast and
        loss scaling, see accel.py); the functions then take ``S`` after ``X``.
    leaves_given : bool
        The training function takes the gradient leaves in ``A`` (made by the caller)
        instead of detaching the arguments itself (for torch.compile, which splits its
        graph where a leaf created inside it is returned).
    sparse : bool
        Some inputs are sparse (csr): every op is called through
        :func:`mxtorch.symbol.ops.sparse.sparse_aware` (sparse forms or dense fallback).
    fuse : bool
        Run unrolled LSTM and GRU cells as one fused call per chain (fusion.py); not with
        ``monitor``, ``sparse`` or ``devices``, which need every node.
    """
    if sparse:
        from ..symbol.ops.sparse import sparse_aware
    nodes = symbol._topo()
    aux_ids = symbol._aux_ids()
    grad_args = tuple(grad_args)
    names, env, index, arg_of = {}, {}, {}, {}
    lines = {True: [], False: []}
    aux_pos = 0
    for i, n in enumerate(nodes):   # arguments and aux states in list_arguments order
        index[id(n)] = i
        if n.op is None:
            if id(n) in aux_ids:
                names[(id(n), 0)] = f"X[{aux_pos}]"
                aux_pos += 1
            else:
                arg_of[id(n)] = len(arg_of)
                names[(id(n), 0)] = f"a{arg_of[id(n)]}"
    order = nodes
    if fuse and not (monitor or sparse or devices is not None):
        chains = fusion.find_chains(nodes, symbol._outputs)
        order = (fusion.schedule(nodes, symbol._outputs, chains) if chains else None) or nodes
    for n in order:
        if isinstance(n, fusion.Chain):
            _emit_chain(n, index[id(n.outs[-1])], names, env, lines)
            continue
        if n.op is None:
            if id(n) in aux_ids:
                continue
            pos = arg_of[id(n)]
            var = f"a{pos}"
            lines[False].append(f"    {var} = A[{pos}]")
            if pos in grad_args and not leaves_given:
                lines[True].append(f"    {var} = A[{pos}].detach().requires_grad_()")
            else:
                lines[True].append(f"    {var} = A[{pos}]")
            continue
        i = index[id(n)]
        env[f"F{i}"] = sparse_aware(n.op) if sparse else n.op.node_forward(n.params)
        env[f"P{i}"] = n.params
        bind_params = n.op.bind_params
        if bind_params is not None:
            dev = devices[id(n)] if devices is not None else device
            env[f"P{i}"] = bind_params(n.params, [(shapes or {}).get((i, k))
                                                  for k in range(n.num_outputs())], dev)
        refs = []
        for s, k in n.inputs:
            ref = names[(id(s), k)]
            if devices is not None and devices[id(s)] != devices[id(n)]:
                env[f"D{i}"] = devices[id(n)]
                ref = f"{ref}.to(D{i})"
            refs.append(ref)
        if loss_input is not None and n.op.is_loss:
            env["LI"] = loss_input
            labels = set(n.op.label_inputs)
            names_in = n.op.input_names(n.params, len(refs))
            refs = [f"LI({r}, S)" if j < len(names_in) and names_in[j] not in labels else r
                    for j, r in enumerate(refs)]
        args = train_args = ", ".join(refs)
        if monitor:
            aux_in = set(n.aux_positions())
            nin = len(refs) - len(aux_in)
            wrapped = []
            for j, ref in enumerate(refs):
                if j not in aux_in:
                    env[f"B{i}_{j}"] = (i, f"{n.name}_backward_output{j if nin > 1 else ''}")
                    ref = f"mb(B{i}_{j}, {ref})"
                wrapped.append(ref)
            train_args = ", ".join(wrapped)
        nout = n.num_outputs()
        outs = [f"n{i}_{k}" for k in range(nout)]
        target = outs[0] if nout == 1 else ", ".join(outs)
        for mode in (True, False):
            lines[mode].append(f"    {target} = F{i}(P{i}, {mode}, {train_args if mode else args})")
            if monitor:
                for k in range(nout):
                    env[f"N{i}_{k}"] = n.output_name(k)
                    lines[mode].append(f"    mon(N{i}_{k}, {outs[k]})")
        for k, o in enumerate(outs):
            names[(id(n), k)] = o
    heads = ", ".join(names[(id(n), k)] for n, k in symbol._outputs)
    leaves = ", ".join(f"a{j}" for j in grad_args)
    sig = "A, X" + (", S" if loss_input is not None else "") + (", mon, mb" if monitor else "")
    src = [f"def train({sig}):"] + lines[True] + [f"    return ({heads},), ({leaves}{',' if leaves else ''})",
                                                   f"def infer({sig}):"] + lines[False] + [f"    return ({heads},)"]
    source = "\n".join(src) + "\n"
    filename = f"<mxtorch-graph-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), env)  # noqa: S102 - code generated from our graph
    return CompiledGraph(env["train"], env["infer"], source, grad_args, devices, loss_input,
                         sparse)
