"""Executor: a Symbol bound to arrays on one context, running the compiled graph.

Owns the argument, gradient and aux arrays of one device and the generated forward
functions (see codegen). Backward is torch autograd from the heads to the arguments
that need gradients; loss heads supply MXNet's own gradients and ignore head grads.
Gradients are written ('write') or accumulated ('add') into fixed gradient arrays in one
foreach call.
"""
import operator

import numpy as np
import torch

from ..base import (MXNetValueError, MXNetTypeError, MXNetKeyError, ShapeError, StateError, np_dtype,
                    torch_dtype)
from ..context import Context, current_context
from ..ndarray.ndarray import NDArray, _as_tensor
from ..ndarray import sparse as _sparse
from ..symbol.ops.sparse import rsp_grad_names, var_stypes
from .codegen import compile_graph, node_devices, needs_shapes

__all__ = ["Executor"]

_REQS = ("write", "add", "null")


def _as_list(values, names, what, allow_missing=False):
    """Align a list or dict of arrays with ``names``."""
    if values is None:
        return [None] * len(names)
    if isinstance(values, dict):
        unknown = set(values) - set(names)
        if unknown:
            raise MXNetKeyError(f"{what}: {sorted(unknown)} are not in {names}")
        if not allow_missing:
            missing = [n for n in names if n not in values]
            if missing:
                raise MXNetValueError(f"{what}: missing arrays for {missing}; give one per name "
                                      f"of {names}")
        return [values.get(n) for n in names]
    values = list(values)
    if len(values) != len(names):
        raise MXNetValueError(f"{what}: {len(values)} arrays given for {len(names)} names {names}")
    return values


def _reqs(grad_req, names):
    if isinstance(grad_req, str):
        reqs = [grad_req] * len(names)
    elif isinstance(grad_req, dict):
        reqs = [grad_req.get(n, "null") for n in names]
    else:
        reqs = list(grad_req)
        if len(reqs) != len(names):
            raise MXNetValueError(f"grad_req: {len(reqs)} entries for {len(names)} arguments")
    for r in reqs:
        if r not in _REQS:
            raise MXNetValueError(f"grad_req must be one of {_REQS}, got {r!r}")
    return reqs


def _grad(heads, leaves, head_grads):
    """``torch.autograd.grad(heads, leaves, head_grads, allow_unused=True)`` without its
    per-call argument checks (the executor has checked the head gradients' shapes and
    dtypes already); falls back to the public call where torch lacks the engine entry."""
    if _engine_run_backward is None:
        return torch.autograd.grad(heads, leaves, head_grads, allow_unused=True)
    return _engine_run_backward(heads, head_grads, False, False, leaves, True,
                                accumulate_grad=False)


_tensor_of = operator.attrgetter("_data")   # NDArray -> its tensor, mapped in C
_grad_enabled = torch.is_grad_enabled
_set_grad_enabled = torch._C._set_grad_enabled   # what torch.set_grad_enabled calls

try:   # the engine call torch.autograd.grad makes after validating its arguments
    from torch.autograd.graph import _engine_run_backward
except ImportError:  # pragma: no cover  (older or newer torch)
    _engine_run_backward = None


def _check_unique(names):
    """Refuse a graph where two different variables share a name (MXNet fails later with
    'Input argument NDArray cannot be un-allocated')."""
    seen, dups = set(), []
    for n in names:
        if n in seen and n not in dups:
            dups.append(n)
        seen.add(n)
    if dups:
        raise MXNetValueError(f"bind: the symbol has several different variables named "
                              f"{dups}; a name must identify one input: give each "
                              "mx.sym.Variable its own name (or reuse the same Variable)")


