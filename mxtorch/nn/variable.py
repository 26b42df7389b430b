"""``Variable`` and the graph it roots: calling a function creates a :class:`Function`
node whose outputs are Variables; ``forward()`` runs the nodes in topological order
through torch (recording torch autograd), ``backward()`` asks torch autograd for the
gradients and writes them into ``.g``. In dynamic mode (``nn.auto_forward``) each node
runs as soon as it is created. The function library itself lives in ``functions.py``."""
import weakref

import numpy as np
import torch

from ..base import MXNetError, MXNetTypeError, MXNetValueError, StateError
from .nd_array import NdArray, as_shape
from .state import get_auto_forward

__all__ = ["Variable", "Function", "FunctionInfo", "apply_function"]


class FunctionInfo:
    """``type_name`` (e.g. 'Convolution') and ``args`` (dict) of a :class:`Function`."""

    def __init__(self, type_name, args):
        self.type_name = type_name
        self.args = dict(args)

    def __repr__(self):
        return f"FunctionInfo({self.type_name}, {self.args})"


class Function:
    """One function call in the graph.

    Attributes
    ----------
    info : FunctionInfo
    inputs : list of Variable
    outputs : list of Variable
        The outputs still alive (held weakly, so dropping them frees their data).
    """

    def __init__(self, type_name, fn, inputs, args, index_inputs=()):
        self.info = FunctionInfo(type_name, args)
        self.inputs = list(inputs)
        self._fn = fn
        self._index_inputs = frozenset(index_inputs)
        self._outputs = []
        self._in_lives = None

    @property
    def name(self):
        return self.info.type_name

    @property
    def outputs(self):
        return [o for o in (r() for r in self._outputs) if o is not None]

    def _cast(self, i, t):
        """Inputs run in float32 (as nnabla's CPU kernels do) except index inputs."""
        if i in self._index_inputs:
            return t if t.dtype == torch.long else t.long()
        return t if t.dtype == torch.float32 else t.float()

    def _call(self, tensors):
        res = self._fn(*[self._cast(i, t) for i, t in enumerate(tensors)])
        return res if isinstance(res, tuple) else (res,)

    def infer(self):
        """Output (shape, dtype) pairs, computed on torch's meta device (no data)."""
        metas = [torch.empty(v.shape, dtype=v.data.torch_dtype, device="meta")
                 for v in self.inputs]
        try:
            with torch.no_grad():
                outs = self._call(metas)
        except (NotImplementedError, RuntimeError) as e:
            if "meta" not in str(e).lower():
                raise
            with torch.no_grad():   # a kernel without a meta version: run it on zeros
                outs = self._call([torch.zeros(m.shape, dtype=m.dtype) for m in metas])
        return [(tuple(o.shape), o.dtype) for o in outs]

    def run(self):
        """Compute the outputs from the inputs' current values."""
        lives = [v._input_tensor() for v in self.inputs]
        outs = self._call(lives)
        self._in_lives = lives
        for ref, t in zip(self._outputs, outs):
            out = ref()
            if out is not None:
                out._live = t
                out._data.set_tensor(t.detach())

    def __repr__(self):
        return f"<Function {self.info.type_name}>"


def apply_function(type_name, fn, inputs, args=None, n_outputs=1, index_inputs=()):
    """Add a function node to the graph (and run it at once in dynamic mode).

    Parameters
    ----------
    type_name : str
        nnabla's name of the function ('Convolution', 'Add2', ...), used in errors.
    fn : callable
        ``fn(*tensors) -> tensor or tuple of tensors``: the torch computation.
    inputs : sequence of Variable
    args : dict, optional
        The function's arguments, kept as ``parent.info.args``.
    n_outputs : int
    index_inputs : iterable of int
        Positions of inputs holding indices (passed as int64, never cast to float).

    Returns
    -------
    Variable or tuple of Variable
    """
    for i, v in enumerate(inputs):
        if not isinstance(v, Variable):
            raise MXNetTypeError(f"function {type_name}: input {i} is a {type(v).__name__}, "
                                 "expected an nn.Variable (wrap arrays with "
                                 "nn.Variable.from_numpy_array)")
    f = Function(type_name, fn, inputs, args or {}, index_inputs)
    need_grad = any(v.need_grad for v in inputs)
    outs = [Variable._output_of(f, need_grad) for _ in range(n_outputs)]
    f._outputs = [weakref.ref(o) for o in outs]
    try:
        if get_auto_forward():
            f.run()
            specs = [(o.shape, o._data.tensor.dtype) for o in outs]
        else:
            specs = f.infer()
    except MXNetError:
        raise
    except (RuntimeError, ValueError, IndexError, TypeError) as e:
        raise _graph_error(f, e) from e
    for o, (shape, dtype) in zip(outs, specs):
        if not o._data.allocated:
            o._data = NdArray(shape, dtype)
        o._grad = NdArray(shape)
    return outs[0] if n_outputs == 1 else tuple(outs)


