"""BigDL's validation methods: ``Top1Accuracy``, ``Top5Accuracy`` and ``Loss``, and
their results (``result()`` = (value, count); results merge with ``+``). Targets are
1-based class numbers, as in BigDL."""
import torch

from ..base import MXNetTypeError
from .bigdl_activity import as_tensor
from .bigdl_criterion import ClassNLLCriterion, Criterion

__all__ = ["ValidationMethod", "ValidationResult", "AccuracyResult", "LossResult",
           "Top1Accuracy", "Top5Accuracy", "Loss"]


class ValidationResult:
    """The outcome of a validation method on some samples."""

    def result(self):
        """``(value, count)``."""
        raise NotImplementedError


class AccuracyResult(ValidationResult):
    """``correct`` of ``count`` samples."""

    def __init__(self, correct, count):
        self.correct, self.count = int(correct), int(count)

    def result(self):
        return (self.correct / self.count if self.count else 0.0, self.count)

    def __add__(self, other):
        return AccuracyResult(self.correct + other.correct, self.count + other.count)

    def __str__(self):
        return (f"Accuracy(correct: {self.correct}, count: {self.count}, accuracy: "
                f"{self.result()[0]})")

    __repr__ = __str__


class LossResult(ValidationResult):
    """The loss summed over ``count`` samples (each batch's average times its size)."""

    def __init__(self, loss, count):
        self.loss, self.count = float(loss), int(count)

    def result(self):
        return (self.loss / self.count if self.count else 0.0, self.count)

    def __add__(self, other):
        return LossResult(self.loss + other.loss, self.count + other.count)

    def __str__(self):
        return f"(Loss: {self.loss}, count: {self.count}, Average Loss: {self.result()[0]})"

    __repr__ = __str__


class ValidationMethod:
    """A way to score a batch: ``method(output, target) -> ValidationResult``."""

    def __call__(self, output, target):
        raise NotImplementedError

    def format(self):
        """The method's name (BigDL's ``format()``)."""
        return type(self).__name__

    def __str__(self):
        return self.format()


def _batch(output, target):
    out = as_tensor(output)
    out = out.unsqueeze(0) if out.dim() == 1 else out.reshape(out.shape[0], -1)
    tgt = as_tensor(target).reshape(-1).to(out.device)
    return out, tgt


class Top1Accuracy(ValidationMethod):
    """Correct when the largest output (1-based) is the target; a single output column
    counts as class 1 at 0.5 or more, else class 0."""

    def __call__(self, output, target):
        out, tgt = _batch(output, target)
        if out.shape[1] == 1:
            pred = (out[:, 0] >= 0.5).long()
        else:
            pred = out.argmax(dim=1) + 1
        return AccuracyResult(int((pred == tgt.round().long()).sum()), out.shape[0])


class Top5Accuracy(ValidationMethod):
    """Correct when the target is among the 5 largest outputs (1-based)."""

    def __call__(self, output, target):
        out, tgt = _batch(output, target)
        top = out.topk(min(5, out.shape[1]), dim=1).indices + 1
        hit = (top == tgt.round().long().unsqueeze(1)).any(dim=1)
        return AccuracyResult(int(hit.sum()), out.shape[0])


class Loss(ValidationMethod):
    """The average loss per sample of a criterion (default ClassNLLCriterion).

    Raises
    ------
    MXNetTypeError
        When ``criterion`` is not a Criterion.
    """

    def __init__(self, criterion=None):
        criterion = ClassNLLCriterion() if criterion is None else criterion
        if not isinstance(criterion, Criterion):
            raise MXNetTypeError(f"Loss: criterion must be a bigdl Criterion, got "
                                 f"{type(criterion).__name__}")
        self.criterion = criterion

    def __call__(self, output, target):
        out = as_tensor(output)
        count = out.shape[0] if out.dim() > 1 else 1
        with torch.no_grad():
            loss = self.criterion.forward(out, target)
        return LossResult(loss * count, count)
