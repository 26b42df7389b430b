"""``nnabla.parametric_functions`` (PF): layers that create their parameters in the
current parameter scope (under a scope named per function: 'conv', 'affine', 'bn', ...)
on first use and reuse them afterwards, then call the matching ``F`` function."""
import contextlib
import functools

import numpy as np

from ..base import MXNetValueError
from . import functions as F
from .initializer import (ConstantInitializer, UniformInitializer, calc_uniform_lim_glorot)
from .parameter import get_parameter_or_create, parameter_scope
from .state import current_training

__all__ = ["parametric_function_api", "affine", "convolution", "deconvolution",
           "batch_normalization", "layer_normalization", "embed", "lstm", "prelu"]


def parametric_function_api(scope_name):
    """Decorator running a PF inside ``parameter_scope(scope_name)``; the wrapped function
    also takes ``name=`` which adds an outer scope ('fc1/affine/W')."""
    def decorator(f):
        @functools.wraps(f)
        def wrapped(*args, name=None, **kwargs):
            with contextlib.ExitStack() as stack:
                if name is not None:
                    stack.enter_context(parameter_scope(name))
                stack.enter_context(parameter_scope(scope_name))
                return f(*args, **kwargs)
        wrapped.scope_name = scope_name
        return wrapped
    return decorator


def _param(name, shape, init, fix_parameters, need_grad=True):
    """A parameter of the current scope; with fix_parameters the graph gets an unlinked
    copy with need_grad=False (the stored one keeps its flag)."""
    return get_parameter_or_create(name, shape, init, need_grad,
                                   False if fix_parameters else need_grad)


def _weight_and_bias(w_shape, b_shape, w_init, b_init, fix_parameters, with_bias, apply_w,
                     apply_b):
    w = _param("W", w_shape, w_init, fix_parameters)
    if apply_w is not None:
        w = apply_w(w)
    b = None
    if with_bias:
        b = _param("b", b_shape, b_init or ConstantInitializer(), fix_parameters)
        if apply_b is not None:
            b = apply_b(b)
    return w, b


def _outmaps_tuple(n):
    return tuple(n) if hasattr(n, "__len__") else (int(n),)


@parametric_function_api("affine")
def affine(inp, n_outmaps, base_axis=1, w_init=None, b_init=None, fix_parameters=False,
           rng=None, with_bias=True, apply_w=None, apply_b=None):
    """Fully connected layer: W (prod(inp.shape[base_axis:]), *n_outmaps), b (*n_outmaps).

    Defaults: W ~ U(glorot bound), b = 0.
    """
    outs = _outmaps_tuple(n_outmaps)
    n_in = int(np.prod(inp.shape[base_axis:], dtype=np.int64))
    if w_init is None:
        w_init = UniformInitializer(calc_uniform_lim_glorot(n_in, int(np.prod(outs))), rng)
    w, b = _weight_and_bias((n_in,) + outs, outs, w_init, b_init, fix_parameters, with_bias,
                            apply_w, apply_b)
    return F.affine(inp, w, b, base_axis)


@parametric_function_api("conv")
def convolution(inp, outmaps, kernel, pad=None, stride=None, dilation=None, group=1,
                channel_last=False, w_init=None, b_init=None, base_axis=1,
                fix_parameters=False, rng=None, with_bias=True, apply_w=None, apply_b=None):
    """N-d convolution: W (outmaps, C/group, *kernel) ((outmaps, *kernel, C/group) with
    channel_last), b (outmaps,). Defaults: W ~ U(glorot bound), b = 0."""
    kernel = tuple(int(k) for k in kernel)
    channels = inp.shape[-1] if channel_last else inp.shape[base_axis]
    if channels % group:
        raise MXNetValueError(f"PF.convolution: {channels} input channels are not divisible "
                              f"by group={group}")
    if w_init is None:
        w_init = UniformInitializer(calc_uniform_lim_glorot(channels, outmaps, kernel), rng)
    cg = channels // group
    w_shape = (outmaps,) + kernel + (cg,) if channel_last else (outmaps, cg) + kernel
    w, b = _weight_and_bias(w_shape, (outmaps,), w_init, b_init, fix_parameters, with_bias,
                            apply_w, apply_b)
    return F.convolution(inp, w, b, base_axis, pad, stride, dilation, group, channel_last)


