"""DCASGD (``mx.optimizer.DCASGD``), asynchronous SGD with delay compensation, with
MXNet 1.9.1's Python-level arithmetic; all parameters at once."""
import torch

from .optimizer import Optimizer, _check_number, register
from ._kernels import clip_one, python_clip_, rescaled, zeros_like

__all__ = ["DCASGD"]


@register
class DCASGD(Optimizer):
    """The DCASGD optimizer (Zheng et al., https://arxiv.org/abs/1609.08326).

    With ``g = clip(rescale_grad * grad, clip_gradient)`` (clipped whenever
    clip_gradient is not None) and the previous weight ``prev``::

        step = -lr * (g + wd * weight + lamda * g * g * (weight - prev))
        momentum == 0:  mom = step
        momentum > 0:   mom = momentum * mom + step
        prev = weight;  weight += mom

    Parameters
    ----------
    momentum : float, optional, default 0.0
        >= 0.
    lamda : float, optional, default 0.04
        Scale of the delay compensation, >= 0.
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a negative momentum or lamda.

    Notes
    -----
    The state is ``(momentum or None, previous weight)``. MXNet 1.9.1 cannot run
    ``momentum > 0``: its ``if mom:`` asks an NDArray for its truth value (a ValueError
    for more than one element, an AssertionError for one). mxtorch runs the rule above,
    the one that code intends (and the paper's).
    """

    def __init__(self, momentum=0.0, lamda=0.04, **kwargs):
        _check_number("DCASGD", "momentum", momentum, low=0.0)
        _check_number("DCASGD", "lamda", lamda, low=0.0)
        super().__init__(**kwargs)
        self.momentum = momentum
        self.weight_previous = {}
        self.lamda = lamda

    def create_state(self, index, weight):
        """``(zero momentum or None, copy of weight)``."""
        mom = zeros_like(weight) if self.momentum != 0.0 else None
        return (mom, weight.copy())

    def _fused_step(self, W, G, S, lrs, wds, ts):
        g = python_clip_(self, rescaled(self, G, kernel=False))
        prev = [s[1]._data for s in S]
        step = torch._foreach_add(g, torch._foreach_mul(W, wds)) if any(wds) \
            else torch._foreach_mul(g, 1.0)
        comp = torch._foreach_mul(g, self.lamda)
        torch._foreach_mul_(comp, g)
        torch._foreach_mul_(comp, torch._foreach_sub(W, prev))
        torch._foreach_add_(step, comp)
        torch._foreach_mul_(step, [-lr for lr in lrs])
        torch._foreach_copy_(prev, W)
        step = list(step)
        moms = [p for p, s in enumerate(S) if s[0] is not None]
        if moms:
            M = [S[p][0]._data for p in moms]
            torch._foreach_mul_(M, self.momentum)
            torch._foreach_add_(M, [step[p] for p in moms])
            for p, m in zip(moms, M):
                step[p] = m
        torch._foreach_add_(W, step)

    def _reference_step(self, w, g, state, lr, wd, t):
        rescale, lamda, neg_lr, mu = self.rescale_grad, self.lamda, -lr, self.momentum
        gr = g * rescale
        gr = clip_one(self, gr, python=True)
        mom, prev = state[0], state[1]._data
        step = neg_lr * (gr + wd * w + lamda * gr * gr * (w - prev))
        if mom is not None:
            step = mom._data.mul_(mu).add_(step)
        prev.copy_(w)
        w.add_(step)
