"""Reductions: sum, mean, max, min, prod, nansum, nanprod (axis, keepdims, exclude),
norm (ord 1 or 2) and moments (mean and variance).

MXNet has no 0-d arrays: a reduction over every axis gives shape (1,). ``max``/``min`` send
the full head gradient to every element equal to the result (MXNet's ``in == out`` mask;
torch would split it among ties). Where MXNet's gradient is 0/0 (``prod``/``nanprod`` at an
exact zero, the 2-norm of an all-zero slice) it gives NaN; torch's exact gradient is kept
there instead.
"""
import numpy as np
import torch

from ...base import torch_dtype
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
        out = fn(data, axes, p.keepdims)
        return out if out.dim() else out.reshape(1)  # MXNet has no 0-d arrays
    return forward


def reduce_shape(axes, data, keepdims):
    """The shape of reducing ``data`` over ``axes`` ((1,) when nothing is left)."""
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(data))
    return tuple(d for i, d in enumerate(data) if i not in axes) or (1,)


def _reduce_shape(p, ins, outs):
    data = ins[0]
    if data is None or not all(d > 0 for d in data):
        return ins, outs
    axes = _axes(p, len(data))
    if not axes:
        return ins, [tuple(data)]
    return ins, [reduce_shape(axes, data, p.keepdims)]


def _extreme(fn):
    """amax/amin whose gradient reaches every element equal to the result, in full."""
    def reduce(x, dims, keepdim):
        out = fn(x, dim=dims, keepdim=keepdim)
        if not x.requires_grad:
            return out
        ref = fn(x.detach(), dim=dims, keepdim=True)
        tie = torch.where(x.detach() == ref, x - x.detach(), torch.zeros_like(x))
        return out.detach() + tie.sum(dim=dims, keepdim=keepdim)
    return reduce


def _prod(x, dims, keepdim):
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdim)
    return x


def _nanprod(x, dims, keepdim):
    return _prod(torch.where(torch.isnan(x), torch.ones_like(x), x), dims, keepdim)


_PARAMS = {"axis": Param("shape_or_none", None), "keepdims": Param("bool", False),
           "exclude": Param("bool", False)}
_REDUCE = {
    "sum": (lambda x, d, k: torch.sum(x, dim=d, keepdim=k), ["sum_axis"]),
    "mean": (lambda x, d, k: torch.mean(x, dim=d, keepdim=k), []),
    "max": (_extreme(torch.amax), ["max_axis"]),
    "min": (_extreme(torch.amin), ["min_axis"]),
    "prod": (_prod, []),
    "nansum": (lambda x, d, k: torch.nansum(x, dim=d, keepdim=k), []),
    "nanprod": (_nanprod, []),
}
for _name, (_fn, _aliases) in _REDUCE.items():
    register(OpDef(_name, _make_reduce(_fn), params=_PARAMS, infer_shape=_reduce_shape),
             aliases=_aliases)


# ------------------------------------------------------------------ norm
def _norm_axes(p, ndim):
    if p.axis is None or p.axis == ():
        return tuple(range(ndim))
    return tuple(a % ndim for a in p.axis)


def _norm_forward(p, is_train, data):
    axes = _norm_axes(p, data.dim())
    out = torch.linalg.vector_norm(data, ord=p.ord, dim=axes, keepdim=p.keepdims)
    if p.out_dtype is not None:
        out = out.to(torch_dtype(p.out_dtype))
    return out if out.dim() else out.reshape(1)


def _norm_shape(p, ins, outs):
    data = ins[0]
    if data is None or not all(d > 0 for d in data):
        return ins, outs
    return ins, [reduce_shape(_norm_axes(p, len(data)), data, p.keepdims)]


def _norm_type(p, in_types):
    first = next((t for t in in_types if t is not None), None)
    return in_types, [np.dtype(p.out_dtype) if p.out_dtype is not None else first]


register(OpDef("norm", _norm_forward,
               params={"ord": Param("int", 2, choices={1, 2}),
                       "axis": Param("shape_or_none", None),
                       "out_dtype": Param("dtype", None), "keepdims": Param("bool", False)},
               infer_shape=_norm_shape, infer_type=_norm_type))


# ------------------------------------------------------------------ moments
def _moments_axes(p, ndim):
    if not p.axes:
        raise ValueError("moments: empty axes are not supported (as in MXNet); pass every "
                         "axis to axes for global moments")
    return tuple(a % ndim for a in p.axes)


def _moments_forward(p, is_train, data):
    axes = _moments_axes(p, data.dim())
    var, mean = torch.var_mean(data, dim=axes, correction=0, keepdim=p.keepdims)
    if mean.dim() == 0:
        mean, var = mean.reshape(1), var.reshape(1)
    return mean, var


def _moments_shape(p, ins, outs):
    data = ins[0]
    if data is None or not all(d > 0 for d in data):
        return ins, outs
    out = reduce_shape(_moments_axes(p, len(data)), data, p.keepdims)
    return ins, [out, out]


register(OpDef("moments", _moments_forward,
               params={"axes": Param("shape_or_none", None), "keepdims": Param("bool", False)},
               outputs=("output0", "output1"), infer_shape=_moments_shape))
