"""The layer-wise trust-ratio optimizers LAMB (``mx.optimizer.LAMB``, MXNet 1.9.1's
``multi_lamb_update``) and LARS (``mx.optimizer.LARS``, ``multi_lars`` + the
aggregated SGD kernels): per-parameter norms are computed on the device (no host sync)
and all parameters are updated at once."""
import os

import torch

from .optimizer import Optimizer, _check_number, _f32, register
from ._kernels import clip_one, kernel_clip_, rescaled, zeros_like

__all__ = ["LAMB", "LARS"]


def _norms(tensors, half=None):
    """Float32 L2 norms as MXNet's ``multi_sum_sq`` gives them, one 0-d tensor each.
    Tensors flagged in ``half`` (float16 weights, or float32 copies of them) are
    squared in float16, as MXNet does, and summed in float32."""
    half = half or [t.dtype == torch.float16 for t in tensors]
    out = [None] * len(tensors)
    hs = [p for p, h in enumerate(half) if h]
    if hs:
        h = [tensors[p].half() for p in hs]
        sq = [x.float() for x in torch._foreach_mul(h, h)]
        for p, n in zip(hs, torch._foreach_sqrt(torch._foreach_norm(sq, ord=1))):
            out[p] = n
    fs = [p for p, h in enumerate(half) if not h]
    if fs:
        for p, n in zip(fs, torch._foreach_norm([tensors[p] for p in fs])):
            out[p] = n.float()
    return out


class _Layerwise(Optimizer):
    """Shared mechanics: MXNet takes the weight norm of the stored (float16) weights even
    when it updates float32 master copies; the fp16 weight is always the master cast
    down, so the norm is taken of that cast."""

    def _update_many(self, indices, weights, grads, states, allow_mp):
        lists = isinstance(indices, (list, tuple))
        ws, ss = (weights, states) if lists else ([weights], [states])
        pos = self._mp_master_pos
        self._fp16_masters = {id(s[pos]._data) for w, s in zip(ws, ss)
                              if allow_mp and self._is_mp(w, s)}
        try:
            super()._update_many(indices, weights, grads, states, allow_mp)
        finally:
            self.__dict__.pop("_fp16_masters", None)

    def _stored_norms(self, W, like=None):
        """Norms of ``W`` as stored: float16 where ``like`` (default ``W``) holds the
        float32 master copies of float16 weights."""
        masters = getattr(self, "_fp16_masters", ())
        like = W if like is None else like
        return _norms(W, [id(m) in masters or w.dtype == torch.float16
                          for w, m in zip(W, like)])


