"""``nnabla.functions`` (F) on torch: each function adds one node to the graph (see
``variable.py``) whose computation is a few torch calls. Parametric layers that create
their own weights are in ``parametric_functions.py``; LSTM is in ``rnn.py`` (re-exported
here as ``F.lstm``)."""
import builtins

import numpy as np
import torch
import torch.nn.functional as TF

from ..base import MXNetNotImplementedError, MXNetValueError
from .state import current_training
from .variable import Variable, apply_function

__all__ = [
    "identity", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "exp", "log", "abs",
    "softmax", "log_softmax", "add2", "sub2", "mul2", "div2", "pow2", "maximum2", "minimum2",
    "add_scalar", "sub_scalar", "r_sub_scalar", "mul_scalar", "div_scalar", "r_div_scalar",
    "pow_scalar", "r_pow_scalar", "mean", "sum", "max", "min", "prod",
    "softmax_cross_entropy", "categorical_cross_entropy", "sigmoid_cross_entropy",
    "squared_error", "top_n_error", "affine", "convolution", "deconvolution",
    "batch_normalization", "layer_normalization", "embed", "max_pooling",
    "average_pooling", "global_average_pooling", "dropout", "concatenate", "split", "stack",
    "reshape", "transpose", "slice", "broadcast", "batch_matmul", "clip_by_value", "getitem",
    "lstm",
]


def _axis(x, axis, default_last=True):
    if axis is None:
        return x.ndim - 1 if default_last else None
    return axis + x.ndim if axis < 0 else axis


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a + ndim if a < 0 else a for a in axes)


# ---------------------------------------------------------------------- elementwise
def _unary(type_name, fn, x, **args):
    return apply_function(type_name, fn, [x], args)


def identity(x):
    """y = x."""
    return _unary("Identity", lambda t: t.clone(), x)


def relu(x, inplace=False):
    """max(x, 0). ``inplace`` is accepted and ignored, as in nnabla 1.39 (the input is
    never modified)."""
    return _unary("ReLU", TF.relu, x, inplace=inplace)


def leaky_relu(x, alpha=0.1, inplace=False):
    """x if x > 0 else alpha*x (``inplace`` ignored)."""
    return _unary("LeakyReLU", lambda t: TF.leaky_relu(t, alpha), x, alpha=alpha)


def elu(x, alpha=1.0):
    """x if x > 0 else alpha*(exp(x)-1)."""
    return _unary("ELU", lambda t: TF.elu(t, alpha), x, alpha=alpha)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return _unary("Sigmoid", torch.sigmoid, x)


def tanh(x):
    """Hyperbolic tangent."""
    return _unary("Tanh", torch.tanh, x)


def exp(x):
    """Elementwise exp."""
    return _unary("Exp", torch.exp, x)


def log(x):
    """Elementwise natural log."""
    return _unary("Log", torch.log, x)


def abs(x):
    """Elementwise absolute value."""
    return _unary("Abs", torch.abs, x)


def softmax(x, axis=None):
    """Softmax along ``axis`` (default: the last)."""
    a = _axis(x, axis)
    return _unary("Softmax", lambda t: torch.softmax(t, a), x, axis=a)


def log_softmax(x, axis=None):
    """log(softmax(x)) along ``axis`` (default: the last)."""
    a = _axis(x, axis)
    return _unary("LogSoftmax", lambda t: torch.log_softmax(t, a), x, axis=a)


def _binary(type_name, fn, x0, x1, inplace=False):
    """Broadcasting binary op. ``inplace`` is accepted and ignored (nnabla 1.39)."""
    return apply_function(type_name, fn, [x0, x1], {"inplace": inplace})


def add2(x0, x1, inplace=False):
    """x0 + x1 (broadcasting; ``inplace`` ignored as in nnabla 1.39)."""
    return _binary("Add2", torch.add, x0, x1, inplace)


