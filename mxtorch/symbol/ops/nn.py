"""Neural-network layers: FullyConnected, Convolution, Pooling, Activation, BatchNorm,
Dropout, Embedding."""
import torch
import torch.nn.functional as F

from ..registry import OpDef, Param, register
from ._util import prod, known, same_shape_rule

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


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
    inputs=lambda p: ("data", "weight") if p.no_bias else ("data", "weight", "bias"),
    infer_shape=_fc_shape))


# ------------------------------------------------------------------ Convolution
def _spatial(p, name, nd, fill):
    v = getattr(p, name)
    return tuple(v) if v else (fill,) * nd


def _conv_forward(p, is_train, data, weight, bias=None):
    nd = len(p.kernel)
    return _CONV[nd](data, weight, bias, stride=_spatial(p, "stride", nd, 1),
                     padding=_spatial(p, "pad", nd, 0), dilation=_spatial(p, "dilate", nd, 1),
                     groups=p.num_group)


def _conv_shape(p, ins, outs):
    data = ins[0]
    if data is not None and len(data) > 1 and data[1] > 0:
        if data[1] % p.num_group:
            raise ValueError(f"input channels {data[1]} not divisible by num_group {p.num_group}")
        ins[1] = (p.num_filter, data[1] // p.num_group) + tuple(p.kernel)
        if not p.no_bias:
            ins[2] = (p.num_filter,)
        if known(data):
            nd = len(p.kernel)
            stride, pad = _spatial(p, "stride", nd, 1), _spatial(p, "pad", nd, 0)
            dilate = _spatial(p, "dilate", nd, 1)
            spatial = tuple((n + 2 * q - d * (k - 1) - 1) // s + 1 for n, k, s, q, d in
                            zip(data[2:], p.kernel, stride, pad, dilate))
            if min(spatial) < 1:
                raise ValueError(f"kernel {tuple(p.kernel)} (dilate {dilate}, pad {pad}) is "
                                 f"larger than the input {tuple(data[2:])}")
            return ins, [(data[0], p.num_filter) + spatial]
    return ins, None


_LAYOUT = Param("str", None)
register(OpDef(
    "Convolution", _conv_forward,
    params={"kernel": Param("shape"), "num_filter": Param("int"), "stride": Param("shape", ()),
            "dilate": Param("shape", ()), "pad": Param("shape", ()),
            "num_group": Param("int", 1), "no_bias": Param("bool", False),
            "workspace": Param("int", 1024), "cudnn_tune": Param("str", None),
            "cudnn_off": Param("bool", False), "layout": _LAYOUT},
    inputs=lambda p: ("data", "weight") if p.no_bias else ("data", "weight", "bias"),
    infer_shape=_conv_shape))


# ------------------------------------------------------------------ Pooling
_MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _full_size(n, k, s, q):
    """MXNet's output length for pooling_convention='full' (ceil division)."""
    return -(-(n + 2 * q - k) // s) + 1


def _pool_full(p, data, kernel, stride, pad):
    """pooling_convention='full' with MXNet's window rule: the right side is padded as far
    as the last window needs; averages count the padding only up to ``pad``."""
    nd = len(kernel)
    spatial = tuple(data.shape[2:])
    outs = [_full_size(n, k, s, q) for n, k, s, q in zip(spatial, kernel, stride, pad)]
    if p.pool_type == "max":
        torch_outs = [(n + 2 * q - k + s - 1) // s + 1 for n, k, s, q in
                      zip(spatial, kernel, stride, pad)]
        torch_outs = [o - 1 if (o - 1) * s >= n + q else o for o, n, s, q in
                      zip(torch_outs, spatial, stride, pad)]
        if torch_outs == outs and all(2 * q <= k for q, k in zip(pad, kernel)):
            return _MAXPOOL[nd](data, kernel, stride, pad, ceil_mode=True)
    extra = [max(0, (o - 1) * s + k - n - 2 * q) for o, n, k, s, q in
             zip(outs, spatial, kernel, stride, pad)]
    spec = [v for q, e in zip(reversed(pad), reversed(extra)) for v in (q, q + e)]
    if p.pool_type == "max":
        # windows wholly in the padding give the lowest finite value, as MXNet does
        low = torch.finfo(data.dtype).min if data.is_floating_point() else 0
        return _MAXPOOL[nd](F.pad(data, spec, value=low), kernel, stride)
    area = float(prod(kernel))
    sums = _AVGPOOL[nd](F.pad(data, spec), kernel, stride) * area
    if p.pool_type == "sum":
        return sums
    include = p.count_include_pad is None or p.count_include_pad
    ones = data.new_ones((1, 1) + spatial)
    if include:  # padding counts up to `pad` on each side, not the extra right part
        ones = F.pad(ones, [v for q in reversed(pad) for v in (q, q)], value=1.0)
        mask = F.pad(ones, [v for e in reversed(extra) for v in (0, e)])
    else:
        mask = F.pad(ones, spec)
    out = sums / (_AVGPOOL[nd](mask, kernel, stride) * area)
    if include and nd == 2 and data.requires_grad and all(
            (o + 2 * q - k) % s == 0 for o, k, s, q in zip(outs, kernel, stride, pad)):
        # MXNet 1.9.1 (oneDNN build) computes this backward with oneDNN, which pads the
        # right side fully and so divides every window's gradient by the kernel area.
        alt = sums / area
        out = out.detach() + (alt - alt.detach())
    return out


def _pool_outputs(p):
    # MXNet's oneDNN builds give max pooling a hidden workspace output (node_row_ptr)
    if p.pool_type == "max" and 1 <= len(p.kernel) <= 3 and \
            p.layout in (None, "NCW", "NCHW", "NCDHW"):
        return ("output", "workspace")
    return ("output",)


def _pool_forward(p, is_train, data):
    out = _pool(p, data)
    return (out, out) if len(_pool_outputs(p)) == 2 else out


def _pool(p, data):
    nd = data.dim() - 2
    if p.global_pool:
        kernel, stride, pad = tuple(data.shape[2:]), (1,) * nd, (0,) * nd
    else:
        kernel = tuple(p.kernel)
        stride = _spatial(p, "stride", nd, 1)
        pad = _spatial(p, "pad", nd, 0)
    if p.pooling_convention == "full" and not p.global_pool and p.pool_type != "lp":
        return _pool_full(p, data, kernel, stride, pad)
    ceil = p.pooling_convention == "full"
    if p.pool_type == "max":
        return _MAXPOOL[nd](data, kernel, stride, pad, ceil_mode=ceil)
    if p.pool_type in ("avg", "sum"):
        include = True if p.count_include_pad is None else p.count_include_pad
        out = _AVGPOOL[nd](data, kernel, stride, pad, ceil_mode=ceil, count_include_pad=include)
        if p.pool_type == "sum":
            out = out * float(prod(kernel))
        return out
    if p.pool_type == "lp":
        fn = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}[nd]
        return fn(F.pad(data, [x for x in reversed(pad) for _ in (0, 1)]),
                  float(p.p_value or 2), kernel, stride, ceil_mode=ceil)
    raise ValueError(f"unknown pool_type {p.pool_type}")


def _pool_shape(p, ins, outs):
    data = ins[0]
    if not known(data) or p.pool_type == "lp":
        return ins, None
    nd = len(data) - 2
    if p.global_pool:
        spatial = (1,) * nd
    else:
        kernel = tuple(p.kernel)
        stride, pad = _spatial(p, "stride", nd, 1), _spatial(p, "pad", nd, 0)
        if p.pooling_convention == "full":
            spatial = tuple(_full_size(n, k, s, q) for n, k, s, q in
                            zip(data[2:], kernel, stride, pad))
        elif p.pooling_convention == "valid":
            spatial = tuple((n + 2 * q - k) // s + 1 for n, k, s, q in
                            zip(data[2:], kernel, stride, pad))
        else:
            return ins, None
        if min(spatial) < 1:
            raise ValueError(f"pooling kernel {kernel} is larger than the input "
                             f"{tuple(data[2:])} (pad {pad})")
    out = tuple(data[:2]) + spatial
    return ins, [out] * len(_pool_outputs(p))


register(OpDef(
    "Pooling", _pool_forward, infer_shape=_pool_shape,
    params={"kernel": Param("shape", ()), "pool_type": Param("str", "max", {"max", "avg", "sum", "lp"}),
            "global_pool": Param("bool", False), "stride": Param("shape", ()),
            "pad": Param("shape", ()),
            "pooling_convention": Param("str", "valid", {"valid", "full", "same"}),
            "count_include_pad": Param("bool_or_none", None), "p_value": Param("int_or_none", None),
            "cudnn_off": Param("bool", False), "layout": _LAYOUT},
    outputs=_pool_outputs, num_visible=lambda p: 1))


# ------------------------------------------------------------------ Activation
_ACTS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
         "softrelu": F.softplus, "softsign": F.softsign}


