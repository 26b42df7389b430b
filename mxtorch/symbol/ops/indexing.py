"""Indexing and sorting ops: one_hot, pick, take, gather_nd, topk, sort, argsort,
argmax/argmin/argmax_channel.

Indices arrive as floats (MXNet's default dtype) and are truncated toward zero, as MXNet's
``static_cast<int>``. Index outputs (argmax, argsort, topk indices) have the dtype MXNet
gives them (the input's, or the ``dtype`` parameter, float32 by default) and no gradient;
index inputs get a zero gradient. Ties keep their original order (stable sorts), as
MXNet's CPU kernels.
"""
import numpy as np
import torch

from ...base import MXNetValueError, torch_dtype
from ..registry import OpDef, Param, register
from ._util import known
from .reduce import reduce_shape


def _first_type(in_types):
    return next((t for t in in_types if t is not None), None)


def _norm_index(idx, n, mode, op):
    """Integer indices into a dim of size ``n`` by MXNet's ``mode`` (clip, wrap, raise)."""
    idx = idx.long()
    if mode == "wrap":
        return torch.remainder(idx, n)
    if mode == "raise" and idx.device.type != "meta" and idx.numel():
        bad = (idx < 0) | (idx >= n)
        if bool(bad.any()):
            raise MXNetValueError(f"{op}: indices {idx[bad][:5].tolist()} are out of bounds "
                                  f"for an axis of size {n} (mode='raise'); pass valid "
                                  "indices or mode='clip'/'wrap'")
    return idx.clamp(0, n - 1)


def _flat_axis(p, data):
    """``(data, axis)`` with ``axis=None`` meaning the flattened array."""
    if p.axis is None:
        return data.reshape(-1), 0
    return data, p.axis % data.dim()


# ------------------------------------------------------------------ one_hot
def _one_hot_forward(p, is_train, indices):
    idx = indices.long().unsqueeze(-1)
    hot = idx == torch.arange(p.depth, device=indices.device)  # out-of-range rows stay off
    dtype = torch_dtype(p.dtype)
    return torch.where(hot, torch.tensor(p.on_value, dtype=dtype, device=indices.device),
                       torch.tensor(p.off_value, dtype=dtype, device=indices.device))


register(OpDef("one_hot", _one_hot_forward, inputs=("indices",),
               params={"depth": Param("int"), "on_value": Param("float", 1.0),
                       "off_value": Param("float", 0.0), "dtype": Param("dtype", "float32")},
               infer_shape=lambda p, ins, outs: (ins, [tuple(ins[0]) + (p.depth,)])
               if known(ins[0]) else (ins, outs),
               infer_type=lambda p, ts: (ts, [np.dtype(p.dtype)])))


# ------------------------------------------------------------------ pick
def _pick_forward(p, is_train, data, index):
    if p.axis is None:
        raise MXNetValueError("pick: axis=None is not supported (as in MXNet 1.9.1); pass the "
                              "axis to pick along")
    axis = p.axis % data.dim()
    idx = _norm_index(index, data.shape[axis], p.mode, "pick")
    out = torch.gather(data, axis, idx.reshape(data.shape[:axis] + (1,) + data.shape[axis + 1:]))
    return out if p.keepdims else out.squeeze(axis)


def _pick_shape(p, ins, outs):
    data = ins[0]
    if not known(data):
        return ins, outs
    if p.axis is None:
        raise ValueError("pick: axis=None is not supported (as in MXNet 1.9.1); pass the axis "
                         "to pick along")
    axis = p.axis % len(data)
    out = reduce_shape((axis,), data, p.keepdims)
    index = ins[1] if ins[1] is not None else reduce_shape((axis,), data, False)
    return [ins[0], index], [out]


register(OpDef("pick", _pick_forward, inputs=("data", "index"),
               params={"axis": Param("int_or_none", -1), "keepdims": Param("bool", False),
                       "mode": Param("str", "clip", choices={"clip", "wrap"})},
               infer_shape=_pick_shape))


# ------------------------------------------------------------------ take / gather_nd
def _take_forward(p, is_train, a, indices):
    axis = p.axis % a.dim()
    idx = _norm_index(indices, a.shape[axis], p.mode, "take")
    out = torch.index_select(a, axis, idx.reshape(-1))
    return out.reshape(a.shape[:axis] + idx.shape + a.shape[axis + 1:])


def _take_shape(p, ins, outs):
    a, idx = ins
    if known(a) and known(idx):
        axis = p.axis % len(a)
        return ins, [tuple(a[:axis]) + tuple(idx) + tuple(a[axis + 1:])]
    return ins, outs