def sub2(x0, x1, inplace=False):
    """x0 - x1 (broadcasting)."""
    return _binary("Sub2", torch.sub, x0, x1, inplace)


def mul2(x0, x1, inplace=False):
    """x0 * x1 (broadcasting)."""
    return _binary("Mul2", torch.mul, x0, x1, inplace)


def div2(x0, x1, inplace=False):
    """x0 / x1 (broadcasting)."""
    return _binary("Div2", torch.div, x0, x1, inplace)


def pow2(x0, x1, inplace=False):
    """x0 ** x1 (broadcasting)."""
    return _binary("Pow2", torch.pow, x0, x1, inplace)


def maximum2(x0, x1):
    """Elementwise max."""
    return _binary("Maximum2", torch.maximum, x0, x1)


def minimum2(x0, x1):
    """Elementwise min."""
    return _binary("Minimum2", torch.minimum, x0, x1)


def add_scalar(x, val=1.0, inplace=False):
    """x + val."""
    return _unary("AddScalar", lambda t: t + val, x, val=val)


def sub_scalar(x, val=1.0):
    """x - val."""
    return add_scalar(x, -val)


def r_sub_scalar(x, val=1.0):
    """val - x."""
    return _unary("RSubScalar", lambda t: val - t, x, val=val)


def mul_scalar(x, val=1.0, inplace=False):
    """x * val."""
    return _unary("MulScalar", lambda t: t * val, x, val=val)


def div_scalar(x, val=1.0):
    """x / val."""
    return mul_scalar(x, 1.0 / val)


def r_div_scalar(x, val=1.0):
    """val / x."""
    return _unary("RDivScalar", lambda t: val / t, x, val=val)


def pow_scalar(x, val=1.0, inplace=False):
    """x ** val."""
    return _unary("PowScalar", lambda t: t ** val, x, val=val)


def r_pow_scalar(x, val=1.0):
    """val ** x."""
    return _unary("RPowScalar", lambda t: torch.pow(torch.as_tensor(val, dtype=t.dtype), t),
                  x, val=val)


def clip_by_value(x, min, max):
    """Clip ``x`` to [min, max] (numbers or Variables broadcastable to x)."""
    if isinstance(min, Variable) and isinstance(max, Variable):
        return apply_function("ClipByValue", lambda t, lo, hi: torch.maximum(
            torch.minimum(t, hi), lo), [x, min, max])
    return _unary("ClipByValue", lambda t: t.clamp(min, max), x, min=min, max=max)


