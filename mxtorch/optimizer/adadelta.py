"""AdaDelta (``mx.optimizer.AdaDelta``) with MXNet 1.9.1's Python-level arithmetic: no
learning rate, weight decay outside the clip, and the gradient scaled in place."""
import torch

from .optimizer import Optimizer, _check_number, register
from ._kernels import clip_one, python_clip_, zeros_f32

__all__ = ["AdaDelta"]


@register
class AdaDelta(Optimizer):
    """The AdaDelta optimizer (Zeiler, https://arxiv.org/abs/1212.5701).

    ::

        grad *= rescale_grad                      (in place, as MXNet does)
        g = clip(grad, clip_gradient)
        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = sqrt(acc_delta + epsilon) / sqrt(acc_g + epsilon) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        weight -= delta + wd * weight

    The learning rate is not used.

    Parameters
    ----------
    rho : float, optional, default 0.9
        Decay of both accumulators, in [0, 1].
    epsilon : float, optional, default 1e-5
        Added inside the square roots, >= 0.
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For rho outside [0, 1] or a negative epsilon.

    Notes
    -----
    Like MXNet 1.9.1, the update multiplies the caller's gradient array by
    ``rescale_grad`` in place (a Module's gradients are rewritten by the next backward,
    so this is visible only to code that reads them after the update). The state is
    ``(acc_g, acc_delta)`` in float32; MXNet refuses float64 weights here (type
    mismatch), mxtorch computes them in float32 states.
    """

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        _check_number("AdaDelta", "rho", rho, low=0.0, high=1.0)
        _check_number("AdaDelta", "epsilon", epsilon, low=0.0)
        super().__init__(**kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index, weight):
        """Zero float32 ``(acc_g, acc_delta)``."""
        return (zeros_f32(weight), zeros_f32(weight))

    def _fused_step(self, W, G, S, lrs, wds, ts):
        rho, eps, rescale = self.rho, self.epsilon, self.rescale_grad
        torch._foreach_mul_(G, rescale)                            # MXNet: grad *= rescale
        g = python_clip_(self, torch._foreach_mul(G, 1.0)) if self.clip_gradient is not None \
            else G
        Ag = [s[0]._data for s in S]
        Ad = [s[1]._data for s in S]
        torch._foreach_mul_(Ag, rho)
        torch._foreach_add_(Ag, torch._foreach_mul(torch._foreach_mul(g, 1. - self.rho), g))
        num = torch._foreach_add(Ad, eps)
        torch._foreach_sqrt_(num)
        den = torch._foreach_add(Ag, eps)
        torch._foreach_sqrt_(den)
        torch._foreach_div_(num, den)
        torch._foreach_mul_(num, g)                                # current delta
        torch._foreach_mul_(Ad, rho)
        torch._foreach_add_(Ad, torch._foreach_mul(torch._foreach_mul(num, 1. - self.rho), num))
        if any(wds):
            torch._foreach_add_(num, torch._foreach_mul(W, wds))
        torch._foreach_sub_(W, num)

    def _reference_step(self, w, g, state, lr, wd, t):
        rho, eps, rescale = self.rho, self.epsilon, self.rescale_grad
        g.mul_(rescale)
        gr = g
        gr = clip_one(self, g, python=True)
        acc_g, acc_d = state[0]._data, state[1]._data
        acc_g.mul_(rho).add_((1. - self.rho) * gr * gr)
        delta = (acc_d + eps).sqrt() / (acc_g + eps).sqrt() * gr
        acc_d.mul_(rho).add_((1. - self.rho) * delta * delta)
        w.sub_(delta + wd * w)
