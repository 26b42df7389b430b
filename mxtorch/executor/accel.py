"""Opt-in accelerators of a bound graph: torch.compile, autocast (bf16/fp16) with loss
scaling, channels_last and CUDA graphs.

``Accelerate`` validates the options (Module's keyword arguments) and wraps an executor's
generated functions once, at bind; ``LossScaler`` owns the fp16 loss scale;
``CudaGraphStep`` replays an executor's forward and backward from captured CUDA graphs.
When every option is off, Module keeps ``None`` and nothing here runs.
"""
import inspect
import math

import torch

from ..base import MXNetTypeError, MXNetValueError, StateError, np_dtype, torch_dtype
from .codegen import CompiledGraph, compile_graph
from .executor import Executor, _grad

__all__ = ["Accelerate", "LossScaler", "CudaGraphStep", "make_accelerate"]

_AUTOCAST = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
             "fp16": torch.float16, "float16": torch.float16}
_HALF = (torch.float16, torch.bfloat16)
_COMPILE_KEYS = tuple(k for k in inspect.signature(torch.compile).parameters if k != "model")
_SCALER_KEYS = ("init_scale", "growth_interval", "growth_factor", "backoff_factor")


class LossScaler:
    """The fp16 loss scale: gradients are computed for ``loss * scale`` and unscaled at the
    update; a step whose gradients hold inf/nan is skipped.

    Dynamic scaling (torch.amp.GradScaler's rule): an overflow multiplies the scale by
    ``backoff_factor``; ``growth_interval`` steps in a row without one multiply it by
    ``growth_factor``. A static scale never changes.

    Parameters
    ----------
    init_scale : float, default 2.**16
    growth_interval : int, default 2000
    growth_factor : float, default 2.0
    backoff_factor : float, default 0.5
    dynamic : bool, default True

    Raises
    ------
    MXNetValueError
        For a scale that is not a positive finite number, ``growth_interval < 1``,
        ``growth_factor <= 1`` or ``backoff_factor`` outside (0, 1).
    """

    def __init__(self, init_scale=2.0 ** 16, growth_interval=2000, growth_factor=2.0,
                 backoff_factor=0.5, dynamic=True):
        _check_positive("loss_scale", init_scale)
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) or \
                growth_interval < 1:
            raise MXNetValueError(f"loss_scale: invalid growth_interval {growth_interval!r}; "
                                  "it must be an int >= 1")
        _check_positive("growth_factor", growth_factor)
        _check_positive("backoff_factor", backoff_factor)
        if growth_factor <= 1 or not 0 < backoff_factor < 1:
            raise MXNetValueError(f"loss_scale: growth_factor must be > 1 and backoff_factor "
                                  f"in (0, 1), got {growth_factor} and {backoff_factor}")
        self.scale = float(init_scale)
        self.dynamic = dynamic
        self.growth_interval = growth_interval
        self.growth_factor = float(growth_factor)
        self.backoff_factor = float(backoff_factor)
        self.good_steps = 0
        self.skipped = 0
        self._tensors = {}

    def tensor(self, device):
        """The scale as a 0-d float32 tensor on ``device`` (one per device, kept: the
        compiled and captured graphs read it, so it is refilled, never replaced)."""
        t = self._tensors.get(device)
        if t is None:
            t = self._tensors[device] = torch.full((), self.scale, dtype=torch.float32,
                                                   device=device)
        return t

    def _set(self, scale):
        self.scale = scale
        for t in self._tensors.values():
            t.fill_(scale)

    def has_overflow(self, grad_lists):
        """Whether any gradient holds inf or nan (one host sync per device)."""
        for grads in grad_lists:
            grads = [g for g in grads if g is not None]
            if grads:
                norms = torch._foreach_norm(grads, math.inf)
                if not bool(torch.stack([n.float() for n in norms]).isfinite().all()):
                    return True
        return False

    def step_done(self, overflow):
        """Record one step: back off after an overflow (dynamic), grow after
        ``growth_interval`` clean steps."""
        if overflow:
            self.skipped += 1
            self.good_steps = 0
            if self.dynamic:
                self._set(self.scale * self.backoff_factor)
            return
        self.good_steps += 1
        if self.dynamic and self.good_steps >= self.growth_interval:
            self.good_steps = 0
            self._set(self.scale * self.growth_factor)

    def __repr__(self):
        kind = "dynamic" if self.dynamic else "static"
        return f"LossScaler({kind}, scale={self.scale})"


class _ScaleGrad(torch.autograd.Function):
    """Identity forward; the gradient is multiplied by the scale ``s`` (a 0-d tensor)."""

    @staticmethod
    def forward(ctx, x, s):
        ctx.save_for_backward(s)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * s.to(g.dtype), None


