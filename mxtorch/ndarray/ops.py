"""Imperative functions of ``mx.nd`` on NDArrays (``nd.sum``, ``nd.dot``, ...).

Each is a direct call of the torch function; results are new NDArrays.
"""
import torch

from .ndarray import NDArray, _as_tensor

__all__ = ["sum", "mean", "max", "min", "prod", "abs", "sqrt", "square", "exp", "log", "sign",
           "relu", "sigmoid", "tanh", "negative", "add", "subtract", "multiply", "divide",
           "maximum", "minimum", "power", "dot", "batch_dot", "argmax", "argmin", "clip",
           "softmax", "log_softmax", "norm", "stack", "split", "transpose", "reshape",
           "flatten", "expand_dims", "one_hot", "where", "broadcast_add", "broadcast_sub",
           "broadcast_mul", "broadcast_div", "elemwise_add", "elemwise_sub", "elemwise_mul",
           "elemwise_div", "cast", "slice_axis", "take", "pick"]


def _t(x):
    return x._data if isinstance(x, NDArray) else x


def _ctx(*xs):
    for x in xs:
        if isinstance(x, NDArray):
            return x._ctx
    return None


def _wrap(t, *like):
    return NDArray(t if isinstance(t, torch.Tensor) else torch.as_tensor(t), _ctx(*like))


def _reduce(fn):
    def f(data, axis=None, keepdims=False, exclude=False, **kwargs):
        t = _t(data)
        if axis is None and not exclude:
            r = fn(t)
            return _wrap(r.reshape((1,) * t.dim() if keepdims else (1,)), data)
        axes = (axis,) if isinstance(axis, int) else tuple(axis or ())
        axes = tuple(a % t.dim() for a in axes)
        if exclude:
            axes = tuple(a for a in range(t.dim()) if a not in axes)
        r = fn(t, dim=axes, keepdim=keepdims) if axes else t
        return _wrap(r if r.dim() or keepdims else r.reshape(1), data)
    return f


sum = _reduce(torch.sum)  # noqa: A001
mean = _reduce(torch.mean)
max = _reduce(torch.amax)  # noqa: A001
min = _reduce(torch.amin)  # noqa: A001


def prod(data, axis=None, keepdims=False):
    t = _t(data)
    if axis is None:
        return _wrap(torch.prod(t).reshape(1), data)
    return _wrap(torch.prod(t, dim=axis, keepdim=keepdims), data)


def _unary(fn):
    return lambda data, **kw: _wrap(fn(_t(data)), data)


abs = _unary(torch.abs)  # noqa: A001
sqrt = _unary(torch.sqrt)
square = _unary(torch.square)
exp = _unary(torch.exp)
log = _unary(torch.log)
sign = _unary(torch.sign)
relu = _unary(torch.relu)
sigmoid = _unary(torch.sigmoid)
tanh = _unary(torch.tanh)
negative = _unary(torch.neg)
flatten = _unary(lambda t: t.reshape(t.shape[0], -1))


def _binary(fn):
    def f(lhs, rhs, **kw):
        return _wrap(fn(_as_tensor(lhs), _as_tensor(rhs)), lhs, rhs)
    return f


add = broadcast_add = elemwise_add = _binary(torch.add)
subtract = broadcast_sub = elemwise_sub = _binary(torch.sub)
multiply = broadcast_mul = elemwise_mul = _binary(torch.mul)
divide = broadcast_div = elemwise_div = _binary(torch.true_divide)
maximum = _binary(torch.maximum)
minimum = _binary(torch.minimum)
power = _binary(torch.pow)


def dot(lhs, rhs, transpose_a=False, transpose_b=False, **kw):
    a, b = _t(lhs), _t(rhs)
    if transpose_a:
        a = a.t() if a.dim() == 2 else a.permute(*reversed(range(a.dim())))
    if transpose_b:
        b = b.t() if b.dim() == 2 else b.permute(*reversed(range(b.dim())))
    if a.dim() == 1 and b.dim() == 1:
        return _wrap(torch.dot(a, b).reshape(1), lhs)
    return _wrap(torch.tensordot(a, b, dims=1), lhs)


