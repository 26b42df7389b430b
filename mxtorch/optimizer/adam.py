"""Adam (``mx.optimizer.Adam``) with MXNet 1.9.1's ``adam_update`` arithmetic: weight
decay inside the gradient (and the clip), bias correction folded into the learning
rate, update count taken after incrementing."""
import math

import torch

from .optimizer import Optimizer, _check_number, _f32, register
from .sgd import _zeros_like

__all__ = ["Adam"]


@register
class Adam(Optimizer):
    """The Adam optimizer (Kingma & Ba, https://arxiv.org/abs/1412.6980).

    At this index's ``t``-th update (t counted per index and device, from 1)::

        g = clip(rescale_grad * grad + wd * weight, clip_gradient)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        weight = weight - lr_t * m / (sqrt(v) + epsilon)

    Parameters
    ----------
    learning_rate : float, optional, default 0.001
    beta1 : float, optional, default 0.9
        Decay of the first moment, in [0, 1).
    beta2 : float, optional, default 0.999
        Decay of the second moment, in [0, 1).
    epsilon : float, optional, default 1e-8
        Added to the denominator, >= 0.
    lazy_update : bool, optional, default True
        Kept for compatibility (only sparse gradients use it; updates are dense).
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        If a beta is outside [0, 1) or epsilon is negative.

    Notes
    -----
    The state is ``(mean, var)``; with multi_precision, ``(weight32, (mean, var))``.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 lazy_update=True, **kwargs):
        _check_number("Adam", "beta1", beta1, low=0.0, high=1.0, high_open=True)
        _check_number("Adam", "beta2", beta2, low=0.0, high=1.0, high_open=True)
        _check_number("Adam", "epsilon", epsilon, low=0.0)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    @property
    def lazy_rows(self):
        """Whether a row_sparse gradient updates only its rows (``lazy_update``)."""
        return self.lazy_update

    def create_state(self, index, weight):
        """Zero ``(mean, var)`` like ``weight``."""
        return (_zeros_like(weight), _zeros_like(weight))

    def _lr_t(self, lrs, ts):
        b1, b2 = self.beta1, self.beta2
        return _f32([lr * math.sqrt(1. - b2 ** t) / (1. - b1 ** t) for lr, t in zip(lrs, ts)])

    def _fused_step(self, W, G, S, lrs, wds, ts):
        lr_ts, wds = self._lr_t(lrs, ts), _f32(wds)
        b1, b2, eps, rescale = _f32([self.beta1, self.beta2, self.epsilon, self.rescale_grad])
        clip = self._clip_value()
        Mn = [s[0]._data for s in S]
        V = [s[1]._data for s in S]
        groups = self._scalar_groups(wds)
        if groups is None:
            g = torch._foreach_mul(G, rescale)
            torch._foreach_add_(g, torch._foreach_mul(W, wds))
        elif rescale == 1.0 and len(groups) == 1:
            wd = next(iter(groups))[0]
            if wd:
                g = torch._foreach_add(G, W, alpha=wd)              # new tensors
            else:
                g = torch._foreach_mul(G, 1.0) if clip is not None else G   # G read only
        else:
            g = torch._foreach_mul(G, rescale)
            for (wd,), Ws, gs in self._subsets(groups, W, g):
                if wd:
                    torch._foreach_add_(gs, Ws, alpha=wd)
        if clip is not None:
            torch._foreach_clamp_min_(g, -clip)
            torch._foreach_clamp_max_(g, clip)
        torch._foreach_lerp_(Mn, g, 1.0 - b1)                       # b1*m + (1-b1)*g
        torch._foreach_mul_(V, b2)
        torch._foreach_addcmul_(V, g, g, value=1.0 - b2)
        denom = torch._foreach_sqrt(V)
        torch._foreach_add_(denom, eps)
        groups = self._scalar_groups(lr_ts)
        if groups is None:
            torch._foreach_addcdiv_(W, Mn, denom, [-lr for lr in lr_ts])
        else:
            for (lr,), Ws, Ms, Ds in self._subsets(groups, W, Mn, denom):
                torch._foreach_addcdiv_(Ws, Ms, Ds, value=-lr)

    def _reference_step(self, w, g, state, lr, wd, t):
        lr_t = self._lr_t([lr], [t])[0]
        wd, b1, b2, eps, rescale = _f32([wd, self.beta1, self.beta2, self.epsilon,
                                         self.rescale_grad])
        gr = g * rescale + wd * w
        clip = self._clip_value()
        if clip is not None:
            gr = gr.clamp(-clip, clip)
        m, v = state[0]._data, state[1]._data
        m.mul_(b1).add_((1.0 - b1) * gr)
        v.mul_(b2).add_((1.0 - b2) * gr * gr)
        w.sub_(lr_t * m / (v.sqrt() + eps))