register(OpDef("take", _take_forward, inputs=("a", "indices"),
               params={"axis": Param("int", 0),
                       "mode": Param("str", "clip", choices={"clip", "raise", "wrap"})},
               infer_shape=_take_shape))


def _gather_nd_forward(p, is_train, data, indices):
    """``data[indices[0], ..., indices[M-1]]``; negative indices count from the end, as in
    MXNet's forward (MXNet 1.9.1's backward loses their gradient; here they get it)."""
    idx = indices.long()
    if idx.dim() < 1 or idx.shape[0] > data.dim():
        raise MXNetValueError(f"gather_nd: indices of shape {tuple(indices.shape)} need a first "
                              f"dim M <= data.ndim={data.dim()} (one row per indexed axis)")
    return data[tuple(idx[i] for i in range(idx.shape[0]))]


register(OpDef("gather_nd", _gather_nd_forward, inputs=("data", "indices")))


# ------------------------------------------------------------------ sorting
def _sorted(p, data, descending):
    data, axis = _flat_axis(p, data)
    values, order = torch.sort(data, dim=axis, descending=descending, stable=True)
    return data, axis, values, order


def _topk_forward(p, is_train, data):
    shape = data.shape
    data, axis, values, order = _sorted(p, data, not p.is_ascend)
    n = data.shape[axis]
    k = n if p.k < 1 else p.k
    if k > n:
        raise MXNetValueError(f"topk: k={p.k} is larger than the {n} elements along axis "
                              f"{p.axis}; pass k <= {n} (or k < 1 for a full sort)")
    order = order.narrow(axis, 0, k)
    if p.ret_typ == "mask":
        return torch.zeros_like(data).scatter(axis, order, 1.0).reshape(shape).detach()
    indices = order.to(torch_dtype(p.dtype))
    if p.ret_typ == "indices":
        return indices
    return values.narrow(axis, 0, k), indices


def _topk_outputs(p):
    return ("output0", "output1") if p.ret_typ in ("value", "both") else ("output",)


def _topk_type(p, in_types):
    first = _first_type(in_types)
    if p.ret_typ == "indices":
        return in_types, [np.dtype(p.dtype)]
    if p.ret_typ == "mask":
        return in_types, [first]
    return in_types, [first, np.dtype(p.dtype)]


_SORT_PARAMS = {"axis": Param("int_or_none", -1), "is_ascend": Param("bool", True)}
register(OpDef("topk", _topk_forward,
               params={"axis": Param("int_or_none", -1), "k": Param("int", 1),
                       "ret_typ": Param("str", "indices",
                                        choices={"value", "indices", "both", "mask"}),
                       "is_ascend": Param("bool", False),
                       "dtype": Param("dtype", "float32")},
               outputs=_topk_outputs, num_visible=lambda p: 1 if p.ret_typ != "both" else 2,
               infer_type=_topk_type))


def _sort_forward(p, is_train, data):
    values, order = _sorted(p, data, not p.is_ascend)[2:]
    return values, order.to(data.dtype)


register(OpDef("sort", _sort_forward, params=dict(_SORT_PARAMS),
               outputs=("output0", "output1"), num_visible=lambda p: 1))


def _argsort_forward(p, is_train, data):
    return _sorted(p, data, not p.is_ascend)[3].to(torch_dtype(p.dtype))


register(OpDef("argsort", _argsort_forward,
               params=dict(_SORT_PARAMS, dtype=Param("dtype", "float32")),
               infer_type=lambda p, ts: (ts, [np.dtype(p.dtype)])))


def _make_arg(fn):
    def forward(p, is_train, data):
        if p.axis is None:  # the flattened array; MXNet gives shape (1,)
            out = fn(data.reshape(-1)).reshape((1,) * (data.dim() if p.keepdims else 1))
        else:
            out = fn(data, dim=p.axis, keepdim=p.keepdims)
            out = out if out.dim() else out.reshape(1)
        return out.to(data.dtype)
    return forward


_ARG_PARAMS = {"axis": Param("int_or_none", None), "keepdims": Param("bool", False)}
register(OpDef("argmax", _make_arg(torch.argmax), params=_ARG_PARAMS))
register(OpDef("argmin", _make_arg(torch.argmin), params=_ARG_PARAMS))
register(OpDef("argmax_channel",  # argmax over axis 1, the channels
               lambda p, is_train, data: torch.argmax(data, dim=1).to(data.dtype)))
