"""SGD with momentum and weight decay (``mx.optimizer.SGD``), MXNet 1.9.1's
``sgd_update`` / ``sgd_mom_update`` arithmetic (wd outside the gradient clip), applied to
all parameters at once with torch ``_foreach_*`` ops."""
import os

import torch

from ..ndarray.ndarray import NDArray
from .optimizer import Optimizer, _check_number, _f32, register

__all__ = ["SGD", "ccSGD"]


def _zeros_like(weight):
    return NDArray(torch.zeros_like(weight._data), weight.context)


def _split_by_state(step, W, G, S, lrs, wds, ts):
    """Run ``step`` separately on the parameters that have a state and those that have
    None (happens only when loaded states disagree with the momentum setting)."""
    has = [p for p, s in enumerate(S) if s is not None]
    for ps in (has, [p for p, s in enumerate(S) if s is None]):
        if ps:
            step([W[p] for p in ps], [G[p] for p in ps], [S[p] for p in ps],
                 [lrs[p] for p in ps], [wds[p] for p in ps], [ts[p] for p in ps])


def scaled_grads(opt, G, copy=True):
    """``(g, scale)``: ``clip(rescale_grad * G)`` as new tensors and scale 1, or, when
    there is no clip and ``copy`` is False, the gradients themselves (read only) and the
    rescale factor still to apply."""
    rescale = _f32([opt.rescale_grad])[0]
    clip = opt._clip_value()
    if clip is None and not copy:
        return G, rescale
    g = torch._foreach_mul(G, rescale)
    if clip is not None:
        torch._foreach_clamp_min_(g, -clip)
        torch._foreach_clamp_max_(g, clip)
    return g, 1.0


def sgd_plain_fused(opt, W, G, lrs, wds):
    """sgd_update for all parameters: ``w = (1 - lr*wd) * w - lr * clip(rescale * g)``."""
    lrs, wds = _f32(lrs), _f32(wds)
    groups = opt._scalar_groups(lrs, wds)
    if groups is None:                      # many distinct lrs: per-parameter scalar lists
        d, _ = scaled_grads(opt, G)
        torch._foreach_mul_(d, lrs)
        lrwd = [lr * wd for lr, wd in zip(lrs, wds)]
        if any(lrwd):
            torch._foreach_add_(d, torch._foreach_mul(W, lrwd))
        torch._foreach_sub_(W, d)
        return
    g, scale = scaled_grads(opt, G, copy=False)
    for (lr, wd), Ws, gs in opt._subsets(groups, W, g):
        if wd:
            torch._foreach_mul_(Ws, 1.0 - lr * wd)
        torch._foreach_add_(Ws, gs, alpha=-lr * scale)


def sgd_plain_reference(opt, w, g, lr, wd):
    """One parameter of sgd_update: ``w = (1 - lr*wd) * w - lr * clip(rescale * g)``."""
    lr, wd, rescale = _f32([lr, wd, opt.rescale_grad])
    gr = g * rescale
    clip = opt._clip_value()
    if clip is not None:
        gr = gr.clamp(-clip, clip)
    w.mul_(1.0 - lr * wd).sub_(lr * gr)


@register
class SGD(Optimizer):
    """Stochastic gradient descent with momentum and weight decay.

    With ``g = clip(rescale_grad * grad, clip_gradient)`` (wd is applied outside the clip)::

        momentum == 0:  weight = (1 - lr * wd) * weight - lr * g
        momentum > 0:   mom = momentum * mom - lr * wd * weight - lr * g
                        weight = weight + mom

    Parameters
    ----------
    momentum : float, optional, default 0.0
        The momentum value, >= 0. With 0 there is no state.
    lazy_update : bool, optional, default True
        Kept for compatibility: it matters only for sparse gradients, which mxtorch does
        not have, so updates are always dense.
    **kwargs
        See :class:`Optimizer` (learning_rate, wd, rescale_grad, clip_gradient,
        multi_precision, ...).

    Raises
    ------
    MXNetValueError
        If ``momentum`` is negative (or a base hyperparameter is invalid).

    Notes
    -----
    Multi-precision states are ``(momentum or None, weight32)``. Parameters are counted
    in chunks of ``MXNET_OPTIMIZER_AGGREGATION_SIZE`` (default 4) for the learning-rate
    schedule, as MXNet does; the arithmetic runs on all of them at once.
    """
    _mp_master_pos = 1

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        _check_number("SGD", "momentum", momentum, low=0.0)
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update
        self.aggregate_num = int(os.getenv('MXNET_OPTIMIZER_AGGREGATION_SIZE', "4"))

    @property
    def lazy_rows(self):
        """Whether a row_sparse gradient updates only its rows (``lazy_update``)."""
        return self.lazy_update

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
            d, _ = scaled_grads(self, G)
            torch._foreach_mul_(d, lrs)
            lrwd = [lr * wd for lr, wd in zip(lrs, wds)]
            if any(lrwd):
                torch._foreach_add_(d, torch._foreach_mul(W, lrwd))
            torch._foreach_mul_(M, mu)
            torch._foreach_sub_(M, d)
            torch._foreach_add_(W, M)
            return
        g, scale = scaled_grads(self, G, copy=False)
        torch._foreach_mul_(M, mu)
        for (lr, wd), Ws, gs, Ms in self._subsets(groups, W, g, M):
            if wd:
                torch._foreach_add_(Ms, Ws, alpha=-lr * wd)
            torch._foreach_add_(Ms, gs, alpha=-lr * scale)
        torch._foreach_add_(W, M)

    def _reference_step(self, w, g, state, lr, wd, t):
        if state is None:
            sgd_plain_reference(self, w, g, lr, wd)
            return
        lr, wd, mom, rescale = _f32([lr, wd, self.momentum, self.rescale_grad])
        gr = g * rescale
        clip = self._clip_value()
        if clip is not None:
            gr = gr.clamp(-clip, clip)
        m = state._data
        m.mul_(mom).sub_(lr * wd * w).sub_(lr * gr)
        w.add_(m)


@register
class ccSGD(SGD):  # pylint: disable=invalid-name
    """[DEPRECATED] Same as :class:`SGD`; kept for old code."""
