"""RMSProp (``mx.optimizer.RMSProp``): MXNet 1.9.1's ``rmsprop_update`` (Tieleman &
Hinton) and ``rmspropalex_update`` (centered, Graves) arithmetic, weight decay inside the
gradient and the clip, optional weight clipping; all parameters at once."""
import torch

from .optimizer import Optimizer, _check_number, _f32, register
from ._kernels import clip_one, kernel_clip_, rescaled_plus_wd, zeros_f32

__all__ = ["RMSProp"]


@register
class RMSProp(Optimizer):
    """The RMSProp optimizer.

    With ``g = clip(rescale_grad * grad + wd * weight, clip_gradient)``::

        centered=False:  n = (1 - gamma1) * g**2 + gamma1 * n
                         weight = weight - lr * (g / sqrt(n + epsilon))
        centered=True:   n = (1 - gamma1) * g**2 + gamma1 * n
                         gm = (1 - gamma1) * g + gamma1 * gm
                         delta = gamma2 * delta - lr * g / sqrt(n - gm**2 + epsilon)
                         weight = weight + delta

    and then, if ``clip_weights`` is set, ``weight = clip(weight, clip_weights)``.

    Parameters
    ----------
    learning_rate : float, optional, default 0.001
    gamma1 : float, optional, default 0.9
        Decay of the moving average of squared gradients, in [0, 1].
    gamma2 : float, optional, default 0.9
        Momentum of ``delta`` (centered only), in [0, 1].
    epsilon : float, optional, default 1e-8
        Added inside the square root, >= 0.
    centered : bool, optional, default False
        Graves' centered version (three states) instead of Tieleman & Hinton's (one).
    clip_weights : float, optional, default None
        Clip the weights to ``[-clip_weights, clip_weights]`` after each update (None, 0
        or a negative value: no clipping).
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a gamma outside [0, 1] or a negative epsilon.

    Notes
    -----
    The state is ``(n,)`` or, centered, ``(n, gm, delta)``; float32 arrays whatever the
    weight's dtype, as MXNet creates them.
    """

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9,
                 epsilon=1e-8, centered=False, clip_weights=None, **kwargs):
        _check_number("RMSProp", "gamma1", gamma1, low=0.0, high=1.0)
        _check_number("RMSProp", "gamma2", gamma2, low=0.0, high=1.0)
        _check_number("RMSProp", "epsilon", epsilon, low=0.0)
        _check_number("RMSProp", "clip_weights", clip_weights, allow_none=True)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        """``(n,)``, or ``(n, gm, delta)`` when centered: float32 zeros."""
        if self.centered:
            return (zeros_f32(weight), zeros_f32(weight), zeros_f32(weight))
        return (zeros_f32(weight),)

    def _clip_weights(self):
        c = self.clip_weights
        return _f32([c])[0] if c and c >= 0 else None

    def _fused_step(self, W, G, S, lrs, wds, ts):
        g1, g2, eps = _f32([self.gamma1, self.gamma2, self.epsilon])
        g = kernel_clip_(self, rescaled_plus_wd(self, G, W, wds))
        N = [s[0]._data for s in S]
        centered = len(S[0]) == 3
        torch._foreach_mul_(N, g1)
        if centered:                                    # the kernels differ in association
            sq = torch._foreach_mul(g, 1.0 - g1)
            torch._foreach_mul_(sq, g)                  # ((1 - gamma1) * g) * g
        else:
            sq = torch._foreach_mul(g, g)
            torch._foreach_mul_(sq, 1.0 - g1)           # (1 - gamma1) * (g * g)
        torch._foreach_add_(N, sq)
        neg_lrs = [-lr for lr in _f32(lrs)]
        if centered:
            Gm = [s[1]._data for s in S]
            D = [s[2]._data for s in S]
            torch._foreach_mul_(Gm, g1)
            torch._foreach_add_(Gm, torch._foreach_mul(g, 1.0 - g1))
            den = torch._foreach_mul(Gm, Gm)
            torch._foreach_neg_(den)
            torch._foreach_add_(den, N)
            torch._foreach_add_(den, eps)
            torch._foreach_sqrt_(den)
            torch._foreach_mul_(g, neg_lrs)                     # -lr * g
            torch._foreach_mul_(D, g2)
            torch._foreach_addcdiv_(D, g, den)
            torch._foreach_add_(W, D)
        else:
            den = torch._foreach_add(N, eps)
            torch._foreach_sqrt_(den)
            torch._foreach_div_(g, den)
            torch._foreach_mul_(g, neg_lrs)
            torch._foreach_add_(W, g)
        cw = self._clip_weights()
        if cw is not None:
            torch._foreach_clamp_min_(W, -cw)
            torch._foreach_clamp_max_(W, cw)

    def _reference_step(self, w, g, state, lr, wd, t):
        lr, wd, rescale, g1, g2, eps = _f32([lr, wd, self.rescale_grad, self.gamma1,
                                             self.gamma2, self.epsilon])
        gr = rescale * g + wd * w
        gr = clip_one(self, gr, python=False)
        n = state[0]._data
        if len(state) == 3:
            n.copy_((1.0 - g1) * gr * gr + g1 * n)
            gm, delta = state[1]._data, state[2]._data
            gm.copy_((1.0 - g1) * gr + g1 * gm)
            delta.copy_(g2 * delta - lr * gr / (n - gm * gm + eps).sqrt())
            w.add_(delta)
        else:
            n.copy_((1.0 - g1) * (gr * gr) + g1 * n)
            w.sub_(lr * (gr / (n + eps).sqrt()))
        cw = self._clip_weights()
        if cw is not None:
            w.clamp_(-cw, cw)
