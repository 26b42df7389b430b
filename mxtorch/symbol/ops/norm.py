"""Normalization and activation layers: InstanceNorm, LayerNorm, GroupNorm, L2Normalization,
LRN, LeakyReLU and the softmax family (softmax, log_softmax, softmin, SoftmaxActivation).

Each keeps MXNet 1.9.1's hidden outputs (the statistics the backward of MXNet's kernels
reads), so the symbol JSON has MXNet's ``node_row_ptr``; autograd gives the gradients.
"""
import numpy as np
import torch
import torch.nn.functional as F

from ...base import MXNetValueError
from ..registry import OpDef, Param, register
from ._util import known, same_shape_rule


def _axis(p, shape, name="axis"):
    """A checked non-negative axis of ``shape`` from the op's (possibly negative) axis."""
    axis = getattr(p, name)
    if not -len(shape) <= axis < len(shape):
        raise MXNetValueError(f"{name}={axis} is out of range for an input of shape "
                              f"{tuple(shape)}; pass an axis in [{-len(shape)}, {len(shape)})")
    return axis % len(shape)


def _check_dims(op, shape, at_least, exactly=None):
    """Raise unless ``shape`` has ``exactly`` dims, or at least ``at_least`` (MXNet checks
    this at bind)."""
    n = len(shape)
    if (exactly is not None and n != exactly) or n < at_least:
        need = f"{exactly}-D" if exactly is not None else f"at least {at_least}-D"
        raise MXNetValueError(f"{op}: data must be {need} (batch, channel, ...), got shape "
                              f"{tuple(shape)}")


def _norm_shape(op, min_dims, channels_of, stats_of):
    """Shape rule of the norms with (data, gamma, beta) inputs: gamma and beta get
    ``channels_of(data)``, the hidden statistics ``stats_of(data)``."""
    def rule(p, ins, outs):
        data = ins[0]
        if not known(data):
            return ins, outs
        _check_dims(op, data, min_dims)
        c = (channels_of(p, data),)
        stats = stats_of(p, data)
        return [data, c, c], [tuple(data), stats, stats]
    return rule


def _norm(data, dims, eps):
    """(x - mean) / sqrt(var + eps) over ``dims`` (biased variance), with the mean, the
    variance and std = sqrt(var + eps), detached (the statistics outputs carry no
    gradient)."""
    var, mean = torch.var_mean(data, dim=dims, unbiased=False, keepdim=True)
    std = torch.sqrt(var + eps)
    return (data - mean) / std, mean.detach(), var.detach(), std.detach()


def _bshape(data, axis):
    """The broadcast shape of a per-``axis`` parameter."""
    shape = [1] * data.dim()
    shape[axis] = data.shape[axis]
    return shape


# ------------------------------------------------------------------ InstanceNorm
def _instance_norm_forward(p, is_train, data, gamma, beta):
    """Per sample and channel over the spatial dims (data of 3 or more dims); hidden
    outputs mean and var (N, C)."""
    out, mean, var, _ = _norm(data, list(range(2, data.dim())), p.eps)
    shape = _bshape(data, 1)
    out = out * gamma.reshape(shape) + beta.reshape(shape)
    n, c = data.shape[:2]
    return out, mean.reshape(n, c), var.reshape(n, c)


register(OpDef(
    "InstanceNorm", _instance_norm_forward, params={"eps": Param("float", 1e-3)},
    inputs=("data", "gamma", "beta"), outputs=("output", "mean", "var"),
    num_visible=lambda p: 1,
    infer_shape=_norm_shape("InstanceNorm", 3, lambda p, d: d[1], lambda p, d: tuple(d[:2]))))


# ------------------------------------------------------------------ LayerNorm
def _layer_norm_forward(p, is_train, data, gamma, beta):
    """Normalizes over ``axis`` alone (MXNet's LayerNorm has one axis, default -1);
    outputs mean and std = sqrt(var + eps) keep the axis as size 1."""
    axis = _axis(p, data.shape)
    out, mean, _, std = _norm(data, [axis], p.eps)
    shape = _bshape(data, axis)
    out = out * gamma.reshape(shape) + beta.reshape(shape)
    return out, mean, std


