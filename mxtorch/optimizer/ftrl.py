"""Ftrl (``mx.optimizer.Ftrl``), follow-the-regularized-leader with L1, with MXNet
1.9.1's ``ftrl_update`` arithmetic; all parameters at once."""
import torch

from .optimizer import Optimizer, _check_number, _f32, register
from ._kernels import clip_one, kernel_clip_, rescaled, zeros_f32

__all__ = ["Ftrl"]


@register
class Ftrl(Optimizer):
    """The FTRL-Proximal optimizer (McMahan et al., "Ad Click Prediction", 2013).

    With ``g = clip(rescale_grad * grad, clip_gradient)``::

        z += g - (sqrt(n + g**2) - sqrt(n)) * weight / lr
        n += g**2
        weight = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1)

    Parameters
    ----------
    lamda1 : float, optional, default 0.01
        L1 regularization, >= 0.
    learning_rate : float, optional, default 0.1
        As in MXNet, set after the base class (which sees no learning rate, so a
        scheduler's base_lr is not overwritten) and then used when there is no scheduler.
    beta : float, optional, default 1
        Per-coordinate learning-rate parameter, >= 0.
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a negative lamda1, beta or learning_rate.

    Notes
    -----
    The state is ``(z, n)``, float32 arrays whatever the weight's dtype.
    """

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        _check_number("Ftrl", "lamda1", lamda1, low=0.0)
        _check_number("Ftrl", "beta", beta, low=0.0)
        _check_number("Ftrl", "learning_rate", learning_rate, low=0.0)
        super().__init__(**kwargs)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate

    def create_state(self, index, weight):
        """Zero float32 ``(z, n)``."""
        return (zeros_f32(weight), zeros_f32(weight))

    def _fused_step(self, W, G, S, lrs, wds, ts):
        lrs, wds = _f32(lrs), _f32(wds)
        lamda1, beta = _f32([self.lamda1, self.beta])
        Z = [s[0]._data for s in S]
        N = [s[1]._data for s in S]
        g = kernel_clip_(self, rescaled(self, G))
        g2 = torch._foreach_mul(g, g)
        sq_old = torch._foreach_sqrt(N)
        torch._foreach_add_(N, g2)                                  # n + g**2 (= new n)
        sq_new = torch._foreach_sqrt(N)
        torch._foreach_sub_(sq_new, sq_old)
        torch._foreach_mul_(sq_new, W)
        torch._foreach_div_(sq_new, lrs)
        torch._foreach_neg_(sq_new)
        torch._foreach_add_(sq_new, g)
        torch._foreach_add_(Z, sq_new)                              # z += g - (...)
        # weight = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1)
        den = torch._foreach_sqrt(N)
        torch._foreach_add_(den, beta)
        torch._foreach_div_(den, lrs)
        torch._foreach_add_(den, wds)
        num = torch._foreach_sign(Z)
        torch._foreach_mul_(num, lamda1)
        torch._foreach_sub_(num, Z)
        torch._foreach_div_(num, den)
        mask = torch._foreach_abs(Z)
        torch._foreach_sub_(mask, lamda1)
        torch._foreach_sign_(mask)
        torch._foreach_clamp_min_(mask, 0.0)                        # |z| > lamda1
        torch._foreach_mul_(num, mask)
        torch._foreach_copy_(W, num)

    def _reference_step(self, w, g, state, lr, wd, t):
        lr, wd, rescale, lamda1, beta = _f32([lr, wd, self.rescale_grad, self.lamda1,
                                              self.beta])
        gr = g * rescale
        gr = clip_one(self, gr, python=False)
        z, n = state[0]._data, state[1]._data
        z.add_(gr - ((n + gr * gr).sqrt() - n.sqrt()) * w / lr)
        n.add_(gr * gr)
        w.copy_((torch.sign(z) * lamda1 - z) / ((beta + n.sqrt()) / lr + wd)
                * (z.abs() > lamda1).to(w.dtype))
