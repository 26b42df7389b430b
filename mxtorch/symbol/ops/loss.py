"""Losses with MXNet's own gradients. Loss heads (the head gradient is ignored):
SoftmaxOutput, Linear/Logistic/MAE RegressionOutput, SVMOutput, MakeLoss. Loss functions
with ordinary gradients: smooth_l1, softmax_cross_entropy. IdentityAttachKLSparseReg (an
identity whose backward adds a sparseness penalty), and BlockGrad."""
import types
import warnings

import torch

from ...base import MXNetValueError
from ..registry import HIDDEN_KEYS, OpDef, Param, _format, register
from ._util import known, prod, same_shape_rule


def _scale(n):
    return 1.0 / n if n else 0.0


def _softmax_prob(data, p):
    """SoftmaxOutput's forward: the softmax over the class axis its options choose."""
    if p.multi_output:
        return torch.softmax(data, dim=1)
    if p.preserve_shape:
        return torch.softmax(data, dim=-1)
    if data.dim() == 2 and data.shape[0]:   # already (batch, classes): no reshapes
        return torch.softmax(data, dim=1)
    return torch.softmax(data.reshape(data.shape[0], -1), dim=1).reshape(data.shape)


def _softmax_output(p, is_train, data, label):
    # without a gradient to record (inference) the plain softmax: no autograd.Function call
    if data.requires_grad and torch.is_grad_enabled():
        return _SoftmaxOutput.apply(data, label, p)
    return _softmax_prob(data, p)


class _SoftmaxOutput(torch.autograd.Function):
    """Softmax whose backward is MXNet's ``(prob - onehot(label))``, normalised and scaled.

    ``smooth_alpha`` has no effect with ``multi_output`` (MXNet 1.9.1's multi-output kernels
    lack it). With ``out_grad=True`` MXNet 1.9.1 multiplies that gradient by the softmax output
    itself, not by the head gradient (as a head and inside a graph alike); we do the same.
    """

    @staticmethod
    def forward(ctx, data, label, p):
        prob = _softmax_prob(data, p)
        ctx.save_for_backward(prob, label)
        ctx.p = p
        return prob

    @staticmethod
    def backward(ctx, grad_out):
        prob, label = ctx.saved_tensors
        p = ctx.p
        if prob.dim() == 2 and label.dim() == 1 and label.shape[0] == prob.shape[0] and \
                not (p.multi_output or p.use_ignore or p.smooth_alpha) and \
                p.normalization != "valid":
            # the common case, in a few kernels: p - onehot(label), scaled; a label outside
            # [0, classes) matches no class, so its row keeps the probability
            hit = label.long().unsqueeze(1) == torch.arange(prob.shape[1], device=prob.device)
            grad = prob - hit.to(prob.dtype)
            scale = p.grad_scale / prob.shape[0] if p.normalization == "batch" else p.grad_scale
            if scale != 1.0:
                grad.mul_(scale)
            if p.out_grad:
                grad.mul_(prob)
            return grad, None, None
        if p.multi_output:
            axis, classes = 1, prob.shape[1]
        elif p.preserve_shape:
            axis, classes = prob.dim() - 1, prob.shape[-1]
        else:
            axis, classes = 1, prod(prob.shape[1:])
        flat = prob if (p.multi_output or p.preserve_shape) else prob.reshape(prob.shape[0], -1)
        if label.shape == prob.shape and not p.multi_output:  # probability targets
            grad = flat - label.reshape(flat.shape)
            valid = None
        else:
            lab_shape = flat.shape[:axis] + flat.shape[axis + 1:]
            if label.numel() != prod(lab_shape):
                # MXNet reads the first n labels of the flattened label array
                label = label.reshape(-1)[:prod(lab_shape)]
            lab = label.reshape(lab_shape).long()
            valid = lab != int(p.ignore_label) if p.use_ignore else None
            onehot = torch.zeros_like(flat).scatter_(
                axis, lab.clamp(0, classes - 1).unsqueeze(axis),
                _in_range(lab.unsqueeze(axis), classes, flat.dtype))
            if p.smooth_alpha and not p.multi_output:  # MXNet 1.9.1 ignores it there
                onehot = onehot * (1 - p.smooth_alpha) + (1 - onehot) * (
                    p.smooth_alpha / (classes - 1))
            grad = flat - onehot
            if valid is not None:
                grad = grad * valid.unsqueeze(axis).to(grad.dtype)
        # preserve_shape normalises over the rows of the (-1, classes) view
        n = prod(prob.shape[:-1]) if p.preserve_shape and not p.multi_output else prob.shape[0]
        spatial = prod(flat.shape[2:]) if p.multi_output else 1
        if p.normalization == "batch":
            grad = grad * (p.grad_scale / (n * spatial))
        elif p.normalization == "valid":
            count = valid.sum().clamp(min=1) if valid is not None else lab_count(flat, axis)
            grad = grad * p.grad_scale / count
        else:
            grad = grad * (p.grad_scale / spatial)
        grad = grad.reshape(prob.shape)
        if p.out_grad:
            grad = grad * prob
        return grad, None, None


