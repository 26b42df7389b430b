"""Nadam (``mx.optimizer.Nadam``), Adam with Nesterov momentum, with MXNet 1.9.1's
Python-level arithmetic, including its one momentum-schedule product shared by all
parameters (``m_schedule``, advanced once per parameter update, in update order)."""
import torch

from .optimizer import Optimizer, _check_number, register
from ._kernels import clip_one, python_clip_, rescaled_plus_wd, zeros_like

__all__ = ["Nadam"]


@register
class Nadam(Optimizer):
    """The Nesterov Adam optimizer (Dozat, http://cs229.stanford.edu/proj2015/054_report.pdf).

    At this index's ``t``-th update, with ``g = clip(rescale_grad * grad + wd * weight)``::

        mu_t  = beta1 * (1 - 0.5 * 0.96**(t * schedule_decay))
        mu_t1 = beta1 * (1 - 0.5 * 0.96**((t + 1) * schedule_decay))
        m_schedule = m_schedule * mu_t            (one number for the whole optimizer)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_bar = (1 - mu_t) * g / (1 - m_schedule)
                + mu_t1 * m / (1 - m_schedule * mu_t1)
        weight -= lr * m_bar / (sqrt(v / (1 - beta2**t)) + epsilon)

    Parameters
    ----------
    learning_rate : float, optional, default 0.001
    beta1 : float, optional, default 0.9
        In [0, 1).
    beta2 : float, optional, default 0.999
        In [0, 1).
    epsilon : float, optional, default 1e-8
        >= 0.
    schedule_decay : float, optional, default 0.004
        Decay of the momentum schedule, >= 0.
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a hyperparameter out of range.

    Notes
    -----
    As in MXNet, ``m_schedule`` is multiplied at every update of every parameter (so
    with n parameters it advances n times per batch); it is part of the optimizer, saved
    with ``dump_optimizer=True``. The state is ``(m, v)`` in the weight's dtype.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 schedule_decay=0.004, **kwargs):
        _check_number("Nadam", "beta1", beta1, low=0.0, high=1.0, high_open=True)
        _check_number("Nadam", "beta2", beta2, low=0.0, high=1.0, high_open=True)
        _check_number("Nadam", "epsilon", epsilon, low=0.0)
        _check_number("Nadam", "schedule_decay", schedule_decay, low=0.0)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.

    def create_state(self, index, weight):
        """Zero ``(m, v)`` like ``weight``."""
        return (zeros_like(weight), zeros_like(weight))

    def _rates(self, indices, weights):
        """The base rates, with each position's ``t`` replaced by the tuple ``(t, mu_t,
        mu_t1, m_schedule, m_schedule_next)``, advancing ``m_schedule`` in update order."""
        lrs, wds, ts = super()._rates(indices, weights)
        b1, sd = self.beta1, self.schedule_decay
        sched = []
        for t in ts:
            mu_t = b1 * (1. - 0.5 * (pow(0.96, t * sd)))
            mu_t1 = b1 * (1. - 0.5 * (pow(0.96, (t + 1) * sd)))
            self.m_schedule = self.m_schedule * mu_t
            sched.append((t, mu_t, mu_t1, self.m_schedule, self.m_schedule * mu_t1))
        return lrs, wds, sched

    def _fused_step(self, W, G, S, lrs, wds, ts):
        b1, b2, eps = self.beta1, self.beta2, self.epsilon
        g = python_clip_(self, rescaled_plus_wd(self, G, W, wds, kernel=False))
        M = [s[0]._data for s in S]
        V = [s[1]._data for s in S]
        torch._foreach_mul_(M, b1)
        torch._foreach_add_(M, torch._foreach_mul(g, 1. - self.beta1))
        torch._foreach_mul_(V, b2)
        torch._foreach_add_(V, torch._foreach_mul(torch._foreach_mul(g, 1. - self.beta2), g))
        t, mu_t, mu_t1, ms, ms_next = zip(*ts)
        gp = torch._foreach_div(g, [1. - x for x in ms])            # grad_prime
        mp = torch._foreach_div(M, [1. - x for x in ms_next])       # m_t_prime
        vp = torch._foreach_div(V, [1. - pow(self.beta2, x) for x in t])
        torch._foreach_mul_(gp, [1. - x for x in mu_t])
        torch._foreach_mul_(mp, list(mu_t1))
        torch._foreach_add_(gp, mp)                                        # m_t_bar
        torch._foreach_mul_(gp, lrs)
        torch._foreach_sqrt_(vp)
        torch._foreach_add_(vp, eps)
        torch._foreach_div_(gp, vp)
        torch._foreach_sub_(W, gp)

    def _reference_step(self, w, g, state, lr, wd, t):
        t, mu_t, mu_t1, ms, ms_next = t
        rescale, b1, b2, eps = self.rescale_grad, self.beta1, self.beta2, self.epsilon
        c_g, c_m, c_v, k_g, k_m = 1. - ms, 1. - ms_next, 1. - pow(b2, t), 1. - mu_t, mu_t1
        gr = g * rescale + wd * w
        gr = clip_one(self, gr, python=True)
        m, v = state[0]._data, state[1]._data
        m.mul_(b1).add_((1. - self.beta1) * gr)
        v.mul_(b2).add_((1. - self.beta2) * gr * gr)
        m_bar = k_g * (gr / c_g) + k_m * (m / c_m)
        w.sub_(lr * m_bar / ((v / c_v).sqrt() + eps))
