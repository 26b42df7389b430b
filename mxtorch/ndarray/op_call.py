"""Imperative calls of registered operators: ``mx.nd.<Op>(arrays..., **params)``.

Every operator of the symbol registry (``mx.sym.list_ops()``) is also a function of
``mx.nd`` that runs the op's torch forward once on NDArrays, as MXNet's imperative
``mx.nd.FullyConnected(x, w, b, num_hidden=4)`` does: parameters are parsed exactly as for
a symbol, inputs are taken positionally then by name (aux states such as BatchNorm's
moving statistics after the inputs), and the visible outputs come back as one NDArray or a
list. Sparse inputs keep their storage where MXNet's op does (``nd.square(csr)`` is csr)
and are made dense for the others. Calls run in inference mode (``is_train=False``)
without recording gradients. The
hand-written functions of :mod:`mxtorch.ndarray.ops` (``nd.sum``, ``nd.dot``, ...) take
precedence where both exist.
"""
import torch

from ..base import MXNetTypeError, MXNetValueError
from ..context import current_context
from .ndarray import NDArray
from .sparse import wrap

__all__ = ["make_nd_function"]

_NOT_PARAMS = ("name", "attr", "ctx")


def _split(op, args, kwargs):
    """(input arrays by position, named input arrays, parameters)."""
    arrays = list(args)
    if op.variadic and len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):
        arrays = list(arrays[0])
    named = {k: v for k, v in kwargs.items() if isinstance(v, NDArray)}
    params = {k: v for k, v in kwargs.items() if k not in named and k not in _NOT_PARAMS}
    first_param = next((i for i, a in enumerate(arrays) if not isinstance(a, NDArray)),
                       len(arrays))
    if first_param < len(arrays):   # positional parameters after the arrays, as MXNet
        extra = arrays[first_param:]
        arrays = arrays[:first_param]
        for key, value in zip(op.params, extra):
            if key in params:
                raise MXNetTypeError(f"nd.{op.name}: got multiple values for '{key}'")
            params[key] = value
    if op.variadic and op.variadic not in params:
        params[op.variadic] = len(arrays)
    return arrays, named, params


def invoke(opname, args, kwargs, out=None):
    """Run op ``opname`` on NDArrays once; see the module docstring."""
    from ..symbol.registry import get_op
    op = get_op(opname)
    arrays, named, params = _split(op, args, kwargs)
    attrs, _ = op.split_kwargs(params)
    p = op.parse_params(attrs)
    names = op.input_names(p) + list(op.aux)
    if len(arrays) > len(names):
        raise MXNetValueError(f"nd.{opname}: {len(arrays)} arrays given, the op takes "
                              f"{len(names)} ({names})")
    inputs = dict(zip(names, arrays))
    for key, value in named.items():
        if key not in names:
            raise MXNetTypeError(f"nd.{opname}: unexpected array argument '{key}'; its inputs "
                                 f"are {names}")
        if key in inputs:
            raise MXNetTypeError(f"nd.{opname}: input '{key}' given twice")
        inputs[key] = value
    missing = [n for n in names if n not in inputs]
    if missing:
        raise MXNetValueError(f"nd.{opname}: missing input arrays {missing} (inputs are "
                              f"{names}); the imperative call creates no parameters")
    ordered = [inputs[n] for n in names]
    ctx = ordered[0].context if ordered else current_context()
    tensors = [a._data for a in ordered]
    forward = op.forward
    if any(t.layout is not torch.strided for t in tensors):
        from ..symbol.ops.sparse import sparse_aware
        forward = sparse_aware(op)
    with torch.no_grad():
        res = forward(p, False, *tensors)
    outs = res if isinstance(res, tuple) else (res,)
    visible = [wrap(t, ctx) for t in outs[:op.num_visible(p)]]
    if out is not None:
        targets = out if isinstance(out, (list, tuple)) else [out]
        for dst, src in zip(targets, visible):
            dst[:] = src
        return out
    return visible[0] if len(visible) == 1 else visible


def make_nd_function(opname):
    """The ``mx.nd.<opname>`` function of a registered operator."""
    def fn(*args, out=None, **kwargs):
        return invoke(opname, args, kwargs, out=out)
    fn.__name__ = opname
    fn.__qualname__ = opname
    fn.__doc__ = (f"``mx.nd.{opname}``: the {opname} operator run imperatively on NDArrays "
                  "(see mx.sym.{0} for its parameters).".format(opname))
    return fn
