"""``mx.nd.random``: sampling functions with MXNet's signatures, drawn with torch's default
generator of the target device (seed it with ``mx.random.seed``)."""
import numpy as np
import torch

from ..base import MXNetTypeError, MXNetValueError, numeric_types, torch_dtype
from ..context import current_context
from .ndarray import NDArray, _ctx_device

__all__ = ["uniform", "normal", "randn", "randint", "exponential", "gamma", "poisson",
           "shuffle"]


def _shape_tuple(shape, fn):
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise MXNetTypeError(f"mx.nd.random.{fn}: shape must be an int or a tuple of ints, got "
                             f"{shape!r}") from None


def _float_dtype(dtype, fn, default=torch.float32):
    dt = default if dtype is None else torch_dtype(dtype)
    if fn != "randint" and not dt.is_floating_point:
        raise MXNetTypeError(f"mx.nd.random.{fn}: dtype must be a floating type ('float16', "
                             f"'float32' or 'float64'), got {dtype!r}")
    if fn == "randint" and dt.is_floating_point:
        raise MXNetTypeError(f"mx.nd.random.randint: dtype must be 'int32' or 'int64', got "
                             f"{dtype!r}")
    return dt


def _draw(fn, params, shape, dtype, ctx, out, sample, default_dtype=torch.float32):
    """Shared driver: ``sample(params_as_tensors_or_numbers, full_shape, dtype, device)``
    returns the samples; result is wrapped, or written into ``out``."""
    shape = _shape_tuple(shape, fn)
    if isinstance(params[0], NDArray):
        if not all(isinstance(p, NDArray) for p in params):
            raise MXNetTypeError(f"mx.nd.random.{fn}: distribution parameters must all have the "
                                 f"same type, got {[type(p).__name__ for p in params]}")
        base = params[0]._data
        extra = shape or ()
        full = tuple(base.shape) + extra
        dev = base.device
        ctx = params[0]._ctx
        # parameters broadcast over the trailing sample dimensions
        ps = [p._data.reshape(tuple(p.shape) + (1,) * len(extra)) for p in params]
    elif all(isinstance(p, numeric_types) for p in params):
        if shape is None:
            shape = tuple(out.shape) if out is not None else (1,)
        full, dev, ps = shape, _ctx_device(ctx), list(params)
        if ctx is None:
            ctx = current_context()
    else:
        raise MXNetValueError(f"mx.nd.random.{fn}: distribution parameters must be either "
                              f"NDArray or numbers, got {[type(p).__name__ for p in params]}")
    if out is not None:
        if not isinstance(out, NDArray):
            raise MXNetTypeError(f"mx.nd.random.{fn}: out must be an NDArray, got "
                                 f"{type(out).__name__}")
        if tuple(out.shape) != tuple(full):
            raise MXNetValueError(f"mx.nd.random.{fn}: out has shape {out.shape} but the "
                                  f"samples have shape {tuple(full)}")
        dt = out._data.dtype if dtype is None else _float_dtype(dtype, fn, default_dtype)
        out._data.copy_(sample(ps, full, dt, out._data.device))
        return out
    dt = _float_dtype(dtype, fn, default_dtype)
    res = sample(ps, full, dt, dev)
    return NDArray(res if res.dtype == dt else res.to(dt), ctx)


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the uniform distribution on ``[low, high)``.

    Parameters
    ----------
    low, high : float or NDArray, default 0 and 1
        Bounds. With NDArrays the output shape is ``low.shape + shape`` (one set of
        ``shape`` samples per element), on ``low``'s device.
    shape : int or tuple of int, optional
        Sample shape; default ``(1,)`` for number parameters (``out.shape`` when ``out``).
    dtype : {'float16', 'float32', 'float64'}, default 'float32'
    ctx : Context, optional
        Default the current context (ignored for NDArray parameters).
    out : NDArray, optional
        Written in place and returned.

    Raises
    ------
    MXNetValueError, MXNetTypeError
        For mixed parameter types, a non-float dtype or an ``out`` of the wrong shape.
    """
    def sample(ps, full, dt, dev):
        u = torch.rand(full, dtype=dt, device=dev)
        return u * (ps[1] - ps[0]) + ps[0]
    return _draw("uniform", [low, high], shape, dtype, ctx, out, sample)


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the normal distribution N(loc, scale**2). Parameters as in
    :func:`uniform` (``loc``/``scale`` may be NDArrays)."""
    def sample(ps, full, dt, dev):
        return torch.randn(full, dtype=dt, device=dev) * ps[1] + ps[0]
    return _draw("normal", [loc, scale], shape, dtype, ctx, out, sample)