def _graph_error(f, e):
    shapes = ", ".join(str(v.shape) for v in f.inputs)
    return MXNetValueError(f"function {f.info.type_name} failed for inputs of shapes "
                           f"[{shapes}] with args {f.info.args}: {e}")


def _seed_tensor(grad, live, root):
    """The gradient that starts backward: a scalar, an array, or (None) the root's ``.g``."""
    if grad is None:
        return root._grad.tensor.to(live.dtype).reshape(live.shape)
    if isinstance(grad, NdArray):
        grad = grad.tensor
    t = torch.as_tensor(np.asarray(grad) if not isinstance(grad, torch.Tensor) else grad)
    if t.ndim == 0:
        return torch.full_like(live, float(t))
    if tuple(t.shape) != tuple(live.shape):
        raise MXNetValueError(f"Variable.backward: grad has shape {tuple(t.shape)} but the "
                              f"variable has shape {tuple(live.shape)}: pass a scalar or an "
                              "array of the variable's shape")
    return t.to(live.dtype)


class Variable:
    """An n-d value in the graph, with its gradient.

    Parameters
    ----------
    shape : tuple of int, default ()
    need_grad : bool or None, default None
        None means False. Whether backward computes a gradient for this variable.

    Notes
    -----
    ``.d`` and ``.g`` are numpy views of torch tensors (float32 unless an array of
    another dtype is assigned); ``.data`` and ``.grad`` are the :class:`NdArray`
    holding them. A variable made by a function has a ``parent`` (its
    :class:`Function`); ``forward()`` computes it, ``backward()`` sends gradients to
    every variable with ``need_grad`` it depends on (accumulated into leaves,
    overwritten on intermediates).
    """

    def __init__(self, shape=(), need_grad=None):
        shape = as_shape(shape)
        self._setup(bool(need_grad))
        self._data = NdArray(shape)
        self._grad = NdArray(shape)

    def _setup(self, need_grad):
        self._need_grad = need_grad
        self._parent = None
        self._live = None           # tensor of the last run (carries the autograd graph)
        self._leaf_live = None      # (data tensor, its requires_grad alias) for leaves
        self._topo = None
        self.persistent = False
        self.name = ""

    @classmethod
    def _output_of(cls, f, need_grad):
        v = cls.__new__(cls)
        v._setup(need_grad)
        v._parent = f
        v._data = NdArray(())
        v._grad = NdArray(())
        return v

    @classmethod
    def from_numpy_array(cls, data, grad=None, need_grad=None):
        """A leaf variable holding a copy of ``data`` (its dtype kept).

        Parameters
        ----------
        data : array-like
        grad : array-like, optional
            Initial gradient; must have ``data``'s shape.
        need_grad : bool or None, default None (False)
        """
        arr = np.asarray(data)
        v = cls(arr.shape, need_grad)
        v._data = NdArray.from_numpy_array(arr)
        if grad is not None:
            g = np.asarray(grad)
            if g.shape != arr.shape:
                raise MXNetValueError(f"Variable.from_numpy_array: grad has shape {g.shape} "
                                      f"but data has shape {arr.shape}; they must match")
            v._grad = NdArray.from_numpy_array(g)
        return v

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return self._data.size

    def size_from_axis(self, axis=-1):
        """Product of the dimensions from ``axis`` on (all of them for -1 or 0)."""
        axis = 0 if axis == -1 else axis
        return int(np.prod(self.shape[axis:], dtype=np.int64))

    @property
    def need_grad(self):
        return self._need_grad

    @need_grad.setter
    def need_grad(self, value):
        self._need_grad = bool(value)

    @property
    def parent(self):
        """The :class:`Function` that made this variable, or None for a leaf."""
        return self._parent

    @property
    def data(self):
        """The data :class:`NdArray`."""
        return self._data

    @data.setter
    def data(self, value):
        if not isinstance(value, NdArray):
            raise MXNetTypeError("Variable.data takes an NdArray; assign arrays through .d")
        self._data = value

    @property
    def grad(self):
        """The gradient :class:`NdArray`."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if not isinstance(value, NdArray):
            raise MXNetTypeError("Variable.grad takes an NdArray; assign arrays through .g")
        self._grad = value

    @property
    def d(self):
        """The values as a numpy view."""
        return self._data.data

    @d.setter
    def d(self, value):
        self._data.data = value

    @property
    def g(self):
        """The gradient as a numpy view."""
        return self._grad.data

    @g.setter
    def g(self, value):
        self._grad.data = value

    def reset_shape(self, shape, force=False):
        """Give a leaf a new shape (its values are lost). ``force`` is accepted for
        nnabla compatibility; the storage is always re-created."""
        shape = as_shape(shape)
        self._data = NdArray(shape, self._data.dtype)
        self._grad = NdArray(shape)

    def get_unlinked_variable(self, need_grad=None):
        """A new leaf sharing this variable's data and gradient arrays.

        Parameters
        ----------
        need_grad : bool or None
            None keeps this variable's flag.
        """
        v = Variable.__new__(Variable)
        v._setup(self._need_grad if need_grad is None else bool(need_grad))
        v._data, v._grad = self._data, self._grad
        return v

    unlinked = get_unlinked_variable

    def reshape(self, shape, unlink=False):
        """A reshaped view: a leaf sharing the data when ``unlink``, else ``F.reshape``."""
        if unlink:
            v = Variable.__new__(Variable)
            v._setup(self._need_grad)
            v._data = NdArray()
            v._data.set_tensor(self._data.tensor.reshape(as_shape(shape)))
            v._grad = NdArray(v._data.shape)
            return v
        from .functions import reshape
        return reshape(self, shape)

    # ------------------------------------------------------------------ graph
    def _input_tensor(self):
        """The tensor a consuming function reads: the last result for an intermediate,
        the data (as a requires-grad alias when a gradient is wanted) for a leaf."""
        if self._parent is not None:
            if self._live is None:
                raise StateError("a variable in the graph has no value: call forward() on the "
                                 "output (or build the graph inside nn.auto_forward())")
            return self._live
        t = self._data.tensor
        if not (self._need_grad and torch.is_grad_enabled()):
            return t
        cached = self._leaf_live
        if cached is None or cached[0] is not t:
            cached = (t, t.detach().requires_grad_())
            self._leaf_live = cached
        return cached[1]

    def _functions(self):
        """The functions this variable depends on, in topological order (cached: a
        variable's ancestry never changes)."""
        if self._topo is None:
            order, seen = [], set()
            stack = [(self._parent, False)] if self._parent is not None else []
            while stack:
                f, expanded = stack.pop()
                if expanded:
                    order.append(f)
                    continue
                if id(f) in seen:
                    continue
                seen.add(id(f))
                stack.append((f, True))
                for v in reversed(f.inputs):
                    if v._parent is not None and id(v._parent) not in seen:
                        stack.append((v._parent, False))
            self._topo = order
        return self._topo

    def visit(self, f):
        """Call ``f(function)`` on every function this variable depends on, in order."""
        for fn in self._functions():
            f(fn)

    def forward(self, clear_buffer=False, clear_no_need_grad=False, function_pre_hook=None,
                function_post_hook=None):
        """Run every function this variable depends on, in topological order.

        Parameters
        ----------
        clear_buffer : bool, default False
            Free intermediate results once computed (``persistent`` variables keep
            theirs). No autograd graph is recorded, so ``backward()`` afterwards raises:
            use it for inference.
        clear_no_need_grad : bool, default False
            Free intermediates with ``need_grad=False`` (ignored with clear_buffer).
        function_pre_hook, function_post_hook : callable, optional
            Called with each Function before / after it runs.
        """
        funcs = self._functions()
        free_after = self._release_plan(funcs) if clear_buffer else {}
        with torch.set_grad_enabled(not clear_buffer):
            for i, f in enumerate(funcs):
                if function_pre_hook is not None:
                    function_pre_hook(f)
                try:
                    f.run()
                except MXNetError:
                    raise
                except (RuntimeError, ValueError, IndexError, TypeError) as e:
                    raise _graph_error(f, e) from e
                if function_post_hook is not None:
                    function_post_hook(f)
                if clear_buffer:
                    f._in_lives = None
                    for v in free_after.get(i, ()):
                        v._data.release()
                        v._live = None
        if clear_no_need_grad and not clear_buffer:
            for f in funcs:
                for v in f.outputs:
                    if v is not self and not v.persistent and not v.need_grad:
                        v._data.release()

    def _release_plan(self, funcs):
        """{function index: intermediates whose last reader it is} (never this variable
        or a persistent one): what clear_buffer frees as soon as possible."""
        last = {}
        for i, f in enumerate(funcs):
            for v in f.inputs:
                if v._parent is not None and v is not self and not v.persistent:
                    last[id(v)] = (i, v)
        plan = {}
        for i, v in last.values():
            plan.setdefault(i, []).append(v)
        return plan

    def backward(self, grad=1, clear_buffer=False, communicator_callbacks=None,
                 function_pre_hook=None, function_post_hook=None):
        """Send gradients from this variable to everything it depends on.

        Parameters
        ----------
        grad : scalar, array or None, default 1
            The seed gradient; None uses this variable's current ``.g``.
        clear_buffer : bool, default False
            Free the recorded graph afterwards (a second backward then needs a new
            forward).

        Notes
        -----
        Gradients accumulate into leaves (parameters, inputs with need_grad) and
        overwrite intermediates' ``.g``; propagation stops at need_grad=False.

        Raises
        ------
        StateError
            If forward() has not run, or ran with clear_buffer=True.
        """
        if communicator_callbacks is not None or function_pre_hook is not None or \
                function_post_hook is not None:
            from ..base import MXNetNotImplementedError
            raise MXNetNotImplementedError("Variable.backward: communicator callbacks and "
                                           "function hooks are not supported yet (issue 6)")
        if self._parent is None:
            return
        live = self._live
        if live is None or not live.requires_grad:
            if not self._need_grad:
                return
            raise StateError("Variable.backward: no recorded forward pass: call forward() "
                             "(without clear_buffer=True) before backward()")
        seed = _seed_tensor(grad, live, self)
        targets, seen = [], set()
        for f in self._functions():
            for v, t in zip(f.inputs, f._in_lives or ()):
                if v._need_grad and t.requires_grad and id(t) not in seen:
                    seen.add(id(t))
                    targets.append((v, t))
        if not targets:
            return
        grads = torch.autograd.grad([live], [t for _, t in targets], [seed],
                                    retain_graph=not clear_buffer, allow_unused=True)
        for (v, _), g in zip(targets, grads):
            if g is None:
                continue
            if v._parent is None:
                v._grad.accumulate(g)
            else:
                v._grad.set_tensor(g.detach().reshape(v.shape).to(torch.float32))
        if clear_buffer:
            for f in self._functions():
                f._in_lives = None

    # ------------------------------------------------------------------ operators
    def _op(self, name, *args):
        from . import functions
        return getattr(functions, name)(*args)

    def _binary(self, other, op2, op_scalar, reflected=False):
        if isinstance(other, Variable):
            return self._op(op2, other, self) if reflected else self._op(op2, self, other)
        if isinstance(other, (int, float, np.number)):
            return self._op(op_scalar, self, float(other))
        return NotImplemented

    def __add__(self, o):
        return self._binary(o, "add2", "add_scalar")

    def __radd__(self, o):
        return self._binary(o, "add2", "add_scalar", True)

    def __sub__(self, o):
        return self._binary(o, "sub2", "sub_scalar")

    def __rsub__(self, o):
        return self._binary(o, "sub2", "r_sub_scalar", True)

    def __mul__(self, o):
        return self._binary(o, "mul2", "mul_scalar")

    def __rmul__(self, o):
        return self._binary(o, "mul2", "mul_scalar", True)

    def __truediv__(self, o):
        return self._binary(o, "div2", "div_scalar")

    def __rtruediv__(self, o):
        return self._binary(o, "div2", "r_div_scalar", True)

    def __pow__(self, o):
        return self._binary(o, "pow2", "pow_scalar")

    def __rpow__(self, o):
        return self._binary(o, "pow2", "r_pow_scalar", True)

    def __matmul__(self, o):
        return self._op("batch_matmul", self, o)

    def __neg__(self):
        return self._op("mul_scalar", self, -1.0)

    def __pos__(self):
        return self

    def __getitem__(self, key):
        return self._op("getitem", self, key)

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<Variable({self.shape}, need_grad={self._need_grad}) at {id(self):#x}>"