# ---------------------------------------------------------------------- reductions
def _reduction(type_name, fn, x, axis, keepdims):
    axes = _axes(axis, x.ndim)
    return _unary(type_name, lambda t: fn(t, axes, keepdims) if axes else t.clone(), x,
                  axes=list(axes), keep_dims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (int or tuple; None reduces every axis to shape ())."""
    return _reduction("Mean", lambda t, a, k: t.mean(a, keepdim=k), x, axis, keepdims)


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (int or tuple; None reduces every axis to shape ())."""
    return _reduction("Sum", lambda t, a, k: t.sum(a, keepdim=k), x, axis, keepdims)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``."""
    def fn(t, a, k):
        for ax in sorted(a, reverse=True):
            t = t.prod(ax, keepdim=k)
        return t
    return _reduction("Prod", fn, x, axis, keepdims)


def max(x, axis=None, keepdims=False, with_index=False, only_index=False):
    """Maximum over ``axis``. ``with_index``/``only_index`` need one axis."""
    return _extreme("Max", torch.amax, torch.max, x, axis, keepdims, with_index, only_index)


def min(x, axis=None, keepdims=False, with_index=False, only_index=False):
    """Minimum over ``axis``. ``with_index``/``only_index`` need one axis."""
    return _extreme("Min", torch.amin, torch.min, x, axis, keepdims, with_index, only_index)


def _extreme(type_name, reduce_fn, index_fn, x, axis, keepdims, with_index, only_index):
    if not (with_index or only_index):
        return _reduction(type_name, lambda t, a, k: reduce_fn(t, a, keepdim=k), x, axis,
                          keepdims)
    if not isinstance(axis, int):
        raise MXNetValueError(f"F.{type_name.lower()}: with_index/only_index need one int "
                              f"axis, got {axis!r}")
    a = _axis(x, axis)
    if only_index:
        return _unary(type_name, lambda t: index_fn(t, a, keepdim=keepdims)[1], x, axis=a)
    return apply_function(type_name, lambda t: tuple(index_fn(t, a, keepdim=keepdims)), [x],
                          {"axis": a}, n_outputs=2)


# ---------------------------------------------------------------------- losses
def _check_target(fname, x, target, axis):
    want = tuple(1 if i == axis else s for i, s in enumerate(x.shape))
    if tuple(target.shape) != want:
        raise MXNetValueError(f"F.{fname}: target has shape {target.shape}, expected {want} "
                              f"(x {x.shape} with axis {axis} reduced to 1): reshape the "
                              "labels, e.g. y.reshape((-1, 1))")


def softmax_cross_entropy(x, target, axis=None):
    """-log softmax(x)[target] along ``axis`` (default last); the output has x's shape
    with that axis reduced to 1. A label of -1 gives 0."""
    a = _axis(x, axis)
    _check_target("softmax_cross_entropy", x, target, a)

    def fn(t, lab):
        logp = torch.log_softmax(t, a)
        picked = logp.gather(a, lab.clamp_min(0))
        return torch.where(lab >= 0, -picked, torch.zeros_like(picked))
    return apply_function("SoftmaxCrossEntropy", fn, [x, target], {"axis": a},
                          index_inputs=(1,))


def categorical_cross_entropy(x, target, axis=None):
    """-log x[target] for probabilities ``x`` along ``axis`` (default last)."""
    a = _axis(x, axis)
    _check_target("categorical_cross_entropy", x, target, a)
    return apply_function("CategoricalCrossEntropy",
                          lambda t, lab: -torch.log(t.gather(a, lab.clamp_min(0))),
                          [x, target], {"axis": a}, index_inputs=(1,))


def sigmoid_cross_entropy(x, target):
    """Elementwise -(t log s(x) + (1-t) log(1-s(x)))."""
    return apply_function("SigmoidCrossEntropy", lambda t, z: TF.binary_cross_entropy_with_logits(
        t, z, reduction="none"), [x, target])


def squared_error(x0, x1):
    """(x0 - x1)^2 elementwise."""
    return apply_function("SquaredError", lambda a, b: (a - b) ** 2, [x0, x1])


def top_n_error(x, target, axis=None, n=1):
    """1 where ``target`` is not among the ``n`` largest entries along ``axis``, else 0
    (shape of x with the axis reduced to 1)."""
    a = _axis(x, axis)
    _check_target("top_n_error", x, target, a)

    def fn(t, lab):
        top = t.topk(n, dim=a).indices
        return (top == lab).any(a, keepdim=True).logical_not().to(t.dtype)
    return apply_function("TopNError", fn, [x, target], {"axis": a, "n": n}, index_inputs=(1,))


# ---------------------------------------------------------------------- layers
def _flat_batch(t, base_axis):
    """Merge the dims before ``base_axis`` into one batch dim: (lead shape, tensor)."""
    lead = t.shape[:base_axis]
    return lead, t.reshape((-1,) + tuple(t.shape[base_axis:]))


def affine(x, weight, bias=None, base_axis=1):
    """y = x.reshape(N, -1) @ W.reshape(in, -1) + b; W is (in, *out) (nnabla layout)."""
    ins = [x, weight] + ([bias] if bias is not None else [])

    def fn(t, w, b=None):
        lead = t.shape[:base_axis]
        y = t.reshape(int(np.prod(lead, dtype=np.int64)), -1) @ w.reshape(w.shape[0], -1)
        if b is not None:
            y = y + b.reshape(-1)
        return y.reshape(tuple(lead) + tuple(w.shape[1:]))
    return apply_function("Affine", fn, ins, {"base_axis": base_axis})


def _conv_fn(nd, transposed):
    if nd not in (1, 2, 3):
        raise MXNetNotImplementedError(f"{nd}-d convolution is not supported (1-3 spatial "
                                       "dims; issue 6)")
    if transposed:
        return (TF.conv_transpose1d, TF.conv_transpose2d, TF.conv_transpose3d)[nd - 1]
    return (TF.conv1d, TF.conv2d, TF.conv3d)[nd - 1]


def _tuple(v, nd, default):
    if v is None:
        return (default,) * nd
    return tuple(int(i) for i in v) if hasattr(v, "__len__") else (int(v),) * nd


def convolution(x, weight, bias=None, base_axis=1, pad=None, stride=None, dilation=None,
                group=1, channel_last=False):
    """N-d convolution; W is (outmaps, C/group, *kernel) ((outmaps, *kernel, C/group)
    with channel_last)."""
    nd = len(weight.shape) - 2
    pad, stride, dilation = _tuple(pad, nd, 0), _tuple(stride, nd, 1), _tuple(dilation, nd, 1)
    conv = _conv_fn(nd, False)
    ins = [x, weight] + ([bias] if bias is not None else [])

    def fn(t, w, b=None):
        if channel_last:
            t, w = t.movedim(-1, base_axis), w.movedim(-1, 1)
        lead, t = _flat_batch(t, base_axis)
        y = conv(t, w, b, stride, pad, dilation, group)
        y = y.reshape(tuple(lead) + tuple(y.shape[1:]))
        return y.movedim(base_axis, -1) if channel_last else y
    return apply_function("Convolution", fn, ins, dict(base_axis=base_axis, pad=pad,
                          stride=stride, dilation=dilation, group=group,
                          channel_last=channel_last))


def deconvolution(x, weight, bias=None, base_axis=1, pad=None, stride=None, dilation=None,
                  group=1, channel_last=False, output_padding=None):
    """N-d transposed convolution; W is (C, outmaps/group, *kernel)."""
    if channel_last:
        raise MXNetNotImplementedError("F.deconvolution with channel_last=True is not "
                                       "supported yet (issue 6): transpose to channel-first")
    nd = len(weight.shape) - 2
    pad, stride, dilation = _tuple(pad, nd, 0), _tuple(stride, nd, 1), _tuple(dilation, nd, 1)
    opad = _tuple(output_padding, nd, 0)
    conv = _conv_fn(nd, True)
    ins = [x, weight] + ([bias] if bias is not None else [])

    def fn(t, w, b=None):
        lead, t = _flat_batch(t, base_axis)
        y = conv(t, w, b, stride, pad, opad, group, dilation)
        return y.reshape(tuple(lead) + tuple(y.shape[1:]))
    return apply_function("Deconvolution", fn, ins, dict(base_axis=base_axis, pad=pad,
                          stride=stride, dilation=dilation, group=group,
                          output_padding=opad))


def batch_normalization(x, beta, gamma, mean, variance, axes=[1], decay_rate=0.9, eps=1e-05,
                        batch_stat=True, output_stat=False):
    """Batch normalization over every axis but ``axes`` (one channel axis).

    With ``batch_stat`` the batch mean and biased variance normalize, and the running
    ``mean``/``variance`` are updated during forward: r <- decay*r + (1-decay)*batch
    (the unbiased variance for ``variance``); otherwise the running values normalize.
    ``beta``/``gamma`` may be None.
    """
    if output_stat:
        raise MXNetNotImplementedError("F.batch_normalization(output_stat=True) is not "
                                       "supported yet (issue 6)")
    axes = list(axes) if hasattr(axes, "__len__") else [axes]
    if len(axes) != 1:
        raise MXNetNotImplementedError(f"F.batch_normalization over axes {axes}: only one "
                                       "channel axis is supported yet (issue 6)")
    ax = _axis(x, axes[0])
    present = [v for v in (beta, gamma) if v is not None]
    has_beta, has_gamma = beta is not None, gamma is not None

    def fn(t, *rest):
        b = rest[0] if has_beta else None
        g = rest[int(has_beta)] if has_gamma else None
        rm, rv = rest[-2], rest[-1]
        t1 = t.movedim(ax, 1)
        y = TF.batch_norm(t1, rm.view(-1), rv.view(-1),
                          None if g is None else g.reshape(-1),
                          None if b is None else b.reshape(-1),
                          training=batch_stat, momentum=1.0 - decay_rate, eps=eps)
        return y.movedim(1, ax)
    return apply_function("BatchNormalization", fn, [x] + present + [mean, variance],
                          dict(axes=[ax], decay_rate=decay_rate, eps=eps,
                               batch_stat=batch_stat))


def layer_normalization(x, beta, gamma, batch_axis=0, eps=1e-05, output_stat=False):
    """Normalize over every axis but ``batch_axis``, then scale by gamma and add beta."""
    if output_stat:
        raise MXNetNotImplementedError("F.layer_normalization(output_stat=True) is not "
                                       "supported yet (issue 6)")
    baxes = set(_axes(batch_axis, x.ndim))
    red = tuple(i for i in range(x.ndim) if i not in baxes)
    present = [v for v in (beta, gamma) if v is not None]
    has_beta, has_gamma = beta is not None, gamma is not None

    def fn(t, *rest):
        m = t.mean(red, keepdim=True)
        v = ((t - m) ** 2).mean(red, keepdim=True)
        y = (t - m) / torch.sqrt(v + eps)
        if has_gamma:
            y = y * rest[int(has_beta)]
        if has_beta:
            y = y + rest[0]
        return y
    return apply_function("LayerNormalization", fn, [x] + present,
                          dict(batch_axis=sorted(baxes), eps=eps))


def embed(x0, w):
    """Rows of ``w`` (n_inputs, n_features) picked by the integer indices ``x0``."""
    return apply_function("Embed", lambda i, t: TF.embedding(i, t), [x0, w],
                          index_inputs=(0,))


def _pool(type_name, pool_fns, x, kernel, stride, ignore_border, pad, channel_last, **extra):
    nd = len(kernel)
    if nd not in (1, 2, 3):
        raise MXNetValueError(f"F.{type_name}: kernel {kernel} must have 1-3 dims")
    kernel = tuple(int(k) for k in kernel)
    stride = kernel if stride is None else _tuple(stride, nd, 1)
    pad = _tuple(pad, nd, 0)
    pool = pool_fns[nd - 1]

    def fn(t):
        if channel_last:
            t = t.movedim(-1, 0)
        lead = t.shape[:-nd]
        y = pool(t.reshape((-1, 1) + tuple(t.shape[-nd:])), kernel, stride, pad,
                 ceil_mode=not ignore_border, **extra)
        y = y.reshape(tuple(lead) + tuple(y.shape[-nd:]))
        return y.movedim(0, -1) if channel_last else y
    return _unary(type_name, fn, x, kernel=kernel, stride=stride, pad=pad,
                  ignore_border=ignore_border, channel_last=channel_last)


def max_pooling(x, kernel, stride=None, ignore_border=True, pad=None, channel_last=False):
    """Max pooling over the last len(kernel) dims; stride defaults to kernel.
    ``ignore_border=False`` keeps a partial window at the border."""
    return _pool("MaxPooling", (TF.max_pool1d, TF.max_pool2d, TF.max_pool3d), x, kernel,
                 stride, ignore_border, pad, channel_last)


def average_pooling(x, kernel, stride=None, ignore_border=True, pad=None, channel_last=False,
                    including_pad=True):
    """Average pooling; with ``including_pad`` padded zeros count in the divisor."""
    return _pool("AveragePooling", (TF.avg_pool1d, TF.avg_pool2d, TF.avg_pool3d), x, kernel,
                 stride, ignore_border, pad, channel_last, count_include_pad=including_pad)


def global_average_pooling(x):
    """Mean over the spatial dims: (N, C, ...) -> (N, C, 1, 1)."""
    return _unary("GlobalAveragePooling",
                  lambda t: t.reshape(t.shape[0], t.shape[1], -1).mean(2).reshape(
                      t.shape[0], t.shape[1], 1, 1), x)


def dropout(x, p=0.5, seed=-1):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p).

    Like nnabla it is always active, except inside a Module whose ``training`` is
    False when the graph is built (mxtorch's switch): then it is the identity.
    ``seed`` is accepted; the torch generator (``mx.random.seed``) draws the masks.
    """
    if not 0 <= p < 1:
        raise MXNetValueError(f"F.dropout: p must be in [0, 1), got {p}")
    if not current_training():
        return identity(x)
    return _unary("Dropout", lambda t: TF.dropout(t, p, True), x, p=p, seed=seed)


# ---------------------------------------------------------------------- shapes
def concatenate(*x, axis=None):
    """Join variables along ``axis`` (default: the last)."""
    a = _axis(x[0], axis)
    return apply_function("Concatenate", lambda *ts: torch.cat(ts, a), list(x), {"axis": a})


def split(x, axis=0):
    """Split into x.shape[axis] variables with that axis removed (a tuple)."""
    a = _axis(x, axis)
    n = x.shape[a]
    return apply_function("Split", lambda t: tuple(t.unbind(a)), [x], {"axis": a},
                          n_outputs=n)


def stack(*x, axis=0):
    """Stack variables of one shape along a new ``axis``."""
    return apply_function("Stack", lambda *ts: torch.stack(ts, axis), list(x), {"axis": axis})


def reshape(x, shape, inplace=True):
    """Reshape (one -1 allowed); ``inplace`` is accepted for nnabla compatibility."""
    shape = tuple(int(s) for s in shape)
    return _unary("Reshape", lambda t: t.reshape(shape), x, shape=shape, inplace=inplace)


def transpose(x, axes):
    """Permute the axes."""
    axes = tuple(axes)
    return _unary("Transpose", lambda t: t.permute(axes), x, axes=axes)


def slice(x, start=None, stop=None, step=None):
    """x[start:stop:step] per axis (lists, one entry per axis)."""
    n = x.ndim
    start = list(start) if start is not None else [0] * n
    stop = list(stop) if stop is not None else list(x.shape)
    step = list(step) if step is not None else [1] * n
    key = tuple(builtins.slice(a, b, c) for a, b, c in zip(start, stop, step))
    return _unary("Slice", lambda t: t[key], x, start=start, stop=stop, step=step)


def getitem(x, key):
    """``x[key]`` with basic indexing (ints, slices, None, Ellipsis)."""
    return _unary("GetItem", lambda t: t[key], x, key=repr(key))


def broadcast(x, shape):
    """Broadcast to ``shape``."""
    shape = tuple(int(s) for s in shape)
    return _unary("Broadcast", lambda t: t.expand(shape).clone(), x, shape=shape)


def batch_matmul(a, b, transpose_a=False, transpose_b=False):
    """Batched matrix product over the last two dims."""
    def fn(p, q):
        if transpose_a:
            p = p.transpose(-1, -2)
        if transpose_b:
            q = q.transpose(-1, -2)
        return p @ q
    return apply_function("BatchMatmul", fn, [a, b], dict(transpose_a=transpose_a,
                                                         transpose_b=transpose_b))


from .rnn import lstm  # noqa: E402  (F.lstm; rnn.py imports nothing from this file)