def randn(*shape, **kwargs):
    """Normal samples of shape ``shape`` (positional): ``randn(2, 3, loc=0, scale=1,
    dtype=None, ctx=None, out=None)``."""
    loc, scale = kwargs.pop("loc", 0), kwargs.pop("scale", 1)
    return normal(loc, scale, shape=shape if shape else None, dtype=kwargs.pop("dtype", None),
                  ctx=kwargs.pop("ctx", None), out=kwargs.pop("out", None))


def exponential(scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the exponential distribution with mean ``scale`` (rate 1/scale)."""
    def sample(ps, full, dt, dev):
        return torch.empty(full, dtype=dt, device=dev).exponential_(1.0) * ps[0]
    return _draw("exponential", [scale], shape, dtype, ctx, out, sample)


def gamma(alpha=1, beta=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the gamma distribution with shape ``alpha`` and scale ``beta``."""
    def sample(ps, full, dt, dev):
        a = torch.as_tensor(ps[0], dtype=dt, device=dev).expand(full)
        return torch._standard_gamma(a.contiguous()) * ps[1]
    return _draw("gamma", [alpha, beta], shape, dtype, ctx, out, sample)


def poisson(lam=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the Poisson distribution with rate ``lam`` (returned as floats, as
    MXNet does)."""
    def sample(ps, full, dt, dev):
        rate = torch.as_tensor(ps[0], dtype=dt, device=dev).expand(full)
        return torch.poisson(rate.contiguous())
    return _draw("poisson", [lam], shape, dtype, ctx, out, sample)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Integers drawn uniformly from ``[low, high)``.

    Parameters
    ----------
    low, high : int
        Bounds (numbers only, as in MXNet).
    shape : int or tuple of int, optional
        Default ``(1,)``.
    dtype : {'int32', 'int64'}, default 'int32'
    ctx : Context, optional
    out : NDArray, optional

    Raises
    ------
    MXNetValueError
        If ``high <= low`` or a bound is not a number.
    """
    if isinstance(low, NDArray) or isinstance(high, NDArray):
        raise MXNetValueError("mx.nd.random.randint: low and high must be numbers, not NDArrays")
    if not high > low:
        raise MXNetValueError(f"mx.nd.random.randint: high ({high}) must be greater than low "
                              f"({low})")

    def sample(ps, full, dt, dev):
        return torch.randint(int(ps[0]), int(ps[1]), full, dtype=dt, device=dev)
    return _draw("randint", [low, high], shape, dtype, ctx, out, sample,
                 default_dtype=torch.int32)


def shuffle(data, **kwargs):
    """A copy of ``data`` with its first axis randomly permuted (``data`` is unchanged).

    Parameters
    ----------
    data : NDArray
    out : NDArray, optional
        Receives the result.
    """
    if not isinstance(data, NDArray):
        raise MXNetTypeError(f"mx.nd.random.shuffle: data must be an NDArray, got "
                             f"{type(data).__name__}")
    t = data._data
    res = t[torch.randperm(t.shape[0], device=t.device)] if t.dim() > 0 else t.clone()
    out = kwargs.pop("out", None)
    if out is not None:
        out._data.copy_(res)
        return out
    return NDArray(res, data._ctx)