def _loss_input_cast(x, s):
    """Loss ops run in float32 under autocast (as torch's autocast runs softmax and the
    losses)."""
    return x.float() if x.dtype in _HALF else x


def _loss_input_scaled(x, s):
    return _ScaleGrad.apply(x.float() if x.dtype in _HALF else x, s)


class Accelerate:
    """The opt-in accelerators of a Module (its keyword arguments of the same names).

    Parameters
    ----------
    compile : bool or dict, default False
        ``torch.compile`` the bound graph's forward (its backward follows through
        AOTAutograd), once per bound shape; a dict gives torch.compile's keywords
        (``mode``, ``backend``, ``fullgraph``, ``dynamic``, ``options``).
    autocast : None, 'bf16' or 'fp16', default None
        Run the graph under ``torch.autocast`` in that precision; parameters, gradients,
        loss ops and outputs stay float32.
    loss_scale : None, False, 'dynamic', float or dict, default None
        fp16 only: None means 'dynamic'; a number is a static scale; a dict sets the
        dynamic scaler (``init_scale``, ``growth_interval``, ``growth_factor``,
        ``backoff_factor``); False turns scaling off.
    channels_last : bool, default False
        4-D inputs and parameters in ``torch.channels_last`` memory format.
    cuda_graphs : bool, default False
        Capture forward and backward of each static shape in CUDA graphs (GPU contexts).

    Raises
    ------
    MXNetTypeError / MXNetValueError
        For a value of the wrong type or out of range; the message names the fix.
    """

    def __init__(self, compile=False, autocast=None, loss_scale=None, channels_last=False,
                 cuda_graphs=False):
        if isinstance(compile, dict):
            unknown = sorted(set(compile) - set(_COMPILE_KEYS))
            if unknown:
                raise MXNetValueError(f"compile: unknown torch.compile keywords {unknown}; "
                                      f"choose from {list(_COMPILE_KEYS)}")
            compile_kwargs = dict(compile)
        elif isinstance(compile, bool):
            compile_kwargs = {} if compile else None
        else:
            raise MXNetTypeError(f"compile must be True, False or a dict of torch.compile "
                                 f"keywords, got {compile!r}")
        if autocast is not None and not isinstance(autocast, str):
            raise MXNetTypeError(f"autocast must be None, 'bf16' or 'fp16', got {autocast!r}")
        if autocast is not None and autocast.lower() not in _AUTOCAST:
            raise MXNetValueError(f"autocast: unknown precision {autocast!r}; use 'bf16' "
                                  "(any device with bfloat16) or 'fp16' (with loss scaling), "
                                  "or None for float32")
        dtype = _AUTOCAST[autocast.lower()] if autocast is not None else None
        for name, value in (("channels_last", channels_last), ("cuda_graphs", cuda_graphs)):
            if not isinstance(value, bool):
                raise MXNetTypeError(f"{name} must be True or False, got {value!r}")
        self.scaler = self._make_scaler(loss_scale, dtype)
        if cuda_graphs and compile_kwargs is not None:
            raise MXNetValueError("compile and cuda_graphs: pass one of them; for both, use "
                                  "compile={'mode': 'reduce-overhead'}, which captures CUDA "
                                  "graphs itself")
        self.compile = compile_kwargs
        self.autocast = dtype
        self.channels_last = channels_last
        self.cuda_graphs = cuda_graphs

    @staticmethod
    def _make_scaler(loss_scale, dtype):
        if loss_scale is False or (loss_scale is None and dtype != torch.float16):
            return None
        if dtype != torch.float16:
            raise MXNetValueError(f"loss_scale={loss_scale!r} needs autocast='fp16' (bf16 and "
                                  "float32 have float32's range and need no scaling); pass "
                                  "autocast='fp16' or drop loss_scale")
        if loss_scale is None or loss_scale == "dynamic":
            return LossScaler()
        if isinstance(loss_scale, dict):
            unknown = sorted(set(loss_scale) - set(_SCALER_KEYS))
            if unknown:
                raise MXNetValueError(f"loss_scale: unknown keys {unknown}; a dict sets the "
                                      f"dynamic scaler with {list(_SCALER_KEYS)}")
            return LossScaler(**loss_scale)
        if isinstance(loss_scale, str):
            raise MXNetValueError(f"loss_scale: unknown value {loss_scale!r}; use 'dynamic', "
                                  "a positive number (static scale), a dict or False")
        _check_positive("loss_scale", loss_scale)
        return LossScaler(init_scale=loss_scale, dynamic=False)

    def check_contexts(self, contexts):
        """Refuse CUDA graphs on contexts that are not GPUs."""
        if self.cuda_graphs:
            bad = [c for c in contexts if c.device_type != "gpu"]
            if bad:
                raise MXNetValueError(f"cuda_graphs=True needs GPU contexts, got {bad}; bind "
                                      "on mx.gpu(i) or pass cuda_graphs=False")

    def __repr__(self):
        on = [f"{k}={v!r}" for k, v in (("compile", self.compile), ("autocast", self.autocast),
                                       ("loss_scale", self.scaler),
                                       ("channels_last", self.channels_last),
                                       ("cuda_graphs", self.cuda_graphs))
              if v not in (None, False)]
        return f"Accelerate({', '.join(on)})"

    # ------------------------------------------------------------------ per executor
    @property
    def loss_input(self):
        """What codegen applies to loss-op inputs (None: nothing)."""
        if self.scaler is not None:
            return _loss_input_scaled
        return _loss_input_cast if self.autocast is not None else None

    def prepare_arrays(self, executor):
        """At bind: 4-D float arrays (inputs, parameters, gradients) to channels_last."""
        if not self.channels_last:
            return
        for arr in executor.arg_arrays + [g for g in executor.grad_arrays if g is not None]:
            t = arr._data
            if t.dim() == 4 and t.is_floating_point():
                arr._data = t.contiguous(memory_format=torch.channels_last)

    def wrap(self, graph, executor, compile=True):
        """``graph`` with its ``train``/``infer`` run under these accelerators: a new
        object with the same attributes (``compile=False`` for the monitor's graph)."""
        device = executor._ctx.torch_device
        scale = self.scaler.tensor(device) if self.scaler is not None else None
        takes_s = graph.loss_input is not None
        cl_pos = [i for i, a in enumerate(executor.arg_arrays)
                  if self.channels_last and a.ndim == 4 and a._data.is_floating_point()]
        out_dtypes = _output_dtypes(executor) if self.autocast is not None else None
        dtype, kind = self.autocast, device.type
        cache = not self.cuda_graphs   # autocast's weight cache cannot live in a graph
        compiled = compile and self.compile is not None
        if compiled:   # leaves made outside the compiled region (else it splits there)
            raw = compile_graph(executor._symbol, graph.grad_args, devices=graph.devices,
                                shapes=executor._bind_shapes, device=device,
                                loss_input=graph.loss_input, sparse=graph.sparse,
                                leaves_given=True, fuse=True)
            raw_train, raw_infer = raw.train, raw.infer
        else:
            raw_train, raw_infer = graph.train, graph.infer

        def run(fn, A, X, extra):
            if cl_pos:
                A = list(A)
                for i in cl_pos:
                    A[i] = A[i].contiguous(memory_format=torch.channels_last)
            args = (A, X, scale) + extra if takes_s else (A, X) + extra
            if dtype is None:
                return fn(*args)
            with torch.autocast(kind, dtype=dtype, cache_enabled=cache):
                return fn(*args)

        def train(A, X, *extra):
            outs, leaves = run(raw_train, A, X, extra)
            return _cast_outputs(outs, out_dtypes), leaves

        def infer(A, X, *extra):
            return _cast_outputs(run(raw_infer, A, X, extra), out_dtypes)

        if compiled:
            train = _with_leaves(torch.compile(_outputs_of(train), **self.compile),
                                 graph.grad_args)
            infer = torch.compile(infer, **self.compile)
        return CompiledGraph(train, infer, graph.source, graph.grad_args, graph.devices,
                             graph.loss_input, graph.sparse)


