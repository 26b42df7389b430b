"""The ``Test`` optimizer of MXNet 1.9.1 (``mx.optimizer.Test``): ``weight +=
rescale_grad * grad`` and a state that mirrors the weight, for testing update plumbing."""
import torch

from .optimizer import Optimizer, register
from ._kernels import zeros_f32

__all__ = ["Test"]


@register
class Test(Optimizer):
    """The Test optimizer: ``weight += grad * rescale_grad``, then ``state = weight``.

    No learning rate, weight decay or clipping, and, as in MXNet, updates are not
    counted (``num_update`` stays at ``begin_num_update``).

    Parameters
    ----------
    **kwargs
        See :class:`Optimizer`.

    Notes
    -----
    The state is a float32 array (MXNet's ``zeros(shape, ctx)``).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def create_state(self, index, weight):
        """A float32 zero array that the update fills with the weight."""
        return zeros_f32(weight)

    def _rates(self, indices, weights):
        """No counting (MXNet's Test.update never calls _update_count)."""
        n = len(indices)
        return [0.0] * n, [0.0] * n, [0] * n

    def _fused_step(self, W, G, S, lrs, wds, ts):
        torch._foreach_add_(W, torch._foreach_mul(G, self.rescale_grad))
        torch._foreach_copy_([s._data for s in S], W)

    def _reference_step(self, w, g, state, lr, wd, t):
        w.add_(g * self.rescale_grad)
        state._data.copy_(w)