def _in_range(lab, classes, dtype):
    """1 where a label names a class, 0 where it lies outside [0, classes): MXNet then
    subtracts from no class (the gradient is the probability)."""
    return ((lab >= 0) & (lab < classes)).to(dtype)


def lab_count(flat, axis):
    return flat.numel() // flat.shape[axis]


def _softmax_output_shape(p, ins, outs):
    data = ins[0]
    if known(data):
        if ins[1] is None:  # a given label shape (MXNet's older (n,) form too) is kept
            if p.multi_output:
                ins[1] = (data[0],) + tuple(data[2:])
            else:  # MXNet: the data shape without its last axis
                ins[1] = tuple(data[:-1])
        return ins, [tuple(data)]
    return ins, outs


def _softmax_output_specialize(p):
    """SoftmaxOutput over axis 1 (neither multi_output nor preserve_shape): 2-D data in
    inference takes the softmax directly."""
    if p.multi_output or p.preserve_shape:
        return None
    apply = _SoftmaxOutput.apply

    def forward(p, is_train, data, label):
        if data.requires_grad and torch.is_grad_enabled():
            return apply(data, label, p)
        if data.dim() == 2 and data.shape[0]:
            return torch.softmax(data, 1)
        return _softmax_prob(data, p)
    return forward


_SOFTMAX_PARAMS = {
    "grad_scale": Param("float", 1.0), "ignore_label": Param("float", -1.0),
    "multi_output": Param("bool", False), "use_ignore": Param("bool", False),
    "preserve_shape": Param("bool", False),
    "normalization": Param("str", "null", {"null", "batch", "valid"}),
    "out_grad": Param("bool", False), "smooth_alpha": Param("float", 0.0)}

register(OpDef("SoftmaxOutput", _softmax_output,
               params=_SOFTMAX_PARAMS, inputs=("data", "label"), is_loss=True,
               infer_shape=_softmax_output_shape, label_inputs=("label",),
               specialize=_softmax_output_specialize),
         aliases=["Softmax"])


class _RegressionOutput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, data, label, p, kind):
        out = torch.sigmoid(data) if kind == "logistic" else data
        ctx.save_for_backward(out, label)
        ctx.p, ctx.kind = p, kind
        return out.clone() if kind != "logistic" else out

    @staticmethod
    def backward(ctx, grad_out):
        out, label = ctx.saved_tensors
        diff = out - label.reshape(out.shape)
        if ctx.kind == "mae":
            diff = torch.sign(diff)
        num_output = prod(out.shape[1:])
        return diff * (ctx.p.grad_scale / num_output), None, None, None


def _regression_shape(p, ins, outs):
    data = ins[0]
    if known(data):
        if ins[1] is None or prod(ins[1]) != prod(data):
            ins[1] = tuple(data)
        return ins, [tuple(data)]
    if known(ins[1]):
        return [tuple(ins[1]), ins[1]], [tuple(ins[1])]
    return ins, outs


for _op, _kind in (("LinearRegressionOutput", "linear"), ("LogisticRegressionOutput", "logistic"),
                   ("MAERegressionOutput", "mae")):
    register(OpDef(_op, (lambda kind: lambda p, is_train, data, label:
                         _RegressionOutput.apply(data, label, p, kind))(_kind),
                   params={"grad_scale": Param("float", 1.0)}, inputs=("data", "label"),
                   is_loss=True, infer_shape=_regression_shape, label_inputs=("label",)))


class _MakeLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, data, p):
        ctx.p = p
        if p.normalization == "valid":
            ctx.save_for_backward(data)
        ctx.shape, ctx.dtype = data.shape, data.dtype
        return data.clone()

    @staticmethod
    def backward(ctx, grad_out):
        p = ctx.p
        grad = torch.full(ctx.shape, p.grad_scale, dtype=ctx.dtype, device=grad_out.device)
        if p.normalization == "batch":
            grad = grad / ctx.shape[0]
        elif p.normalization == "valid":
            (data,) = ctx.saved_tensors
            grad = grad / (data > p.valid_thresh).sum().clamp(min=1)
        return grad, None