@register
class LAMB(_Layerwise):
    """The LAMB optimizer (You et al., https://arxiv.org/abs/1904.00962).

    At this index's ``t``-th update, with ``g = clip(rescale_grad * grad, clip_gradient)``::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        bias_correction:  u = (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + epsilon)
        otherwise:        u = m / (sqrt(v) + epsilon)
        u = u + wd * weight                          (float32, as MXNet's buffer)
        r1 = clip(||weight||, lower_bound, upper_bound);  r2 = ||u||
        weight -= lr * (r1 / r2 if r1 > 0 and r2 > 0 else 1) * u

    Parameters
    ----------
    learning_rate : float, optional, default 0.001
    beta1, beta2 : float, optional, default 0.9, 0.999
        In [0, 1).
    epsilon : float, optional, default 1e-6
        >= 0.
    lower_bound, upper_bound : float, optional, default None
        Bounds of the weight norm (None or 0: no bound).
    bias_correction : bool, optional, default True
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a hyperparameter out of range.

    Notes
    -----
    The state is ``(mean, var)`` in the weight's dtype; with multi_precision,
    ``(weight32, (mean, var))``. Parameters are counted in same-dtype chunks of
    ``MXNET_OPTIMIZER_AGGREGATION_SIZE`` (default and most 45, at least 1).
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6,
                 lower_bound=None, upper_bound=None, bias_correction=True, **kwargs):
        _check_number("LAMB", "beta1", beta1, low=0.0, high=1.0, high_open=True)
        _check_number("LAMB", "beta2", beta2, low=0.0, high=1.0, high_open=True)
        _check_number("LAMB", "epsilon", epsilon, low=0.0)
        _check_number("LAMB", "lower_bound", lower_bound, allow_none=True)
        _check_number("LAMB", "upper_bound", upper_bound, allow_none=True)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction
        self.aggregate_num = max(1, min(45, int(os.getenv('MXNET_OPTIMIZER_AGGREGATION_SIZE',
                                                          "45"))))

    def create_state(self, index, weight):
        """Zero ``(mean, var)`` like ``weight``."""
        return (zeros_like(weight), zeros_like(weight))

    def _bounds(self):
        lo = _f32([self.lower_bound])[0] if self.lower_bound else None
        hi = _f32([self.upper_bound])[0] if self.upper_bound else None
        return lo, hi

    def _fused_step(self, W, G, S, lrs, wds, ts):
        f64 = W[0].dtype == torch.float64
        rnd = (lambda xs: [float(x) for x in xs]) if f64 else _f32
        b1, b2, eps = _f32([self.beta1, self.beta2, self.epsilon])
        lrs, wds = rnd(_f32(lrs)), rnd(_f32(wds))
        r1 = self._stored_norms(W)
        g = kernel_clip_(self, rescaled(self, G))
        M = [s[0]._data for s in S]
        V = [s[1]._data for s in S]
        torch._foreach_mul_(M, b1)
        torch._foreach_add_(M, torch._foreach_mul(g, 1.0 - b1))
        torch._foreach_mul_(V, b2)
        sq = torch._foreach_mul(g, 1.0 - b2)
        torch._foreach_mul_(sq, g)
        torch._foreach_add_(V, sq)
        if self.bias_correction:
            u = torch._foreach_div(M, rnd([1.0 - b1 ** t for t in ts]))
            den = torch._foreach_div(V, rnd([1.0 - b2 ** t for t in ts]))
        else:
            u, den = torch._foreach_mul(M, 1.0), torch._foreach_mul(V, 1.0)
        torch._foreach_sqrt_(den)
        torch._foreach_add_(den, eps)
        torch._foreach_div_(u, den)
        if any(wds):
            torch._foreach_add_(u, torch._foreach_mul(W, wds))
        if f64:                                       # MXNet's buffer for u is float32
            torch._foreach_copy_(u, [x.float() for x in u])
        r2 = _norms(u)
        lo, hi = self._bounds()
        R1, R2 = torch.stack(r1), torch.stack(r2)
        if lo is not None:
            R1 = R1.clamp_min(lo)
        if hi is not None:
            R1 = R1.clamp_max(hi)
        ratio = torch.where((R1 == 0) | (R2 == 0), torch.ones_like(R1), R1 / R2)
        step = ratio.to(W[0].dtype) * torch.tensor(lrs, dtype=W[0].dtype, device=R1.device)
        torch._foreach_mul_(u, list(step.neg().unbind()))
        torch._foreach_add_(W, u)

    def _reference_step(self, w, g, state, lr, wd, t):
        f64 = w.dtype == torch.float64
        b1, b2, eps, rescale = _f32([self.beta1, self.beta2, self.epsilon, self.rescale_grad])
        lr, wd = _f32([lr, wd])
        c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        if not f64:
            c1, c2 = _f32([c1, c2])
        r1 = self._stored_norms([w])[0]
        gr = g * rescale
        gr = clip_one(self, gr, python=False)
        m, v = state[0]._data, state[1]._data
        m.copy_(b1 * m + (1.0 - b1) * gr)
        v.copy_(b2 * v + (1.0 - b2) * gr * gr)
        if self.bias_correction:
            u = (m / c1) / ((v / c2).sqrt() + eps) + wd * w
        else:
            u = m / (v.sqrt() + eps) + wd * w
        u = u.float().to(w.dtype)
        r2 = u.float().norm()
        lo, hi = self._bounds()
        if lo is not None:
            r1 = r1.clamp_min(lo)
        if hi is not None:
            r1 = r1.clamp_max(hi)
        ratio = 1.0 if (float(r1) == 0 or float(r2) == 0) else (r1 / r2).to(w.dtype)
        w.sub_(lr * ratio * u)


def _chunks(weights, size):
    """MXNet's Updater grouping: same-dtype runs of ``size`` positions."""
    by_dtype = {}
    for p, w in enumerate(weights):
        by_dtype.setdefault(w._data.dtype, []).append(p)
    return [ps[s:s + size] for ps in by_dtype.values() for s in range(0, len(ps), size)]


