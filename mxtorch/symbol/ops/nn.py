"""Neural-network layers: FullyConnected, Convolution, Deconvolution, Pooling, Activation,
BatchNorm, Dropout, Embedding."""
import numpy as np
import torch
import torch.nn.functional as F

from ...base import MXNetValueError
from ..registry import OpDef, Param, register
from ._util import known, prod, same_shape_rule, same_type_rule

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_with_bias = lambda p: ("data", "weight") if p.no_bias else ("data", "weight", "bias")  # noqa


# ------------------------------------------------------------------ FullyConnected
def _fc_forward(p, is_train, data, weight, bias=None):
    if p.flatten and data.dim() != 2:
        data = data.reshape(data.shape[0], -1)
    return F.linear(data, weight, bias)


def _fc_shape(p, ins, outs):
    data, out = ins[0], outs[0]
    if data is not None and len(data) and not known(data) and known(out):
        # as MXNet, the data's batch dims follow the output (e.g. RNN begin states
        # zeros(shape=(0, H)) get their batch from the graph)
        data = (out[0],) + tuple(data[1:]) if p.flatten else tuple(out[:-1]) + (data[-1],)
        ins[0] = data
    if known(data):
        in_dim = prod(data[1:]) if p.flatten else data[-1]
        ins[1] = (p.num_hidden, in_dim)
        if not p.no_bias:
            ins[2] = (p.num_hidden,)
        out = (data[0], p.num_hidden) if p.flatten else tuple(data[:-1]) + (p.num_hidden,)
        return ins, [out]
    return ins, outs


register(OpDef(
    "FullyConnected", _fc_forward,
    params={"num_hidden": Param("int"), "no_bias": Param("bool", False),
            "flatten": Param("bool", True)},
    inputs=_with_bias, infer_shape=_fc_shape, infer_type=same_type_rule))


# ------------------------------------------------------------------ Convolution
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_CHANNEL_FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
_CHANNEL_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


def _spatial(p, name, nd, fill):
    v = getattr(p, name)
    if v and len(v) != nd:
        raise MXNetValueError(f"{name}={tuple(v)} has {len(v)} dims but the kernel has {nd}; "
                              f"pass {nd} values (or none for the default {fill})")
    return tuple(v) if v else (fill,) * nd


def _check_layout(op, p, nd):
    """Raise unless ``p.layout`` is a layout of ``nd`` spatial dims; True if channel-last."""
    if p.layout is None or p.layout == _CHANNEL_FIRST[nd]:
        return False
    if p.layout == _CHANNEL_LAST[nd]:
        return True
    raise MXNetValueError(f"{op}: layout '{p.layout}' does not fit a {nd}-D kernel; use "
                          f"'{_CHANNEL_FIRST[nd]}' or '{_CHANNEL_LAST[nd]}'")


def _conv_dims(op, p, data):
    """(number of spatial dims, channel-last?) of a conv op on data of shape ``data``."""
    nd = len(p.kernel)
    if not 1 <= nd <= 3:
        raise MXNetValueError(f"{op}: kernel {tuple(p.kernel)} must have 1, 2 or 3 dims")
    if data is not None and len(data) and len(data) != nd + 2:
        raise MXNetValueError(f"{op}: a {nd}-D kernel needs {nd + 2}-D data (batch, channel "
                              f"and {nd} spatial dims), got shape {tuple(data)}")
    return nd, _check_layout(op, p, nd)


def _conv_forward(p, is_train, data, weight, bias=None):
    """Convolution. Channel-last layouts (which MXNet runs only with cuDNN; its CPU build
    fails on them) run as the channel-first convolution of the transposed tensors."""
    nd, last = _conv_dims("Convolution", p, data.shape)
    if last:
        data, weight = data.movedim(-1, 1), weight.movedim(-1, 1)
    out = _CONV[nd](data, weight, bias, stride=_spatial(p, "stride", nd, 1),
                    padding=_spatial(p, "pad", nd, 0), dilation=_spatial(p, "dilate", nd, 1),
                    groups=p.num_group)
    return out.movedim(1, -1) if last else out