def _identity_shape(p, ins, outs):
    return (ins, [ins[0]]) if known(ins[0]) else (ins, outs)


register(OpDef("MakeLoss", lambda p, is_train, data: _MakeLoss.apply(data, p),
               params={"grad_scale": Param("float", 1.0), "valid_thresh": Param("float", 0.0),
                       "normalization": Param("str", "null", {"null", "batch", "valid"})},
               is_loss=True, infer_shape=_identity_shape))


class _MakeLossDef(OpDef):
    """``make_loss`` has no parameters: as MXNet's parameter-less ops, it keeps any other
    keyword as a plain node attribute and ignores it (mxtorch also warns)."""

    def split_kwargs(self, kwargs):
        plain = {k: v for k, v in kwargs.items() if k not in HIDDEN_KEYS and
                 not (k.startswith("__") and k.endswith("__")) and v is not None}
        _, hidden = super().split_kwargs({k: v for k, v in kwargs.items() if k not in plain})
        for key in plain:
            warnings.warn(f"make_loss has no parameter {key!r}: MXNet 1.9.1 keeps it as a "
                          "plain attribute and ignores it, and so does mxtorch (MakeLoss has "
                          "grad_scale and normalization)", stacklevel=4)
        return {k: _format(v) for k, v in plain.items()}, hidden

    def check_attrs(self, attrs, node_name, loading=False):
        """Any attribute is accepted (MXNet's JSON may carry ignored ones)."""


_MAKE_LOSS_PLAIN = types.SimpleNamespace(grad_scale=1.0, normalization="null", valid_thresh=0.0)
# make_loss is not an alias of MakeLoss in MXNet 1.9.1: it has no parameters and its
# gradient is ones_like(data) wherever it sits in the graph
register(_MakeLossDef("make_loss",
                     lambda p, is_train, data: _MakeLoss.apply(data, _MAKE_LOSS_PLAIN),
                     is_loss=True, infer_shape=_identity_shape))

register(OpDef("BlockGrad", lambda p, is_train, data: data.detach(),
               infer_shape=_identity_shape), aliases=["stop_gradient"])


# ------------------------------------------------------------------ SVMOutput
class _SVMOutput(torch.autograd.Function):
    """Identity forward; MXNet's hinge-loss backward on the (-1, classes) view (classes on
    the last axis, one label per row), unscaled by the batch. L2-SVM: ``-2 c (m - x_k)`` at
    the label where ``x_k < m`` and ``2 c (m + x_j)`` elsewhere where ``x_j > -m``; L1-SVM
    (``use_linear``): ``-c`` and ``c`` there."""

    @staticmethod
    def forward(ctx, data, label, p):
        ctx.save_for_backward(data, label)
        ctx.p = p
        return data.clone()

    @staticmethod
    def backward(ctx, grad_out):
        data, label = ctx.saved_tensors
        p = ctx.p
        x = data.reshape(-1, data.shape[-1])  # mshadow's FlatTo2D keeps the last axis
        # MXNet reads the first rows-many entries of the flattened label
        lab = label.reshape(-1)[:x.shape[0]].long()
        in_range = ((lab >= 0) & (lab < x.shape[1]))[:, None]  # else no column is the label
        is_label = torch.zeros_like(x, dtype=torch.bool).scatter_(
            1, lab.clamp(0, x.shape[1] - 1)[:, None], in_range)
        margin, coef = p.margin, p.regularization_coefficient
        at_label = x < margin
        others = -x < margin
        if p.use_linear:
            grad = torch.where(is_label, -at_label.to(x.dtype), others.to(x.dtype)) * coef
        else:
            grad = torch.where(is_label, torch.where(at_label, -2 * (margin - x), 0.0),
                               torch.where(others, 2 * (margin + x), 0.0)) * coef
        return grad.reshape(data.shape), None, None


def _label_drops_last_axis(p, ins, outs):
    data = ins[0]
    if known(data):
        if ins[1] is None:
            ins[1] = tuple(data[:-1])
        return ins, [tuple(data)]
    return ins, outs


register(OpDef("SVMOutput", lambda p, is_train, data, label: _SVMOutput.apply(data, label, p),
               params={"margin": Param("float", 1.0),
                       "regularization_coefficient": Param("float", 1.0),
                       "use_linear": Param("bool", False)},
               inputs=("data", "label"), is_loss=True, infer_shape=_label_drops_last_axis,
               label_inputs=("label",)))