def _outputs_of(train):
    return lambda A, X: train(A, X)[0]


def _with_leaves(outputs, grad_pos):
    """A training function that makes the gradient leaves, then calls the compiled
    ``outputs(A, X)`` (taking them as inputs, so that AOTAutograd compiles the backward)."""
    def train(A, X):
        A = list(A)
        for p in grad_pos:
            A[p] = A[p].detach().requires_grad_()
        return outputs(A, X), tuple(A[p] for p in grad_pos)
    return train


def _cast_outputs(outs, dtypes):
    if dtypes is None:
        return outs
    return tuple(o.to(dt) if dt is not None and o.dtype != dt and o.is_floating_point() else o
                 for o, dt in zip(outs, dtypes))


def _output_dtypes(executor):
    """The output dtypes the graph has without autocast (from type inference)."""
    try:
        _, out_types, _ = executor._symbol.infer_type(
            **{n: np_dtype(a._data.dtype) for n, a in zip(executor._arg_names,
                                                          executor.arg_arrays)})
    except Exception:   # noqa: BLE001 - no inference: keep what autocast gives
        return None
    if out_types is None:
        return None
    return [torch_dtype(t) if t is not None else None for t in out_types]


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value <= 0:
        raise MXNetValueError(f"{name}: invalid value {value!r}; it must be a positive finite "
                              "number")


