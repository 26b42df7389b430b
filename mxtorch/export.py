"""A symbol and its trained parameters as a plain ``torch.nn.Module`` (``SymbolNet``).

``Module.to_torch()`` and ``mx.onnx.export_model`` build one. The graph runs through the
same generated code as a bound executor (``executor.codegen``); this file owns only the
torch side: parameters as ``nn.Parameter``, auxiliary states as buffers, the inputs, and
the choice between MXNet's training and inference graphs from ``nn.Module.training``.
"""
import numpy as np
import torch

from .base import MXNetKeyError, MXNetTypeError, MXNetValueError, ShapeError
from .executor.codegen import compile_graph, needs_shapes
from .ndarray.ndarray import NDArray
from .symbol import Symbol

__all__ = ["SymbolNet", "split_params"]


def _tensor(value, name):
    """A detached CPU copy of an NDArray, tensor or numpy array."""
    if isinstance(value, NDArray):
        return value._data.detach().clone()
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value))
    raise MXNetTypeError(f"parameter {name!r}: expected an NDArray, torch.Tensor or numpy "
                         f"array, got {type(value).__name__}")


def split_params(symbol, params):
    """``(arg_params, aux_params)`` from one dict holding both (as MXNet's
    ``mx.onnx.export_model`` takes them): a name is auxiliary when ``symbol`` lists it in
    ``list_auxiliary_states()``."""
    aux_names = set(symbol.list_auxiliary_states())
    arg = {k: v for k, v in params.items() if k not in aux_names}
    aux = {k: v for k, v in params.items() if k in aux_names}
    return arg, aux


def _read_only_by_loss_heads(symbol, name):
    """Whether the variable ``name`` feeds nothing but the label inputs of loss heads
    (``OpDef.label_inputs``), whose outputs do not depend on it."""
    for node in symbol._topo():
        if node.op is None:
            continue
        slots = node.op.input_names(node.params) + list(node.op.aux)
        for slot, (src, _) in zip(slots, node.inputs):
            if src.op is None and src.name == name and slot not in node.op.label_inputs:
                return False
    return True


