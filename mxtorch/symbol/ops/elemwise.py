"""Elementwise arithmetic: elemwise_* (same shapes), broadcast_* and the scalar forms
that Symbol arithmetic creates (``_plus_scalar``, ``_rminus_scalar`` ...)."""
import torch

from ..registry import OpDef, Param, register
from ._util import same_shape_rule, known

_BINARY = {"elemwise_add": (torch.add, ["_Plus", "_plus", "_add"]),
           "elemwise_sub": (torch.sub, ["_Minus", "_minus", "_sub"]),
           "elemwise_mul": (torch.mul, ["_Mul", "_mul"]),
           "elemwise_div": (torch.true_divide, ["_Div", "_div"])}

for _name, (_fn, _aliases) in _BINARY.items():
    register(OpDef(_name, (lambda fn: lambda p, is_train, lhs, rhs: fn(lhs, rhs))(_fn),
                   inputs=("lhs", "rhs"), infer_shape=same_shape_rule), aliases=_aliases)


def _broadcast_shape(p, ins, outs):
    a, b = ins
    if known(a) and known(b):
        if len(a) != len(b):
            raise ValueError(f"broadcast needs inputs of the same rank, got {a} and {b}")
        out = []
        for x, y in zip(a, b):
            if x != y and 1 not in (x, y):
                raise ValueError(f"shapes {a} and {b} cannot be broadcast together")
            out.append(max(x, y))
        return ins, [tuple(out)]
    return ins, outs


_BROADCAST = {"broadcast_add": torch.add, "broadcast_sub": torch.sub, "broadcast_mul": torch.mul,
              "broadcast_div": torch.true_divide, "broadcast_maximum": torch.maximum,
              "broadcast_minimum": torch.minimum, "broadcast_power": torch.pow}
_BROADCAST_ALIASES = {"broadcast_add": ["broadcast_plus"], "broadcast_sub": ["broadcast_minus"]}
for _name, _fn in _BROADCAST.items():
    register(OpDef(_name, (lambda fn: lambda p, is_train, lhs, rhs: fn(lhs, rhs))(_fn),
                   inputs=("lhs", "rhs"), infer_shape=_broadcast_shape),
             aliases=_BROADCAST_ALIASES.get(_name, ()))

_SCALAR = {"_plus_scalar": (lambda x, s: x + s, ["_PlusScalar"]),
           "_minus_scalar": (lambda x, s: x - s, ["_MinusScalar"]),
           "_rminus_scalar": (lambda x, s: s - x, ["_RMinusScalar"]),
           "_mul_scalar": (lambda x, s: x * s, ["_MulScalar"]),
           "_div_scalar": (lambda x, s: x / s, ["_DivScalar"]),
           "_rdiv_scalar": (lambda x, s: s / x, ["_RDivScalar"]),
           "_power_scalar": (lambda x, s: x ** s, ["_PowerScalar"]),
           "_rpower_scalar": (lambda x, s: s ** x, ["_RPowerScalar"])}
for _name, (_fn, _aliases) in _SCALAR.items():
    register(OpDef(_name, (lambda fn: lambda p, is_train, data: fn(data, p.scalar))(_fn),
                   params={"scalar": Param("float", 1.0), "is_int": Param("bool", True)},
                   infer_shape=same_shape_rule), aliases=_aliases)

_UNARY = {"negative": torch.neg, "abs": torch.abs, "exp": torch.exp, "log": torch.log,
          "sqrt": torch.sqrt, "square": torch.square, "sigmoid": torch.sigmoid,
          "tanh": torch.tanh, "relu": torch.relu, "sign": torch.sign, "rsqrt": torch.rsqrt}
for _name, _fn in _UNARY.items():
    register(OpDef(_name, (lambda fn: lambda p, is_train, data: fn(data))(_fn),
                   infer_shape=same_shape_rule))


def _add_n(p, is_train, *args):
    out = args[0]
    for a in args[1:]:
        out = out + a
    return out


register(OpDef("add_n", _add_n, params={"num_args": Param("int")}, variadic="num_args",
               infer_shape=same_shape_rule), aliases=["ElementWiseSum"])
