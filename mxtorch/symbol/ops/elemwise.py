"""Elementwise math: the unary functions (exp, log, sin, round, gamma ...), binary ops on
equal shapes (``elemwise_*``, ``_maximum``, ``_equal`` ...), their ``broadcast_*`` forms,
the ``_*_scalar`` forms that Symbol arithmetic creates, ``clip``, ``identity``,
``hard_sigmoid``, ``add_n``, and the
``mx.sym.maximum/minimum/pow/power/hypot`` creation functions.

Where MXNet's gradient or rounding differs from torch's default, the forward is written
so that autograd gives MXNet's numbers: ``maximum``/``minimum`` send a tie's gradient to
the left operand only (torch would split it), ``round`` rounds halves away from zero
(torch: to even), ``rint`` takes the floor on a tie, ``mod`` follows the divisor's sign
and gives 0 for a zero divisor.
Comparisons and logical ops return 0/1 in the input dtype with a zero gradient, as MXNet.
"""
import math

import torch

from ...base import MXNetTypeError, numeric_types
from ..registry import OpDef, Param, register
from ._util import known, same_shape_rule, same_type_rule


def _fn2(fn):
    return lambda p, is_train, lhs, rhs: fn(lhs, rhs)


def _fn1(fn):
    return lambda p, is_train, data: fn(data)


# ------------------------------------------------------------------ binary functions
def _as_float(cmp):
    """A comparison returning 0/1 in the dtype of its first operand (no gradient)."""
    return lambda a, b: cmp(a, b).to(a.dtype)


def _maximum(a, b):
    # MXNet's _backward_maximum: lhs gets the gradient where a >= b, rhs where a < b
    return torch.where(a >= b, a, b)


def _minimum(a, b):
    return torch.where(a <= b, a, b)


def _mod(a, b):
    """MXNet's mod: the remainder with the divisor's sign (Python's %), 0 where b == 0."""
    r = torch.remainder(a, b)
    return torch.where(b == 0, torch.zeros_like(r), r)


def _nonzero(x):
    return x != 0


_BINARY_FNS = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.true_divide,
    "maximum": _maximum, "minimum": _minimum, "power": torch.pow, "hypot": torch.hypot,
    "mod": _mod,
    "equal": _as_float(torch.eq), "not_equal": _as_float(torch.ne),
    "greater": _as_float(torch.gt), "greater_equal": _as_float(torch.ge),
    "lesser": _as_float(torch.lt), "lesser_equal": _as_float(torch.le),
    "logical_and": _as_float(lambda a, b: _nonzero(a) & _nonzero(b)),
    "logical_or": _as_float(lambda a, b: _nonzero(a) | _nonzero(b)),
    "logical_xor": _as_float(lambda a, b: _nonzero(a) ^ _nonzero(b)),
}

# equal shapes: MXNet names and aliases
_SAME_SHAPE = {
    "elemwise_add": ("add", ["_Plus", "_plus", "_add"]),
    "elemwise_sub": ("sub", ["_Minus", "_minus", "_sub"]),
    "elemwise_mul": ("mul", ["_Mul", "_mul"]),
    "elemwise_div": ("div", ["_Div", "_div"]),
    "_maximum": ("maximum", ["_Maximum"]), "_minimum": ("minimum", ["_Minimum"]),
    "_power": ("power", ["_Power"]), "_hypot": ("hypot", ["_Hypot"]),
    "_mod": ("mod", ["_Mod"]),
    "_equal": ("equal", ["_Equal"]), "_not_equal": ("not_equal", ["_Not_Equal"]),
    "_greater": ("greater", ["_Greater"]), "_greater_equal": ("greater_equal",
                                                               ["_Greater_Equal"]),
    "_lesser": ("lesser", ["_Lesser"]), "_lesser_equal": ("lesser_equal", ["_Lesser_Equal"]),
    "_logical_and": ("logical_and", ["_Logical_And"]),
    "_logical_or": ("logical_or", ["_Logical_Or"]),
    "_logical_xor": ("logical_xor", ["_Logical_Xor"]),
}
for _name, (_key, _aliases) in _SAME_SHAPE.items():
    register(OpDef(_name, _fn2(_BINARY_FNS[_key]), inputs=("lhs", "rhs"),
                   infer_shape=same_shape_rule, infer_type=same_type_rule), aliases=_aliases)


