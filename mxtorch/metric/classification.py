"""Classification metrics: Accuracy, TopKAccuracy, F1, MCC and PCC.

Counts are computed on the predictions' device and added to the running totals as
tensors; ``update`` reads nothing back except where noted (F1/MCC check the number of
distinct labels, PCC the number of classes, TopKAccuracy a 1-D prediction).
"""
import numpy
import torch

from ..base import MXNetValueError
from .base import EvalMetric, check_label_shapes, register, alias, _tensor, _numpy

__all__ = ["Accuracy", "TopKAccuracy", "F1", "MCC", "PCC"]


def _float(t):
    """Half-precision tensors computed in float32 (others keep their dtype, as numpy would)."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _on(label, device):
    """``label`` moved (asynchronously) to ``device``."""
    return label if label.device == device else label.to(device, non_blocking=True)


@register
@alias("acc")
class Accuracy(EvalMetric):
    """Classification accuracy: the fraction of predictions equal to the label.

    Parameters
    ----------
    axis : int, default 1
        The class axis of the predictions; when a prediction's shape differs from its
        label's, ``argmax`` over this axis gives the predicted class.
    name : str, default 'accuracy'
    output_names, label_names : list of str, optional
        See EvalMetric.

    Notes
    -----
    Labels and class indices are cast to int32 and flattened; ``num_inst`` grows by
    the number of elements. ``update`` does not synchronize with the device.
    """

    def __init__(self, axis=1, name="accuracy", output_names=None, label_names=None):
        super().__init__(name, axis=axis, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self.axis = axis

    def update(self, labels, preds):
        """Add a batch: ``labels`` and ``preds`` are lists of arrays (or one array each).

        Raises
        ------
        MXNetValueError
            When the lists, or a label and its predicted classes, differ in length.
        """
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _tensor(label), _tensor(pred)
            if pred.shape != label.shape:
                # class indices (int64) against labels truncated to integers, as MXNet's
                # int32 casts do, in as few kernels as possible
                pred = torch.argmax(pred, dim=self.axis).reshape(-1)
                label = _on(label, pred.device).reshape(-1)
                if label.dtype != torch.int64:
                    label = label.to(torch.int64)
            else:
                pred = pred.to(torch.int32).reshape(-1)
                label = _on(label, pred.device).to(torch.int32).reshape(-1)
            if label.shape != pred.shape:
                check_label_shapes(label, pred)   # raises MXNet's message
            self._add((pred == label).sum(), pred.numel())


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(EvalMetric):
    """Top-k accuracy: a hit when the label is among the k highest-scored classes.

    Parameters
    ----------
    top_k : int, default 1
        Must be > 1 (use Accuracy for k = 1). The name becomes ``<name>_<top_k>``.
    name : str, default 'top_k_accuracy'
    output_names, label_names : list of str, optional

    Raises
    ------
    MXNetValueError
        When ``top_k <= 1``.
    """

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        super().__init__(name, top_k=top_k, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self.top_k = top_k
        if not self.top_k > 1:
            raise MXNetValueError("TopKAccuracy: top_k must be > 1, got {!r}; use Accuracy "
                                  "for top_k=1".format(top_k))
        self.name += "_%d" % self.top_k

    def update(self, labels, preds):
        """Add a batch; predictions are (batch, classes) scores.

        Raises
        ------
        MXNetValueError
            When a prediction has more than 2 dimensions, or lengths differ.
        """
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = _tensor(pred)
            if pred.dim() > 2:
                raise MXNetValueError("TopKAccuracy: predictions must have at most 2 "
                                      "dimensions, got shape {}".format(tuple(pred.shape)))
            label = _on(_tensor(label), pred.device).to(torch.int32)
            check_label_shapes(label, pred)
            if pred.dim() == 1:
                # MXNet's argpartition over the batch axis: replicated with numpy (syncs)
                idx = numpy.argpartition(_numpy(pred).astype("float32"), -self.top_k)
                hits = int((idx.flat == _numpy(label).astype("int32").flat).sum())
                self._add(hits, pred.shape[0])
                continue
            k = min(pred.shape[1], self.top_k)
            top = torch.topk(pred.float(), k, dim=1).indices
            hit = (top == label.reshape(-1, 1).to(top.dtype)).sum()
            self._add(hit, pred.shape[0])


def _safe_div(a, b):
    """a / b where b > 0, else 0 (elementwise, on the device)."""
    pos = b > 0
    return torch.where(pos, a / torch.where(pos, b, torch.ones_like(b)), torch.zeros_like(a))


def _fscore(stats):
    tp, fp, fn, _ = stats.unbind()
    precision = _safe_div(tp, tp + fp)
    recall = _safe_div(tp, tp + fn)
    return _safe_div(2 * precision * recall, precision + recall)


def _matthewscc(stats):
    tp, fp, fn, tn = stats.unbind()
    terms = torch.stack([tp + fp, tp + fn, tn + fp, tn + fn])
    denom = torch.where(terms != 0, terms, torch.ones_like(terms)).prod()
    return (tp * tn - fp * fn) / torch.sqrt(denom)


class _BinaryMetric(EvalMetric):
    """F1 and MCC: true/false positive/negative counts kept as a device 4-vector.

    ``macro``: each update() adds the score of that call's counts and 1 instance.
    ``micro``: the score of all counts since the reset, weighted by the example count.
    """
    _score = None

    def __init__(self, name, output_names, label_names, average):
        if average not in ("macro", "micro"):
            raise MXNetValueError("{}: average must be 'macro' or 'micro', got {!r}"
                                  .format(type(self).__name__, average))
        self.average = average
        self._stats = self._gstats = None
        self._total = self._gtotal = 0
        super().__init__(name, output_names=output_names, label_names=label_names,
                         average=average, has_global_stats=True)

    def _binary_stats(self, label, pred):
        pred = _tensor(pred)
        label = _on(_tensor(label), pred.device).to(torch.int32)
        pred_label = torch.argmax(pred, dim=1)
        check_label_shapes(label, pred)
        if label.numel() and torch.unique(label).numel() > 2:   # one small sync
            raise MXNetValueError("%s currently only supports binary classification; got more "
                                  "than 2 distinct labels" % type(self).__name__)
        pred_true = pred_label == 1
        label_true = label == 1
        pt, lt = torch.broadcast_tensors(pred_true, label_true)
        stats = torch.stack([(pt & lt).sum(), (pt & ~lt).sum(),
                             (~pt & lt).sum(), (~pt & ~lt).sum()]).to(torch.float64)
        return stats, pt.numel()

    def update(self, labels, preds):
        """Add a batch of binary labels and (batch, 2) predictions.

        Raises
        ------
        MXNetValueError
            When the labels hold more than two distinct values, or lengths differ.
        """
        labels, preds = check_label_shapes(labels, preds, True)
        stats, total = None, 0
        for label, pred in zip(labels, preds):
            s, n = self._binary_stats(label, pred)
            stats = s if stats is None else stats + _on(s, stats.device)
            total += n
        if stats is None:
            stats = torch.zeros(4, dtype=torch.float64)
        if self.average == "macro":
            self._add(type(self)._score(stats), 1)
            return
        self._stats = stats if self._stats is None else self._stats + _on(stats, self._stats.device)
        self._gstats = stats if self._gstats is None else self._gstats + _on(stats, self._gstats.device)
        self._total += total
        self._gtotal += total
        self.sum_metric = type(self)._score(self._stats) * self._total
        self.global_sum_metric = type(self)._score(self._gstats) * self._gtotal
        self.num_inst = self._total
        self.global_num_inst = self._gtotal

    def reset(self):
        """Reset the local and the global results and counts."""
        super().reset()
        self._stats = self._gstats = None
        self._total = self._gtotal = 0

    def reset_local(self):
        """Reset the local result and counts."""
        super().reset_local()
        self._stats = None
        self._total = 0


@register
class F1(_BinaryMetric):
    """F1 score of a binary classification: 2PR/(P+R), the positive class being 1.

    Parameters
    ----------
    name : str, default 'f1'
    output_names, label_names : list of str, optional
    average : {'macro', 'micro'}, default 'macro'
        'macro' averages the score of each update() call; 'micro' scores all the counts
        since the last reset.

    Notes
    -----
    Precision, recall and F are 0 where their denominator is 0. Predictions are
    (batch, 2) scores (argmax over axis 1). ``get_config`` includes ``average`` (MXNet
    drops it, so its round trip falls back to 'macro').
    """
    _score = staticmethod(_fscore)

    def __init__(self, name="f1", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)


@register
class MCC(_BinaryMetric):
    """Matthews correlation coefficient of a binary classification.

    ``(TP*TN - FP*FN) / sqrt(product of the non-zero terms among (TP+FP), (TP+FN),
    (TN+FP), (TN+FN))``; 0 with no examples.

    Parameters
    ----------
    name : str, default 'mcc'
    output_names, label_names : list of str, optional
    average : {'macro', 'micro'}, default 'macro'
        As for F1.
    """
    _score = staticmethod(_matthewscc)

    def __init__(self, name="mcc", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)


@register
class PCC(EvalMetric):
    """Multiclass Matthews correlation (Pearson correlation of a confusion matrix).

    A k x k confusion matrix grows with the largest class seen; ``num_inst`` grows by
    1 per update() call and the value is
    ``(sum(diag)*n - x.y) / sqrt(sum(x(n-x)) * sum(y(n-y)))`` (NaN if degenerate).

    Parameters
    ----------
    name : str, default 'pcc'
    output_names, label_names : list of str, optional
    has_global_stats : bool, default True

    Notes
    -----
    The matrix stays on the device; each update reads the largest class (one sync).
    """

    def __init__(self, name="pcc", output_names=None, label_names=None, has_global_stats=True):
        self.k = 2
        self.lcm = self.gcm = None
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=has_global_stats)

    def _grow(self, inc):
        pad = torch.nn.functional.pad
        self.lcm = pad(self.lcm, (0, inc, 0, inc))
        self.gcm = pad(self.gcm, (0, inc, 0, inc))
        self.k += inc

    @staticmethod
    def _calc_mcc(cmat):
        cmat = cmat.to(torch.float64)
        n = cmat.sum()
        x = cmat.sum(dim=1)
        y = cmat.sum(dim=0)
        cov_xx = torch.sum(x * (n - x)).item()
        cov_yy = torch.sum(y * (n - y)).item()
        if cov_xx == 0 or cov_yy == 0:
            return float("nan")
        i = cmat.diagonal()
        cov_xy = torch.sum(i * n - x * y).item()
        return cov_xy / (cov_xx * cov_yy) ** 0.5

    def update(self, labels, preds):
        """Add a batch of class labels and (batch, classes) scores or class indices."""
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = _tensor(pred)
            label = _on(_tensor(label), pred.device).to(torch.int64)
            if pred.shape != label.shape:
                pred = pred.argmax(dim=1)
            else:
                pred = pred.to(torch.int64)
            pred, label = pred.reshape(-1), label.reshape(-1)
            check_label_shapes(label, pred)
            if pred.numel() == 0:
                continue
            n = int(torch.maximum(pred.max(), label.max()).item())
            if n >= self.k:
                self._grow(n + 1 - self.k)
            if self.lcm.device != pred.device:
                self.lcm, self.gcm = self.lcm.to(pred.device), self.gcm.to(pred.device)
            bcm = torch.zeros(self.k * self.k, dtype=torch.float64, device=pred.device)
            bcm.index_add_(0, pred * self.k + label,
                           torch.ones(pred.numel(), dtype=torch.float64, device=pred.device))
            bcm = bcm.view(self.k, self.k)
            self.lcm = self.lcm + bcm
            self.gcm = self.gcm + bcm
        self.num_inst += 1
        self.global_num_inst += 1

    @property
    def sum_metric(self):
        """The local MCC times ``num_inst`` (reading it syncs)."""
        return self._calc_mcc(self.lcm) * self.num_inst

    @sum_metric.setter
    def sum_metric(self, value):
        pass   # derived from the confusion matrix; EvalMetric.reset writes 0 here

    @property
    def global_sum_metric(self):
        """The global MCC times ``global_num_inst``."""
        return self._calc_mcc(self.gcm) * self.global_num_inst

    @global_sum_metric.setter
    def global_sum_metric(self, value):
        pass

    def reset(self):
        """Reset both confusion matrices and counts."""
        super().reset()
        self.global_num_inst = 0.
        self.gcm = torch.zeros((self.k, self.k), dtype=torch.float64)
        self.reset_local()

    def reset_local(self):
        """Reset the local confusion matrix and count."""
        super().reset_local()
        self.num_inst = 0.
        self.lcm = torch.zeros((self.k, self.k), dtype=torch.float64, device=(
            self.gcm.device if self.gcm is not None else "cpu"))
