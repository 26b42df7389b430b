"""``mx.optimizer.contrib``: GroupAdaGrad (AdaGrad with one learning rate per row), with
MXNet 1.9.1's dense arithmetic; all parameters at once."""
import torch

from ..base import MXNetValueError
from .optimizer import Optimizer, _check_number, register
from ._kernels import clip_one, python_clip_, rescaled, zeros_f32

__all__ = ["GroupAdaGrad"]


@register
class GroupAdaGrad(Optimizer):
    """AdaGrad with row-wise learning rates (for embeddings).

    With ``g = clip(rescale_grad * grad, clip_gradient)`` (clipped whenever
    clip_gradient is not None)::

        history += mean(g**2, axis=1, keepdims=True)
        weight -= lr * g / sqrt(history + eps)

    Parameters
    ----------
    eps : float, optional, default 1e-5
        Added inside the square root, >= 0 (stored as ``float_stable_eps``).
    **kwargs
        See :class:`Optimizer`. Weight decay is not supported.

    Raises
    ------
    MXNetValueError
        For a negative eps, a weight that is not 2-D, or a non-zero weight decay for a
        parameter (MXNet asserts both).

    Notes
    -----
    The state is the ``(rows, 1)`` float32 history.
    """

    def __init__(self, eps=1e-5, **kwargs):
        _check_number("GroupAdaGrad", "eps", eps, low=0.0)
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def _check_wd(self, index):
        if self._get_wd(index) != 0:
            raise MXNetValueError(f"GroupAdaGrad: weight decay is not supported (index "
                                  f"{index!r} has wd {self._get_wd(index)}); set wd=0 or its "
                                  "wd_mult to 0")

    def create_state(self, index, weight):
        """A float32 zero history of shape ``(rows, 1)``."""
        if weight.ndim != 2:
            raise MXNetValueError(f"GroupAdaGrad: weights must be 2-D (one learning rate "
                                  f"per row); index {index!r} has shape {weight.shape}")
        self._check_wd(index)
        return zeros_f32(weight, (weight.shape[0], 1))

    def _fused_step(self, W, G, S, lrs, wds, ts):
        if any(wds):
            raise MXNetValueError("GroupAdaGrad: weight decay is not supported; set wd=0")
        H = [s._data for s in S]
        g = python_clip_(self, rescaled(self, G, kernel=False))
        torch._foreach_add_(H, [x.mean(dim=1, keepdim=True)
                                for x in torch._foreach_mul(g, g)])
        den = torch._foreach_add(H, self.float_stable_eps)
        torch._foreach_sqrt_(den)
        torch._foreach_mul_(g, lrs)
        torch._foreach_div_(g, den)
        torch._foreach_sub_(W, g)

    def _reference_step(self, w, g, state, lr, wd, t):
        gr = clip_one(self, g * self.rescale_grad, python=True)
        h = state._data
        h.add_((gr * gr).mean(dim=1, keepdim=True))
        w.sub_(lr * gr / (h + self.float_stable_eps).sqrt())
