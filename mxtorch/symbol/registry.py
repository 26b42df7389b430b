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

Names that are not registered are told apart with MXNet 1.9.1's own op list
(``mxnet_op_names``): an MXNet op mxtorch lacks raises OperatorNotImplementedError, any
other name an error with close-match suggestions.
"""
import ast
import difflib
import types

import numpy as np

from ..base import MXNetValueError, MXNetTypeError, MXNetNotImplementedError, np_dtype
from . import mxnet_op_names

__all__ = ["Param", "OpDef", "register", "get_op", "list_ops", "REQUIRED", "HIDDEN_KEYS",
           "OperatorNotImplementedError", "UnknownOperatorError", "is_mxnet_op",
           "missing_attribute"]

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
    specialize : callable(p) -> forward or None, optional
        Called once when a graph is compiled: a forward for this node's parameters with
        their geometry worked out and validated beforehand (no per-call lookups), taking
        the same arguments and giving the same results and errors as ``forward``; or None
        when the parameters are a case it does not cover (or are invalid: ``forward``
        then raises when it runs, as without specialization).
    """

    def __init__(self, name, forward, params=None, inputs=("data",), aux=(), outputs=("output",),
                 num_visible=None, infer_shape=None, infer_type=None, is_loss=False,
                 variadic=None, input_attrs=None, hint=None, label_inputs=(),
                 bind_params=None, specialize=None):
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
        self.specialize = specialize

    def __repr__(self):
        return f"OpDef({self.name})"

    def node_forward(self, p):
        """The forward the compiled graph calls for a node with parameters ``p``: the
        specialized one where the op has it for ``p``, else ``forward``."""
        if self.specialize is not None:
            fwd = self.specialize(p)
            if fwd is not None:
                return fwd
        return self.forward

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
                # as MXNet's generated functions, a parameter given as None is written as
                # 'None' (argsort(axis=None) sorts the flattened array)
                params[key] = _format(value)
            elif key in HIDDEN_KEYS:
                hidden[f"__{key}__"] = _format(value)
            elif key.startswith("__") and key.endswith("__"):
                hidden[key] = _format(value)
            else:
                raise MXNetTypeError(f"{self.name}: unexpected keyword argument '{key}'; "
                                     f"its parameters are {sorted(self.params)}")
        return params, hidden

    def check_attrs(self, attrs, node_name, loading=False):
        """Raise if ``attrs`` holds a key that is neither a parameter of this op nor a hidden
        ``__key__`` attribute, where MXNet's parameter parser rejects those: when a symbol
        is built, for ops with parameters; in a file (``loading``), for ops not in
        MXNet 1.9.1's LENIENT_ATTR_OPS (no parser, or a legacy one)."""
        if (self.name in mxnet_op_names.LENIENT_ATTR_OPS) if loading else not self.params:
            return
        for key in attrs:
            if key not in self.params and not _is_hidden(key):
                raise MXNetValueError(
                    f"node {node_name!r} ({self.name}): unknown attribute {key!r}; the op's "
                    f"parameters are {sorted(self.params)}, and other attributes must be "
                    "written as __name__ (e.g. __lr_mult__)")

    def set_input_var_attrs(self, p, inputs):
        """Give the variables among a node's ``inputs`` (``(node, index)`` pairs, inputs then
        aux) this op's ``input_attrs`` where they lack them, as MXNet's
        FSetInputVarAttrOnCompose does (BatchNorm's moving_mean gets ``__init__`` zero)."""
        if not self.input_attrs:
            return
        for name, (src, _) in zip(self.input_names(p) + list(self.aux), inputs):
            if src.op is None:
                for key, value in self.input_attrs.get(name, {}).items():
                    src.attrs.setdefault(key, value)

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


class OperatorNotImplementedError(MXNetNotImplementedError, AttributeError):
    """An operator (or ``mx.sym`` function) of MXNet 1.9.1 that mxtorch does not implement.

    Also an AttributeError, so ``hasattr(mx.sym, name)`` stays False for it.
    """


class UnknownOperatorError(MXNetValueError, KeyError):
    """A name that is no MXNet operator (a ValueError in a file; a KeyError as a lookup)."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


def _is_hidden(key):
    return len(key) > 4 and key.startswith("__") and key.endswith("__")


def register(opdef, aliases=()):
    """Add an OpDef to the registry (under its name and any aliases)."""
    for key in (opdef.name,) + tuple(aliases):
        if key in _REGISTRY:
            raise ValueError(f"operator {key} registered twice")
        _REGISTRY[key] = opdef
    return opdef


def is_mxnet_op(name):
    """Whether ``name`` is an operator name (or alias) registered in MXNet 1.9.1."""
    return name in mxnet_op_names.OPS or name in mxnet_op_names.ALIASES


def _suggestions(name, candidates):
    """Up to three close matches of ``name`` among ``candidates`` (case-insensitive;
    internal ``_names`` only for a name that starts with ``_``)."""
    by_lower = {}
    for c in sorted(candidates):
        if c.startswith("_") and not name.startswith("_"):
            continue
        by_lower.setdefault(c.lower(), c)
    hits = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.75)
    if not hits:
        return ""
    return "; did you mean " + " or ".join(repr(by_lower[h]) for h in hits) + "?"


def _public_op_names():
    names = set(_REGISTRY) | set(mxnet_op_names.OPS) | set(mxnet_op_names.ALIASES)
    return {n for n in names if not n.startswith("_backward")}


def _not_implemented(what):
    return OperatorNotImplementedError(
        f"{what} of MXNet {mxnet_op_names.MXNET_VERSION} that mxtorch does not implement "
        "(not in its operator set); see mx.sym.list_ops() for the operators mxtorch has "
        "and docs/migration.md for what is missing")


def get_op(name):
    """The OpDef of an op name (or alias).

    Raises
    ------
    OperatorNotImplementedError
        ``name`` is an MXNet 1.9.1 operator that mxtorch does not implement.
    UnknownOperatorError
        ``name`` is no MXNet operator at all (the message suggests close names); a
        ValueError and a KeyError.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        pass
    if is_mxnet_op(name):
        raise _not_implemented(f"operator {name!r} is an operator") from None
    raise UnknownOperatorError(f"operator {name!r} is not an MXNet operator"
                               f"{_suggestions(name, _public_op_names())}") from None


def missing_attribute(module, name, mxnet_names):
    """The error for ``module.name`` missing from an op namespace such as ``mx.sym``.

    Parameters
    ----------
    module : str
        The namespace as users write it (``'mx.sym'``).
    name : str
        The attribute asked for.
    mxnet_names : collection of str
        The public names of the same MXNet 1.9.1 namespace
        (``mxnet_op_names.SYMBOL_NAMES``).

    Returns
    -------
    AttributeError
        An OperatorNotImplementedError when MXNet has ``name`` there, otherwise a plain
        AttributeError suggesting close names. For a module ``__getattr__`` to raise.
    """
    if name.startswith("__"):
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    if name in mxnet_names:
        return _not_implemented(f"{module}.{name} is a function")
    candidates = set(mxnet_names) | {n for n in _REGISTRY if not n.startswith("_")}
    return AttributeError(f"module {module!r} has no attribute {name!r}: it is not part of "
                          f"MXNet's API either{_suggestions(name, candidates)}")


def list_ops():
    """Sorted names of all registered operators (aliases included)."""
    return sorted(_REGISTRY)
