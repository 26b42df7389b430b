"""Shape ops: Flatten, Reshape (MXNet's 0/-1/-2/-3/-4 codes and reverse), Concat, slice_like,
diag, depth_to_space/space_to_depth and shape_array/size_array."""
import numpy as np
import torch

from ..registry import OpDef, Param, register
from ._util import known, prod, same_type_rule


def reshape_target(src, spec, reverse=False):
    """The output shape of MXNet's Reshape of ``src`` by ``spec``."""
    src, spec = list(src), list(spec)
    if reverse:
        src, spec = src[::-1], spec[::-1]
        # -4 takes its two following values; when reversed they come before it
        fixed = []
        i = 0
        while i < len(spec):
            if i + 2 < len(spec) and spec[i + 2] == -4:
                fixed += [-4, spec[i + 1], spec[i]]
                i += 3
            else:
                fixed.append(spec[i])
                i += 1
        spec = fixed
    out, i, j, infer = [], 0, 0, -1
    while i < len(spec):
        s = spec[i]
        if s > 0:
            out.append(s)
            j += 1
        elif s == 0:
            out.append(src[j])
            j += 1
        elif s == -1:
            if infer >= 0:
                raise ValueError("Reshape: only one -1 is allowed in shape")
            infer = len(out)
            out.append(-1)
            j += 1
        elif s == -2:
            out.extend(src[j:])
            j = len(src)
        elif s == -3:
            out.append(src[j] * src[j + 1])
            j += 2
        elif s == -4:
            d1, d2 = spec[i + 1], spec[i + 2]
            if d1 == -1:
                d1 = src[j] // d2
            if d2 == -1:
                d2 = src[j] // d1
            if d1 * d2 != src[j]:
                raise ValueError(f"Reshape: cannot split dim {src[j]} into {d1} x {d2}")
            out.extend([d1, d2])
            i += 2
            j += 1
        else:
            raise ValueError(f"Reshape: invalid value {s} in shape")
        i += 1
    if infer >= 0:
        rest = prod([d for k, d in enumerate(out) if k != infer])
        if rest == 0 or prod(src) % rest:
            raise ValueError(f"Reshape: cannot reshape {tuple(src)} into {tuple(spec)}")
        out[infer] = prod(src) // rest
    if reverse:
        out = out[::-1]
    if prod(out) != prod(src if not reverse else src[::-1]):
        raise ValueError(f"Reshape: target {tuple(out)} has a different size than input "
                         f"{tuple(src[::-1] if reverse else src)}")
    return tuple(out)


def _reshape_shape(p, ins, outs):
    if known(ins[0]):
        spec = p.shape if p.shape else p.target_shape
        if not p.shape and p.target_shape and p.keep_highest:
            spec = (ins[0][0],) + tuple(p.target_shape[1:])
        return ins, [reshape_target(ins[0], spec, p.reverse)]
    return ins, outs


def _reshape_forward(p, is_train, data):
    spec = p.shape if p.shape else p.target_shape
    if not p.shape and p.target_shape and p.keep_highest:
        spec = (data.shape[0],) + tuple(p.target_shape[1:])
    return data.reshape(reshape_target(data.shape, spec, p.reverse))


register(OpDef("Reshape", _reshape_forward,
               params={"shape": Param("shape", ()), "reverse": Param("bool", False),
                       "target_shape": Param("shape", ()), "keep_highest": Param("bool", False)},
               infer_shape=_reshape_shape), aliases=["reshape"])


register(OpDef("Flatten", lambda p, is_train, data: data.reshape(data.shape[0], -1),
               infer_shape=lambda p, ins, outs: (ins, [(ins[0][0], prod(ins[0][1:]))])
               if known(ins[0]) else (ins, outs)), aliases=["flatten"])


def _concat_shape(p, ins, outs):
    if all(known(s) for s in ins):
        dim = p.dim % len(ins[0])
        out = list(ins[0])
        out[dim] = sum(s[dim] for s in ins)
        return ins, [tuple(out)]
    return ins, outs


register(OpDef("Concat", lambda p, is_train, *args: torch.cat(args, dim=p.dim),
               params={"num_args": Param("int"), "dim": Param("int", 1)},
               variadic="num_args", infer_shape=_concat_shape, infer_type=same_type_rule),
         aliases=["concat"])


def _slice_like_forward(p, is_train, data, shape_like):
    axes = [a % data.dim() for a in p.axes] if p.axes else range(shape_like.dim())
    for a in axes:
        if shape_like.shape[a] > data.shape[a]:
            raise ValueError(f"slice_like: shape_like dim {a} ({shape_like.shape[a]}) is larger "
                             f"than data's ({data.shape[a]})")
        data = data.narrow(a, 0, shape_like.shape[a])
    return data


register(OpDef("slice_like", _slice_like_forward, inputs=("data", "shape_like"),
               params={"axes": Param("shape", ())}))


def _diag_forward(p, is_train, data):
    if data.dim() == 1:
        return torch.diag(data, p.k)
    return torch.diagonal(data, p.k, p.axis1, p.axis2)


register(OpDef("diag", _diag_forward, params={"k": Param("int", 0), "axis1": Param("int", 0),
                                              "axis2": Param("int", 1)}))


def _depth_to_space_forward(p, is_train, data):
    """(N, C, H, W) -> (N, C / b^2, H b, W b), channel blocks taken depth first (DCR, as
    MXNet; torch's pixel_shuffle is CRD)."""
    n, c, h, w = data.shape
    b = p.block_size
    if c % (b * b):
        raise ValueError(f"depth_to_space: {c} channels are not divisible by block_size^2="
                         f"{b * b}")
    x = data.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
    return x.reshape(n, c // (b * b), h * b, w * b)


def _space_to_depth_forward(p, is_train, data):
    """The inverse of depth_to_space: (N, C, H, W) -> (N, C b^2, H / b, W / b)."""
    n, c, h, w = data.shape
    b = p.block_size
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height {h} and width {w} must be divisible by "
                         f"block_size={b}")
    x = data.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


register(OpDef("depth_to_space", _depth_to_space_forward,
               params={"block_size": Param("int")}))
register(OpDef("space_to_depth", _space_to_depth_forward,
               params={"block_size": Param("int")}))


def _int64_type(p, in_types):
    return in_types, [np.dtype(np.int64)]


register(OpDef("shape_array", lambda p, is_train, data: torch.tensor(
    data.shape, dtype=torch.int64, device=data.device), infer_type=_int64_type,
               infer_shape=lambda p, ins, outs: (ins, [(len(ins[0]),)]) if ins[0] else (ins, outs)))
register(OpDef("size_array", lambda p, is_train, data: torch.tensor(
    [data.numel()], dtype=torch.int64, device=data.device), infer_type=_int64_type,
               infer_shape=lambda p, ins, outs: (ins, [(1,)])))