def broadcast_shapes(a, b):
    """MXNet's broadcast of two shapes (dims aligned from the right, 1 stretches); 0 dims
    are unknown. Raises ValueError for incompatible shapes."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x and y and x != y and 1 not in (x, y):
            raise ValueError(f"shapes {a} and {b} cannot be broadcast together")
        out.append(0 if not (x and y) else (y if x == 1 else x))
    return tuple(out)


def _broadcast_shape(p, ins, outs):
    a, b = ins
    if known(a) and known(b):
        return ins, [broadcast_shapes(a, b)]
    return ins, outs


_BROADCAST_ALIASES = {"add": ["broadcast_plus"], "sub": ["broadcast_minus"]}
for _key, _fn in _BINARY_FNS.items():
    register(OpDef("broadcast_" + _key, _fn2(_fn), inputs=("lhs", "rhs"),
                   infer_shape=_broadcast_shape, infer_type=same_type_rule),
             aliases=_BROADCAST_ALIASES.get(_key, ()))


# ------------------------------------------------------------------ scalar forms
def _scalar_tensor(x, s):
    return torch.tensor(s, dtype=x.dtype, device=x.device)


_SCALAR = {
    "_plus_scalar": (lambda x, s: x + s, ["_PlusScalar"]),
    "_minus_scalar": (lambda x, s: x - s, ["_MinusScalar"]),
    "_rminus_scalar": (lambda x, s: s - x, ["_RMinusScalar"]),
    "_mul_scalar": (lambda x, s: x * s, ["_MulScalar"]),
    "_div_scalar": (lambda x, s: x / s, ["_DivScalar"]),
    "_rdiv_scalar": (lambda x, s: s / x, ["_RDivScalar"]),
    "_power_scalar": (lambda x, s: x ** s, ["_PowerScalar"]),
    "_rpower_scalar": (lambda x, s: s ** x, ["_RPowerScalar"]),
    # clamp sends a tie's gradient to x, as MXNet's ge/le masks do
    "_maximum_scalar": (lambda x, s: torch.clamp(x, min=s), ["_MaximumScalar"]),
    "_minimum_scalar": (lambda x, s: torch.clamp(x, max=s), ["_MinimumScalar"]),
    "_hypot_scalar": (lambda x, s: torch.hypot(x, _scalar_tensor(x, s)), ["_HypotScalar"]),
    "_mod_scalar": (lambda x, s: torch.remainder(x, s) if s else torch.zeros_like(x),
                    ["_ModScalar"]),
    "_rmod_scalar": (lambda x, s: _mod(torch.full_like(x, s), x), ["_RModScalar"]),
}
for _key, _alias in (("equal", "_EqualScalar"), ("not_equal", "_NotEqualScalar"),
                     ("greater", "_GreaterScalar"), ("greater_equal", "_GreaterEqualScalar"),
                     ("lesser", "_LesserScalar"), ("lesser_equal", "_LesserEqualScalar"),
                     ("logical_and", "_LogicalAndScalar"), ("logical_or", "_LogicalOrScalar"),
                     ("logical_xor", "_LogicalXorScalar")):
    _SCALAR[f"_{_key}_scalar"] = (_BINARY_FNS[_key], [_alias])  # torch takes the scalar

for _name, (_fn, _aliases) in _SCALAR.items():
    register(OpDef(_name, (lambda fn: lambda p, is_train, data: fn(data, p.scalar))(_fn),
                   params={"scalar": Param("float", 1.0), "is_int": Param("bool", True)},
                   infer_shape=same_shape_rule), aliases=_aliases)


# ------------------------------------------------------------------ unary functions
def _round(x):
    """C's round: halves away from zero (torch.round rounds them to even)."""
    t = torch.trunc(x)
    return torch.where((x - t).abs() == 0.5, t + torch.sign(x), torch.round(x))


def _rint(x):
    """MXNet's rint: the nearer of floor and ceil, floor on a tie (-2.5 -> -3, 1.5 -> 1; not
    numpy's round-half-to-even)."""
    lo, hi = torch.floor(x), torch.ceil(x)
    return torch.where(x - lo <= hi - x, lo, hi)


def _cbrt(x):
    return torch.sign(x) * x.abs().pow(1.0 / 3.0)


def _gamma(x):
    """Gamma(x) = exp(lgamma(x)) with the sign of Gamma (negative where floor(x) is odd for
    x < 0); autograd gives Gamma(x) * digamma(x), MXNet's gradient."""
    sign = torch.where((x > 0) | (torch.floor(x) % 2 == 0), 1.0, -1.0).to(x.dtype)
    return sign * torch.exp(torch.lgamma(x))


def _softsign(x):
    return x / (1 + x.abs())


