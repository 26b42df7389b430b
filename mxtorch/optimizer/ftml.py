"""FTML (``mx.optimizer.FTML``), follow the moving leader, with MXNet 1.9.1's
``ftml_update`` arithmetic; all parameters at once."""
import torch

from .optimizer import Optimizer, _check_number, _f32, register
from ._kernels import clip_one, kernel_clip_, rescaled_plus_wd, zeros_like

__all__ = ["FTML"]


@register
class FTML(Optimizer):
    """The FTML optimizer (Zheng & Kwok, ICML 2017).

    At this index's ``t``-th update, with
    ``g = clip(rescale_grad * grad + wd * weight, clip_gradient)``::

        v = beta2 * v + (1 - beta2) * g**2
        d_t = (1 - beta1**t) / lr * (sqrt(v / (1 - beta2**t)) + epsilon)
        z = beta1 * z + (1 - beta1) * g - (d_t - beta1 * d) * weight
        d = d_t
        weight = -z / d_t

    Parameters
    ----------
    beta1 : float, optional, default 0.6
        In [0, 1).
    beta2 : float, optional, default 0.999
        In [0, 1).
    epsilon : float, optional, default 1e-8
        >= 0.
    **kwargs
        See :class:`Optimizer` (learning_rate default 0.01).

    Raises
    ------
    MXNetValueError
        For a hyperparameter out of range.

    Notes
    -----
    The state is ``(d, v, z)`` in the weight's dtype.
    """

    def __init__(self, beta1=0.6, beta2=0.999, epsilon=1e-8, **kwargs):
        _check_number("FTML", "beta1", beta1, low=0.0, high=1.0, high_open=True)
        _check_number("FTML", "beta2", beta2, low=0.0, high=1.0, high_open=True)
        _check_number("FTML", "epsilon", epsilon, low=0.0)
        super().__init__(**kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def create_state(self, index, weight):
        """Zero ``(d, v, z)`` like ``weight``."""
        return (zeros_like(weight), zeros_like(weight), zeros_like(weight))

    def _powers(self, ts, dtype):
        """``1 - beta**t`` as the kernel computes them: float32 ``powf`` for float32
        weights, double ``pow`` of the float32 betas for float64."""
        rnd = (lambda xs: [float(x) for x in xs]) if dtype == torch.float64 else _f32
        b1, b2 = _f32([self.beta1, self.beta2])
        return (rnd([1.0 - p for p in rnd([b1 ** t for t in ts])]),
                rnd([1.0 - p for p in rnd([b2 ** t for t in ts])]))

    def _fused_step(self, W, G, S, lrs, wds, ts):
        b1, b2 = _f32([self.beta1, self.beta2])
        eps = self.epsilon                       # a double kernel parameter
        c1, c2 = self._powers(ts, W[0].dtype)
        g = kernel_clip_(self, rescaled_plus_wd(self, G, W, wds))
        D = [s[0]._data for s in S]
        V = [s[1]._data for s in S]
        Z = [s[2]._data for s in S]
        torch._foreach_mul_(V, b2)
        g2 = torch._foreach_mul(g, g)
        torch._foreach_mul_(g2, 1.0 - b2)
        torch._foreach_add_(V, g2)
        d_t = torch._foreach_div(V, c2)
        torch._foreach_sqrt_(d_t)
        torch._foreach_add_(d_t, eps)
        c1_lr = [c / lr for c, lr in zip(c1, _f32(lrs))]
        torch._foreach_mul_(d_t, c1_lr if W[0].dtype == torch.float64 else _f32(c1_lr))
        torch._foreach_mul_(D, -b1)
        torch._foreach_add_(D, d_t)                                  # d_t - beta1 * d
        torch._foreach_mul_(D, W)
        torch._foreach_mul_(Z, b1)
        torch._foreach_add_(Z, torch._foreach_mul(g, 1.0 - b1))
        torch._foreach_sub_(Z, D)
        torch._foreach_copy_(D, d_t)
        q = torch._foreach_div(Z, d_t)
        torch._foreach_neg_(q)
        torch._foreach_copy_(W, q)                                   # -z / d_t

    def _reference_step(self, w, g, state, lr, wd, t):
        lr, wd, rescale, b1, b2 = _f32([lr, wd, self.rescale_grad, self.beta1, self.beta2])
        eps = self.epsilon
        (c1,), (c2,) = self._powers([t], w.dtype)
        gr = rescale * g + wd * w
        gr = clip_one(self, gr, python=False)
        d, v, z = state[0]._data, state[1]._data, state[2]._data
        v.copy_(b2 * v + (1 - b2) * (gr * gr))
        d_t = c1 / lr * ((v / c2).sqrt() + eps)
        z.copy_(b1 * z + (1 - b1) * gr - (d_t - b1 * d) * w)
        d.copy_(d_t)
        w.copy_(-z / d_t)