# ------------------------------------------------------------------ smooth_l1
def _smooth_l1(p, is_train, data):
    """MXNet's smooth L1 with ``scalar`` = sigma: ``0.5 (sigma x)^2`` where
    ``|x| <= 1/sigma^2``, else ``|x| - 0.5/sigma^2``; autograd gives MXNet's gradient
    (``sigma^2 x`` inside, ``sign(x)`` outside)."""
    s2 = p.scalar * p.scalar
    a = data.abs()
    return torch.where(a > 1.0 / s2, a - 0.5 / s2, 0.5 * s2 * data * data)


register(OpDef("smooth_l1", _smooth_l1, params={"scalar": Param("float", 1.0)},
               infer_shape=same_shape_rule))


# ------------------------------------------------------------------ softmax_cross_entropy
class _SoftmaxCrossEntropy(torch.autograd.Function):
    """``sum_i -log softmax(data_i)[label_i]`` as a (1,) array; the data's gradient is
    ``(softmax - onehot) * head_grad``. As MXNet, a gradient of the label is an error."""

    @staticmethod
    def forward(ctx, data, label):
        logp = torch.log_softmax(data, dim=1)
        lab = label.long()
        ctx.save_for_backward(logp, lab)
        return -logp.gather(1, lab[:, None]).sum().reshape(1)

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.needs_input_grad[1]:
            raise MXNetValueError("softmax_cross_entropy: cannot take the gradient of the "
                                  "label; bind it with grad_req='null'")
        logp, lab = ctx.saved_tensors
        grad = logp.exp().scatter_add_(1, lab[:, None], logp.new_full((len(lab), 1), -1.0))
        return grad * grad_out, None


def _softmax_ce_shape(p, ins, outs):
    data, label = ins
    if data is not None and len(data) and len(data) != 2:
        raise ValueError(f"softmax_cross_entropy takes 2-D data (batch, classes), got {data}")
    if label is not None and len(label) != 1:
        raise ValueError(f"softmax_cross_entropy takes a 1-D label (batch,), got {label}")
    if data is not None and len(data) and data[0] > 0:
        ins[1] = (data[0],)
    if known(ins[1]) and known(data):
        return ins, [(1,)]
    return ins, outs


register(OpDef("softmax_cross_entropy",
               lambda p, is_train, data, label: _SoftmaxCrossEntropy.apply(data, label),
               inputs=("data", "label"), infer_shape=_softmax_ce_shape))


# ------------------------------------------------------------------ IdentityAttachKLSparseReg
class _KLSparseReg(torch.autograd.Function):
    """Identity forward. MXNet's backward first folds the batch mean of the data into the
    moving average (``avg = momentum avg + (1 - momentum) mean``), then adds the KL
    sparseness penalty ``penalty (-rho / avg + (1 - rho) / (1 - avg))`` to the head
    gradient. Made for (batch, units) data; as MXNet's (-1, last axis) view, other data
    is averaged over all axes but the last, which must then equal axis 1."""

    @staticmethod
    def forward(ctx, data, moving_avg, p):
        ctx.save_for_backward(data)
        ctx.moving_avg, ctx.p = moving_avg, p
        return data.clone()

    @staticmethod
    def backward(ctx, grad_out):
        (data,) = ctx.saved_tensors
        avg, p = ctx.moving_avg, ctx.p
        if data.shape[-1] != avg.shape[0]:
            raise MXNetValueError(
                f"IdentityAttachKLSparseReg: the gradient averages over all axes but the last, "
                f"which must match the moving average's {avg.shape[0]} units (axis 1); got "
                f"data of shape {tuple(data.shape)} (MXNet fails here too); flatten the data "
                "to (batch, units) first")
        with torch.no_grad():
            rows = data.reshape(-1, data.shape[-1])
            avg.mul_(p.momentum).add_(rows.mean(dim=0), alpha=1 - p.momentum)
        rho = p.sparseness_target
        penalty = p.penalty * (-rho / avg + (1 - rho) / (1 - avg))
        return grad_out + penalty, None, None


def _kl_shape(p, ins, outs):
    data = ins[0]
    if data is not None and len(data) > 1 and data[1] > 0:
        ins[1] = (data[1],)
    return (ins, [tuple(data)]) if known(data) else (ins, outs)


register(OpDef("IdentityAttachKLSparseReg",
               lambda p, is_train, data, moving_avg: _KLSparseReg.apply(data, moving_avg, p),
               params={"sparseness_target": Param("float", 0.1), "penalty": Param("float", 0.001),
                       "momentum": Param("float", 0.9)},
               aux=("moving_avg",), infer_shape=_kl_shape,
               input_attrs={"moving_avg": {"__init__": '["zero", {}]'}}))
