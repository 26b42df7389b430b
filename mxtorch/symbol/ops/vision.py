"""Spatial ops of vision models, as MXNet 1.9.1 defines them: ROIPooling, GridGenerator,
BilinearSampler, SpatialTransformer, Correlation, UpSampling, Pad and Crop.

Several of these are MXNet "legacy" operators with hidden work outputs (ROIPooling's
``maxidx``, GridGenerator's ``grid_dst`` ...). They are kept as hidden outputs, holding what
MXNet stores there, so a saved symbol's ``node_row_ptr`` matches MXNet's. Gradients come
from autograd: each forward is written so that its torch derivative is MXNet's backward.
"""
import math

import torch
import torch.nn.functional as F

from ...base import MXNetValueError
from ..registry import OpDef, Param, register
from ._util import known


def _need_4d(op, name, shape):
    if len(shape) != 4:
        raise MXNetValueError(f"{op}: {name} must be 4-D (batch, channel, height, width), "
                              f"got shape {tuple(shape)}")


# ------------------------------------------------------------------ ROIPooling
def _round_half_away(x):
    """C's ``round`` (halves away from zero); torch.round rounds halves to even."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def _bin_masks(start, size, pooled, extent, dtype):
    """(R, pooled, extent) masks of the cells in each bin along one axis.

    MXNet (Caffe's Fast R-CNN rule): bin ``i`` of a ROI of ``size`` cells covers
    ``[floor(i * size / pooled), ceil((i + 1) * size / pooled))`` from the ROI start,
    clipped to the map; the bin size is computed in the data type.
    """
    bins = size.to(dtype) / pooled
    i = torch.arange(pooled, device=start.device, dtype=dtype)
    lo = torch.floor(i[None] * bins[:, None]).long() + start[:, None]
    hi = torch.ceil((i[None] + 1) * bins[:, None]).long() + start[:, None]
    lo, hi = lo.clamp(0, extent), hi.clamp(0, extent)
    cells = torch.arange(extent, device=start.device)
    return (cells >= lo[..., None]) & (cells < hi[..., None])


def _roi_argmax(data, rois, pooled, scale):
    """(R, C, PH, PW) flat indices into ``data`` of each bin's maximum, -1 for an empty
    bin. Ties go to the first cell in row-major order, as in MXNet's scan."""
    n, c, h, w = data.shape
    ph, pw = pooled
    batch = rois[:, 0].long()
    bad = (batch < 0) | (batch >= n)
    if bad.any():
        raise MXNetValueError(f"ROIPooling: ROI rows {bad.nonzero().flatten()[:5].tolist()} "
                              f"have a batch index outside [0, {n}): "
                              f"{rois[bad, 0][:5].tolist()}; the first column of rois "
                              "indexes the data's batch")
    x1, y1, x2, y2 = (_round_half_away(rois[:, k] * scale).long() for k in range(1, 5))
    mask_h = _bin_masks(y1, (y2 - y1 + 1).clamp(min=1), ph, h, data.dtype)  # (R, PH, H)
    mask_w = _bin_masks(x1, (x2 - x1 + 1).clamp(min=1), pw, w, data.dtype)  # (R, PW, W)
    x = data[batch]  # (R, C, H, W)
    low = torch.tensor(-math.inf, dtype=data.dtype, device=data.device)
    # separable max: first the best column of each row within each bin's columns ...
    row_val, row_arg = [], []
    for j in range(pw):
        v, a = torch.where(mask_w[:, None, None, j, :], x, low).max(dim=3)
        row_val.append(v)
        row_arg.append(a)
    row_val = torch.stack(row_val, dim=3)  # (R, C, H, PW)
    row_arg = torch.stack(row_arg, dim=3)
    # ... then the first row holding the bin's maximum
    hs = []
    for i in range(ph):
        hs.append(torch.where(mask_h[:, None, i, :, None], row_val, low).argmax(dim=2))
    h_arg = torch.stack(hs, dim=2)  # (R, C, PH, PW)
    w_arg = row_arg.gather(2, h_arg)
    empty = ~(mask_h.any(2)[:, :, None] & mask_w.any(2)[:, None, :])  # (R, PH, PW)
    chan = torch.arange(c, device=data.device)
    flat = ((batch[:, None, None, None] * c + chan[None, :, None, None]) * h + h_arg) * w + w_arg
    return torch.where(empty[:, None], -1, flat)


def _roi_forward(p, is_train, data, rois):
    with torch.no_grad():
        idx = _roi_argmax(data.detach(), rois.detach(), p.pooled_size, p.spatial_scale)
    picked = data.reshape(-1)[idx.clamp(min=0).reshape(-1)].reshape(idx.shape)
    out = torch.where(idx >= 0, picked, torch.zeros((), dtype=data.dtype, device=data.device))
    return out, idx.to(data.dtype)


def _roi_shape(p, ins, outs):
    data, rois = ins
    if known(data) and known(rois):
        _need_4d("ROIPooling", "data", data)
        if len(rois) != 2 or rois[1] != 5:
            raise MXNetValueError(f"ROIPooling: rois must be (num_rois, 5) rows of [batch_index, "
                                  f"x1, y1, x2, y2], got shape {tuple(rois)}")
        if len(p.pooled_size) != 2:
            raise MXNetValueError(f"ROIPooling: pooled_size must be (h, w), got {p.pooled_size}")
        out = (rois[0], data[1]) + tuple(p.pooled_size)
        return ins, [out, out]
    return ins, outs


register(OpDef(
    "ROIPooling", _roi_forward, inputs=("data", "rois"), outputs=("output", "maxidx"),
    num_visible=lambda p: 1, infer_shape=_roi_shape,
    params={"pooled_size": Param("shape"), "spatial_scale": Param("float")}))


# ------------------------------------------------------------------ GridGenerator
def _affine_grid_dst(h, w, dtype, device):
    """MXNet's (3, H*W) target grid: rows x, y in [-1, 1] (row-major over the target) and
    ones."""
    i = torch.arange(h * w, device=device, dtype=torch.float64)
    x = (i % w) * (2.0 / (w - 1)) - 1.0
    y = torch.div(i, w, rounding_mode="floor") * (2.0 / (h - 1)) - 1.0
    return torch.stack([x, y, torch.ones_like(i)]).to(dtype)


def _affine_grid(theta, target):
    h, w = target
    dst = _affine_grid_dst(h, w, theta.dtype, theta.device)
    src = torch.matmul(theta.reshape(-1, 2, 3), dst)  # (N, 2, H*W)
    return src, dst


def _grid_generator_forward(p, is_train, data):
    if p.transform_type == "affine":
        _check_target("GridGenerator", p.target_shape)
        src, dst = _affine_grid(data, p.target_shape)
        return src.reshape(data.shape[0], 2, *p.target_shape), dst
    # warp: data is a flow in pixels; the grid is (pixel + flow) normalised to [-1, 1]
    n, _, h, w = data.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=data.device, dtype=data.dtype),
                            torch.arange(w, device=data.device, dtype=data.dtype),
                            indexing="ij")
    dst = torch.stack([xs, ys])
    half = torch.tensor([(w - 1) / 2.0, (h - 1) / 2.0], dtype=data.dtype,
                        device=data.device).reshape(1, 2, 1, 1)
    return (data + dst) / half - 1, dst