def _layer_norm_stats(p, d):
    axis = _axis(p, d)
    return tuple(1 if i == axis else n for i, n in enumerate(d))


register(OpDef(
    "LayerNorm", _layer_norm_forward,
    params={"axis": Param("int", -1), "eps": Param("float", 1e-5),
            "output_mean_var": Param("bool", False)},
    inputs=("data", "gamma", "beta"), outputs=("output", "mean", "std"),
    num_visible=lambda p: 3 if p.output_mean_var else 1,
    infer_shape=_norm_shape("LayerNorm", 1, lambda p, d: d[_axis(p, d)], _layer_norm_stats)))


# ------------------------------------------------------------------ GroupNorm
def _group_norm_forward(p, is_train, data, gamma, beta):
    """Channels split into ``num_groups`` groups, each normalized over its channels and
    the spatial dims. As MXNet 1.x (unlike 2.0 and torch), gamma and beta hold one value
    per group, not per channel. Outputs mean and std (N, num_groups)."""
    n, g = data.shape[0], p.num_groups
    out, mean, _, std = _norm(data.reshape(n, g, -1), [2], p.eps)
    out = out * gamma.reshape(1, g, 1) + beta.reshape(1, g, 1)
    return out.reshape(data.shape), mean.reshape(n, g), std.reshape(n, g)


def _group_norm_groups(p, d):
    if d[1] % p.num_groups:
        raise MXNetValueError(f"GroupNorm: {d[1]} channels cannot be split into num_groups="
                              f"{p.num_groups}; pass a num_groups that divides the channels")
    return p.num_groups


register(OpDef(
    "GroupNorm", _group_norm_forward,
    params={"num_groups": Param("int", 1), "eps": Param("float", 1e-5),
            "output_mean_var": Param("bool", False)},
    inputs=("data", "gamma", "beta"), outputs=("output", "mean", "std"),
    num_visible=lambda p: 3 if p.output_mean_var else 1,
    infer_shape=_norm_shape("GroupNorm", 3, _group_norm_groups,
                            lambda p, d: (d[0], p.num_groups))))


# ------------------------------------------------------------------ L2Normalization
def _l2_forward(p, is_train, data):
    """x / sqrt(sum(x^2) + eps) over all but the batch axis (instance), the channel axis
    (channel) or the spatial axes (spatial); the norm is a hidden output. On 1-D data
    (mode instance) every element is its own instance, as in MXNet."""
    if p.mode == "instance":
        dims = list(range(1, data.dim()))
    else:
        dims = [1] if p.mode == "channel" else list(range(2, data.dim()))
    sq = data * data
    norm = torch.sqrt((sq.sum(dim=dims, keepdim=True) if dims else sq) + p.eps)
    return data / norm, norm.detach().reshape(_l2_norm_shape(p, data.shape))


def _l2_norm_shape(p, d):
    if p.mode == "instance":
        return (d[0],)
    if p.mode == "channel":
        return (d[0],) + tuple(d[2:])
    return tuple(d[:2])


def _l2_shape(p, ins, outs):
    if not known(ins[0]):
        return ins, outs
    if p.mode != "instance":
        _check_dims(f"L2Normalization(mode='{p.mode}')", ins[0], 3)
    return ins, [tuple(ins[0]), _l2_norm_shape(p, ins[0])]


register(OpDef(
    "L2Normalization", _l2_forward,
    params={"eps": Param("float", 1e-10),
            "mode": Param("str", "instance", {"instance", "channel", "spatial"})},
    outputs=("output", "norm"), num_visible=lambda p: 1, infer_shape=_l2_shape))


# ------------------------------------------------------------------ LRN
def _lrn_forward(p, is_train, data):
    """Across-channel local response normalization of 4-D data:
    x / (knorm + alpha / nsize * sum of x^2 over the neighbouring channels)^beta. As MXNet's
    (oneDNN) kernel, the window spans (nsize - 1) // 2 channels on each side, so an even
    nsize sums nsize - 1 channels (but still divides alpha by nsize)."""
    half = (p.nsize - 1) // 2
    sq = F.pad((data * data).unsqueeze(1), (0, 0, 0, 0, half, half))
    window = F.avg_pool3d(sq, (2 * half + 1, 1, 1), stride=1).squeeze(1) * (2 * half + 1)
    norm = window * (p.alpha / p.nsize) + p.knorm
    return data * norm.pow(-p.beta), norm.detach()