def _act_forward(p, is_train, data):
    return _ACTS[p.act_type](data)


register(OpDef("Activation", _act_forward, infer_shape=same_shape_rule,
               params={"act_type": Param("str", choices=set(_ACTS))}))


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
    if train_stats:
        var, mean = torch.var_mean(data, dim=dims, unbiased=False)
    else:
        mean, var = moving_mean, moving_var
    inv = torch.rsqrt(var + p.eps)
    out = (data - mean.reshape(shape)) * (inv * gamma).reshape(shape) + beta.reshape(shape)
    if train_stats and out.requires_grad:
        out = _UpdateMovingStats.apply(out, mean.detach(), var.detach(), moving_mean,
                                       moving_var, p.momentum)
    # MXNet's third output is the inverse std 1/sqrt(var + eps), not the variance; the
    # mean/var outputs carry no gradient
    return out, mean.detach(), inv.detach()


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
    infer_shape=_bn_shape,
    input_attrs={"moving_mean": {"__init__": '["zero", {}]'},
                 "moving_var": {"__init__": '["one", {}]'}}))


# ------------------------------------------------------------------ Dropout
def _dropout_forward(p, is_train, data):
    if not (is_train or p.mode == "always") or p.p == 0:
        return data, torch.ones_like(data)
    if p.axes:
        mask_shape = [1 if i in p.axes else s for i, s in enumerate(data.shape)]
        mask = torch.empty(mask_shape, dtype=data.dtype, device=data.device)
        mask = mask.bernoulli_(1 - p.p) / (1 - p.p)
    else:
        mask = torch.empty_like(data).bernoulli_(1 - p.p) / (1 - p.p)
    return data * mask, mask


