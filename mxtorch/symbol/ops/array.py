"""Array manipulation ops that recurrent models need: SliceChannel/split, expand_dims,
transpose, swapaxes, slice_axis, slice, stack, tile, repeat, squeeze, reverse, where,
broadcast_to/like/axis, Cast, zeros_like/ones_like, the Sequence* ops, and the input-less
``_zeros``/``_ones``/``_full``/``_arange`` (with ``zeros``/``ones``/``full``/``arange``
creation functions).

Input-less ops cannot see a device or an input shape when they run: their dims that are 0
(unknown, e.g. the batch of ``zeros(shape=(0, H))``) are filled by shape inference from the
graph, and ``OpDef.bind_params(p, out_shapes, device)`` gives the executor the parameters
with the inferred shape and the device to create the tensor on.
"""
import ast
import functools
import types

import numpy as np
import torch

from ...base import MXNetValueError, ShapeError, torch_dtype
from ..registry import OpDef, Param, register
from ._util import known, same_shape_rule, same_type_rule


def _partial(shape):
    return shape is not None and len(shape) > 0


# ------------------------------------------------------------------ SliceChannel / split
def _split_outputs(p):
    return [f"output{i}" for i in range(p.num_outputs)]


def _split_forward(p, is_train, data):
    axis = p.axis % data.dim()
    n = data.shape[axis]
    if n % p.num_outputs:
        raise ValueError(f"SliceChannel: dim {axis} of size {n} is not divisible by "
                         f"num_outputs={p.num_outputs}")
    parts = torch.split(data, n // p.num_outputs, dim=axis)
    if p.squeeze_axis:
        if n != p.num_outputs:
            raise ValueError(f"SliceChannel: squeeze_axis needs dim {axis} of size "
                             f"num_outputs={p.num_outputs}, got {n}")
        parts = [t.squeeze(axis) for t in parts]
    return tuple(parts)


def _split_shape(p, ins, outs):
    data = ins[0]
    if _partial(data):
        axis = p.axis % len(data)
        if data[axis] % p.num_outputs:
            raise ValueError(f"dim {axis} of size {data[axis]} is not divisible by "
                             f"num_outputs={p.num_outputs}")
        if p.squeeze_axis:
            if data[axis] not in (0, p.num_outputs):
                raise ValueError(f"squeeze_axis needs dim {axis} of size {p.num_outputs}, "
                                 f"got {data[axis]}")
            out = tuple(data[:axis]) + tuple(data[axis + 1:])
        else:
            out = tuple(data[:axis]) + (data[axis] // p.num_outputs,) + tuple(data[axis + 1:])
        return ins, [out] * p.num_outputs
    first = next((s for s in outs if _partial(s)), None)
    if first is not None and not p.squeeze_axis:  # back from the outputs
        axis = p.axis % len(first)
        ins[0] = tuple(first[:axis]) + (first[axis] * p.num_outputs,) + tuple(first[axis + 1:])
    return ins, outs


register(OpDef("SliceChannel", _split_forward,
               params={"num_outputs": Param("int"), "axis": Param("int", 1),
                       "squeeze_axis": Param("bool", False)},
               outputs=_split_outputs, infer_shape=_split_shape), aliases=["split"])


# ------------------------------------------------------------------ dims and axes
def _expand_dims_shape(p, ins, outs):
    if _partial(ins[0]):
        s = list(ins[0])
        s.insert(p.axis % (len(s) + 1), 1)
        return ins, [tuple(s)]
    return ins, outs


register(OpDef("expand_dims", lambda p, is_train, data: data.unsqueeze(p.axis % (data.dim() + 1)),
               params={"axis": Param("int")}, infer_shape=_expand_dims_shape))


def _perm(p, ndim):
    return tuple(a % ndim for a in p.axes) if p.axes else tuple(range(ndim - 1, -1, -1))


def _transpose_shape(p, ins, outs):
    if _partial(ins[0]):
        return ins, [tuple(ins[0][a] for a in _perm(p, len(ins[0])))]
    return ins, outs


register(OpDef("transpose", lambda p, is_train, data: data.permute(_perm(p, data.dim())),
               params={"axes": Param("shape", ())}, infer_shape=_transpose_shape))


def _swap_shape(p, ins, outs):
    if _partial(ins[0]):
        s = list(ins[0])
        a, b = p.dim1 % len(s), p.dim2 % len(s)
        s[a], s[b] = s[b], s[a]
        return ins, [tuple(s)]
    return ins, outs


_swap = OpDef("SwapAxis", lambda p, is_train, data: data.transpose(p.dim1, p.dim2),
              params={"dim1": Param("int", 0), "dim2": Param("int", 0)}, infer_shape=_swap_shape)
register(_swap, aliases=["swapaxes"])


def _slice_axis_forward(p, is_train, data):
    axis = p.axis % data.dim()
    n = data.shape[axis]
    begin = p.begin + n if p.begin < 0 else p.begin
    end = n if p.end is None else (p.end + n if p.end < 0 else p.end)
    if not 0 <= begin < end <= n:
        raise ValueError(f"slice_axis: invalid range [{p.begin}, {p.end}) on axis {p.axis} of "
                         f"size {n}")
    return data.narrow(axis, begin, end - begin)


register(OpDef("slice_axis", _slice_axis_forward,
               params={"axis": Param("int"), "begin": Param("int"),
                       "end": Param("int_or_none")}))


@functools.lru_cache(maxsize=256)
def _none_tuple(v):
    """A tuple of ints and Nones from MXNet's string form (``'(None, 1)'``)."""
    if v is None or v in ("", "None", "()", "[]"):
        return ()
    val = ast.literal_eval(v.replace("L", "")) if isinstance(v, str) else v
    val = val if isinstance(val, (list, tuple)) else (val,)
    return tuple(None if x is None else int(x) for x in val)


def _slice_forward(p, is_train, data):
    begin, end, step = _none_tuple(p.begin), _none_tuple(p.end), _none_tuple(p.step)
    if len(begin) != len(end) or (step and len(step) != len(begin)):
        raise ValueError(f"slice: begin {begin}, end {end} and step {step} differ in length")
    index = tuple(slice(b, e, (step[i] if step else None)) for i, (b, e) in
                  enumerate(zip(begin, end)))
    if any(s.step is not None and s.step < 0 for s in index):
        # torch slicing has no negative steps: flip, then slice forward
        out = data
        for axis, s in enumerate(index):
            if s.step is not None and s.step < 0:
                n = out.shape[axis]
                b = n - 1 if s.start is None else (s.start % n)
                e = -1 if s.stop is None else (s.stop % n if s.stop >= -n else -1)
                idx = torch.arange(b, e, s.step, device=data.device)
                out = out.index_select(axis, idx)
            else:
                out = out[(slice(None),) * axis + (s,)]
        return out
    return data[index]


register(OpDef("slice", _slice_forward,
               params={"begin": Param("any"), "end": Param("any"), "step": Param("any", "()")}),
         aliases=["crop"])


def _stack_shape(p, ins, outs):
    if all(known(s) for s in ins):
        axis = p.axis % (len(ins[0]) + 1)
        s = list(ins[0])
        s.insert(axis, p.num_args)
        return ins, [tuple(s)]
    return ins, outs


register(OpDef("stack", lambda p, is_train, *args: torch.stack(args, dim=p.axis),
               params={"axis": Param("int", 0), "num_args": Param("int")},
               variadic="num_args", infer_shape=_stack_shape, infer_type=same_type_rule))


def _tile_forward(p, is_train, data):
    reps = tuple(p.reps)
    if len(reps) < data.dim():
        reps = (1,) * (data.dim() - len(reps)) + reps
    return data.repeat(reps) if reps else data


register(OpDef("tile", _tile_forward, params={"reps": Param("shape")}))


def _repeat_forward(p, is_train, data):
    if p.axis is None:
        return data.reshape(-1).repeat_interleave(p.repeats)
    return data.repeat_interleave(p.repeats, dim=p.axis)


register(OpDef("repeat", _repeat_forward,
               params={"repeats": Param("int"), "axis": Param("int_or_none", None)}))


def _squeeze_forward(p, is_train, data):
    if p.axis is None:
        out = data.squeeze()
    else:
        axes = sorted((a % data.dim() for a in p.axis), reverse=True)
        for a in axes:
            if data.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} has size {data.shape[a]}, not 1")
        out = data
        for a in axes:
            out = out.squeeze(a)
    return out if out.dim() else out.reshape(1)  # MXNet has no 0-d arrays


register(OpDef("squeeze", _squeeze_forward, params={"axis": Param("shape_or_none", None)}))


def _reverse_forward(p, is_train, data):
    """Negative axes count from the end (MXNet 1.9.1 fails on them in reverse/flip and
    broadcast_axis; they work here)."""
    return torch.flip(data, dims=[a % data.dim() for a in p.axis])


register(OpDef("reverse", _reverse_forward, params={"axis": Param("shape")},
               infer_shape=lambda p, ins, outs: (ins, [ins[0]]) if _partial(ins[0])
               else (ins, outs)), aliases=["flip"])


def _where_forward(p, is_train, condition, x, y):
    if condition.dim() == 1 and x.dim() > 1:  # MXNet: a 1-D condition selects rows
        condition = condition.reshape((-1,) + (1,) * (x.dim() - 1))
    return torch.where(condition != 0, x, y)


def _where_shape(p, ins, outs):
    (x, y), outs = same_shape_rule(p, ins[1:], outs)
    cond = ins[0]
    if x is not None and (cond is None or len(cond) == len(x)):
        (cond, x, y), outs = same_shape_rule(p, [cond, x, y], outs)
    return [cond, x, y], outs


def _where_type(p, in_types):
    """x and y share the output's dtype; the condition may have any (as MXNet)."""
    (x, y), out = same_type_rule(p, in_types[1:])
    return [in_types[0], x, y], out


register(OpDef("where", _where_forward, inputs=("condition", "x", "y"), infer_shape=_where_shape,
               infer_type=_where_type))


# ------------------------------------------------------------------ broadcasting
def _broadcast_to_forward(p, is_train, data):
    target = tuple(d if t == 0 else t for d, t in zip(data.shape, p.shape))
    return data.expand(target)


register(OpDef("broadcast_to", _broadcast_to_forward, params={"shape": Param("shape", ())}))


def _broadcast_like_forward(p, is_train, lhs, rhs):
    if p.lhs_axes is None and p.rhs_axes is None:
        return lhs.expand(rhs.shape)
    la = [a % lhs.dim() for a in p.lhs_axes]
    ra = [a % rhs.dim() for a in p.rhs_axes]
    target = list(lhs.shape)
    for a, b in zip(la, ra):
        target[a] = rhs.shape[b]
    return lhs.expand(target)


register(OpDef("broadcast_like", _broadcast_like_forward, inputs=("lhs", "rhs"),
               params={"lhs_axes": Param("shape_or_none", None),
                       "rhs_axes": Param("shape_or_none", None)}))


def _broadcast_axis_forward(p, is_train, data):
    target = list(data.shape)
    for a, s in zip(p.axis, p.size):
        target[a % data.dim()] = s
    return data.expand(target)


register(OpDef("broadcast_axis", _broadcast_axis_forward,
               params={"axis": Param("shape", ()), "size": Param("shape", ())}),
         aliases=["broadcast_axes"])


# ------------------------------------------------------------------ dtypes and constants
def _cast_type(p, in_types):
    return in_types, [np.dtype(p.dtype)]


register(OpDef("Cast", lambda p, is_train, data: data.to(torch_dtype(p.dtype)),
               params={"dtype": Param("dtype")}, infer_type=_cast_type,
               infer_shape=lambda p, ins, outs: (ins, [ins[0]]) if _partial(ins[0])
               else (ins, outs)), aliases=["cast"])

_same = lambda p, ins, outs: (ins, [ins[0]]) if _partial(ins[0]) else (ins, outs)  # noqa: E731
register(OpDef("zeros_like", lambda p, is_train, data: torch.zeros_like(data), infer_shape=_same))
register(OpDef("ones_like", lambda p, is_train, data: torch.ones_like(data), infer_shape=_same))


def _const_forward(value):
    def forward(p, is_train):
        if 0 in p.shape:
            raise ShapeError(f"a constant of shape {p.shape} has unknown (0) dims at run time; "
                             "they are filled from the graph at bind (give the data shapes to "
                             "bind/simple_bind)")
        v = p.value if value is None else value
        return torch.full(p.shape, v, dtype=torch_dtype(p.dtype), device=getattr(p, "device",
                                                                                None))
    return forward


def _const_shape(p, ins, outs):
    return ins, [outs[0] if outs[0] is not None and len(outs[0]) == len(p.shape) else
                 tuple(p.shape)]


def _const_type(p, in_types):
    return in_types, [np.dtype(p.dtype)]


def _const_bind_params(p, out_shapes, device):
    """The parameters to run with: the inferred output shape and the device."""
    shape = tuple(out_shapes[0]) if out_shapes and out_shapes[0] is not None else tuple(p.shape)
    if 0 in shape:
        raise ShapeError(f"cannot infer the unknown (0) dims of a constant of shape {p.shape} "
                         "from the graph; give it a full shape")
    q = types.SimpleNamespace(**vars(p))
    q.shape, q.device = shape, device
    return q


_CONST_PARAMS = {"shape": Param("shape", ()), "ctx": Param("str", ""),
                 "dtype": Param("dtype", "float32")}
for _name, _value in (("_zeros", 0.0), ("_ones", 1.0), ("_full", None)):
    _params = dict(_CONST_PARAMS)
    if _value is None:
        _params["value"] = Param("float")
    _op = OpDef(_name, _const_forward(_value), params=_params, inputs=(),
                infer_shape=_const_shape, infer_type=_const_type,
                bind_params=_const_bind_params)
    register(_op)


def _const_creator(opname, doc):
    def create(shape, dtype=None, **kwargs):
        from ..symbol import _create
        if isinstance(shape, int):
            shape = (shape,)
        name, attr = kwargs.pop("name", None), kwargs.pop("attr", None)
        return _create(opname, [], dict(kwargs, shape=shape, dtype=dtype or "float32"),
                       hint=opname, name=name, attr=attr)
    create.__name__ = opname[1:]
    create.__doc__ = doc
    return create


zeros = _const_creator("_zeros", """A symbol of zeros.

    Parameters
    ----------
    shape : int or tuple of int
        0 dims are unknown and filled by shape inference from the graph (e.g. the batch
        dim of RNN begin states, ``zeros(shape=(0, H))``).
    dtype : str or numpy dtype, optional
        Default float32.
    name, attr, and hidden attributes such as ``__layout__``.
    """)
ones = _const_creator("_ones", "A symbol of ones; arguments as ``zeros``.")


def full(shape, val, dtype=None, **kwargs):
    """A symbol filled with ``val``; other arguments as ``zeros``."""
    from ..symbol import _create
    if isinstance(shape, int):
        shape = (shape,)
    name, attr = kwargs.pop("name", None), kwargs.pop("attr", None)
    return _create("_full", [], dict(kwargs, shape=shape, dtype=dtype or "float32", value=val),
                   hint="_full", name=name, attr=attr)


# ------------------------------------------------------------------ arange
def _arange_length(p):
    if p.stop is None:
        start, stop = 0.0, p.start
    else:
        start, stop = p.start, p.stop
    if p.step == 0:
        raise MXNetValueError("arange: step must not be 0")
    return start, max(int(np.ceil((stop - start) / p.step)), 0) * p.repeat


def _arange_forward(p, is_train):
    """``start + i * step`` computed in the output dtype, as MXNet's range kernel."""
    start, n = _arange_length(p)
    dtype = torch_dtype(p.dtype)
    step = p.step
    if not dtype.is_floating_point:
        start, step = int(start), int(step)
    idx = torch.arange(n // p.repeat, device=getattr(p, "device", None)).to(dtype)
    return (idx * step + start).repeat_interleave(p.repeat)


def _arange_shape(p, ins, outs):
    if p.infer_range:  # the length comes from the graph
        return ins, [outs[0] if outs[0] is not None else (0,)]
    return ins, [(_arange_length(p)[1],)]


def _arange_bind_params(p, out_shapes, device):
    """With infer_range, ``stop`` follows the length the graph gives the output."""
    q = types.SimpleNamespace(**vars(p))
    q.device = device
    if p.infer_range:
        shape = out_shapes[0] if out_shapes else None
        if not shape or 0 in shape:
            raise ShapeError("arange(infer_range=True): the graph does not decide the output "
                             "length; use it where its shape follows from other inputs or "
                             "give stop")
        q.stop = p.start + p.step * (shape[0] // p.repeat)
    return q


register(OpDef("_arange", _arange_forward, inputs=(),
               params={"start": Param("float"), "stop": Param("float_or_none", None),
                       "step": Param("float", 1.0), "repeat": Param("int", 1),
                       "infer_range": Param("bool", False), "ctx": Param("str", ""),
                       "dtype": Param("dtype", "float32")},
               infer_shape=_arange_shape, infer_type=_const_type,
               bind_params=_arange_bind_params))


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None):
    """MXNet's ``mx.sym.arange``: ``start, start + step, ...`` below ``stop`` (``range(start)``
    when stop is None), each value ``repeat`` times. With ``infer_range=True`` the length
    comes from the graph (stop is ignored)."""
    from ..symbol import _create
    return _create("_arange", [], dict(start=start, stop=stop,
                                       step=step, repeat=repeat, infer_range=infer_range,
                                       dtype=dtype or np.float32),  # all written, as MXNet
                   hint="_arange", name=name)


# ------------------------------------------------------------------ Sequence* ops
def _seq_inputs(p):
    return ("data", "sequence_length") if p.use_sequence_length else ("data",)


def _steps_mask(data, lengths, axis):
    """Boolean (T, N) or (N, T) mask: step t of sequence n is within its length."""
    t = data.shape[axis]
    steps = torch.arange(t, device=data.device)
    lengths = lengths.to(steps.dtype if lengths.is_floating_point() else lengths.dtype)
    if axis == 0:
        return steps.unsqueeze(1) < lengths.reshape(1, -1)
    return steps.unsqueeze(0) < lengths.reshape(-1, 1)


def _check_axis(p, name):
    if p.axis not in (0, 1):
        raise MXNetValueError(f"{name}: axis must be 0 or 1, got {p.axis}")


def _seq_mask_forward(p, is_train, data, sequence_length=None):
    _check_axis(p, "SequenceMask")
    if not p.use_sequence_length:
        return data
    mask = _steps_mask(data, sequence_length.long(), p.axis)
    mask = mask.reshape(mask.shape + (1,) * (data.dim() - 2))
    return torch.where(mask, data, torch.full((), p.value, dtype=data.dtype,
                                              device=data.device))


register(OpDef("SequenceMask", _seq_mask_forward, inputs=_seq_inputs,
               params={"use_sequence_length": Param("bool", False), "value": Param("float", 0.0),
                       "axis": Param("int", 0)}))


def _seq_last_forward(p, is_train, data, sequence_length=None):
    _check_axis(p, "SequenceLast")
    if not p.use_sequence_length:
        return data.select(p.axis, data.shape[p.axis] - 1)
    last = (sequence_length.long() - 1).clamp(0, data.shape[p.axis] - 1)
    batch = torch.arange(data.shape[1 - p.axis], device=data.device)
    return data[last, batch] if p.axis == 0 else data[batch, last]


register(OpDef("SequenceLast", _seq_last_forward, inputs=_seq_inputs,
               params={"use_sequence_length": Param("bool", False), "axis": Param("int", 0)}))


def _seq_reverse_forward(p, is_train, data, sequence_length=None):
    """Reverse the first ``sequence_length[n]`` steps of each sequence. MXNet 1.9.1 accepts
    axis=0 only; axis=1 (batch-major) is an extension here."""
    _check_axis(p, "SequenceReverse")
    if not p.use_sequence_length:
        return torch.flip(data, dims=[p.axis])
    t = data.shape[p.axis]
    lengths = sequence_length.long().clamp(0, t)
    steps = torch.arange(t, device=data.device)
    if p.axis == 0:
        steps, lengths = steps.unsqueeze(1), lengths.reshape(1, -1)
    else:
        steps, lengths = steps.unsqueeze(0), lengths.reshape(-1, 1)
    src = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (T, N) or (N, T)
    src = src.reshape(src.shape + (1,) * (data.dim() - 2)).expand(data.shape)
    return torch.gather(data, p.axis, src)


register(OpDef("SequenceReverse", _seq_reverse_forward, inputs=_seq_inputs,
               params={"use_sequence_length": Param("bool", False), "axis": Param("int", 0)}))
