"""SGLD (``mx.optimizer.SGLD``), stochastic gradient Langevin dynamics, with MXNet
1.9.1's Python-level arithmetic: half a gradient step plus Gaussian noise of variance lr;
all parameters at once."""
import math

import torch

from .optimizer import Optimizer, register
from ._kernels import clip_one, python_clip_, rescaled

__all__ = ["SGLD"]


@register
class SGLD(Optimizer):
    """Stochastic Gradient Riemannian Langevin Dynamics (Patterson & Teh, NIPS 2013).

    With ``g = clip(rescale_grad * grad, clip_gradient)`` (clipped whenever
    clip_gradient is not None)::

        weight += -lr / 2 * (g + wd * weight)
        weight += normal(0, sqrt(lr), weight.shape)

    Parameters
    ----------
    **kwargs
        See :class:`Optimizer`.

    Notes
    -----
    No state. The noise comes from torch's generator on the weight's device
    (``mx.random.seed`` seeds it), so it is not MXNet's stream of numbers: only its
    distribution matches.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def create_state(self, index, weight):
        """None: SGLD keeps no state."""
        return None

    def _noise(self, W, lrs):
        """One draw of ``normal(0, sqrt(lr))`` per weight (new tensors)."""
        return [torch.randn_like(w) * math.sqrt(lr) for w, lr in zip(W, lrs)]

    def _fused_step(self, W, G, S, lrs, wds, ts):
        g = python_clip_(self, rescaled(self, G, kernel=False))
        if any(wds):
            torch._foreach_add_(g, torch._foreach_mul(W, wds))
        torch._foreach_mul_(g, [-lr / 2 for lr in lrs])
        torch._foreach_add_(W, g)
        torch._foreach_add_(W, self._noise(W, lrs))

    def _reference_step(self, w, g, state, lr, wd, t):
        rescale, wd_f, half = self.rescale_grad, wd, -lr / 2
        gr = g * rescale
        gr = clip_one(self, gr, python=True)
        w.add_(half * (gr + wd_f * w))
        w.add_(self._noise([w], [lr])[0])
