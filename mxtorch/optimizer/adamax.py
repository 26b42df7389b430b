"""Adamax (``mx.optimizer.Adamax``), Adam on the infinity norm, with MXNet 1.9.1's
Python-level arithmetic (weight decay inside the gradient, bias correction of the first
moment folded into the learning rate); all parameters at once."""
import torch

from .optimizer import Optimizer, _check_number, register
from ._kernels import clip_one, python_clip_, rescaled_plus_wd, zeros_like

__all__ = ["Adamax"]


@register
class Adamax(Optimizer):
    """The AdaMax optimizer (Kingma & Ba, https://arxiv.org/abs/1412.6980, section 7).

    At this index's ``t``-th update::

        g = clip(rescale_grad * grad + wd * weight, clip_gradient)
        m = beta1 * m + (1 - beta1) * g
        u = maximum(beta2 * u, abs(g))
        weight -= lr / (1 - beta1**t) * m / u

    Parameters
    ----------
    learning_rate : float, optional, default 0.002
    beta1 : float, optional, default 0.9
        Decay of the first moment, in [0, 1).
    beta2 : float, optional, default 0.999
        Decay of the infinity norm, in [0, 1].
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a beta out of range.

    Notes
    -----
    The state is ``(m, u)`` in the weight's dtype. Like MXNet, a gradient element that
    is exactly 0 on the first update gives ``u = 0`` and a NaN weight.
    """

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, **kwargs):
        _check_number("Adamax", "beta1", beta1, low=0.0, high=1.0, high_open=True)
        _check_number("Adamax", "beta2", beta2, low=0.0, high=1.0)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2

    def create_state(self, index, weight):
        """Zero ``(m, u)`` like ``weight``."""
        return (zeros_like(weight), zeros_like(weight))

    def _lr_t(self, lrs, ts):
        return [lr / (1. - self.beta1 ** t) for lr, t in zip(lrs, ts)]

    def _fused_step(self, W, G, S, lrs, wds, ts):
        b1, b2 = self.beta1, self.beta2
        g = python_clip_(self, rescaled_plus_wd(self, G, W, wds, kernel=False))
        M = [s[0]._data for s in S]
        U = [s[1]._data for s in S]
        torch._foreach_mul_(M, b1)
        torch._foreach_add_(M, torch._foreach_mul(g, 1. - self.beta1))
        torch._foreach_mul_(U, b2)
        torch._foreach_abs_(g)
        torch._foreach_maximum_(U, g)
        step = torch._foreach_mul(M, self._lr_t(lrs, ts))
        torch._foreach_div_(step, U)
        torch._foreach_sub_(W, step)

    def _reference_step(self, w, g, state, lr, wd, t):
        lr_t = self._lr_t([lr], [t])[0]
        rescale, b1, b2 = self.rescale_grad, self.beta1, self.beta2
        gr = g * rescale + wd * w
        gr = clip_one(self, gr, python=True)
        m, u = state[0]._data, state[1]._data
        m.mul_(b1).add_((1. - self.beta1) * gr)
        u.copy_(torch.maximum(b2 * u, gr.abs()))
        w.sub_(lr_t * m / u)
