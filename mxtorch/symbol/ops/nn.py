"""Neural-network layers: FullyConnected, Convolution, Pooling, Activation, BatchNorm,
Dropout, Embedding."""
import torch
import torch.nn.functional as F

from ..registry import OpDef, Param, register
from ._util import prod, known

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


# ------------------------------------------------------------------ FullyConnected
def _fc_forward(p, is_train, data, weight, bias=None):
    if p.flatten and data.dim() != 2:
        data = data.reshape(data.shape[0], -1)
    return F.linear(data, weight, bias)


def _fc_shape(p, ins, outs):
    data = ins[0]
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
def _pool_forward(p, is_train, data):
    nd = data.dim() - 2
    if p.global_pool:
        kernel, stride, pad = tuple(data.shape[2:]), (1,) * nd, (0,) * nd
    else:
        kernel = tuple(p.kernel)
        stride = _spatial(p, "stride", nd, 1)
        pad = _spatial(p, "pad", nd, 0)
    ceil = p.pooling_convention == "full"
    if p.pool_type == "max":
        fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
        return fn(data, kernel, stride, pad, ceil_mode=ceil)
    if p.pool_type in ("avg", "sum"):
        fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
        include = True if p.count_include_pad is None else p.count_include_pad
        out = fn(data, kernel, stride, pad, ceil_mode=ceil, count_include_pad=include)
        if p.pool_type == "sum":
            out = out * float(prod(kernel))
        return out
    if p.pool_type == "lp":
        fn = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}[nd]
        return fn(F.pad(data, [x for x in reversed(pad) for _ in (0, 1)]),
                  float(p.p_value or 2), kernel, stride, ceil_mode=ceil)
    raise ValueError(f"unknown pool_type {p.pool_type}")


register(OpDef(
    "Pooling", _pool_forward,
    params={"kernel": Param("shape", ()), "pool_type": Param("str", "max", {"max", "avg", "sum", "lp"}),
            "global_pool": Param("bool", False), "stride": Param("shape", ()),
            "pad": Param("shape", ()),
            "pooling_convention": Param("str", "valid", {"valid", "full", "same"}),
            "count_include_pad": Param("bool_or_none", None), "p_value": Param("int_or_none", None),
            "cudnn_off": Param("bool", False), "layout": _LAYOUT}))


# ------------------------------------------------------------------ Activation
_ACTS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
         "softrelu": F.softplus, "softsign": F.softsign}


def _act_forward(p, is_train, data):
    return _ACTS[p.act_type](data)


register(OpDef("Activation", _act_forward,
               params={"act_type": Param("str", choices=set(_ACTS))}))


# ------------------------------------------------------------------ BatchNorm
def _bn_forward(p, is_train, data, gamma, beta, moving_mean, moving_var):
    axis = p.axis % data.dim()
    shape = [1] * data.dim()
    shape[axis] = data.shape[axis]
    dims = [d for d in range(data.dim()) if d != axis]
    if p.fix_gamma:
        gamma = torch.ones_like(gamma)  # MXNet: gamma is fixed at 1, its gradient is 0
    if is_train and not p.use_global_stats:
        var, mean = torch.var_mean(data, dim=dims, unbiased=False)
        with torch.no_grad():
            moving_mean.mul_(p.momentum).add_(mean.detach(), alpha=1 - p.momentum)
            moving_var.mul_(p.momentum).add_(var.detach(), alpha=1 - p.momentum)
    else:
        mean, var = moving_mean, moving_var
    inv = torch.rsqrt(var + p.eps)
    out = (data - mean.reshape(shape)) * (inv * gamma).reshape(shape) + beta.reshape(shape)
    return out, mean, var


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
