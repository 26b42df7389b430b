"""Likelihood and loss metrics: Perplexity, CrossEntropy, NegativeLogLikelihood and Loss
(with MXNet's Torch and Caffe aliases of Loss). All accumulate on the device.
"""
import math

import torch

from ..base import MXNetValueError
from .base import EvalMetric, check_label_shapes, register, alias, _tensor
from .classification import _on, _float

__all__ = ["Perplexity", "CrossEntropy", "NegativeLogLikelihood", "Loss", "Torch", "Caffe"]


@register
class Perplexity(EvalMetric):
    """Perplexity: ``exp(-mean(log p))`` of the probability given to each label.

    Parameters
    ----------
    ignore_label : int or None
        Positions whose label equals it are not counted (None counts all).
    axis : int, default -1
        The class axis of the predictions.
    name : str, default 'perplexity'
    output_names, label_names : list of str, optional

    Notes
    -----
    Labels are flattened and used as indices along ``axis``, clipped to the valid
    range (MXNet's ``pick``); probabilities are floored at 1e-10. ``update`` does not
    synchronize: the count of ignored positions stays on the device until ``get``.
    ``get_config`` includes ``axis`` (MXNet drops it).
    """

    def __init__(self, ignore_label, axis=-1, name="perplexity", output_names=None,
                 label_names=None):
        super().__init__(name, ignore_label=ignore_label, axis=axis,
                         output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.ignore_label = ignore_label
        self.axis = axis

    def update(self, labels, preds):
        """Add a batch of class labels and probability predictions.

        Raises
        ------
        MXNetValueError
            When a label's size is not the prediction's size over the class axis.
        """
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = _float(_tensor(pred))
            label = _on(_tensor(label), pred.device).reshape(-1)
            classes = pred.shape[self.axis] if pred.dim() else 0
            if not classes or label.numel() * classes != pred.numel():
                raise MXNetValueError("Perplexity: shape mismatch: label {} vs. pred {}; the "
                                      "label needs one class index per prediction row"
                                      .format(tuple(label.shape), tuple(pred.shape)))
            rows = pred.movedim(self.axis, -1).reshape(-1, classes)
            idx = label.to(torch.int32).to(torch.int64).clamp(0, classes - 1)
            prob = rows.gather(1, idx.unsqueeze(1)).squeeze(1)
            num = label.numel()
            if self.ignore_label is not None:
                ignore = label == self.ignore_label
                num = num - ignore.sum()
                prob = torch.where(ignore, torch.ones_like(prob), prob)
            loss = -torch.log(torch.clamp_min(prob, 1e-10)).sum()
            self._add(loss.to(torch.float64), num)

    def get(self):
        """``(name, exp(sum_metric / num_inst))``, NaN when nothing was counted."""
        num = self.num_inst
        if num == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.sum_metric / num))

    def get_global(self):
        """The global perplexity."""
        num = self.global_num_inst
        if num == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.global_sum_metric / num))


class _PickedLogLoss(EvalMetric):
    """Shared body of CrossEntropy and NegativeLogLikelihood: sum of -log(p[i, label_i] + eps)."""

    def __init__(self, eps, name, output_names, label_names):
        super().__init__(name, eps=eps, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.eps = eps

    def update(self, labels, preds):
        """Add a batch of class labels and (batch, classes) probabilities.

        Raises
        ------
        MXNetValueError
            When a label's length differs from its prediction's batch size.
        """
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = _float(_tensor(pred))
            label = _on(_tensor(label), pred.device).reshape(-1)
            n = pred.shape[0] if pred.dim() else 0
            if label.shape[0] != n:
                raise MXNetValueError("{}: {} labels for a prediction of shape {}; give one "
                                      "class index per row".format(type(self).__name__,
                                                                   label.shape[0],
                                                                   tuple(pred.shape)))
            rows = torch.arange(n, device=pred.device)
            prob = pred[rows, label.to(torch.int64)]
            self._add((-torch.log(prob + self.eps)).sum().to(torch.float64), n)


@register
@alias("ce")
class CrossEntropy(_PickedLogLoss):
    """Cross entropy: the sum over samples of ``-log(p[i, label_i] + eps)``, per sample.

    Parameters
    ----------
    eps : float, default 1e-12
    name : str, default 'cross-entropy'
    output_names, label_names : list of str, optional
    """

    def __init__(self, eps=1e-12, name="cross-entropy", output_names=None, label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
@alias("nll_loss")
class NegativeLogLikelihood(_PickedLogLoss):
    """Negative log-likelihood; the same formula as CrossEntropy.

    Parameters
    ----------
    eps : float, default 1e-12
    name : str, default 'nll-loss'
    output_names, label_names : list of str, optional
    """

    def __init__(self, eps=1e-12, name="nll-loss", output_names=None, label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
class Loss(EvalMetric):
    """The mean of the predictions themselves (for loss outputs); labels are ignored.

    Parameters
    ----------
    name : str, default 'loss'
    output_names, label_names : list of str, optional

    Notes
    -----
    ``update(None, pred)`` and ``update(None, [pred])`` are the same.
    """

    def __init__(self, name="loss", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def update(self, _, preds):
        """Add the sum of each prediction and its element count."""
        if not isinstance(preds, (list, tuple)):
            preds = [preds]
        for pred in preds:
            pred = _float(_tensor(pred))
            self._add(pred.sum().to(torch.float64), pred.numel())


@register
class Torch(Loss):
    """Loss under MXNet's name for torch criterions (default name 'torch')."""

    def __init__(self, name="torch", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class Caffe(Loss):
    """Loss under MXNet's name for caffe criterions (default name 'caffe')."""

    def __init__(self, name="caffe", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)
