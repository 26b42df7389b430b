"""Nesterov accelerated gradient (``mx.optimizer.NAG``) with MXNet 1.9.1's
``nag_mom_update`` arithmetic, including its in-place quirk: the new momentum's weight
decay term uses the already updated weight."""
import torch

from .optimizer import Optimizer, _check_number, _f32, register
from .sgd import (_split_by_state, _zeros_like, scaled_grads, sgd_plain_fused,
                  sgd_plain_reference)

__all__ = ["NAG"]


@register
class NAG(Optimizer):
    """Nesterov accelerated gradient.

    With ``g = clip(rescale_grad * grad, clip_gradient)`` and momentum ``mu > 0``::

        m1 = mu * mom
        weight_new = weight - m1 + (1 + mu) * (m1 - lr * (g + wd * weight))
        mom = m1 - lr * (g + wd * weight_new)

    (MXNet writes the weight in place before reading it for the momentum, so the
    momentum's decay term sees the new weight.) With ``momentum == 0`` this is SGD.

    Parameters
    ----------
    momentum : float, optional, default 0.0
        The momentum value, >= 0.
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        If ``momentum`` is negative.

    Notes
    -----
    Multi-precision states are ``(momentum or None, weight32)``.
    """
    _mp_master_pos = 1

    def __init__(self, momentum=0.0, **kwargs):
        _check_number("NAG", "momentum", momentum, low=0.0)
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        """A zero momentum like ``weight``, or None when momentum is 0."""
        if self.momentum != 0.0:
            return _zeros_like(weight)
        return None

    def _fused_step(self, W, G, S, lrs, wds, ts):
        if any(s is None for s in S):
            if all(s is None for s in S):
                sgd_plain_fused(self, W, G, lrs, wds)
            else:
                _split_by_state(self._fused_step, W, G, S, lrs, wds, ts)
            return
        lrs, wds = _f32(lrs), _f32(wds)
        mu = _f32([self.momentum])[0]
        M = [s._data for s in S]
        groups = self._scalar_groups(lrs, wds)
        if groups is None:
            self._fused_lists(W, G, M, lrs, wds, mu)
            return
        g, scale = scaled_grads(self, G, copy=False)
        torch._foreach_mul_(M, mu)                                     # m1
        for (lr, wd), Ws, gs, Ms in self._subsets(groups, W, g, M):
            # w + mu*m1 - (1+mu)*lr*(g + wd*w), then m1 - lr*(g + wd*w_new)
            if wd:
                torch._foreach_mul_(Ws, 1.0 - (1.0 + mu) * lr * wd)
            torch._foreach_add_(Ws, Ms, alpha=mu)
            torch._foreach_add_(Ws, gs, alpha=-(1.0 + mu) * lr * scale)
            torch._foreach_add_(Ms, gs, alpha=-lr * scale)
            if wd:
                torch._foreach_add_(Ms, Ws, alpha=-lr * wd)

    def _fused_lists(self, W, G, M, lrs, wds, mu):
        """The same with per-parameter scalar lists (many distinct lrs / wds)."""
        neg_lrs = [-lr for lr in lrs]
        gg, _ = scaled_grads(self, G)
        decay = any(wds)
        torch._foreach_mul_(M, mu)                                     # m1
        if decay:
            tmp = torch._foreach_mul(W, wds)
            torch._foreach_add_(tmp, gg)
            torch._foreach_mul_(tmp, neg_lrs)
        else:
            tmp = torch._foreach_mul(gg, neg_lrs)
        torch._foreach_add_(tmp, M)                                    # m1 - lr*(g + wd*w)
        torch._foreach_sub_(W, M)
        torch._foreach_add_(W, tmp, alpha=1.0 + mu)
        if decay:                                                      # new weight's decay
            torch._foreach_add_(gg, torch._foreach_mul(W, wds))
        torch._foreach_mul_(gg, neg_lrs)
        torch._foreach_add_(M, gg)

    def _reference_step(self, w, g, state, lr, wd, t):
        if state is None:
            sgd_plain_reference(self, w, g, lr, wd)
            return
        lr, wd, mu, rescale = _f32([lr, wd, self.momentum, self.rescale_grad])
        gr = g * rescale
        clip = self._clip_value()
        if clip is not None:
            gr = gr.clamp(-clip, clip)
        m = state._data
        m.mul_(mu)
        w.copy_(w - m + (mu + 1) * (m - lr * (gr + wd * w)))
        m.sub_(lr * (gr + wd * w))
