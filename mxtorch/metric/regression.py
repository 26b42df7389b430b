"""Regression metrics: MAE, MSE, RMSE and PearsonCorrelation, computed on the device.

As in MXNet, MAE/MSE/RMSE count one instance per (label, pred) pair, so the value is
the mean over update calls and devices, not over samples.
"""
import torch

from ..base import MXNetValueError
from .base import EvalMetric, check_label_shapes, register, alias, _tensor
from .classification import _on, _float

__all__ = ["MAE", "MSE", "RMSE", "PearsonCorrelation"]


def _diff(label, pred):
    """label - pred with 1-D arrays made (n, 1) first (then broadcast, as numpy does)."""
    label, pred = _float(_tensor(label)), _float(_tensor(pred))
    label = _on(label, pred.device)
    if label.dim() == 1:
        label = label.reshape(label.shape[0], 1)
    if pred.dim() == 1:
        pred = pred.reshape(pred.shape[0], 1)
    d = label - pred
    return d if d.is_floating_point() else d.to(torch.float64)


class _PairMetric(EvalMetric):
    """A metric adding ``_value(label - pred)`` and 1 instance per (label, pred) pair."""

    def __init__(self, name, output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def update(self, labels, preds):
        """Add a batch: lists of arrays, or one array each.

        Raises
        ------
        MXNetValueError
            When the numbers of labels and predictions differ.
        """
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            self._add(self._value(_diff(label, pred)), 1)


@register
class MAE(_PairMetric):
    """Mean absolute error, ``mean(|label - pred|)`` per pair, averaged over pairs.

    Parameters
    ----------
    name : str, default 'mae'
    output_names, label_names : list of str, optional
    """

    def __init__(self, name="mae", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _value(d):
        return d.abs().mean().to(torch.float64)


@register
class MSE(_PairMetric):
    """Mean squared error, ``mean((label - pred)**2)`` per pair, averaged over pairs.

    Parameters
    ----------
    name : str, default 'mse'
    output_names, label_names : list of str, optional
    """

    def __init__(self, name="mse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _value(d):
        return d.square().mean().to(torch.float64)


@register
class RMSE(_PairMetric):
    """Root mean squared error per pair, averaged over pairs.

    Parameters
    ----------
    name : str, default 'rmse'
    output_names, label_names : list of str, optional
    """

    def __init__(self, name="rmse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _value(d):
        return d.square().mean().sqrt().to(torch.float64)


@register
@alias("pearsonr")
class PearsonCorrelation(EvalMetric):
    """Pearson correlation between predictions and labels.

    Parameters
    ----------
    name : str, default 'pearsonr'
    output_names, label_names : list of str, optional
    average : {'macro', 'micro'}, default 'macro'
        'macro' averages the correlation of each (label, pred) pair (numpy's corrcoef,
        clipped to [-1, 1]); 'micro' streams means, variances and the co-moment over all
        pairs (MXNet's batched Welford update) and reports one correlation.

    Notes
    -----
    Differences from MXNet, on purpose: in 'micro' mode ``reset_local`` restarts the
    local streaming statistics and ``get_global`` reports the correlation over all pairs
    since ``reset`` (MXNet keeps the statistics across ``reset_local`` and reports 0.0
    from ``get_global``); ``get_config`` includes ``average``.
    """

    def __init__(self, name="pearsonr", output_names=None, label_names=None, average="macro"):
        if average not in ("macro", "micro"):
            raise MXNetValueError("PearsonCorrelation: average must be 'macro' or 'micro', "
                                  "got {!r}".format(average))
        self.average = average
        super().__init__(name, output_names=output_names, label_names=label_names,
                         average=average, has_global_stats=True)

    # streaming state: [count, mean_l, sse_l, mean_p, sse_p, co-moment]
    @staticmethod
    def _fresh():
        return [0, 0.0, 0.0, 0.0, 0.0, 0.0]

    def reset(self):
        """Reset the local and global results (and streaming statistics)."""
        super().reset()
        self._micro, self._gmicro = self._fresh(), self._fresh()

    def reset_local(self):
        """Reset the local result (and local streaming statistics)."""
        super().reset_local()
        self._micro = self._fresh()

    @staticmethod
    def _stream(state, label, pred):
        count, mean_l, sse_l, mean_p, sse_p, conv = state
        count += label.numel()
        delta = label - mean_l
        mean_l = mean_l + torch.sum(delta / count)
        sse_l = sse_l + torch.sum(delta * (label - mean_l))
        conv = conv + torch.sum((label - mean_l) * (pred - mean_p))
        delta = pred - mean_p
        mean_p = mean_p + torch.sum(delta / count)
        sse_p = sse_p + torch.sum(delta * (pred - mean_p))
        return [count, mean_l, sse_l, mean_p, sse_p, conv]

    def update(self, labels, preds):
        """Add a batch; each label must have its prediction's shape.

        Raises
        ------
        MXNetValueError
            When counts or shapes differ.
        """
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            check_label_shapes(label, pred, False, True)
            pred = _tensor(pred).reshape(-1).to(torch.float64)
            label = _on(_tensor(label), pred.device).reshape(-1).to(torch.float64)
            if self.average == "macro":
                pc, lc = pred - pred.mean(), label - label.mean()
                r = torch.sum(pc * lc) / torch.sqrt(torch.sum(pc * pc) * torch.sum(lc * lc))
                self._add(r.clamp(-1.0, 1.0), 1)
            else:
                self._micro = self._stream(self._micro, label, pred)
                self._gmicro = self._stream(self._gmicro, label, pred)
                self._add(0.0, 1)

    @staticmethod
    def _micro_value(state):
        n, _, sse_l, _, sse_p, conv = state
        val = conv / ((n - 1) * torch.sqrt(torch.as_tensor(sse_p / (n - 1)))
                      * torch.sqrt(torch.as_tensor(sse_l / (n - 1))))
        return float(val)

    def get(self):
        """The local correlation (NaN before any update)."""
        if self.num_inst == 0:
            return (self.name, float("nan"))
        if self.average == "macro":
            return (self.name, self.sum_metric / self.num_inst)
        return (self.name, self._micro_value(self._micro))

    def get_global(self):
        """The correlation since the last ``reset``."""
        if self.global_num_inst == 0:
            return (self.name, float("nan"))
        if self.average == "macro":
            return (self.name, self.global_sum_metric / self.global_num_inst)
        return (self.name, self._micro_value(self._gmicro))