@parametric_function_api("deconv")
def deconvolution(inp, outmaps, kernel, pad=None, stride=None, dilation=None, group=1,
                  channel_last=False, output_padding=None, w_init=None, b_init=None,
                  base_axis=1, fix_parameters=False, rng=None, with_bias=True, apply_w=None,
                  apply_b=None):
    """N-d transposed convolution: W (C, outmaps/group, *kernel), b (outmaps,)."""
    kernel = tuple(int(k) for k in kernel)
    channels = inp.shape[base_axis]
    if outmaps % group:
        raise MXNetValueError(f"PF.deconvolution: outmaps={outmaps} is not divisible by "
                              f"group={group}")
    if w_init is None:
        w_init = UniformInitializer(calc_uniform_lim_glorot(outmaps, channels, kernel), rng)
    w, b = _weight_and_bias((channels, outmaps // group) + kernel, (outmaps,), w_init, b_init,
                            fix_parameters, with_bias, apply_w, apply_b)
    return F.deconvolution(inp, w, b, base_axis, pad, stride, dilation, group, channel_last,
                           output_padding)


def _stat_shape(inp, keep_axes):
    return tuple(s if i in keep_axes else 1 for i, s in enumerate(inp.shape))


def _norm_params(shape, param_init, fix_parameters, no_bias, no_scale, stats):
    """beta, gamma (need_grad) and, when ``stats``, mean, var (need_grad=False), created
    in this order."""
    init = {"beta": ConstantInitializer(0), "gamma": ConstantInitializer(1),
            "mean": ConstantInitializer(0), "var": ConstantInitializer(1)}
    unknown = set(param_init or {}) - set(init)
    if unknown:
        raise MXNetValueError(f"param_init has unknown keys {sorted(unknown)}; use "
                              f"{sorted(init)}")
    init.update(param_init or {})
    beta = None if no_bias else _param("beta", shape, init["beta"], fix_parameters)
    gamma = None if no_scale else _param("gamma", shape, init["gamma"], fix_parameters)
    if not stats:
        return beta, gamma
    mean = get_parameter_or_create("mean", shape, init["mean"], False)
    var = get_parameter_or_create("var", shape, init["var"], False)
    return beta, gamma, mean, var


@parametric_function_api("bn")
def batch_normalization(inp, axes=[1], decay_rate=0.9, eps=1e-05, batch_stat=None,
                        output_stat=False, fix_parameters=False, param_init=None,
                        no_scale=False, no_bias=False):
    """Batch normalization with parameters beta, gamma, mean, var of shape (1, C, 1, 1)
    for NCHW ((1, C) for 2-d input).

    Parameters
    ----------
    batch_stat : bool or None, default None
        True: normalize with batch statistics and update the running mean/var; False:
        use the running ones. None (mxtorch's default) follows the ``training`` flag of
        the Module being called, which is True outside a module (nnabla's default).
    """
    axes = list(axes) if hasattr(axes, "__len__") else [axes]
    keep = {a + inp.ndim if a < 0 else a for a in axes}
    beta, gamma, mean, var = _norm_params(_stat_shape(inp, keep), param_init, fix_parameters,
                                          no_bias, no_scale, True)
    if batch_stat is None:
        batch_stat = current_training()
    return F.batch_normalization(inp, beta, gamma, mean, var, axes, decay_rate, eps,
                                 batch_stat, output_stat)


@parametric_function_api("layer_normalization")
def layer_normalization(inp, batch_axis=0, eps=1e-05, output_stat=False, fix_parameters=False,
                        param_init=None, no_scale=False, no_bias=False):
    """Layer normalization; beta and gamma have the input's shape with 1 on the batch
    axes ((1, C, H, W) for NCHW)."""
    baxes = {batch_axis} if isinstance(batch_axis, int) else set(batch_axis)
    shape = tuple(1 if i in baxes else s for i, s in enumerate(inp.shape))
    beta, gamma = _norm_params(shape, param_init, fix_parameters, no_bias, no_scale, False)
    return F.layer_normalization(inp, beta, gamma, batch_axis, eps, output_stat)


@parametric_function_api("embed")
def embed(inp, n_inputs, n_features, initializer=None, fix_parameters=False, apply_w=None):
    """Embedding lookup: W (n_inputs, n_features), default U(-sqrt(3), sqrt(3))."""
    init = initializer or UniformInitializer((-np.sqrt(3.0), np.sqrt(3.0)))
    w = _param("W", (n_inputs, n_features), init, fix_parameters)
    if apply_w is not None:
        w = apply_w(w)
    return F.embed(inp, w)


@parametric_function_api("prelu")
def prelu(inp, base_axis=1, shared=True, fix_parameters=False, slope_init=None):
    """Parametric ReLU: slope () when shared, else (C,); initial slope 0.25."""
    shape = () if shared else (inp.shape[base_axis],)
    slope = _param("slope", shape, slope_init or ConstantInitializer(0.25), fix_parameters)
    if not shared:
        bshape = [1] * inp.ndim
        bshape[base_axis] = inp.shape[base_axis]
        slope = F.reshape(slope, bshape)
    pos = F.relu(inp)
    return F.add2(pos, F.mul2(slope, F.sub2(inp, pos)))


@parametric_function_api("lstm")
def lstm(x, h, c, num_layers=1, dropout=0.0, bidirectional=False, training=True, rng=None,
         w_init=None, b_init=None, fix_parameters=False, with_bias=True):
    """Multi-layer LSTM with parameters 'weight_l0' (D, 4, H, I+H), 'weight'
    (L-1, D, 4, H, D*H+H) when L > 1, and 'bias' (L, D, 4, H); returns (y, h_n, c_n).

    Default weights: the input and hidden parts get separate glorot bounds; bias 0.
    """
    D = 2 if bidirectional else 1
    L, I, H = int(num_layers), x.shape[2], h.shape[3]

    def default_init(in_size):
        """Glorot-uniform input part and hidden part, concatenated on the last axis."""
        def init(shape):
            lead = tuple(shape[:-1])
            ih = UniformInitializer(calc_uniform_lim_glorot(in_size, H), rng)(lead + (in_size,))
            hh = UniformInitializer(calc_uniform_lim_glorot(H, H), rng)(lead + (H,))
            return np.concatenate([ih, hh], axis=-1)
        return init
    w0 = _param("weight_l0", (D, 4, H, I + H), w_init or default_init(I), fix_parameters)
    w = None
    if L > 1:
        w = _param("weight", (L - 1, D, 4, H, D * H + H), w_init or default_init(D * H),
                   fix_parameters)
    b = None
    if with_bias:
        b = _param("bias", (L, D, 4, H), b_init or ConstantInitializer(), fix_parameters)
    return F.lstm(x, h, c, w0, w, b, L, dropout, bidirectional, training)