register(OpDef(
    "Dropout", _dropout_forward,
    params={"p": Param("float", 0.5), "mode": Param("str", "training", {"training", "always"}),
            "axes": Param("shape", ()), "cudnn_off": Param("bool", False)},
    outputs=("output", "mask"), num_visible=lambda p: 1,
    infer_shape=lambda p, ins, outs: (ins, [ins[0], ins[0]]) if known(ins[0]) else (ins, None)))


# ------------------------------------------------------------------ Embedding
def _embedding_forward(p, is_train, data, weight):
    idx = data.long().clamp_(0, p.input_dim - 1) if data.device.type != "meta" else data.long()
    return F.embedding(idx, weight)


def _embedding_shape(p, ins, outs):
    ins[1] = (p.input_dim, p.output_dim)
    if known(ins[0]):
        return ins, [tuple(ins[0]) + (p.output_dim,)]
    return ins, outs


def _embedding_type(p, in_types):
    import numpy as np
    dt = np.dtype(p.dtype)
    return [in_types[0] or np.dtype(np.float32), dt], [dt]


register(OpDef(
    "Embedding", _embedding_forward,
    params={"input_dim": Param("int"), "output_dim": Param("int"),
            "dtype": Param("dtype", "float32"), "sparse_grad": Param("bool", False)},
    inputs=("data", "weight"), infer_shape=_embedding_shape, infer_type=_embedding_type))