def batch_dot(lhs, rhs, transpose_a=False, transpose_b=False, **kw):
    a, b = _t(lhs), _t(rhs)
    return _wrap(torch.bmm(a.transpose(1, 2) if transpose_a else a,
                           b.transpose(1, 2) if transpose_b else b), lhs)


def argmax(data, axis=None, keepdims=False):
    t = _t(data)
    return _wrap(t.argmax(dim=axis, keepdim=keepdims).to(t.dtype), data)


def argmin(data, axis=None, keepdims=False):
    t = _t(data)
    return _wrap(t.argmin(dim=axis, keepdim=keepdims).to(t.dtype), data)


def clip(data, a_min, a_max):
    return _wrap(_t(data).clamp(a_min, a_max), data)


def softmax(data, axis=-1, temperature=None):
    t = _t(data)
    return _wrap(torch.softmax(t / temperature if temperature else t, dim=axis), data)


def log_softmax(data, axis=-1, temperature=None):
    t = _t(data)
    return _wrap(torch.log_softmax(t / temperature if temperature else t, dim=axis), data)


def norm(data, ord=2, axis=None, keepdims=False):
    t = _t(data)
    r = torch.linalg.vector_norm(t, ord=ord, dim=axis, keepdim=keepdims)
    return _wrap(r if r.dim() else r.reshape(1), data)


def stack(*data, axis=0, num_args=None):
    if len(data) == 1 and isinstance(data[0], (list, tuple)):
        data = data[0]
    return _wrap(torch.stack([_t(d) for d in data], dim=axis), *data)


def split(data, num_outputs, axis=1, squeeze_axis=False):
    parts = torch.chunk(_t(data), num_outputs, dim=axis)
    if squeeze_axis:
        parts = [p.squeeze(axis) for p in parts]
    out = [_wrap(p, data) for p in parts]
    return out[0] if num_outputs == 1 else out


def transpose(data, axes=None):
    return data.transpose(axes)


def reshape(data, shape, reverse=False):
    return data.reshape(shape, reverse=reverse) if reverse else data.reshape(shape)


def expand_dims(data, axis):
    return data.expand_dims(axis)


def one_hot(indices, depth, on_value=1.0, off_value=0.0, dtype="float32"):
    from ..base import torch_dtype
    idx = _t(indices).long()
    out = torch.full(idx.shape + (depth,), off_value, dtype=torch_dtype(dtype), device=idx.device)
    valid = (idx >= 0) & (idx < depth)
    out[valid] = 0
    out.scatter_(-1, idx.clamp(0, depth - 1).unsqueeze(-1), on_value)
    out[~valid] = off_value
    return _wrap(out, indices)


def where(condition, x, y):
    return _wrap(torch.where(_t(condition) != 0, _t(x), _t(y)), x)


def cast(data, dtype):
    return data.astype(dtype)


def slice_axis(data, axis, begin, end):
    return data.slice_axis(axis, begin, end)


def take(a, indices, axis=0, mode="clip"):
    t, idx = _t(a), _t(indices).long()
    idx = idx.clamp(0, t.shape[axis] - 1) if mode == "clip" else idx % t.shape[axis]
    return _wrap(torch.index_select(t, axis, idx.reshape(-1)).reshape(
        t.shape[:axis] + idx.shape + t.shape[axis + 1:]), a)


def pick(data, index, axis=-1, keepdims=False, mode="clip"):
    t, idx = _t(data), _t(index).long()
    axis = axis % t.dim()
    idx = idx.clamp(0, t.shape[axis] - 1) if mode == "clip" else idx % t.shape[axis]
    r = torch.gather(t, axis, idx.unsqueeze(axis) if idx.dim() < t.dim() else idx)
    return _wrap(r if keepdims else r.squeeze(axis), data)