_UNARY = {
    "negative": torch.neg, "abs": torch.abs, "sign": torch.sign,
    "round": _round, "rint": _rint, "ceil": torch.ceil, "floor": torch.floor,
    "trunc": torch.trunc, "fix": torch.trunc,
    "square": torch.square, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt,
    "cbrt": _cbrt, "rcbrt": lambda x: 1.0 / _cbrt(x), "reciprocal": torch.reciprocal,
    "exp": torch.exp, "expm1": torch.expm1, "log": torch.log, "log10": torch.log10,
    "log2": torch.log2, "log1p": torch.log1p,
    "gamma": _gamma, "gammaln": torch.lgamma, "erf": torch.erf, "erfinv": torch.erfinv,
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "arcsin": torch.asin,
    "arccos": torch.acos, "arctan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
    "tanh": torch.tanh, "arcsinh": torch.asinh, "arccosh": torch.acosh,
    "arctanh": torch.atanh, "degrees": lambda x: x * (180.0 / math.pi),
    "radians": lambda x: x * (math.pi / 180.0),
    "relu": torch.relu, "sigmoid": torch.sigmoid, "softsign": _softsign,
    "logical_not": lambda x: (x == 0).to(x.dtype),
}
for _name, _fn in _UNARY.items():
    register(OpDef(_name, _fn1(_fn), infer_shape=same_shape_rule))


register(OpDef("_copy", lambda p, is_train, data: data.clone(), infer_shape=same_shape_rule),
         aliases=["identity"])


def _hard_sigmoid_forward(p, is_train, data):
    """clip(alpha * x + beta, 0, 1); the gradient passes only strictly inside (0, 1), as
    MXNet's hard_sigmoid_backward (torch's clamp would pass it at the bounds too)."""
    z = p.alpha * data + p.beta
    return torch.where((z > 0) & (z < 1), z, torch.clamp(z, 0, 1).detach())


register(OpDef("hard_sigmoid", _hard_sigmoid_forward,
               params={"alpha": Param("float", 0.2), "beta": Param("float", 0.5)},
               infer_shape=same_shape_rule))


def _clip_forward(p, is_train, data):
    # clamp's gradient passes where a_min <= x <= a_max, as MXNet's clip
    return torch.clamp(data, p.a_min, p.a_max)


register(OpDef("clip", _clip_forward, params={"a_min": Param("float"), "a_max": Param("float")},
               infer_shape=same_shape_rule))


def _add_n(p, is_train, *args):
    out = args[0]
    for a in args[1:]:
        out = out + a
    return out


register(OpDef("add_n", _add_n, params={"num_args": Param("int")}, variadic="num_args",
               infer_shape=same_shape_rule, infer_type=same_type_rule),
         aliases=["ElementWiseSum"])


# ------------------------------------------------------------------ creation functions
def _symbol_or_number(name, op, scalar_op, rscalar_op, hint, scalar_hint, rscalar_hint,
                      numbers):
    """MXNet's ``mx.sym.<name>(left, right)``: the binary op for two symbols, the scalar op
    when one side is a number (``rscalar_op`` when it is the left one), ``numbers(l, r)``
    for two numbers."""
    def create(left, right):
        from ..symbol import Symbol, _create
        if isinstance(left, Symbol) and isinstance(right, Symbol):
            return _create(op, [left, right], {}, hint=hint)
        if isinstance(left, Symbol) and isinstance(right, numeric_types):
            return _create(scalar_op, [left], {"scalar": right}, hint=scalar_hint)
        if isinstance(left, numeric_types) and isinstance(right, Symbol):
            return _create(rscalar_op, [right], {"scalar": left}, hint=rscalar_hint)
        if isinstance(left, numeric_types) and isinstance(right, numeric_types):
            return numbers(left, right)
        raise MXNetTypeError(f"{name}: expected Symbols or numbers, got "
                             f"{type(left).__name__} and {type(right).__name__}")
    create.__name__ = name
    create.__doc__ = (f"Elementwise {name} of two symbols, or of a symbol and a number "
                      f"(MXNet's ``mx.sym.{name}``); two numbers give a number.")
    return create


maximum = _symbol_or_number("maximum", "_maximum", "_maximum_scalar", "_maximum_scalar",
                            "_maximum", "_maximumscalar", "_maximumscalar", max)
minimum = _symbol_or_number("minimum", "_minimum", "_minimum_scalar", "_minimum_scalar",
                            "_minimum", "_minimumscalar", "_minimumscalar", min)
pow = _symbol_or_number("pow", "_power", "_power_scalar", "_rpower_scalar",  # noqa: A001
                        "_power", "_powerscalar", "_rpowerscalar", lambda a, b: a ** b)
power = _symbol_or_number("power", "_power", "_power_scalar", "_rpower_scalar",
                          "_power", "_powerscalar", "_rpowerscalar", lambda a, b: a ** b)
hypot = _symbol_or_number("hypot", "_hypot", "_hypot_scalar", "_hypot_scalar",
                          "_hypot", "_hypotscalar", "_hypotscalar", math.hypot)
