"""Loss heads with MXNet's own gradients (the head gradient is ignored): SoftmaxOutput,
Linear/Logistic/MAE RegressionOutput, MakeLoss; and BlockGrad."""
import torch

from ..registry import OpDef, Param, register
from ._util import known, prod


def _scale(n):
    return 1.0 / n if n else 0.0


class _SoftmaxOutput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, data, label, p):
        if p.multi_output:
            prob = torch.softmax(data, dim=1)
        elif p.preserve_shape:
            prob = torch.softmax(data, dim=-1)
        else:
            prob = torch.softmax(data.reshape(data.shape[0], -1), dim=1).reshape(data.shape)
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
            # the common case, in two kernels: p - onehot(label), scaled
            grad = prob.clone()
            lab = label.long().clamp_(0, prob.shape[1] - 1).unsqueeze(1)
            grad.scatter_add_(1, lab, grad.new_full(lab.shape, -1.0))
            scale = p.grad_scale / prob.shape[0] if p.normalization == "batch" else p.grad_scale
            if scale != 1.0:
                grad.mul_(scale)
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
                axis, lab.clamp(0, classes - 1).unsqueeze(axis), 1.0)
            if p.smooth_alpha:
                onehot = onehot * (1 - p.smooth_alpha) + (1 - onehot) * (
                    p.smooth_alpha / (classes - 1))
            grad = flat - onehot
            if valid is not None:
                grad = grad * valid.unsqueeze(axis).to(grad.dtype)
        n = prob.shape[0]
        spatial = prod(flat.shape[2:]) if p.multi_output else 1
        if p.normalization == "batch":
            grad = grad * (p.grad_scale / (n * spatial))
        elif p.normalization == "valid":
            count = valid.sum().clamp(min=1) if valid is not None else lab_count(flat, axis)
            grad = grad * p.grad_scale / count
        else:
            grad = grad * (p.grad_scale / spatial)
        return grad.reshape(prob.shape), None, None


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


_SOFTMAX_PARAMS = {
    "grad_scale": Param("float", 1.0), "ignore_label": Param("float", -1.0),
    "multi_output": Param("bool", False), "use_ignore": Param("bool", False),
    "preserve_shape": Param("bool", False),
    "normalization": Param("str", "null", {"null", "batch", "valid"}),
    "out_grad": Param("bool", False), "smooth_alpha": Param("float", 0.0)}

register(OpDef("SoftmaxOutput", lambda p, is_train, data, label: _SoftmaxOutput.apply(data, label, p),
               params=_SOFTMAX_PARAMS, inputs=("data", "label"), is_loss=True,
               infer_shape=_softmax_output_shape, label_inputs=("label",)),
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
               is_loss=True, infer_shape=_identity_shape), aliases=["make_loss"])

register(OpDef("BlockGrad", lambda p, is_train, data: data.detach(),
               infer_shape=_identity_shape), aliases=["stop_gradient"])
