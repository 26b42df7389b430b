"""AdaGrad (``mx.optimizer.AdaGrad``) with MXNet 1.9.1's dense arithmetic (Python-level
NDArray ops: clip whenever clip_gradient is not None, weight decay outside the clip),
all parameters at once with torch ``_foreach_*`` ops."""
import torch

from .optimizer import Optimizer, _check_number, register
from ._kernels import clip_one, python_clip_, rescaled, zeros_f32

__all__ = ["AdaGrad"]


@register
class AdaGrad(Optimizer):
    """The AdaGrad optimizer (Duchi et al., 2011).

    With ``g = clip(rescale_grad * grad, clip_gradient)``::

        history += g**2
        weight += (g / sqrt(history + eps) + wd * weight) * -lr

    Parameters
    ----------
    eps : float, optional, default 1e-7
        Added inside the square root, >= 0; stored as ``float_stable_eps`` (MXNet's
        attribute name, kept so pickled optimizers move both ways).
    **kwargs
        See :class:`Optimizer` (learning_rate default 0.01, wd, rescale_grad, ...).

    Raises
    ------
    MXNetValueError
        If ``eps`` is negative.

    Notes
    -----
    The state is the ``history`` array, float32 whatever the weight's dtype, as in
    MXNet. Sparse (row_sparse) gradients do not exist in mxtorch.
    """

    def __init__(self, eps=1e-7, **kwargs):
        _check_number("AdaGrad", "eps", eps, low=0.0)
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    #: a row_sparse gradient updates only its rows (MXNet's sparse adagrad_update)
    lazy_rows = True

    def create_state(self, index, weight):
        """A zero float32 ``history`` like ``weight``."""
        return zeros_f32(weight)

    def _fused_step(self, W, G, S, lrs, wds, ts):
        H = [s._data for s in S]
        g = python_clip_(self, rescaled(self, G, kernel=False))
        torch._foreach_add_(H, torch._foreach_mul(g, g))
        d = torch._foreach_add(H, self.float_stable_eps)
        torch._foreach_sqrt_(d)
        torch._foreach_div_(g, d)                                  # div
        if any(wds):
            torch._foreach_add_(g, torch._foreach_mul(W, wds))
        torch._foreach_mul_(g, [-lr for lr in lrs])
        torch._foreach_add_(W, g)

    def _reference_step(self, w, g, state, lr, wd, t):
        rescale, eps = self.rescale_grad, self.float_stable_eps
        gr = g * rescale
        gr = clip_one(self, gr, python=True)
        h = state._data
        h.add_(gr * gr)
        w.add_((gr / (h + eps).sqrt() + w * wd) * -lr)