class SymbolNet(torch.nn.Module):
    """A Symbol with its parameters, run as a ``torch.nn.Module``.

    The arguments of ``symbol`` found in ``arg_params`` become ``nn.Parameter`` attributes
    and its auxiliary states (BatchNorm's moving mean and variance) become buffers, under
    their MXNet names (a ``.`` in a name is written ``__``, which torch requires), so
    ``state_dict()`` holds the trained weights. The remaining arguments are inputs:
    ``input_names`` (the data, passed positionally or by name) and the others (labels,
    which loss heads ignore at inference), taken by name or filled with zeros of their
    inferred shape.

    In ``eval()`` mode the module runs MXNet's inference graph (``is_train=False``: Dropout
    off, BatchNorm on its moving statistics), which is what ``Module.predict`` computes; in
    ``train()`` mode it runs the training graph (BatchNorm on batch statistics, Dropout
    on), and gradients reach the parameters through autograd. As in the executor,
    BatchNorm's moving statistics (the buffers) move when backward runs, and loss heads
    keep MXNet's backward (``SoftmaxOutput`` gives
    ``softmax - onehot(label)`` whatever the incoming gradient).

    Parameters
    ----------
    symbol : Symbol
    arg_params : dict of str to NDArray (or tensor / numpy array)
        Trained arguments; every argument not in ``input_names`` or ``label_names`` must be
        here.
    aux_params : dict of str to NDArray, optional
        Auxiliary states; every one the symbol lists must be here.
    input_names : sequence of str, optional
        The data inputs in call order. Default: every argument that is not a parameter and
        not in ``label_names``.
    label_names : sequence of str, optional
        Inputs that may be left out: at inference nothing stands for one that only loss
        heads read, else zeros of its inferred shape. Default: the arguments ending in
        ``_label``.
    fixed_param_names : sequence of str, optional
        Parameters kept out of training (``requires_grad=False``), as Module's.

    Raises
    ------
    MXNetTypeError
        ``symbol`` is not a Symbol.
    MXNetValueError
        A parameter or auxiliary state is missing, a given one is not in the symbol, or an
        input name is not an argument.
    """

    def __init__(self, symbol, arg_params, aux_params=None, input_names=None,
                 label_names=None, fixed_param_names=()):
        super().__init__()
        if not isinstance(symbol, Symbol):
            raise MXNetTypeError(f"SymbolNet: symbol must be an mx.sym.Symbol, got "
                                 f"{type(symbol).__name__}")
        arg_params = dict(arg_params or {})
        aux_params = dict(aux_params or {})
        arg_names = symbol.list_arguments()
        aux_names = symbol.list_auxiliary_states()
        if label_names is None:
            label_names = [n for n in arg_names if n.endswith("_label") and n not in arg_params]
        if input_names is None:
            input_names = [n for n in arg_names if n not in arg_params and n not in label_names]
        self.input_names = list(input_names)
        self.label_names = [n for n in label_names if n not in self.input_names]
        for n in self.input_names + self.label_names:
            if n not in arg_names:
                raise MXNetValueError(f"SymbolNet: input {n!r} is not an argument of the "
                                      f"symbol; its arguments are {arg_names}")
        inputs = set(self.input_names) | set(self.label_names)
        missing = [n for n in arg_names if n not in inputs and n not in arg_params]
        missing += [n for n in aux_names if n not in aux_params]
        if missing:
            raise MXNetValueError(f"SymbolNet: no value for the parameters {missing}; pass "
                                  "them in arg_params/aux_params (or name them as inputs)")
        extra = [n for n in arg_params if n not in arg_names or n in inputs]
        extra += [n for n in aux_params if n not in aux_names]
        if extra:
            raise MXNetValueError(f"SymbolNet: {extra} are not parameters of the symbol "
                                  f"(arguments {arg_names}, auxiliary states {aux_names})")
        self._symbol = symbol
        self._arg_names = arg_names
        self._aux_names = aux_names
        self._keys = {}
        for n in arg_names:
            if n not in inputs:
                value = _tensor(arg_params[n], n)
                self.register_parameter(self._key(n), torch.nn.Parameter(
                    value, requires_grad=value.is_floating_point() and
                    n not in fixed_param_names))
        for n in aux_names:
            self.register_buffer(self._key(n), _tensor(aux_params[n], n))
        self._label_free = {n for n in self.label_names if _read_only_by_loss_heads(symbol, n)}
        self._graphs = {}
        self._label_shapes = {}

    def _key(self, name):
        key = name.replace(".", "__")
        if key in self._keys.values() or hasattr(self, key):
            raise MXNetValueError(f"SymbolNet: parameter {name!r} cannot be stored as the "
                                  f"torch attribute {key!r}, which is taken; rename it")
        self._keys[name] = key
        return key

    @property
    def symbol(self):
        """The graph this module runs."""
        return self._symbol

    def _graph(self, given, device):
        """The compiled graph (one per input shapes when an op needs them at bind)."""
        shapes = self._shapes(given) if needs_shapes(self._symbol) else None
        key = (shapes, device)
        if key not in self._graphs:
            inferred = None
            if shapes is not None:
                inferred = self._symbol._infer_shapes(self._symbol._topo(), dict(shapes), {})[0]
            self._graphs[key] = compile_graph(self._symbol, (), shapes=inferred, device=device)
        return self._graphs[key]

    def _shapes(self, given):
        """The data input shapes as a hashable key (this fixes them when exporting)."""
        return tuple((n, tuple(int(d) for d in given[n].shape)) for n in self.input_names)

    def _label(self, name, given, like):
        """What stands for a label input that was not given: nothing at inference where
        only loss heads read it (they compute their output from the data alone), else
        zeros of its inferred shape."""
        if not self.training and name in self._label_free:
            return None
        shapes = self._shapes(given)
        if shapes not in self._label_shapes:
            known = dict(shapes)
            known.update({n: tuple(getattr(self, self._keys[n]).shape)
                          for n in self._arg_names if n in self._keys})
            arg_shapes = self._symbol.infer_shape_partial(**known)[0]
            self._label_shapes[shapes] = dict(zip(self._arg_names, arg_shapes))
        shape = self._label_shapes[shapes].get(name)
        if not shape or not all(shape):
            raise ShapeError(f"SymbolNet: cannot infer the shape of {name!r} from the inputs; "
                             f"pass it by name: net(..., {name}=tensor)")
        return torch.zeros(shape, dtype=like.dtype, device=like.device)

    def forward(self, *inputs, **named):
        """Run the graph on the data inputs (positional in ``input_names`` order, or by
        name; labels only by name). Returns the output tensor, or a tuple of them when
        the symbol has several outputs.

        Raises
        ------
        MXNetValueError
            Too many positional inputs, or a data input missing.
        MXNetKeyError
            A keyword that is not an input.
        """
        if len(inputs) > len(self.input_names):
            raise MXNetValueError(f"SymbolNet: {len(inputs)} positional inputs given, the "
                                  f"symbol takes {len(self.input_names)} "
                                  f"({self.input_names})")
        given = dict(zip(self.input_names, inputs))
        for k, v in named.items():
            if k not in self.input_names and k not in self.label_names:
                raise MXNetKeyError(f"SymbolNet: unknown input {k!r}; inputs are "
                                    f"{self.input_names + self.label_names}")
            if k in given:
                raise MXNetValueError(f"SymbolNet: input {k!r} given twice")
            given[k] = v
        absent = [n for n in self.input_names if n not in given]
        if absent:
            raise MXNetValueError(f"SymbolNet: missing inputs {absent}; call with "
                                  f"{self.input_names} in this order")
        given = {k: v._data if isinstance(v, NDArray) else v for k, v in given.items()}
        first = given[self.input_names[0]] if self.input_names else next(self.parameters())
        A = []
        for n in self._arg_names:
            if n in given:
                A.append(given[n])
            elif n in self._keys:
                A.append(getattr(self, self._keys[n]))
            else:
                A.append(self._label(n, given, first))
        X = [getattr(self, self._keys[n]) for n in self._aux_names]
        graph = self._graph(given, first.device)
        outs = graph.train(A, X)[0] if self.training else graph.infer(A, X)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def extra_repr(self):
        return (f"inputs={self.input_names}, outputs={self._symbol.list_outputs()}, "
                f"params={len(self._keys)}")