def make_accelerate(compile=False, autocast=None, loss_scale=None, channels_last=False,
                    cuda_graphs=False):
    """An :class:`Accelerate`, or None when every option is off (the default path)."""
    acc = Accelerate(compile=compile, autocast=autocast, loss_scale=loss_scale,
                     channels_last=channels_last, cuda_graphs=cuda_graphs)
    if acc.compile is None and acc.autocast is None and acc.scaler is None and \
            not acc.channels_last and not acc.cuda_graphs:
        return None
    return acc


class CudaGraphStep:
    """Forward and backward of one executor replayed from CUDA graphs.

    The first ``warmup`` calls of each kind (training, inference) run eagerly on a side
    stream; the next captures the graph (training: forward and the backward of the loss
    heads together) on static buffers, then every call copies inputs whose tensors
    changed (the iterator's batch) into those buffers and replays. The optimizer update
    is not captured (its learning rates are host numbers that change). Installed on the
    executor at bind (``executor.forward``/``backward``). The CPU tests run it against an
    emulation of torch.cuda's graphs; the real capture is tested only where a GPU is.
    """

    warmup = 3

    def __init__(self, executor):
        self.ex = executor
        self.calls = {True: 0, False: 0}
        self.graphs = {}
        self.pool = None
        self.static = set()
        self.grads = None
        self.side = None

    def forward(self, is_train=False, **kwargs):
        ex = self.ex
        train = bool(is_train and ex._grad_pos)
        if kwargs or ex._monitor is not None or (is_train and not ex._grad_pos):
            self.grads = None
            return Executor.forward(ex, is_train, **kwargs)
        entry = self.graphs.get(train)
        if entry is None:
            self.calls[train] += 1
            if self.calls[train] <= self.warmup:
                return self._eager(train)
            entry = self.graphs[train] = self._capture(train)
        graph, static_a, static_x, outs, grads = entry
        _to_static(ex.arg_arrays, static_a)
        _to_static(ex.aux_arrays, static_x)
        graph.replay()
        ex._pending = None
        self.grads = grads
        ex._set_outputs([o.clone() for o in outs])
        return ex.outputs

    def backward(self, out_grads=None, is_train=True):
        if self.grads is None:
            return Executor.backward(self.ex, out_grads, is_train)
        grads, self.grads = self.grads, None
        self.ex._store_grads(grads)

    def _eager(self, train):
        ex = self.ex
        self.grads = None
        if self.side is None:
            self.side = torch.cuda.Stream(device=ex._ctx.torch_device)
        self.side.wait_stream(torch.cuda.current_stream(ex._ctx.torch_device))
        with torch.cuda.stream(self.side):
            outs = Executor.forward(ex, train)
        torch.cuda.current_stream(ex._ctx.torch_device).wait_stream(self.side)
        if train:
            for name, o, loss in zip(ex._output_names, ex._pending[0], ex._is_loss):
                if o.requires_grad and not loss:
                    ex._pending = None
                    raise StateError(
                        f"cuda_graphs=True captures forward and backward together, so every "
                        f"output with a gradient must be a loss head; output {name!r} is not: "
                        "wrap it in BlockGrad or MakeLoss, or pass cuda_graphs=False")
        return outs

    def _own(self, arrays):
        """Static buffers for ``arrays``: the tensors they hold, copied once, so that no
        one else (an iterator, a kvstore) owns the memory the graph reads."""
        static = []
        for a in arrays:
            t = a._data
            if id(t) not in self.static:
                t = t.clone()
                a._data = t
                self.static.add(id(t))
            static.append(t)
        return static

    def _capture(self, train):
        ex = self.ex
        dev = ex._ctx.torch_device
        static_a, static_x = self._own(ex.arg_arrays), self._own(ex.aux_arrays)

        def body():
            with torch.set_grad_enabled(train):
                if not train:
                    return [o.detach() for o in ex._run.infer(static_a, static_x)], None
                outs, leaves = ex._run.train(static_a, static_x)
                heads = [o for o in outs if o.requires_grad]
                grads = (_grad(tuple(heads), tuple(leaves),
                               tuple(o.new_ones(()).expand(o.shape) for o in heads))
                         if heads else [None] * len(leaves))
                return [o.detach() for o in outs], list(grads)

        torch.cuda.synchronize(dev)
        graph = torch.cuda.CUDAGraph()
        outs, grads = _record(graph, self.pool, body)
        self.pool = graph.pool()
        return graph, static_a, static_x, outs, grads


def _record(graph, pool, body):
    """Capture ``body()`` into ``graph`` and return what it returned: the tensors every
    replay writes again."""
    with torch.cuda.graph(graph, pool=pool):
        return body()


def _to_static(arrays, static):
    for a, s in zip(arrays, static):
        if a._data is not s:
            s.copy_(a._data, non_blocking=True)
            a._data = s
