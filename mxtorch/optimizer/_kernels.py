"""Pieces shared by the per-element update rules of the optimizers in this package:
MXNet's two gradient-clipping conventions, its float32 state arrays, and the ``(g +
wd * w)`` gradient. Every function works on lists of raw tensors with torch
``_foreach_*`` ops (all parameters at once)."""
import torch

from ..ndarray.ndarray import NDArray
from .optimizer import _f32
from .sgd import _zeros_like as zeros_like   # a zero state like the weight (dtype, context)

__all__ = ["zeros_f32", "zeros_like", "python_clip_", "kernel_clip_", "clip_one", "rescaled",
           "rescaled_plus_wd"]


def zeros_f32(weight, shape=None):
    """A zero float32 state array on the weight's context, of the weight's shape (or
    ``shape``): MXNet's ``zeros(shape, weight.context)`` without a dtype (AdaGrad,
    RMSProp, AdaDelta, Ftrl, Test, GroupAdaGrad), whatever the weight's dtype."""
    shape = weight._data.shape if shape is None else shape
    return NDArray(torch.zeros(shape, dtype=torch.float32, device=weight._data.device),
                   weight.context)


def python_clip_(opt, g):
    """Clip ``g`` in place as MXNet's Python-level optimizers do (AdaGrad, AdaDelta,
    Adamax, Nadam, SGLD, DCASGD): whenever ``clip_gradient is not None`` (0 included),
    unlike the fused kernels, which clip only for a truthy, non-negative value."""
    c = opt.clip_gradient
    if c is not None:
        c = _f32([c])[0]
        torch._foreach_clamp_min_(g, -c)
        torch._foreach_clamp_max_(g, c)
    return g


def clip_one(opt, t, python):
    """One tensor clipped by either convention (``python``: MXNet's NDArray code,
    else its kernels), as a new tensor or ``t`` itself when there is no clipping."""
    c = opt.clip_gradient
    if python and c is not None:
        c = _f32([c])[0]
        return t.clamp(-c, c)
    c = None if python else opt._clip_value()
    return t if c is None else t.clamp(-c, c)


def kernel_clip_(opt, g):
    """Clip ``g`` in place as MXNet's fused update kernels do (only for a truthy,
    non-negative ``clip_gradient``)."""
    c = opt._clip_value()
    if c is not None:
        torch._foreach_clamp_min_(g, -c)
        torch._foreach_clamp_max_(g, c)
    return g


def _scalars(values, kernel):
    """Hyperparameters as the update sees them: float32 in MXNet's C++ kernels (their
    parameters are float), Python floats for its NDArray arithmetic (torch then casts
    them to the tensors' dtype, as MXNet does)."""
    return _f32(values) if kernel else [float(v) for v in values]


def rescaled(opt, G, kernel=True):
    """New tensors ``rescale_grad * G`` (``G`` is left as it is)."""
    return torch._foreach_mul(G, _scalars([opt.rescale_grad], kernel)[0])


def rescaled_plus_wd(opt, G, W, wds, kernel=True):
    """New tensors ``rescale_grad * G + wd * W`` (per-parameter ``wds``), unclipped."""
    g = rescaled(opt, G, kernel)
    if any(wds):
        torch._foreach_add_(g, torch._foreach_mul(W, _scalars(wds, kernel)))
    return g
