"""Signum and signSGD (``mx.optimizer.Signum``) with MXNet 1.9.1's ``signum_update`` /
``signsgd_update`` arithmetic: the sign of the momentum (or of the raw gradient when
momentum is 0), with decoupled weight decay ``wd_lh``; all parameters at once."""
import torch

from ..base import MXNetValueError
from .optimizer import Optimizer, _check_number, _f32, register
from ._kernels import clip_one, kernel_clip_, rescaled, zeros_like

__all__ = ["Signum"]


@register
class Signum(Optimizer):
    """The Signum optimizer (Bernstein et al., https://arxiv.org/abs/1802.04434).

    With momentum ``mu > 0`` and ``g = clip(rescale_grad * grad, clip_gradient)``::

        mom = mu * mom - (1 - mu) * wd * weight - (1 - mu) * g
        weight = (1 - lr * wd_lh) * weight + lr * sign(mom)

    With ``momentum == 0`` (signSGD, no state), as MXNet's ``signsgd_update``, which
    ignores rescale_grad and clip_gradient::

        weight = (1 - lr * wd) * weight - lr * sign(grad)

    Parameters
    ----------
    learning_rate : float, optional, default 0.01
    momentum : float, optional, default 0.9
        In [0, 1].
    wd_lh : float, optional, default 0.0
        Decoupled weight decay (Loshchilov & Hutter), >= 0; needs momentum > 0.
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a value out of range, or ``wd_lh`` with ``momentum == 0`` (MXNet 1.9.1
        fails at the first update there: ``signsgd_update`` has no wd_lh argument).

    Notes
    -----
    The state is the momentum in the weight's dtype, or None when momentum is 0.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        _check_number("Signum", "momentum", momentum, low=0.0, high=1.0)
        _check_number("Signum", "wd_lh", wd_lh, low=0.0)
        if wd_lh and momentum == 0:
            raise MXNetValueError("Signum: wd_lh needs momentum > 0 (signSGD, momentum 0, "
                                  "has no decoupled weight decay; MXNet fails there too); "
                                  "use wd, or set momentum")
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index, weight):
        """A zero momentum like ``weight``, or None when momentum is 0."""
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _fused_step(self, W, G, S, lrs, wds, ts):
        lrs, wds = _f32(lrs), _f32(wds)
        if any(s is None for s in S):
            has = [p for p, s in enumerate(S) if s is not None]
            none = [p for p, s in enumerate(S) if s is None]
            if has:
                self._fused_step(*([lst[p] for p in has] for lst in (W, G, S, lrs, wds, ts)))
            sign = torch._foreach_sign([G[p] for p in none])           # signsgd_update
            Wn = [W[p] for p in none]
            torch._foreach_mul_(Wn, [1.0 - lrs[p] * wds[p] for p in none])
            torch._foreach_mul_(sign, [lrs[p] for p in none])
            torch._foreach_sub_(Wn, sign)
            return
        mu, wd_lh = _f32([self.momentum, self.wd_lh])
        M = [s._data for s in S]
        g = kernel_clip_(self, rescaled(self, G))
        torch._foreach_mul_(M, mu)
        if any(wds):                   # mom = mu*mom - (1-mu)*wd*w - (1-mu)*g
            torch._foreach_sub_(M, torch._foreach_mul(W, [(1.0 - mu) * wd for wd in wds]))
        torch._foreach_mul_(g, 1.0 - mu)
        torch._foreach_sub_(M, g)
        if wd_lh:
            torch._foreach_mul_(W, [1.0 - lr * wd_lh for lr in lrs])
        sign = torch._foreach_sign(M)
        torch._foreach_mul_(sign, lrs)
        torch._foreach_add_(W, sign)

    def _reference_step(self, w, g, state, lr, wd, t):
        lr, wd, rescale, mu, wd_lh = _f32([lr, wd, self.rescale_grad, self.momentum,
                                          self.wd_lh])
        if state is None:
            w.mul_(1.0 - lr * wd).sub_(lr * torch.sign(g))
            return
        gr = rescale * g
        gr = clip_one(self, gr, python=False)
        m = state._data
        m.copy_(mu * m - (1 - mu) * wd * w - (1 - mu) * gr)
        w.copy_((1.0 - lr * wd_lh) * w + lr * torch.sign(m))