def _check_target(op, target):
    """MXNet divides by (size - 1): a target of height or width 1 gives NaN there."""
    if len(target) != 2 or min(target) < 2:
        raise MXNetValueError(f"{op}: target_shape must be (height, width), both at least 2, got "
                              f"{tuple(target)}; pass target_shape=(H, W)")


def _grid_generator_shape(p, ins, outs):
    data = ins[0]
    if not known(data):
        return ins, outs
    if p.transform_type == "affine":
        if len(data) != 2 or data[1] != 6:
            raise MXNetValueError(f"GridGenerator: affine data must be (batch, 6), got "
                                  f"{tuple(data)}")
        _check_target("GridGenerator", p.target_shape)
        h, w = p.target_shape
        return ins, [(data[0], 2, h, w), (3, h * w)]
    if len(data) != 4 or data[1] != 2 or min(data[2:]) < 2:
        raise MXNetValueError(f"GridGenerator: warp data must be a flow (batch, 2, H, W) with H "
                              f"and W at least 2 (MXNet divides by H - 1 and W - 1), got "
                              f"{tuple(data)}")
    return ins, [tuple(data), (2,) + tuple(data[2:])]


register(OpDef(
    "GridGenerator", _grid_generator_forward, outputs=("output", "grid_dst"),
    num_visible=lambda p: 1, infer_shape=_grid_generator_shape,
    params={"transform_type": Param("str", choices={"affine", "warp"}),
            "target_shape": Param("shape", (0, 0))}))


# ------------------------------------------------------------------ BilinearSampler
def _sample(data, grid):
    """MXNet's bilinear sampler: grid (N, 2, H', W') of (x, y) in [-1, 1], corners mapped
    to the corner pixels' centres, and zeros for neighbours outside the map (in the value
    and in the gradient of the grid) -- torch's grid_sample with align_corners=True."""
    return F.grid_sample(data, grid.permute(0, 2, 3, 1), mode="bilinear",
                         padding_mode="zeros", align_corners=True)