def _lrn_shape(p, ins, outs):
    if not known(ins[0]):
        return ins, outs
    _check_dims("LRN", ins[0], 4, exactly=4)
    return ins, [tuple(ins[0])] * 2


register(OpDef(
    "LRN", _lrn_forward,
    params={"alpha": Param("float", 1e-4), "beta": Param("float", 0.75),
            "knorm": Param("float", 2.0), "nsize": Param("int")},
    outputs=("output", "tmp_norm"), num_visible=lambda p: 1, infer_shape=_lrn_shape))


# ------------------------------------------------------------------ LeakyReLU
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


def _selu(data):
    """SELU with MXNet 1.9.1's gradient: for x <= 0 its backward computes
    lambda * (out + alpha), not the derivative lambda * alpha * exp(x) = out + lambda * alpha
    (it feeds the SELU output to an ELU-style gradient)."""
    out = _SELU_LAMBDA * torch.where(data > 0, data, _SELU_ALPHA * torch.expm1(data))
    slope = torch.where(data > 0, torch.full_like(out, _SELU_LAMBDA),
                        _SELU_LAMBDA * (out + _SELU_ALPHA)).detach()
    return out.detach() + (data - data.detach()) * slope


def _leaky_forward(p, is_train, data, gamma=None):
    """The leaky family. rrelu draws a slope per element from U(lower_bound,
    upper_bound) in training and uses their mean in inference; its second (visible)
    output ``mask`` holds the drawn slopes in training; in inference MXNet leaves it
    unwritten and we give zeros. Draws come from torch's generator, not MXNet's (MXNet
    1.9.1's CPU build crashes when training rrelu)."""
    act = p.act_type
    if act == "leaky":
        return F.leaky_relu(data, p.slope)
    if act == "prelu":
        if gamma.numel() != 1:
            gamma = gamma.reshape(_bshape(data, 1))
        return torch.where(data > 0, data, data * gamma)
    if act == "elu":
        return torch.where(data > 0, data, p.slope * torch.expm1(data))
    if act == "selu":
        return _selu(data)
    if act == "gelu":
        return F.gelu(data)
    # rrelu
    if is_train:
        slope = torch.empty_like(data).uniform_(p.lower_bound, p.upper_bound)
        return torch.where(data > 0, data, data * slope), slope
    slope = (p.lower_bound + p.upper_bound) / 2
    return torch.where(data > 0, data, data * slope), torch.zeros_like(data)


def _leaky_shape(p, ins, outs):
    data = ins[0]
    if p.act_type == "prelu" and data is not None and len(data) > 0:
        if len(data) < 2:
            raise MXNetValueError(f"LeakyReLU(act_type='prelu'): data of shape {tuple(data)} "
                                  "has no channel axis; MXNet needs at least 2 dims")
        if ins[1] is None or not known(ins[1]):
            ins[1] = (data[1],) if data[1] else None
        elif data[1] and tuple(ins[1]) not in ((1,), (data[1],)):
            raise MXNetValueError(f"LeakyReLU(act_type='prelu'): gamma of shape "
                                  f"{tuple(ins[1])} fits neither the {data[1]} channels of "
                                  "the data nor (1,) (one slope for all)")
    if not known(data):
        return ins, outs
    return ins, [tuple(data)] * (2 if p.act_type == "rrelu" else 1)


register(OpDef(
    "LeakyReLU", _leaky_forward,
    params={"act_type": Param("str", "leaky", {"leaky", "prelu", "elu", "selu", "gelu",
                                               "rrelu"}),
            "slope": Param("float", 0.25), "lower_bound": Param("float", 0.125),
            "upper_bound": Param("float", 0.334)},
    inputs=lambda p: ("data", "gamma") if p.act_type == "prelu" else ("data",),
    outputs=lambda p: ("output", "mask") if p.act_type == "rrelu" else ("output",),
    infer_shape=_leaky_shape,
    input_attrs={"gamma": {"__init__": '["Constant", {"value": 0.25}]'}}))