@register
class LARS(_Layerwise):
    """LARS, layer-wise adaptive rate scaling (You et al., https://arxiv.org/abs/1708.03888):
    SGD with momentum where each weight's learning rate is scaled by its trust ratio.

    For a parameter whose name does not end in ``gamma``, ``beta`` or ``bias``::

        lr_layer = lr * eta * ||w|| / (||grad|| * rescale_grad + wd * ||w|| + eps)
                   (lr itself when ||w|| or ||grad|| is 0)

    then the SGD update with ``lr_layer``
    (``mom = momentum * mom - lr*wd*w - lr*clip(rescale_grad*grad)``; ``w += mom``).

    Parameters
    ----------
    momentum : float, optional, default 0.0
        >= 0.
    lazy_update : bool, optional, default True
        Kept for compatibility (dense updates only).
    eta : float, optional, default 0.001
        The trust coefficient, >= 0.
    eps : float, optional, default 0
        Added to the ratio's denominator, >= 0.
    momentum_correction : bool, optional, default True
        Scale the momentum by ``lr / previous lr`` when the learning rate changes.
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a negative momentum, eta or eps.

    Notes
    -----
    As in MXNet: weight decay applies only to names ending in ``_weight``; parameters
    are processed in same-dtype chunks of ``MXNET_OPTIMIZER_AGGREGATION_SIZE`` (4), and
    the "previous lr" of the momentum correction is that of the previous chunk, so the
    correction reaches only the first chunk of a step. States are the momentum (None if
    momentum is 0); multi-precision ``(momentum or None, weight32)``.
    """
    _mp_master_pos = 1

    def __init__(self, momentum=0.0, lazy_update=True, eta=0.001, eps=0,
                 momentum_correction=True, **kwargs):
        _check_number("LARS", "momentum", momentum, low=0.0)
        _check_number("LARS", "eta", eta, low=0.0)
        _check_number("LARS", "eps", eps, low=0.0)
        self.cur_lr = self.last_lr = None
        super().__init__(**kwargs)
        self.momentum = momentum
        self.momentum_correction = momentum_correction
        self.lazy_update = lazy_update
        self.aggregate_num = int(os.getenv('MXNET_OPTIMIZER_AGGREGATION_SIZE', "4"))
        self.eta = eta
        self.eps = eps
        self.skip = 0

    def set_wd_mult(self, args_wd_mult):
        """As the base, except that only names ending in ``_weight`` keep weight decay
        (``_gamma`` too gets 0)."""
        wd_mult = {n: 0.0 for n in self.idx2name.values() if not n.endswith('_weight')}
        if self.sym_info:
            attr, arg_names = self.sym_info
            for name in arg_names:
                if name in attr and '__wd_mult__' in attr[name]:
                    wd_mult[name] = float(attr[name]['__wd_mult__'])
        wd_mult.update(args_wd_mult)
        self.wd_mult = wd_mult

    def create_state(self, index, weight):
        """A zero momentum like ``weight``, or None when momentum is 0."""
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _rates(self, indices, weights):
        """The base rates chunk by chunk, with each ``t`` replaced by ``(t, momentum,
        is_lars)``: the chunk's (corrected) momentum and whether the trust ratio
        applies (names not ending in gamma, beta or bias)."""
        n = len(indices)
        lrs, wds, ts = [0.0] * n, [0.0] * n, [None] * n
        size = self.aggregate_num if self.aggregate_num > 0 else 1
        for chunk in _chunks(weights, size):
            c_l, c_w, c_t = super()._rates([indices[p] for p in chunk],
                                           [weights[p] for p in chunk])
            if self.cur_lr is not None:
                self.last_lr = self.cur_lr
            lr = self._base_lr()
            if self.cur_lr is None:
                self.last_lr = lr
            self.cur_lr = lr
            mom = self.momentum
            if self.momentum_correction and self.last_lr != 0:
                mom = self.momentum * (self.cur_lr / self.last_lr)
            for p, lr_p, wd_p, t_p in zip(chunk, c_l, c_w, c_t):
                name = self.idx2name.get(indices[p], str(indices[p]))
                lrs[p], wds[p] = lr_p, wd_p
                ts[p] = (t_p, mom, not name.endswith(('gamma', 'beta', 'bias')))
        return lrs, wds, ts

    def _layer_lrs(self, W, G, lrs, wds, lars):
        """The per-parameter learning rates of ``multi_lars`` as one float32 vector."""
        eta, eps, rescale = _f32([self.eta, self.eps, self.rescale_grad])
        dev = W[0].device
        lr_v = torch.tensor(_f32(lrs), dtype=torch.float32, device=dev)
        ps = [p for p in range(len(W)) if lars[p]]
        if ps:
            idx = torch.tensor(ps, device=dev)
            w_n = torch.stack(self._stored_norms([W[p] for p in ps]))
            g_n = torch.stack(self._stored_norms([G[p] for p in ps], [W[p] for p in ps]))
            wd_v = torch.tensor(_f32([wds[p] for p in ps]), dtype=torch.float32, device=dev)
            sub = lr_v[idx]
            scaled = sub * eta * w_n / (g_n * rescale + wd_v * w_n + eps)
            lr_v = lr_v.index_copy(0, idx, torch.where((w_n > 0) & (g_n > 0), scaled, sub))
        return lr_v

    def _fused_step(self, W, G, S, lrs, wds, ts):
        _, moms, lars = zip(*ts)
        lr_t = list(self._layer_lrs(W, G, lrs, wds, lars).to(W[0].dtype).unbind())
        wds = _f32(wds)
        d = kernel_clip_(self, rescaled(self, G))
        torch._foreach_mul_(d, lr_t)                              # lr * clip(rescale * g)
        lrwd = torch._foreach_mul(lr_t, wds)
        has = [p for p, s in enumerate(S) if s is not None]
        none = [p for p, s in enumerate(S) if s is None]
        if has:
            M = [S[p]._data for p in has]
            Wm = [W[p] for p in has]
            torch._foreach_mul_(M, _f32([moms[p] for p in has]))
            torch._foreach_sub_(M, torch._foreach_mul(Wm, [lrwd[p] for p in has]))
            torch._foreach_sub_(M, [d[p] for p in has])
            torch._foreach_add_(Wm, M)
        if none:
            Wn = [W[p] for p in none]
            keep = torch._foreach_neg([lrwd[p] for p in none])
            torch._foreach_add_(keep, 1.0)
            torch._foreach_mul_(Wn, keep)
            torch._foreach_sub_(Wn, [d[p] for p in none])

    def _reference_step(self, w, g, state, lr, wd, t):
        _, mom, lars = t
        lr_t = self._layer_lrs([w], [g], [lr], [wd], [lars])[0].to(w.dtype)
        wd, rescale, mom = _f32([wd, self.rescale_grad, mom])
        gr = rescale * g
        gr = clip_one(self, gr, python=False)
        if state is None:
            w.copy_((1.0 - lr_t * wd) * w - lr_t * gr)
            return
        m = state._data
        m.copy_(mom * m - lr_t * wd * w - lr_t * gr)
        w.add_(m)