def _bilinear_sampler_forward(p, is_train, data, grid):
    out = _sample(data, grid)
    return out, grid  # MXNet's hidden 'tmp' (its cuDNN grid copy)


def _bilinear_sampler_shape(p, ins, outs):
    data, grid = ins
    if known(data) and known(grid):
        _need_4d("BilinearSampler", "data", data)
        if len(grid) != 4 or grid[1] != 2 or grid[0] != data[0]:
            raise MXNetValueError(f"BilinearSampler: grid must be (batch, 2, H, W) with the "
                                  f"data's batch {data[0]}, got {tuple(grid)}")
        return ins, [tuple(data[:2]) + tuple(grid[2:]), tuple(grid)]
    return ins, outs


register(OpDef(
    "BilinearSampler", _bilinear_sampler_forward, inputs=("data", "grid"),
    outputs=("output", "tmp"), num_visible=lambda p: 1, infer_shape=_bilinear_sampler_shape,
    params={"cudnn_off": Param("bool_or_none", None)}))


# ------------------------------------------------------------------ SpatialTransformer
def _spatial_transformer_forward(p, is_train, data, loc):
    _check_target("SpatialTransformer", p.target_shape)
    src, dst = _affine_grid(loc, p.target_shape)
    h, w = p.target_shape
    out = _sample(data, src.reshape(data.shape[0], 2, h, w))
    return out, dst, src


def _spatial_transformer_shape(p, ins, outs):
    data, loc = ins
    if known(data) and known(loc):
        _need_4d("SpatialTransformer", "data", data)
        if len(loc) != 2 or loc[1] != 6:
            raise MXNetValueError(f"SpatialTransformer: loc must be (batch, 6) affine parameters, "
                                  f"got {tuple(loc)}")
        _check_target("SpatialTransformer", p.target_shape)
        h, w = p.target_shape
        return ins, [tuple(data[:2]) + (h, w), (3, h * w), (data[0], 2, h * w)]
    return ins, outs


register(OpDef(
    "SpatialTransformer", _spatial_transformer_forward, inputs=("data", "loc"),
    outputs=("output", "grid_dst", "grid_src"), num_visible=lambda p: 1,
    infer_shape=_spatial_transformer_shape,
    params={"target_shape": Param("shape", (0, 0)),
            "transform_type": Param("str", choices={"affine"}),
            "sampler_type": Param("str", choices={"bilinear"}),
            "cudnn_off": Param("bool_or_none", None)}))


# ------------------------------------------------------------------ Correlation
def _corr_geometry(p, h, w):
    """(top_h, top_w, grid radius) of MXNet's Correlation (FlowNet's layer)."""
    border = p.max_displacement + (p.kernel_size - 1) // 2
    top_h = math.ceil((h + 2 * p.pad_size - 2 * border) / p.stride1)
    top_w = math.ceil((w + 2 * p.pad_size - 2 * border) / p.stride1)
    return top_h, top_w, p.max_displacement // p.stride2


def _correlation_forward(p, is_train, data1, data2):
    n, c, h, w = data1.shape
    top_h, top_w, radius = _corr_geometry(p, h, w)
    k, s1, d = p.kernel_size, p.stride1, p.max_displacement
    pad = [p.pad_size] * 4
    a, b = F.pad(data1, pad), F.pad(data2, pad)
    # rows/cols of the padded map that the kernel windows of data1 cover
    rows, cols = (top_h - 1) * s1 + k, (top_w - 1) * s1 + k
    first = a[:, :, d:d + rows, d:d + cols]
    outs = []
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            oy, ox = d + dy * p.stride2, d + dx * p.stride2
            second = b[:, :, oy:oy + rows, ox:ox + cols]
            m = first * second if p.is_multiply else (first - second).abs()
            # sum over the k x k window and the channels, divided by k*k*C
            outs.append(F.avg_pool2d(m.mean(dim=1, keepdim=True), k, s1))
    out = torch.cat(outs, dim=1)
    return out, a.permute(0, 2, 3, 1), b.permute(0, 2, 3, 1)


