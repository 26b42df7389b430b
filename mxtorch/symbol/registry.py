"""The operator registry: one ``OpDef`` per operator, holding its parameters, inputs,
auxiliary states, outputs, shape rule and torch forward together.

An op's forward is a plain function ``forward(p, is_train, *inputs)`` where ``p`` is the
parsed parameter namespace and the inputs are the tensors of ``inputs(p)`` followed by
those of ``aux``. It returns one tensor, or a tuple when the op has several outputs.
The executor calls it directly from generated code; nothing is looked up per step.

A shape rule ``infer_shape(p, in_shapes, out_shapes) -> (in_shapes, out_shapes)`` fills
what it can (unknown shapes are None, unknown dims 0). When it returns None for the
outputs and every input is known, the outputs are found by running ``forward`` on
torch's meta device, so most ops only need to say how their parameter shapes follow
from the data.
"""
import ast
import types

import numpy as np

from ..base import MXNetValueError, MXNetKeyError, MXNetTypeError, np_dtype

__all__ = ["Param", "OpDef", "register", "get_op", "list_ops", "REQUIRED", "HIDDEN_KEYS"]

REQUIRED = object()

# attribute keys that MXNet stores as __key__ (kHiddenKeys)
HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage")

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _parse_bool(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return bool(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f"not a boolean: {v!r}")


def _parse_shape(v):
    if isinstance(v, (list, tuple)):
        return tuple(int(x) for x in v)
    if isinstance(v, (int, np.integer)):
        return (int(v),)
    s = str(v).strip()
    if s in ("", "()", "[]"):
        return ()
    val = ast.literal_eval(s.replace("L", ""))
    if isinstance(val, (int, np.integer)):
        return (int(val),)
    return tuple(int(x) for x in val)


def _parse_optional(inner):
    def parse(v):
        if v is None or (isinstance(v, str) and v.strip() in ("None", "")):
            return None
        return inner(v)
    return parse


def _parse_dtype(v):
    if v is None or (isinstance(v, str) and v in ("None", "")):
        return None
    return np_dtype(v).name


def _parse_float_tuple(v):
    if isinstance(v, (list, tuple)):
        return tuple(float(x) for x in v)
    val = ast.literal_eval(str(v))
    return tuple(float(x) for x in (val if isinstance(val, (list, tuple)) else [val]))


_PARSERS = {
    "int": int, "float": float, "bool": _parse_bool, "str": str, "shape": _parse_shape,
    "int_or_none": _parse_optional(int), "float_or_none": _parse_optional(float),
    "shape_or_none": _parse_optional(_parse_shape), "bool_or_none": _parse_optional(_parse_bool), "dtype": _parse_dtype,
    "floats": _parse_float_tuple, "any": lambda v: v,
}


def _format(v):
    """MXNet's string form of a parameter value (``str(v)``; dtypes by name)."""
    if isinstance(v, str):
        return v
    if isinstance(v, type) and issubclass(v, np.generic):
        return np.dtype(v).name
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, list):
        return str(tuple(v))
    return str(v)


class Param:
    """One operator parameter: its kind (a key of the parser table), default and
    allowed values."""
    __slots__ = ("kind", "default", "choices")

    def __init__(self, kind, default=REQUIRED, choices=None):
        if kind not in _PARSERS:
            raise ValueError(f"unknown parameter kind {kind}")
        self.kind, self.default, self.choices = kind, default, choices

    def parse(self, op, key, value):
        try:
            v = _PARSERS[self.kind](value)
        except (ValueError, SyntaxError, TypeError) as e:
            raise MXNetValueError(f"{op}: invalid value {value!r} for parameter '{key}' "
                                  f"(expected {self.kind})") from e
        if self.choices is not None and v not in self.choices:
            raise MXNetValueError(f"{op}: invalid value {value!r} for parameter '{key}'; "
                                  f"expected one of {sorted(self.choices)}")
        return v