def _conv_specialize(p):
    """Convolution with its geometry worked out once (channel-first layouts): the torch
    kernel with constant stride, padding, dilation and groups."""
    nd = len(p.kernel)
    if not 1 <= nd <= 3 or p.layout not in (None, _CHANNEL_FIRST[nd]):
        return None
    try:
        stride, pad = _spatial(p, "stride", nd, 1), _spatial(p, "pad", nd, 0)
        dilate = _spatial(p, "dilate", nd, 1)
    except MXNetValueError:
        return None
    conv, groups, rank = _CONV[nd], p.num_group, nd + 2

    def forward(p, is_train, data, weight, bias=None):
        if data.dim() != rank:   # the general forward raises MXNet's error
            return _conv_forward(p, is_train, data, weight, bias)
        return conv(data, weight, bias, stride, pad, dilate, groups)
    return forward


def _deconv_pad_adj(p, nd, spatial):
    """MXNet's padding and extra size of a Deconvolution: from ``pad`` and ``adj``, or,
    when ``target_shape`` is given, the ones that make the output that size."""
    stride, dilate = _spatial(p, "stride", nd, 1), _spatial(p, "dilate", nd, 1)
    target = tuple(p.target_shape or ())
    if not any(target):
        return _spatial(p, "pad", nd, 0), _spatial(p, "adj", nd, 0)
    if len(target) != nd:
        raise MXNetValueError(f"Deconvolution: target_shape {target} must have {nd} dims")
    pads, adjs = [], []
    for n, k, s, d, t in zip(spatial, p.kernel, stride, dilate, target):
        largest = s * (n - 1) + d * (k - 1) + 1
        total = largest - t
        if total < 0:
            raise MXNetValueError(f"Deconvolution: target_shape {target} is too big for "
                                  f"input {tuple(spatial)} (at most {largest} per dim)")
        pads.append((total + 1) // 2)
        adjs.append(total % 2)
    return tuple(pads), tuple(adjs)


def _deconv_forward(p, is_train, data, weight, bias=None):
    """Deconvolution (transposed convolution); weight (C, num_filter / num_group, *kernel)."""
    nd, last = _conv_dims("Deconvolution", p, data.shape)
    if last:
        data, weight = data.movedim(-1, 1), weight.movedim(-1, 1)
    pad, adj = _deconv_pad_adj(p, nd, data.shape[2:])
    out = _CONV_T[nd](data, weight, bias, stride=_spatial(p, "stride", nd, 1), padding=pad,
                      output_padding=adj, groups=p.num_group,
                      dilation=_spatial(p, "dilate", nd, 1))
    return out.movedim(1, -1) if last else out


def _conv_shape_rule(op, out_spatial, weight_io):
    """The shape rule of Convolution/Deconvolution: the weight from the data's channels
    (``weight_io(p, c)`` gives its (dim 0, dim 1)), the output from ``out_spatial``."""
    def rule(p, ins, outs):
        data = ins[0]
        nd, last = _conv_dims(op, p, data)
        if data is None or not len(data):
            return ins, None
        cax = nd + 1 if last else 1
        spatial_in = tuple(data[1:nd + 1] if last else data[2:])
        c = data[cax]
        if p.num_filter % p.num_group:
            raise MXNetValueError(f"{op}: num_filter {p.num_filter} is not divisible by "
                                  f"num_group {p.num_group}")
        if c > 0:
            if c % p.num_group:
                raise MXNetValueError(f"{op}: input channels {c} not divisible by num_group "
                                      f"{p.num_group}")
            w0, w1 = weight_io(p, c)
            ins[1] = (w0,) + tuple(p.kernel) + (w1,) if last else (w0, w1) + tuple(p.kernel)
            if not p.no_bias:
                ins[2] = (p.num_filter,)
        if not known(data):
            return ins, None
        spatial = out_spatial(p, nd, spatial_in)
        if min(spatial) < 1:
            raise MXNetValueError(f"{op}: kernel {tuple(p.kernel)} (pad, stride, dilate "
                                  f"{p.pad}, {p.stride}, {p.dilate}) gives an empty output "
                                  f"for the input {spatial_in}")
        out = (data[0],) + spatial + (p.num_filter,) if last else \
            (data[0], p.num_filter) + spatial
        return ins, [out]
    return rule


def _conv_out(p, nd, spatial):
    stride, pad = _spatial(p, "stride", nd, 1), _spatial(p, "pad", nd, 0)
    dilate = _spatial(p, "dilate", nd, 1)
    return tuple((n + 2 * q - d * (k - 1) - 1) // s + 1 for n, k, s, q, d in
                 zip(spatial, p.kernel, stride, pad, dilate))


def _deconv_out(p, nd, spatial):
    stride, dilate = _spatial(p, "stride", nd, 1), _spatial(p, "dilate", nd, 1)
    pad, adj = _deconv_pad_adj(p, nd, spatial)
    for a, s in zip(adj, stride):
        if a >= s:
            raise MXNetValueError(f"Deconvolution: adj {tuple(adj)} must be smaller than the "
                                  f"stride {stride}")
    return tuple(s * (n - 1) + d * (k - 1) + 1 - 2 * q + a for n, k, s, d, q, a in
                 zip(spatial, p.kernel, stride, dilate, pad, adj))


_CONV_LAYOUTS = {None, "NCW", "NCHW", "NCDHW", "NHWC", "NDHWC"}
_CONV_PARAMS = {
    "kernel": Param("shape"), "num_filter": Param("int"), "stride": Param("shape", ()),
    "dilate": Param("shape", ()), "pad": Param("shape", ()), "num_group": Param("int", 1),
    "no_bias": Param("bool", False), "workspace": Param("int", 1024),
    "cudnn_tune": Param("str", None, {None, "off", "limited_workspace", "fastest"}),
    "cudnn_off": Param("bool", False), "layout": Param("str", None, _CONV_LAYOUTS)}

register(OpDef(
    "Convolution", _conv_forward, params=_CONV_PARAMS, inputs=_with_bias,
    specialize=_conv_specialize, infer_type=same_type_rule,
    infer_shape=_conv_shape_rule("Convolution", _conv_out,
                                 lambda p, c: (p.num_filter, c // p.num_group))))

register(OpDef(
    "Deconvolution", _deconv_forward,
    params=dict(_CONV_PARAMS, adj=Param("shape", ()), target_shape=Param("shape", ()),
                workspace=Param("int", 512), no_bias=Param("bool", True)),
    inputs=_with_bias, infer_type=same_type_rule,
    infer_shape=_conv_shape_rule("Deconvolution", _deconv_out,
                                 lambda p, c: (c, p.num_filter // p.num_group))))


# ------------------------------------------------------------------ Pooling
_MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_POOL_LAYOUTS = {None, "NCW", "NCHW", "NCDHW", "NWC", "NHWC", "NDHWC"}


def _full_size(n, k, s, q):
    """MXNet's output length for pooling_convention='full' (ceil division)."""
    return -(-(n + 2 * q - k) // s) + 1


def _pool_padded(pool_type, include_pad, data, kernel, stride, pad, extra):
    """Pooling with explicit padding: ``pad`` on both sides plus ``extra`` on the right.
    Averages count the padding only up to ``pad`` (none without ``include_pad``)."""
    nd = len(kernel)
    spatial = tuple(data.shape[2:])
    spec = [v for q, e in zip(reversed(pad), reversed(extra)) for v in (q, q + e)]
    if pool_type == "max":
        # windows wholly in the padding give the lowest finite value, as MXNet does
        low = torch.finfo(data.dtype).min if data.is_floating_point() else 0
        return _MAXPOOL[nd](F.pad(data, spec, value=low), kernel, stride)
    area = float(prod(kernel))
    sums = _AVGPOOL[nd](F.pad(data, spec), kernel, stride) * area
    if pool_type == "sum":
        return sums
    ones = data.new_ones((1, 1) + spatial)
    if include_pad:
        ones = F.pad(ones, [v for q in reversed(pad) for v in (q, q)], value=1.0)
        mask = F.pad(ones, [v for e in reversed(extra) for v in (0, e)])
    else:
        mask = F.pad(ones, spec)
    return sums / (_AVGPOOL[nd](mask, kernel, stride) * area)


def _pool_full(pool_type, include_pad, data, kernel, stride, pad):
    """pooling_convention='full' with MXNet's window rule: the right side is padded as far
    as the last window needs; averages count the padding only up to ``pad``."""
    nd = len(kernel)
    spatial = tuple(data.shape[2:])
    outs = [_full_size(n, k, s, q) for n, k, s, q in zip(spatial, kernel, stride, pad)]
    if pool_type == "max":
        torch_outs = [(n + 2 * q - k + s - 1) // s + 1 for n, k, s, q in
                      zip(spatial, kernel, stride, pad)]
        torch_outs = [o - 1 if (o - 1) * s >= n + q else o for o, n, s, q in
                      zip(torch_outs, spatial, stride, pad)]
        if torch_outs == outs and all(2 * q <= k for q, k in zip(pad, kernel)):
            return _MAXPOOL[nd](data, kernel, stride, pad, ceil_mode=True)
    extra = [max(0, (o - 1) * s + k - n - 2 * q) for o, n, k, s, q in
             zip(outs, spatial, kernel, stride, pad)]
    out = _pool_padded(pool_type, include_pad, data, kernel, stride, pad, extra)
    if pool_type == "avg" and include_pad and data.requires_grad and all(
            (o + 2 * q - k) % s == 0 for o, k, s, q in zip(outs, kernel, stride, pad)):
        # MXNet 1.9.1 (oneDNN build) computes this backward with oneDNN, which pads the
        # right side fully and so divides every window's gradient by the kernel area.
        alt = _pool_padded("sum", True, data, kernel, stride, pad, extra) / float(prod(kernel))
        out = out.detach() + (alt - alt.detach())
    return out


def _pool_outputs(p):
    # MXNet's oneDNN builds give max pooling a hidden workspace output (node_row_ptr)
    if p.pool_type == "max" and 1 <= len(p.kernel) <= 3 and \
            p.layout in (None, "NCW", "NCHW", "NCDHW"):
        return ("output", "workspace")
    return ("output",)


def _pool_forward(p, is_train, data):
    nd = data.dim() - 2
    if p.layout is not None and p.layout == _CHANNEL_LAST.get(nd):
        out = _pool(p, data.movedim(-1, 1)).movedim(1, -1)
    else:
        out = _pool(p, data)
    return (out, out) if len(_pool_outputs(p)) == 2 else out


def _pool_geometry(p, shape):
    """(kernel, stride, pad) of a pooling on channel-first data of ``shape``; checks the
    parameters as MXNet does."""
    nd = len(shape) - 2
    if not 1 <= nd <= 3:
        raise MXNetValueError(f"Pooling: data must be 3-, 4- or 5-D (batch, channel, 1 to 3 "
                              f"spatial dims), got shape {tuple(shape)}")
    if p.layout is not None and p.layout not in (_CHANNEL_FIRST[nd], _CHANNEL_LAST[nd]):
        raise MXNetValueError(f"Pooling: layout '{p.layout}' does not fit {nd + 2}-D data")
    if p.pooling_convention == "same":
        raise MXNetValueError("Pooling: pooling_convention='same' fails in MXNet 1.9.1 "
                              "itself (its shape inference reads a second spatial dim of "
                              "the 1-D input it requires); use 'valid' or 'full' with an "
                              "explicit pad")
    if p.pool_type == "lp" and p.p_value not in (1, 2, 3):
        raise MXNetValueError(f"Pooling: pool_type='lp' needs p_value 1, 2 or 3 (MXNet's lp "
                              f"kernels), got {p.p_value}")
    if p.global_pool:
        return tuple(shape[2:]), (1,) * nd, (0,) * nd
    if len(p.kernel) != nd:
        raise MXNetValueError(f"Pooling: kernel {tuple(p.kernel)} must have {nd} dims for "
                              f"data of shape {tuple(shape)} (or pass global_pool=True)")
    pad = _spatial(p, "pad", nd, 0)
    if any(q >= k for q, k in zip(pad, p.kernel)):
        raise MXNetValueError(f"Pooling: pad {pad} must be smaller than the kernel "
                              f"{tuple(p.kernel)}")
    return tuple(p.kernel), _spatial(p, "stride", nd, 1), pad


def _pool(p, data):
    nd = data.dim() - 2
    kernel, stride, pad = _pool_geometry(p, data.shape)
    full = p.pooling_convention == "full" and not p.global_pool
    if p.pool_type == "lp":
        return _lp_pool(p, data, kernel, stride, pad, full)
    include = p.pool_type == "sum" or p.count_include_pad is None or p.count_include_pad
    if full:
        return _pool_full(p.pool_type, include, data, kernel, stride, pad)
    if any(2 * q > k for q, k in zip(pad, kernel)):  # more padding than torch's kernels take
        return _pool_padded(p.pool_type, include, data, kernel, stride, pad, (0,) * nd)
    if p.pool_type == "max":
        return _MAXPOOL[nd](data, kernel, stride, pad)
    out = _AVGPOOL[nd](data, kernel, stride, pad, count_include_pad=include)
    return out * float(prod(kernel)) if p.pool_type == "sum" else out


# the kernels F.max_pool*d reaches through its return_indices dispatch
_MAXPOOL_DIRECT = {1: torch.max_pool1d, 2: torch.max_pool2d, 3: torch.max_pool3d}


def _pool_specialize(p):
    """Pooling with its geometry worked out once, for the common case: max, avg or sum
    over a fixed kernel with the 'valid' convention, channel-first, padding torch's
    kernels take (at most half the kernel). Other cases keep the general forward."""
    nd = len(p.kernel)
    if p.global_pool or p.pooling_convention != "valid" or p.pool_type == "lp" or \
            not 1 <= nd <= 3 or p.layout not in (None, _CHANNEL_FIRST[nd]):
        return None
    try:
        pad, stride = _spatial(p, "pad", nd, 0), _spatial(p, "stride", nd, 1)
    except MXNetValueError:
        return None
    kernel = tuple(p.kernel)
    if any(q >= k or 2 * q > k for q, k in zip(pad, kernel)):
        return None
    rank, two = nd + 2, len(_pool_outputs(p)) == 2
    if p.pool_type == "max":
        pool = _MAXPOOL_DIRECT[nd]

        def forward(p, is_train, data):
            if data.dim() != rank:   # the general forward raises MXNet's error
                return _pool_forward(p, is_train, data)
            out = pool(data, kernel, stride, pad)
            return (out, out) if two else out
        return forward
    avg = _AVGPOOL[nd]
    include = p.pool_type == "sum" or p.count_include_pad is None or p.count_include_pad
    area = float(prod(kernel)) if p.pool_type == "sum" else None

    def forward(p, is_train, data):
        if data.dim() != rank:
            return _pool_forward(p, is_train, data)
        out = avg(data, kernel, stride, pad, count_include_pad=include)
        out = out * area if area is not None else out
        return (out, out) if two else out
    return forward


def _lp_pool(p, data, kernel, stride, pad, full):
    """(sum of x^p over the window)^(1/p), zero padded. As MXNet's kernels, x^p keeps its
    sign: p=1 is plain sum pooling (no absolute value) and p=3 takes the signed cube
    root."""
    pv = p.p_value
    powered = data if pv == 1 else data ** pv
    if full:
        sums = _pool_full("sum", True, powered, kernel, stride, pad)
    else:
        sums = _pool_padded("sum", True, powered, kernel, stride, pad, (0,) * len(kernel))
    if pv == 1:
        return sums
    if pv == 2:
        return torch.sqrt(sums)
    return torch.sign(sums) * sums.abs() ** (1.0 / 3)


def _pool_shape(p, ins, outs):
    data = ins[0]
    if not known(data):
        return ins, None
    nd = len(data) - 2
    last = p.layout is not None and p.layout == _CHANNEL_LAST.get(nd)
    shape = (data[0], data[-1]) + tuple(data[1:-1]) if last else tuple(data)
    kernel, stride, pad = _pool_geometry(p, shape)
    if p.global_pool:
        spatial = (1,) * nd
    else:
        size = _full_size if p.pooling_convention == "full" else \
            lambda n, k, s, q: (n + 2 * q - k) // s + 1
        spatial = tuple(size(n, k, s, q) for n, k, s, q in zip(shape[2:], kernel, stride, pad))
        if min(spatial) < 1:
            raise MXNetValueError(f"Pooling: kernel {kernel} is larger than the input "
                                  f"{tuple(shape[2:])} (pad {pad})")
    out = (data[0],) + spatial + (data[-1],) if last else tuple(data[:2]) + spatial
    return ins, [out] * len(_pool_outputs(p))


register(OpDef(
    "Pooling", _pool_forward, infer_shape=_pool_shape,
    params={"kernel": Param("shape", ()),
            "pool_type": Param("str", "max", {"max", "avg", "sum", "lp"}),
            "global_pool": Param("bool", False), "stride": Param("shape", ()),
            "pad": Param("shape", ()),
            "pooling_convention": Param("str", "valid", {"valid", "full", "same"}),
            "count_include_pad": Param("bool_or_none", None),
            "p_value": Param("int_or_none", None), "cudnn_off": Param("bool", False),
            "layout": Param("str", None, _POOL_LAYOUTS)},
    outputs=_pool_outputs, num_visible=lambda p: 1, specialize=_pool_specialize))


# ------------------------------------------------------------------ Activation
_ACTS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
         "softrelu": F.softplus, "softsign": F.softsign}


def _act_forward(p, is_train, data):
    return _ACTS[p.act_type](data)


def _act_specialize(p):
    act = _ACTS[p.act_type]

    def forward(p, is_train, data):
        return act(data)
    return forward


register(OpDef("Activation", _act_forward, infer_shape=same_shape_rule,
               params={"act_type": Param("str", choices=set(_ACTS))},
               specialize=_act_specialize))


# ------------------------------------------------------------------ BatchNorm
class _UpdateMovingStats(torch.autograd.Function):
    """Identity on the BatchNorm output whose backward folds the batch statistics into
    the moving ones. MXNet 1.9.1 updates them in BatchNorm's backward, not its forward:
    a forward(is_train=True) alone leaves them unchanged, and so does a backward that
    needs no gradient through the BatchNorm."""

    @staticmethod
    def forward(ctx, out, mean, var, moving_mean, moving_var, momentum):
        ctx.stats = (mean, var, moving_mean, moving_var, momentum)
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        mean, var, moving_mean, moving_var, momentum = ctx.stats
        ctx.stats = None
        with torch.no_grad():
            moving_mean.mul_(momentum).add_(mean, alpha=1 - momentum)
            moving_var.mul_(momentum).add_(var, alpha=1 - momentum)  # biased variance
        return grad, None, None, None, None, None


def _bn_forward(p, is_train, data, gamma, beta, moving_mean, moving_var):
    axis = p.axis % data.dim()
    shape = [1] * data.dim()
    shape[axis] = data.shape[axis]
    dims = [d for d in range(data.dim()) if d != axis]
    if p.fix_gamma:
        # MXNet writes 1 into the gamma array (training and inference); its gradient is 0
        with torch.no_grad():
            gamma.fill_(1.0)
        gamma = gamma.detach()
    train_stats = is_train and not p.use_global_stats
    x = data if data.dtype == gamma.dtype else data.to(gamma.dtype)  # float16 data: as MXNet,
    if train_stats:                                                  # in float32
        var, mean = torch.var_mean(x, dim=dims, unbiased=False)
    else:
        mean, var = moving_mean, moving_var
    inv = torch.rsqrt(var + p.eps)
    out = (x - mean.reshape(shape)) * (inv * gamma).reshape(shape) + beta.reshape(shape)
    out = out if out.dtype == data.dtype else out.to(data.dtype)
    if train_stats and out.requires_grad:
        out = _UpdateMovingStats.apply(out, mean.detach(), var.detach(), moving_mean,
                                       moving_var, p.momentum)
    # MXNet's third output is the inverse std 1/sqrt(var + eps), not the variance; the
    # mean/var outputs carry no gradient
    return out, mean.detach(), inv.detach()


_LOW = (torch.float16, torch.bfloat16)


def _bn_specialize(p):
    """BatchNorm over axis 1 by torch's fused kernel: one pass for the batch statistics,
    a fused backward, and only the mean and inverse std saved for it (the general forward
    keeps every elementwise intermediate). torch's kernel leaves the unbiased variance in
    the buffer it is given; MXNet's statistics use the biased one, so it is rescaled.
    Outputs and moving statistics equal the general forward's to float rounding. Other
    axes, one value per channel, and dtypes torch's kernel does not mix (it takes float16
    or bfloat16 data with float32 parameters) keep the general forward."""
    if p.axis != 1:
        return None
    eps, momentum, fix_gamma = p.eps, p.momentum, p.fix_gamma
    batch_stats, cudnn_off = not p.use_global_stats, p.cudnn_off

    def forward(p, is_train, data, gamma, beta, moving_mean, moving_var):
        n = data.numel() // max(data.shape[1], 1) if data.dim() > 1 else 0
        if n < 2 or not (data.dtype == gamma.dtype or (data.dtype in _LOW
                                                       and gamma.dtype == torch.float32)):
            return _bn_forward(p, is_train, data, gamma, beta, moving_mean, moving_var)
        if fix_gamma:   # as the general forward: 1 written into gamma, no gradient
            with torch.no_grad():
                gamma.fill_(1.0)
            gamma = gamma.detach()
        cudnn = torch.backends.cudnn.enabled and not cudnn_off
        if not (is_train and batch_stats):
            out = torch.batch_norm(data, gamma, beta, moving_mean, moving_var, False, 0.0, eps,
                                   cudnn)
            return out, moving_mean.detach(), torch.rsqrt(moving_var + eps)
        mean, var = torch.zeros_like(moving_mean), torch.zeros_like(moving_var)
        out = torch.batch_norm(data, gamma, beta, mean, var, True, 1.0, eps, cudnn)
        var = var * ((n - 1) / n)    # not in place: the backward reads the buffer
        if out.requires_grad:
            out = _UpdateMovingStats.apply(out, mean, var, moving_mean, moving_var, momentum)
        return out, mean, torch.rsqrt(var + eps)
    return forward


def _bn_type(p, in_types):
    """MXNet's: gamma, beta and the moving statistics in float32 for float16 data, else in
    the data's dtype (any other dtype given for them is refused); the output keeps the
    data's dtype."""
    if in_types[0] is None:
        return in_types, [None, None, None]
    t = np.dtype(in_types[0])
    pt = np.dtype(np.float32) if t == np.float16 else t
    bad = sorted({str(np.dtype(x)) for x in in_types[1:] if x is not None and np.dtype(x) != pt})
    if bad:
        raise TypeError(f"BatchNorm on {t} data keeps gamma, beta and the moving statistics "
                        f"in {pt}, got {bad}; give them {pt}")
    return [t, pt, pt, pt, pt], [t, pt, pt]


def _bn_shape(p, ins, outs):
    data = ins[0]
    if data is not None and len(data) > p.axis % max(len(data), 1) and data[p.axis] > 0:
        c = (data[p.axis],)
        ins[1:] = [c, c, c, c]
        return ins, [tuple(data), c, c] if known(data) else None
    return ins, None


register(OpDef(
    "BatchNorm", _bn_forward,
    params={"eps": Param("float", 1e-3), "momentum": Param("float", 0.9),
            "fix_gamma": Param("bool", True), "use_global_stats": Param("bool", False),
            "output_mean_var": Param("bool", False), "axis": Param("int", 1),
            "cudnn_off": Param("bool", False), "min_calib_range": Param("float_or_none", None),
            "max_calib_range": Param("float_or_none", None)},
    inputs=("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
    outputs=("output", "mean", "var"), num_visible=lambda p: 3 if p.output_mean_var else 1,
    infer_shape=_bn_shape, infer_type=_bn_type, specialize=_bn_specialize,
    input_attrs={"moving_mean": {"__init__": '["zero", {}]'},
                 "moving_var": {"__init__": '["one", {}]'}}))


# ------------------------------------------------------------------ Dropout
def _dropout_forward(p, is_train, data):
    """Drops each element with probability p and scales the kept ones by 1 / (1 - p), in
    training (mode 'training') or always; ``axes`` share one draw along those axes. The
    hidden ``mask`` output holds the scale per element (draws from torch's generator)."""
    if not (is_train or p.mode == "always") or p.p == 0:
        return data, torch.ones_like(data)
    if p.axes:
        mask_shape = [1 if i in p.axes else s for i, s in enumerate(data.shape)]
        mask = torch.empty(mask_shape, dtype=data.dtype, device=data.device)
        mask = mask.bernoulli_(1 - p.p) / (1 - p.p)
    else:
        mask = torch.empty_like(data).bernoulli_(1 - p.p) / (1 - p.p)
    return data * mask, mask.expand_as(data)


def _dropout_shape(p, ins, outs):
    if not 0.0 <= p.p <= 1.0:
        raise MXNetValueError(f"Dropout: p={p.p} is outside [0, 1]; p is the fraction of "
                              "the input that is dropped")
    data = ins[0]
    if not known(data):
        return ins, None
    if any(not 0 <= a < len(data) for a in p.axes):
        raise MXNetValueError(f"Dropout: axes {tuple(p.axes)} do not fit data of shape "
                              f"{tuple(data)}")
    return ins, [data, data]


register(OpDef(
    "Dropout", _dropout_forward,
    params={"p": Param("float", 0.5), "mode": Param("str", "training", {"training", "always"}),
            "axes": Param("shape", ()), "cudnn_off": Param("bool", False)},
    outputs=("output", "mask"), num_visible=lambda p: 1, infer_shape=_dropout_shape))


# ------------------------------------------------------------------ Embedding
def _embedding_forward(p, is_train, data, weight):
    idx = data.long().clamp_(0, p.input_dim - 1) if data.device.type != "meta" else data.long()
    return F.embedding(idx, weight, sparse=p.sparse_grad)


def _embedding_shape(p, ins, outs):
    ins[1] = (p.input_dim, p.output_dim)
    if known(ins[0]):
        return ins, [tuple(ins[0]) + (p.output_dim,)]
    return ins, outs


def _embedding_type(p, in_types):
    """MXNet's: the output takes the weight's dtype, ``dtype`` where the weight's is not
    known; the indices keep theirs."""
    dt = np.dtype(in_types[1] if in_types[1] is not None else p.dtype)
    return [in_types[0] or np.dtype(np.float32), dt], [dt]


register(OpDef(
    "Embedding", _embedding_forward,
    params={"input_dim": Param("int"), "output_dim": Param("int"),
            "dtype": Param("dtype", "float32"), "sparse_grad": Param("bool", False)},
    inputs=("data", "weight"), infer_shape=_embedding_shape, infer_type=_embedding_type))
