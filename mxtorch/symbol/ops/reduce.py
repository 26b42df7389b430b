"""Reductions: sum, mean, max, min, prod (axis, keepdims, exclude)."""
import torch

from ..registry import OpDef, Param, register


def _axes(p, ndim):
    if p.axis is None or p.axis == ():
        axes = tuple(range(ndim)) if not p.exclude else ()
    else:
        axes = tuple(a % ndim for a in p.axis)
        if p.exclude:
            axes = tuple(a for a in range(ndim) if a not in axes)
    return axes


def _make_reduce(fn):
    def forward(p, is_train, data):
        axes = _axes(p, data.dim())
        if not axes:
            return data
        out = fn(data, dim=axes, keepdim=p.keepdims)
        return out if out.dim() else out.reshape(1)  # MXNet has no 0-d arrays
    return forward


def _reduce_shape(p, ins, outs):
    data = ins[0]
    if data is None or not all(d > 0 for d in data):
        return ins, outs
    axes = _axes(p, len(data))
    if not axes:
        return ins, [tuple(data)]
    if p.keepdims:
        out = tuple(1 if i in axes else d for i, d in enumerate(data))
    else:
        out = tuple(d for i, d in enumerate(data) if i not in axes) or (1,)
    return ins, [out]


_PARAMS = {"axis": Param("shape_or_none", None), "keepdims": Param("bool", False),
           "exclude": Param("bool", False)}
register(OpDef("sum", _make_reduce(torch.sum), params=_PARAMS,
               infer_shape=_reduce_shape), aliases=["sum_axis"])
register(OpDef("mean", _make_reduce(torch.mean), params=_PARAMS,
               infer_shape=_reduce_shape))
register(OpDef("max", _make_reduce(torch.amax), params=_PARAMS,
               infer_shape=_reduce_shape), aliases=["max_axis"])
register(OpDef("min", _make_reduce(torch.amin), params=_PARAMS,
               infer_shape=_reduce_shape), aliases=["min_axis"])
register(OpDef("prod", _make_reduce(
    lambda x, dim, keepdim: _prod(x, dim, keepdim)), params=_PARAMS, infer_shape=_reduce_shape))


def _prod(x, dims, keepdim):
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdim)
    return x