class Executor:
    """A bound symbol on one context.

    Parameters
    ----------
    symbol : Symbol
    ctx : Context
    args : list or dict of NDArray
        Argument arrays (in ``list_arguments()`` order for a list).
    args_grad : list or dict of NDArray, optional
        Gradient arrays; arguments without one get no gradient.
    grad_req : str, list or dict
        'write', 'add' or 'null', globally or per argument.
    aux_states : list or dict of NDArray, optional
        Auxiliary state arrays; missing ones are allocated with zeros.
    group2ctx : dict of str to Context, optional
        Model parallelism: the context of each ``ctx_group``.
    accel : Accelerate, optional
        Opt-in accelerators (see accel.py and Module's arguments); None: the plain
        generated functions.
    """

    def __init__(self, symbol, ctx, args, args_grad=None, grad_req="write", aux_states=None,
                 group2ctx=None, _graph=None, accel=None, _shapes=None):
        self._symbol = symbol
        self._ctx = ctx if isinstance(ctx, Context) else current_context()
        self._arg_names = symbol.list_arguments()
        self._aux_names = symbol.list_auxiliary_states()
        _check_unique(self._arg_names + self._aux_names)
        self.arg_arrays = _as_list(args, self._arg_names, "bind: args")
        for name, a in zip(self._arg_names, self.arg_arrays):
            if not isinstance(a, NDArray):
                raise MXNetTypeError(f"bind: argument {name!r} must be an NDArray, got "
                                     f"{type(a).__name__}")
        grads = _as_list(args_grad, self._arg_names, "bind: args_grad", allow_missing=True)
        reqs = _reqs(grad_req, self._arg_names)
        self._grad_req = {n: (r if g is not None else "null")
                          for n, r, g in zip(self._arg_names, reqs, grads)}
        self.grad_arrays = [g if self._grad_req[n] != "null" else None
                            for n, g in zip(self._arg_names, grads)]
        aux = _as_list(aux_states, self._aux_names, "bind: aux_states", allow_missing=True)
        if any(a is None for a in aux):
            shapes = symbol.infer_shape(**{n: a.shape for n, a in zip(self._arg_names,
                                                                       self.arg_arrays)})[2]
            aux = [a if a is not None else NDArray(torch.zeros(
                s, device=self._ctx.torch_device), self._ctx) for a, s in zip(aux, shapes or
                                                                           [()] * len(aux))]
        self.aux_arrays = aux
        grad_pos = [i for i, n in enumerate(self._arg_names) if self._grad_req[n] != "null"]
        self._group2ctx = dict(group2ctx or {})
        devices = node_devices(symbol, self._ctx.torch_device,
                               {g: c.torch_device for g, c in self._group2ctx.items()})
        self._bind_shapes = None
        if needs_shapes(symbol):  # constants whose shapes follow the bound arrays
            self._bind_shapes = _shapes if _shapes is not None else symbol._infer_shapes(
                symbol._topo(), {n: a.shape for n, a in zip(self._arg_names, self.arg_arrays)},
                {n: np_dtype(a._data.dtype) for n, a in zip(self._arg_names,
                                                            self.arg_arrays)})[0]
            _graph = None
        loss_input = accel.loss_input if accel is not None else None
        # sparse storage: csr inputs make every op sparse-aware; row_sparse gradients
        # (csr dot, sparse embeddings, row_sparse variables) are stored as such
        sparse_in = any(a._data.layout is not torch.strided for a in self.arg_arrays)
        self._rsp_grads = rsp_grad_names(symbol) if grad_pos else set()
        self._sparse_grads = bool(self._rsp_grads) or sparse_in
        if _graph is None or _graph.grad_args != tuple(grad_pos) or _graph.devices != devices \
                or _graph.loss_input is not loss_input or _graph.sparse != sparse_in:
            _graph = compile_graph(symbol, grad_pos, devices=devices, shapes=self._bind_shapes,
                                   device=self._ctx.torch_device, loss_input=loss_input,
                                   sparse=sparse_in, fuse=True)
        self._graph = _graph
        self._accel = accel
        self._grad_pos = grad_pos
        self._write_pos = [j for j, i in enumerate(grad_pos)
                           if self._grad_req[self._arg_names[i]] == "write"]
        self._add_pos = [j for j, i in enumerate(grad_pos)
                         if self._grad_req[self._arg_names[i]] == "add"]
        self._is_loss = [n.op is not None and n.op.is_loss for n, _ in symbol._outputs]
        self._output_names = symbol.list_outputs()
        self._pending = None
        self._monitor = None
        self._monitor_graph = None
        self._backward_taps = []
        self.outputs = []
        self._run = _graph        # what forward calls: the graph, or its accelerated wrapper
        self._scale = None
        if accel is not None:
            accel.prepare_arrays(self)
            self._run = accel.wrap(_graph, self)
            if accel.scaler is not None:
                self._scale = accel.scaler.tensor(self._ctx.torch_device)
            if accel.cuda_graphs:
                from .accel import CudaGraphStep
                step = CudaGraphStep(self)
                self.forward, self.backward = step.forward, step.backward

    # ------------------------------------------------------------------ construction
    @classmethod
    def simple_bind(cls, symbol, ctx, grad_req="write", type_dict=None, shapes=None,
                    shared_exec=None, shared_arg_names=None, shared_buffer=None,
                    group2ctx=None, accel=None, stype_dict=None):
        """Allocate every array from input shapes (and dtypes) and bind.

        Arrays of ``shared_arg_names`` (and their gradients) are taken from
        ``shared_exec`` when it has them with the same shape; other inputs reuse arrays of
        ``shared_buffer`` (a dict, filled with what is allocated) when big enough.
        ``group2ctx`` maps ``ctx_group`` attributes to contexts (model parallelism): each
        variable is allocated on its group's context. ``accel``: see the constructor.
        """
        _check_unique(symbol.list_arguments() + symbol.list_auxiliary_states())
        shapes = dict(shapes or {})
        nodes = symbol._topo()
        known_types = {k: v for k, v in (type_dict or {}).items() if v is not None}
        inferred, types_ = symbol._infer_shapes(nodes, shapes, known_types)
        arg_shapes, _, aux_shapes = symbol._collect(nodes, inferred, lambda s: s)
        arg_types, _, aux_types = symbol._collect(nodes, types_, lambda t: t)
        arg_names, aux_names = symbol.list_arguments(), symbol.list_auxiliary_states()
        missing = [n for n, s in zip(arg_names + aux_names, arg_shapes + aux_shapes)
                   if s is None or not all(d > 0 for d in s)]
        if missing:
            partial = {n: s for n, s in zip(arg_names + aux_names, arg_shapes + aux_shapes)
                       if n in missing}
            raise ShapeError(f"simple_bind: cannot infer the shapes of {partial} from the given "
                             f"input shapes {shapes}; give the shapes of the data inputs "
                             "(or a shape= on those variables)")
        reqs = dict(zip(arg_names, _reqs(grad_req, arg_names)))
        shared = set(shared_arg_names or [])
        args, grads, aux = [], {}, []
        group2ctx = dict(group2ctx or {})
        var_ctx = {n.name: group2ctx.get(n.attrs.get("__ctx_group__"), ctx)
                   for n in nodes if n.op is None}

        stypes = var_stypes(symbol)
        stypes.update(stype_dict or {})

        def alloc(shape, dtype, name, grad=False):
            c = var_ctx[name]
            stype = stypes.get(name, "default")
            if stype == "csr" or (grad and stype == "row_sparse"):
                return _sparse.zeros(stype, shape, ctx=c, dtype=dtype or np.float32)
            return NDArray(torch.zeros(shape, dtype=torch_dtype(dtype or np.float32),
                                       device=c.torch_device), c)

        for n, s, t in zip(arg_names, arg_shapes, arg_types):
            if shared_exec is not None and n in shared and n in shared_exec.arg_dict and \
                    shared_exec.arg_dict[n].shape == tuple(s):
                args.append(shared_exec.arg_dict[n])
                if reqs[n] != "null" and shared_exec.grad_dict.get(n) is not None:
                    grads[n] = shared_exec.grad_dict[n]
                    continue
            elif shared_buffer is not None and n not in shared and n in shared_buffer and \
                    shared_buffer[n].size >= int(np.prod(s)) and \
                    shared_buffer[n]._data.dtype == torch_dtype(t or np.float32):
                buf = shared_buffer[n]
                args.append(NDArray(buf._data.reshape(-1)[:int(np.prod(s))].view(s), ctx))
            else:
                a = alloc(s, t, n)
                args.append(a)
                if shared_buffer is not None and n not in shared:
                    shared_buffer[n] = a
            if reqs[n] != "null":
                grads[n] = alloc(s, t, n, grad=True)
        for n, s, t in zip(aux_names, aux_shapes, aux_types):
            if shared_exec is not None and n in shared_exec.aux_dict and \
                    shared_exec.aux_dict[n].shape == tuple(s):
                aux.append(shared_exec.aux_dict[n])
            else:
                aux.append(alloc(s, t, n))
        return cls(symbol, ctx, args, grads, reqs, aux, group2ctx=group2ctx, accel=accel,
                   _shapes=inferred)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for new input shapes, sharing this one's parameter arrays.

        Arguments whose shape is unchanged keep their arrays (and gradients); inputs named
        in ``kwargs`` get new arrays. A parameter whose shape would change raises unless
        ``partial_shaping``.
        """
        shapes = {n: a.shape for n, a in zip(self._arg_names, self.arg_arrays)}
        shapes.update({k: tuple(v) for k, v in kwargs.items()})
        nodes = self._symbol._topo()
        inferred, types_ = self._symbol._infer_shapes(
            nodes, {k: tuple(v) for k, v in kwargs.items()},
            {n: np_dtype(a._data.dtype) for n, a in
             zip(self._arg_names, self.arg_arrays) if n in kwargs})
        arg_shapes, _, aux_shapes = self._symbol._collect(nodes, inferred, lambda s: s)
        args, grads, aux = [], {}, []
        for n, a, s in zip(self._arg_names, self.arg_arrays, arg_shapes):
            g = self.grad_dict.get(n)
            if s is None or tuple(s) == a.shape:
                args.append(a)
                if g is not None:
                    grads[n] = g
                continue
            if n not in kwargs and not partial_shaping:
                raise ShapeError(f"reshape: the shape of {n!r} would change from {a.shape} to "
                                 f"{tuple(s)}; pass partial_shaping=True to allow it")
            args.append(NDArray(torch.zeros(s, dtype=a._data.dtype, device=a._data.device),
                                a.context))
            if g is not None:
                grads[n] = NDArray(torch.zeros(s, dtype=g._data.dtype, device=g._data.device),
                                   g.context)
        for a, s in zip(self.aux_arrays, aux_shapes):
            aux.append(a)
        ex = Executor(self._symbol, self._ctx, args, grads, self._grad_req, aux,
                      group2ctx=self._group2ctx, _graph=self._graph, accel=self._accel)
        if self._monitor is not None:
            ex.set_monitor_callback(*self._monitor)
        return ex

    # ------------------------------------------------------------------ views
    @property
    def arg_dict(self):
        return dict(zip(self._arg_names, self.arg_arrays))

    @property
    def grad_dict(self):
        return dict(zip(self._arg_names, self.grad_arrays))

    @property
    def aux_dict(self):
        return dict(zip(self._aux_names, self.aux_arrays))

    @property
    def output_dict(self):
        return dict(zip(self._output_names, self.outputs))

    @property
    def grad_req(self):
        return dict(self._grad_req)

    def debug_str(self):
        """The generated forward code and the memory held by the arrays."""
        total = sum(a.size * a._data.element_size() for a in
                    self.arg_arrays + [g for g in self.grad_arrays if g is not None] +
                    self.aux_arrays)
        return self._graph.source + f"Total {total / 2**20:.0f} MB allocated\n"

    # ------------------------------------------------------------------ running
    def forward(self, is_train=False, **kwargs):
        """Run the graph. ``kwargs`` are copied into the named argument arrays first.

        Returns the list of output NDArrays (also in ``outputs``).
        """
        if kwargs:
            for name, value in kwargs.items():
                if name not in self._grad_req:
                    raise MXNetKeyError(f"forward: unknown argument {name!r}; arguments are "
                                        f"{self._arg_names}")
                self.arg_dict[name][:] = value
        A = list(map(_tensor_of, self.arg_arrays))
        X = list(map(_tensor_of, self.aux_arrays))
        if self._monitor is None:
            graph, extra = self._run, ()
        else:
            graph, extra = self._monitor_graph, (self._monitor_call, self._monitor_input)
            self._backward_taps = []
        train = is_train and self._grad_pos
        # grad mode set directly: torch.no_grad()/enable_grad() cost several Python calls
        prev = _grad_enabled()
        _set_grad_enabled(bool(train))
        try:
            if train:
                outs, leaves = graph.train(A, X, *extra)
            elif is_train:
                outs = graph.train(A, X, *extra)[0]
            else:
                outs = graph.infer(A, X, *extra) if extra else graph.infer(A, X)
        finally:
            _set_grad_enabled(prev)
        self._pending = (outs, leaves) if train else None
        handles = self.outputs
        if len(outs) == 1 and len(handles) == 1:   # _set_outputs' common case, inlined
            o = outs[0]
            handles[0]._data = o.detach() if o.requires_grad else o
        else:
            self._set_outputs(outs)
        return self.outputs

    def _set_outputs(self, outs):
        if len(self.outputs) != len(outs):
            self.outputs = [NDArray(o.detach(), self._ctx) for o in outs]
        else:
            for h, o in zip(self.outputs, outs):
                h._data = o.detach() if o.requires_grad else o

    def backward(self, out_grads=None, is_train=True):
        """Compute gradients of the last ``forward(is_train=True)``.

        Loss heads use their own gradient; every other head needs its gradient in
        ``out_grads`` (an NDArray or a list in output order).
        """
        if self._pending is None:
            if not self._grad_pos:
                return
            raise StateError("backward: no pending training forward; call "
                             "forward(is_train=True) before each backward")
        outs, leaves = self._pending
        self._pending = None
        if out_grads is not None and not isinstance(out_grads, (list, tuple)):
            out_grads = [out_grads]
        heads, head_grads = [], []
        for i, o in enumerate(outs):
            if not o.requires_grad:
                continue
            if self._is_loss[i]:
                heads.append(o)
                head_grads.append(o.new_ones(()).expand(o.shape))
                continue
            g = out_grads[i] if out_grads is not None and i < len(out_grads) else None
            if g is None:
                raise MXNetValueError(
                    f"backward: output {self._output_names[i]!r} is not a loss head, so its "
                    "gradient must be given: backward(out_grads=[...]) (one per output)")
            g = _as_tensor(g, device=o.device, dtype=o.dtype)
            if tuple(g.shape) != tuple(o.shape):
                raise ShapeError(f"backward: out_grads[{i}] has shape {tuple(g.shape)}, output "
                                 f"{self._output_names[i]!r} has shape {tuple(o.shape)}")
            if self._scale is not None:   # fp16 loss scaling (accel.py)
                g = g * self._scale.to(g.dtype)
            heads.append(o)
            head_grads.append(g)
        if heads:
            grads = _grad(tuple(heads), tuple(leaves), tuple(head_grads))
        else:
            grads = [None] * len(leaves)
        if self._monitor is not None:
            self._report_backward()
        self._store_grads(grads)

    def _store_grads(self, grads):
        """Write ('write': take the tensor) or add ('add') autograd's gradients, one per
        position of ``_grad_pos``, into the gradient arrays."""
        arrays = self.grad_arrays
        pos = self._grad_pos
        if self._sparse_grads:
            self._store_sparse_grads(grads)
            return
        seen = set()
        for j in self._write_pos:
            # 'write' takes autograd's fresh gradient tensor (no copy); a gradient that is
            # a broadcast view, or that another argument also received, is made its own
            g = grads[j]
            h = arrays[pos[j]]
            if g is None:
                g = torch.zeros_like(h._data)
            elif id(g) in seen or not (g.is_contiguous() or
                                       g.is_contiguous(memory_format=torch.channels_last)):
                g = g.clone(memory_format=torch.contiguous_format)
            seen.add(id(g))
            h._data = g
        if self._add_pos:
            bufs = [arrays[i]._data for i in pos]
            with torch.no_grad():
                pairs = [(bufs[j], grads[j]) for j in self._add_pos if grads[j] is not None]
                if pairs:
                    torch._foreach_add_([p[0] for p in pairs], [p[1] for p in pairs])

    def _store_sparse_grads(self, grads):
        """Store the gradients of a graph with sparse storage: row_sparse ones (coalesced;
        a dense gradient of a row_sparse variable keeps every row, as all its rows are
        stored) into row_sparse arrays, the others dense; 'add' accumulates."""
        for j, i in enumerate(self._grad_pos):
            name, h = self._arg_names[i], self.grad_arrays[i]
            g = grads[j]
            rsp = name in self._rsp_grads
            if g is None:
                g = _sparse.zeros("row_sparse" if rsp else "default", h.shape,
                                  dtype=h._data.dtype, ctx=h._data.device)._data
            if g.layout is not torch.strided:
                g = g.coalesce()
                rsp = True
            elif rsp:
                g = _sparse.dense_to_rsp(g, all_rows=True)
            if self._grad_req[name] == "add":
                g = torch.add(h._data, g).coalesce() if (rsp and h.stype == "row_sparse") \
                    else torch.add(_sparse.to_dense(h._data), _sparse.to_dense(g))
                rsp = g.layout is not torch.strided
            elif not rsp and not g.is_contiguous():
                g = g.contiguous()
            _sparse.rebind(h, g)

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copy values (cast to each array's dtype) into the argument and aux arrays."""
        arg_dict, aux_dict = self.arg_dict, self.aux_dict
        for name, value in (arg_params or {}).items():
            if name in arg_dict:
                _copy_into(arg_dict[name], value, name)
            elif not allow_extra_params:
                raise MXNetValueError(f'Find name "{name}" that is not in the arguments; pass '
                                      "allow_extra=True to ignore it")
        for name, value in (aux_params or {}).items():
            if name in aux_dict:
                _copy_into(aux_dict[name], value, name)
            elif not allow_extra_params:
                raise MXNetValueError(f'Find name "{name}" that is not in the auxiliary states; '
                                      "pass allow_extra=True to ignore it")

    def set_monitor_callback(self, callback, monitor_all=False):
        """Call ``callback(name, NDArray)`` on every op output of each forward and on
        every op input gradient of each backward (``<node>_backward_output<k>``)."""
        self._monitor = (callback, monitor_all)
        self._monitor_graph = compile_graph(self._symbol, self._grad_pos, monitor=True,
                                            devices=self._graph.devices,
                                            shapes=self._bind_shapes,
                                            device=self._ctx.torch_device,
                                            loss_input=self._graph.loss_input,
                                            sparse=self._graph.sparse)
        if self._accel is not None:   # autocast and channels_last; compile would break
            self._monitor_graph = self._accel.wrap(self._monitor_graph, self, compile=False)

    def _monitor_call(self, name, tensor):
        self._monitor[0](name, NDArray(tensor.detach(), self._ctx))

    def _monitor_input(self, key, tensor):
        """Tap one op input of a monitored training forward (``key``: node position and
        gradient name): the op gets an alias whose gradient (this op's share only) is
        kept for :meth:`_report_backward`."""
        tap = [key, tensor, None]
        self._backward_taps.append(tap)
        if not tensor.requires_grad:
            return tensor
        alias = tensor.view_as(tensor)
        alias.register_hook(lambda g: tap.__setitem__(2, g))
        return alias

    def _report_backward(self):
        """Report the input gradients of each op, in backward (reverse node) order, as
        MXNet's ``<node>_backward_output<k>``; inputs without a gradient (labels, data
        without inputs_need_grad) report zeros (MXNet reports unwritten memory)."""
        taps, self._backward_taps = self._backward_taps, []
        callback = self._monitor[0]
        taps.sort(key=lambda tap: -tap[0][0])  # stable: input order kept within a node
        for (_, name), tensor, grad in taps:
            g = grad if grad is not None else torch.zeros_like(tensor)
            callback(name, NDArray(g.detach(), self._ctx))


def _copy_into(dst, value, name):
    src = value._data if isinstance(value, NDArray) else _as_tensor(value)
    src = _sparse.to_dense(src)
    if tuple(src.shape) != dst.shape:
        raise ShapeError(f"parameter {name!r}: shape {tuple(src.shape)} given, the bound array "
                         f"has shape {dst.shape}")
    with torch.no_grad():
        dst._data.copy_(src)