# ------------------------------------------------------------------ softmax family
def _softmax_family(fn):
    """softmax / log_softmax / softmin along ``axis`` of data / temperature; with
    ``use_length`` only the first ``length`` entries along the axis take part and the
    others give 0 (and get no gradient)."""
    def forward(p, is_train, data, length=None):
        axis = _axis(p, data.shape)
        x = data if p.temperature is None or p.temperature == 1.0 else data / p.temperature
        if p.dtype is not None:
            x = x.to(getattr(torch, p.dtype))
        if length is None:
            return fn(x, axis)
        steps = torch.arange(data.shape[axis], device=data.device)
        mask = steps.reshape([-1] + [1] * (data.dim() - 1 - axis)) < \
            length.long().unsqueeze(axis)
        # the lowest finite value, not -inf: a row of length 0 gives zeros, not NaN
        out = fn(x.masked_fill(~mask, torch.finfo(x.dtype).min), axis)
        return out.masked_fill(~mask, 0.0)
    return forward


def _softmax_shape(p, ins, outs):
    data = ins[0]
    if not known(data):
        return ins, outs
    if p.use_length and len(ins) > 1:
        axis = _axis(p, data)
        ins[1] = tuple(n for i, n in enumerate(data) if i != axis)
    return ins, [tuple(data)]


def _softmax_type(p, in_types):
    first = in_types[0]
    ins = [first] + list(in_types[1:])
    if len(ins) > 1 and ins[1] is None:
        ins[1] = first
    return ins, [np.dtype(p.dtype) if p.dtype is not None else first]


def _no_length(name, forward):
    """log_softmax and softmin take ``use_length`` but no length input: MXNet 1.9.1 fails
    on them with use_length=True (its backward expects an input that is not there)."""
    def checked(p, is_train, data):
        if p.use_length:
            raise MXNetValueError(f"{name}: use_length=True is not supported (MXNet 1.9.1 "
                                  "fails on it); only softmax takes a length input")
        return forward(p, is_train, data)
    return checked


_SOFTMAX_PARAMS = {"axis": Param("int", -1), "temperature": Param("float_or_none", None),
                   "dtype": Param("dtype", None), "use_length": Param("bool_or_none", False)}
register(OpDef(
    "softmax", _softmax_family(lambda x, a: torch.softmax(x, a)), params=_SOFTMAX_PARAMS,
    inputs=lambda p: ("data", "length") if p.use_length else ("data",),
    infer_shape=_softmax_shape, infer_type=_softmax_type))
for _name, _fn in (("log_softmax", lambda x, a: torch.log_softmax(x, a)),
                   ("softmin", lambda x, a: torch.softmax(-x, a))):
    register(OpDef(_name, _no_length(_name, _softmax_family(_fn)), params=_SOFTMAX_PARAMS,
                   infer_shape=_softmax_shape, infer_type=_softmax_type))


class _LastAxisSoftmaxAxis1Grad(torch.autograd.Function):
    """Softmax over the last axis whose backward is the softmax gradient over axis 1,
    out * (g - sum over axis 1 of g * out): MXNet 1.9.1's SoftmaxActivation(mode='instance')
    on data of 3 or more dims."""

    @staticmethod
    def forward(ctx, data):
        out = torch.softmax(data, -1)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return out * (grad - (grad * out).sum(1, keepdim=True))


def _softmax_activation_forward(p, is_train, data):
    """Deprecated MXNet op: softmax over the channel axis 1 (channel) or, in mode
    instance, over the last axis (MXNet's documentation says over each instance, but its
    kernels, native and oneDNN, take the last axis, and the backward sums over axis 1;
    both agree with the documentation on 1-D and 2-D data)."""
    if p.mode == "channel":
        if data.dim() < 2:
            raise MXNetValueError("SoftmaxActivation(mode='channel'): data needs a channel "
                                  f"axis 1, got shape {tuple(data.shape)}")
        return torch.softmax(data, 1)
    if data.dim() <= 2:
        return torch.softmax(data, -1)
    return _LastAxisSoftmaxAxis1Grad.apply(data)


register(OpDef(
    "SoftmaxActivation", _softmax_activation_forward,
    params={"mode": Param("str", "instance", {"instance", "channel"})},
    infer_shape=same_shape_rule))
