"""BigDL criteria: ``forward(input, target)`` gives the loss (a float), ``backward(input,
target)`` the gradient of the loss with respect to ``input``. Class targets are
1-based, as in BigDL.

``ClassNLLCriterion`` (log-probabilities in), ``CrossEntropyCriterion`` (scores in:
LogSoftMax then ClassNLL) and ``MSECriterion``.
"""
import torch
import torch.nn.functional as tF

from ..base import MXNetValueError, StateError
from .bigdl_activity import as_tensor

__all__ = ["Criterion", "ClassNLLCriterion", "CrossEntropyCriterion", "MSECriterion"]


class Criterion:
    """A loss: subclasses implement ``_loss(input, target) -> scalar tensor``.

    Attributes
    ----------
    output : float
        The loss of the last forward.
    grad_input : tensor
        The gradient of the last backward.
    """

    def __init__(self):
        self.output = None
        self.grad_input = None
        self._graph = None

    def forward(self, input, target):
        """The loss of ``input`` against ``target`` (a float; also ``self.output``)."""
        x = as_tensor(input).detach().requires_grad_(True)
        loss = self._loss(x, as_tensor(target, x) if not _is_int(target) else as_tensor(target))
        self._graph = (x, loss)
        self.output = float(loss.detach())
        return self.output

    __call__ = forward

    def backward(self, input, target):
        """The gradient of the last forward's loss with respect to its input.

        Raises
        ------
        StateError
            Before forward.
        """
        if self._graph is None:
            raise StateError(f"{type(self).__name__}.backward: call forward(input, target) "
                             "first")
        x, loss = self._graph
        (grad,) = torch.autograd.grad(loss, [x], retain_graph=True)
        self.grad_input = grad
        return grad

    def _loss(self, input, target):
        raise NotImplementedError


def _is_int(target):
    t = target if isinstance(target, torch.Tensor) else torch.as_tensor(
        getattr(target, "_data", target))
    return not t.is_floating_point()


def class_indices(target, input, call):
    """0-based class indices of the 1-based ``target`` (any numeric type) for ``input``
    of shape (N, C) or (C,).

    Raises
    ------
    MXNetValueError
        For a label outside 1..C or a count that differs from the batch.
    """
    t = as_tensor(target).reshape(-1)
    idx = t.round().long() - 1
    classes = input.shape[-1]
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= classes):
        raise MXNetValueError(f"{call}: labels must be 1-based class numbers in 1..{classes} "
                              f"(BigDL's convention); got values {int(idx.min()) + 1}.."
                              f"{int(idx.max()) + 1}. Add 1 to 0-based labels")
    batch = input.shape[0] if input.dim() > 1 else 1
    if idx.numel() != batch:
        raise MXNetValueError(f"{call}: {idx.numel()} labels for a batch of {batch}")
    return idx


class ClassNLLCriterion(Criterion):
    """Negative log-likelihood of 1-based class targets given log-probabilities.

    Parameters
    ----------
    weights : array-like, optional
        A weight per class.
    size_average : bool, default True
        Average over the batch (else sum).
    log_prob_as_input : bool, default True
        False: the input holds probabilities (their log is taken).
    """

    def __init__(self, weights=None, size_average=True, log_prob_as_input=True):
        super().__init__()
        self.weights = None if weights is None else as_tensor(weights).float()
        self.size_average = bool(size_average)
        self.log_prob_as_input = bool(log_prob_as_input)

    def _loss(self, input, target):
        logp = input if self.log_prob_as_input else torch.log(input)
        logp = logp if logp.dim() > 1 else logp.unsqueeze(0)
        idx = class_indices(target, logp, type(self).__name__)
        w = None if self.weights is None else self.weights.to(logp)
        return tF.nll_loss(logp, idx, weight=w,
                           reduction="mean" if self.size_average else "sum")


class CrossEntropyCriterion(ClassNLLCriterion):
    """LogSoftMax then ClassNLLCriterion (scores in, 1-based targets)."""

    def __init__(self, weights=None, size_average=True):
        super().__init__(weights, size_average, True)

    def _loss(self, input, target):
        return super()._loss(tF.log_softmax(input, dim=-1), target)


class MSECriterion(Criterion):
    """Mean (``size_average``) or sum of squared differences."""

    def __init__(self, size_average=True):
        super().__init__()
        self.size_average = bool(size_average)

    def _loss(self, input, target):
        return tF.mse_loss(input, target.reshape(input.shape),
                           reduction="mean" if self.size_average else "sum")