def _correlation_shape(p, ins, outs):
    d1, d2 = ins
    if known(d1) and known(d2):
        _need_4d("Correlation", "data1", d1)
        if tuple(d1) != tuple(d2):
            raise MXNetValueError(f"Correlation: data1 {tuple(d1)} and data2 {tuple(d2)} must "
                                  "have the same shape")
        if p.kernel_size % 2 == 0:
            raise MXNetValueError(f"Correlation: kernel_size must be odd, got {p.kernel_size}")
        if p.stride1 < 1 or p.stride2 < 1:
            raise MXNetValueError("Correlation: stride1 and stride2 must be at least 1")
        top_h, top_w, radius = _corr_geometry(p, d1[2], d1[3])
        if top_h < 1 or top_w < 1:
            raise MXNetValueError(f"Correlation: the input {tuple(d1[2:])} (pad_size "
                                  f"{p.pad_size}) is too small for max_displacement "
                                  f"{p.max_displacement} and kernel_size {p.kernel_size}")
        padded = (d1[0], d1[2] + 2 * p.pad_size, d1[3] + 2 * p.pad_size, d1[1])
        return ins, [(d1[0], (2 * radius + 1) ** 2, top_h, top_w), padded, padded]
    return ins, outs


register(OpDef(
    "Correlation", _correlation_forward, inputs=("data1", "data2"),
    outputs=("output", "tmp1", "tmp2"), num_visible=lambda p: 1, infer_shape=_correlation_shape,
    params={"kernel_size": Param("int", 1), "max_displacement": Param("int", 1),
            "stride1": Param("int", 1), "stride2": Param("int", 1), "pad_size": Param("int", 0),
            "is_multiply": Param("bool", True)}))


# ------------------------------------------------------------------ UpSampling
def _bilinear_geometry(scale):
    """MXNet's bilinear UpSampling is a grouped Deconvolution: (kernel, stride, pad)."""
    return 2 * scale - scale % 2, scale, int(math.ceil((scale - 1) / 2.0))


def _nearest(x, s):
    n, c, h, w = x.shape
    return x[:, :, :, None, :, None].expand(n, c, h, s, w, s).reshape(n, c, h * s, w * s)


def _nearest_scales(p, shapes):
    """The whole factor by which nearest UpSampling enlarges each input: the first by
    ``scale``, the others to the first one's output size."""
    out_h, out_w = shapes[0][2] * p.scale, shapes[0][3] * p.scale
    scales = []
    for i, s in enumerate(shapes):
        if len(s) != 4 or out_h % s[2] or out_w % s[3] or out_h // s[2] != out_w // s[3]:
            raise MXNetValueError(f"UpSampling: input {i} of shape {tuple(s)} cannot be "
                                  f"enlarged by one whole factor to ({out_h}, {out_w}), the "
                                  "first input's size times scale")
        scales.append(out_h // s[2])
    return scales


def _upsampling_forward(p, is_train, *inputs):
    if p.sample_type == "bilinear":
        data, weight = inputs
        kernel, stride, pad = _bilinear_geometry(p.scale)
        return F.conv_transpose2d(data, weight, stride=stride, padding=pad,
                                  groups=data.shape[1])
    scales = _nearest_scales(p, [x.shape for x in inputs])
    ups = [_nearest(x, s) for x, s in zip(inputs, scales)]
    if p.multi_input_mode == "sum":
        out = ups[0]
        for u in ups[1:]:
            out = out + u
        return out
    return torch.cat(ups, dim=1) if len(ups) > 1 else ups[0]


def _upsampling_shape(p, ins, outs):
    if p.sample_type == "bilinear":
        data = ins[0]
        if known(data):
            _need_4d("UpSampling", "data", data)
            if data[1] != p.num_filter:
                raise MXNetValueError(f"UpSampling: bilinear upsampling filters each channel, so "
                                      f"num_filter={p.num_filter} must equal the data's channels "
                                      f"{data[1]}")
            kernel = _bilinear_geometry(p.scale)[0]
            ins[1] = (data[1], 1, kernel, kernel)
            return ins, [(data[0], data[1], data[2] * p.scale, data[3] * p.scale)]
        return ins, outs
    if not all(known(s) for s in ins):
        return ins, outs
    for i, s in enumerate(ins):
        _need_4d("UpSampling", f"input {i}", s)
    _nearest_scales(p, ins)
    out_h, out_w = ins[0][2] * p.scale, ins[0][3] * p.scale
    if p.multi_input_mode == "sum":
        if any(s[1] != ins[0][1] for s in ins):
            raise MXNetValueError("UpSampling: multi_input_mode='sum' needs inputs with the same "
                                  f"number of channels, got {[s[1] for s in ins]}")
        channels = ins[0][1]
    else:
        channels = sum(s[1] for s in ins)
    return ins, [(ins[0][0], channels, out_h, out_w)]


class _UpSamplingDef(OpDef):
    """UpSampling's inputs follow ``sample_type``: bilinear takes ``data`` and ``weight``
    whatever ``num_args`` says (MXNet counts only the arrays given); nearest takes
    ``num_args`` arrays named ``arg0``, ``arg1``..."""

    def input_names(self, p, num_inputs=None):
        if p.sample_type == "bilinear":
            return ["data", "weight"]
        return super().input_names(p, num_inputs)


_BILINEAR_INIT = {"__init__": '["bilinear", {}]'}
register(_UpSamplingDef(
    "UpSampling", _upsampling_forward, variadic="num_args", infer_shape=_upsampling_shape,
    params={"scale": Param("int"), "num_filter": Param("int", 0),
            "sample_type": Param("str", choices={"nearest", "bilinear"}),
            "multi_input_mode": Param("str", "concat", {"concat", "sum"}),
            "num_args": Param("int"), "workspace": Param("int", 512)},
    # MXNet puts a bilinear initializer on the second input, whatever the sample type
    input_attrs={"weight": _BILINEAR_INIT, "arg1": _BILINEAR_INIT}))


# ------------------------------------------------------------------ Pad
_PAD_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}