class OpDef:
    """The definition of one operator.

    Parameters
    ----------
    name : str
        The MXNet op name (``FullyConnected``); also the JSON ``op`` field.
    forward : callable
        ``forward(p, is_train, *inputs_then_aux)`` -> tensor or tuple of tensors.
    params : dict of str to Param
    inputs : tuple of str or callable(p) -> list of str
        Names of the (non-aux) inputs; implicit variables are ``<node>_<input>``.
    aux : tuple of str
        Auxiliary state inputs (mutable, e.g. BatchNorm moving stats), after the inputs.
    outputs : tuple of str or callable(p) -> list of str
        Output names (suffixes of ``<node>_``); ``num_visible`` may hide the last ones.
    num_visible : callable(p) -> int, optional
        How many outputs are visible (``list_outputs``); default all.
    infer_shape : callable, optional
        See the module docstring.
    infer_type : callable(p, in_types) -> in_types, optional
        Fills unknown input dtypes; default: every unknown input gets the first known one.
    is_loss : bool
        A loss head: its backward ignores the head gradient (MXNet's loss outputs).
    variadic : str, optional
        The parameter counting a variable number of inputs (``num_args``).
    input_attrs : dict of input name to dict, optional
        Attributes set on implicitly created input variables (e.g. ``__init__``).
    hint : str, optional
        The prefix of automatic names (default: the lower-cased op name).
    bind_params : callable(p, out_shapes, device) -> p, optional
        For ops without inputs whose parameters follow the bound shapes (``zeros(shape=(0,
        H))``: the graph decides the 0 dims): called once at bind with the inferred output
        shapes and the device, it returns the parameters the forward gets.
    """

    def __init__(self, name, forward, params=None, inputs=("data",), aux=(), outputs=("output",),
                 num_visible=None, infer_shape=None, infer_type=None, is_loss=False,
                 variadic=None, input_attrs=None, hint=None, label_inputs=(),
                 bind_params=None):
        self.name = name
        self.forward = forward
        self.params = dict(params or {})
        self._inputs = inputs
        self.aux = tuple(aux)
        self._outputs = outputs
        self._num_visible = num_visible
        self.infer_shape = infer_shape
        self.infer_type = infer_type
        self.is_loss = is_loss
        self.variadic = variadic
        self.input_attrs = input_attrs or {}
        self.hint = hint or name.lower()
        self.label_inputs = tuple(label_inputs)
        self.bind_params = bind_params

    def __repr__(self):
        return f"OpDef({self.name})"

    # ---------------------------------------------------------------- parameters
    def parse_params(self, attrs):
        """The parsed parameter namespace of a node's string attributes."""
        values = {}
        for key, param in self.params.items():
            if key in attrs:
                values[key] = param.parse(self.name, key, attrs[key])
            elif param.default is REQUIRED:
                raise MXNetValueError(f"{self.name}: required parameter '{key}' is missing; "
                                      f"pass {key}=... when creating the symbol")
            else:
                values[key] = param.default
        return types.SimpleNamespace(**values)

    def split_kwargs(self, kwargs):
        """Split creation kwargs into (params as strings, hidden attrs); raise on unknown."""
        params, hidden = {}, {}
        for key, value in kwargs.items():
            if key in self.params:
                # as MXNet, None means "not given", except for a required parameter that
                # takes None (slice_axis end=None is written as 'None')
                if value is not None or self.params[key].default is REQUIRED:
                    params[key] = _format(value)
            elif key in HIDDEN_KEYS:
                hidden[f"__{key}__"] = _format(value)
            elif key.startswith("__") and key.endswith("__"):
                hidden[key] = _format(value)
            else:
                raise MXNetTypeError(f"{self.name}: unexpected keyword argument '{key}'; "
                                     f"its parameters are {sorted(self.params)}")
        return params, hidden

    # ---------------------------------------------------------------- structure
    def input_names(self, p, num_inputs=None):
        if self.variadic:
            n = getattr(p, self.variadic)
            return [f"arg{i}" for i in range(n)]
        names = self._inputs(p) if callable(self._inputs) else self._inputs
        return list(names)

    def output_names(self, p):
        names = self._outputs(p) if callable(self._outputs) else self._outputs
        return list(names)

    def num_outputs(self, p):
        return len(self.output_names(p))

    def num_visible(self, p):
        if self._num_visible is None:
            return self.num_outputs(p)
        return self._num_visible(p)


_REGISTRY = {}


def register(opdef, aliases=()):
    """Add an OpDef to the registry (under its name and any aliases)."""
    for key in (opdef.name,) + tuple(aliases):
        if key in _REGISTRY:
            raise ValueError(f"operator {key} registered twice")
        _REGISTRY[key] = opdef
    return opdef


def get_op(name):
    """The OpDef of an op name; unknown names raise MXNetKeyError."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise MXNetKeyError(f"operator '{name}' is not supported by mxtorch (yet); "
                            "see mx.symbol.list_ops() for the available ones") from None


def list_ops():
    """Sorted names of all registered operators (aliases included)."""
    return sorted(_REGISTRY)
