"""MXNet's Python-level arithmetic functions of ``mx.nd`` (``nd.add``, ``nd.maximum``, ...):
each picks the operator from its operands, as MXNet's ``_ufunc_helper`` does: two arrays
give the broadcast op, an array and a number the ``_scalar`` op (``_r..._scalar`` when the
number comes first), two numbers the plain Python result. Every operator itself
(``nd.sum``, ``nd.dot``, ``nd.FullyConnected``, ...) is served from the registry by
:mod:`mxtorch.ndarray.op_call`.
"""
import operator

from .ndarray import NDArray
from .op_call import invoke

__all__ = ["add", "subtract", "multiply", "divide", "modulo", "power", "maximum", "minimum",
           "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal"]


def _arith(name, array_op, scalar_op, rscalar_op, python_op):
    def fn(lhs, rhs):
        if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
            return invoke(array_op, (lhs, rhs), {})
        if isinstance(lhs, NDArray):
            return invoke(scalar_op, (lhs,), {"scalar": rhs})
        if isinstance(rhs, NDArray):
            return invoke(rscalar_op, (rhs,), {"scalar": lhs})
        return python_op(lhs, rhs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``mx.nd.{name}(lhs, rhs)``: {array_op} for two arrays, {scalar_op} / "
                  f"{rscalar_op} with a number.")
    return fn


def _cmp(python_op):
    return lambda a, b: float(python_op(a, b))


add = _arith("add", "broadcast_add", "_plus_scalar", "_plus_scalar", operator.add)
subtract = _arith("subtract", "broadcast_sub", "_minus_scalar", "_rminus_scalar", operator.sub)
multiply = _arith("multiply", "broadcast_mul", "_mul_scalar", "_mul_scalar", operator.mul)
divide = _arith("divide", "broadcast_div", "_div_scalar", "_rdiv_scalar", operator.truediv)
modulo = _arith("modulo", "broadcast_mod", "_mod_scalar", "_rmod_scalar", operator.mod)
power = _arith("power", "broadcast_power", "_power_scalar", "_rpower_scalar", operator.pow)
maximum = _arith("maximum", "broadcast_maximum", "_maximum_scalar", "_maximum_scalar", max)
minimum = _arith("minimum", "broadcast_minimum", "_minimum_scalar", "_minimum_scalar", min)
equal = _arith("equal", "broadcast_equal", "_equal_scalar", "_equal_scalar",
               _cmp(operator.eq))
not_equal = _arith("not_equal", "broadcast_not_equal", "_not_equal_scalar",
                   "_not_equal_scalar", _cmp(operator.ne))
greater = _arith("greater", "broadcast_greater", "_greater_scalar", "_lesser_scalar",
                 _cmp(operator.gt))
greater_equal = _arith("greater_equal", "broadcast_greater_equal", "_greater_equal_scalar",
                       "_lesser_equal_scalar", _cmp(operator.ge))
lesser = _arith("lesser", "broadcast_lesser", "_lesser_scalar", "_greater_scalar",
                _cmp(operator.lt))
lesser_equal = _arith("lesser_equal", "broadcast_lesser_equal", "_lesser_equal_scalar",
                      "_greater_equal_scalar", _cmp(operator.le))