def _pad_forward(p, is_train, data):
    widths = [int(v) for v in p.pad_width]
    spec = []
    for axis in reversed(range(2, data.dim())):
        spec += [widths[2 * axis], widths[2 * axis + 1]]
    if p.mode == "constant":
        return F.pad(data, spec, mode="constant", value=p.constant_value)
    return F.pad(data, spec, mode=_PAD_MODES[p.mode])


def _pad_shape(p, ins, outs):
    data = ins[0]
    if not known(data):
        return ins, outs
    widths = tuple(p.pad_width)
    if len(data) not in (4, 5):
        raise MXNetValueError(f"Pad: only 4-D and 5-D inputs are supported (as in MXNet), got "
                              f"shape {tuple(data)}")
    if len(widths) != 2 * len(data):
        raise MXNetValueError(f"Pad: pad_width needs 2 values per axis ({2 * len(data)} for shape "
                              f"{tuple(data)}), got {widths}")
    if any(widths[:4]):
        raise MXNetValueError(f"Pad: padding of the batch and channel axes must be zero, got "
                              f"pad_width={widths}")
    if p.mode == "reflect" and any(v >= n for i, n in enumerate(data)
                                   for v in widths[2 * i:2 * i + 2]):
        raise MXNetValueError(f"Pad: reflect padding must be smaller than the axis it pads; got "
                              f"pad_width={widths} for shape {tuple(data)}")
    return ins, [tuple(n + widths[2 * i] + widths[2 * i + 1] for i, n in enumerate(data))]


register(OpDef(
    "Pad", _pad_forward, infer_shape=_pad_shape,
    params={"mode": Param("str", choices=set(_PAD_MODES)), "pad_width": Param("shape"),
            "constant_value": Param("float", 0.0)}), aliases=["pad"])


# ------------------------------------------------------------------ Crop
def _crop_window(p, data, like):
    """(y, x, h, w) of the crop: the size from ``crop_like`` (second input) or ``h_w``; the
    corner from ``offset``, or centred with ``center_crop`` (rounding down)."""
    h, w = (like[2], like[3]) if like is not None else tuple(p.h_w)
    if p.center_crop:
        y, x = (data[2] - h) // 2, (data[3] - w) // 2
    else:
        y, x = p.offset
    if h <= 0 or w <= 0 or y < 0 or x < 0 or y + h > data[2] or x + w > data[3]:
        raise MXNetValueError(f"Crop: the window at offset ({y}, {x}) of size ({h}, {w}) does "
                              f"not fit in the input {tuple(data[2:])}; pass h_w (or a "
                              "crop_like input) and offset inside the input")
    return y, x, h, w


def _crop_forward(p, is_train, data, like=None):
    y, x, h, w = _crop_window(p, data.shape, None if like is None else like.shape)
    return data[:, :, y:y + h, x:x + w]


def _crop_shape(p, ins, outs):
    data = ins[0]
    like = ins[1] if len(ins) > 1 else None
    if known(data) and (like is None or known(like)):
        _need_4d("Crop", "data", data)
        if like is not None and len(like) != 4:
            raise MXNetValueError(f"Crop: crop_like must be 4-D, got {tuple(like)}")
        _, _, h, w = _crop_window(p, data, like)
        return ins, [tuple(data[:2]) + (h, w)]
    return ins, outs


register(OpDef(
    "Crop", _crop_forward, variadic="num_args", infer_shape=_crop_shape,
    params={"num_args": Param("int", choices={1, 2}), "offset": Param("shape", (0, 0)),
            "h_w": Param("shape", (0, 0)), "center_crop": Param("bool", False)}))
