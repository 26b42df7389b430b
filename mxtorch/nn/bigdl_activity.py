"""Activities of the BigDL API (a tensor, or a list of them: BigDL's Table) and their
conversion from NDArrays and numpy arrays; running an nnabla-style module on tensors."""
import numpy as np
import torch

from ..base import MXNetTypeError

__all__ = ["as_tensor", "convert", "flatten", "pack", "shape_of", "nnabla_apply"]


def as_tensor(x, like=None):
    """A torch tensor of ``x`` (tensor, NDArray, numpy array or number), on the device and,
    for floating input, in the dtype of ``like`` (a tensor) when given."""
    if isinstance(x, torch.Tensor):
        t = x
    elif hasattr(x, "_data") and isinstance(x._data, torch.Tensor):   # NDArray
        t = x._data
    elif isinstance(x, (np.ndarray, np.generic, int, float, list)):
        t = torch.as_tensor(np.asarray(x))
    else:
        raise MXNetTypeError(f"expected a tensor, NDArray or numpy array, got {type(x).__name__}")
    if like is not None:
        dtype = like.dtype if t.is_floating_point() else t.dtype
        t = t.to(device=like.device, dtype=dtype)
    return t


def flatten(activity):
    """The tensors of an activity (a tensor, or a list/tuple of them: BigDL's Table)."""
    if isinstance(activity, (list, tuple)):
        return [t for a in activity for t in flatten(a)]
    return [activity]


def pack(activity, flat):
    """``flat`` tensors in the structure of ``activity``."""
    it = iter(flat)

    def build(a):
        if isinstance(a, (list, tuple)):
            return [build(x) for x in a]
        return next(it)
    return build(activity)


def shape_of(activity):
    """The shape of an activity (a list of shapes for a Table)."""
    if isinstance(activity, (list, tuple)):
        return [shape_of(a) for a in activity]
    return tuple(activity.shape)


def convert(activity, like):
    """``activity`` with every array a tensor converted as :func:`as_tensor` does."""
    if isinstance(activity, (list, tuple)):
        return [convert(a, like) for a in activity]
    return as_tensor(activity, like)


def nnabla_apply(module, inputs):
    """Call an nnabla-style module on torch tensors: each input becomes a need_grad=False
    Variable holding the tensor itself (so autograd reaches it), the call runs in
    ``auto_forward`` mode, and the outputs' recorded tensors come back."""
    from .variable import Variable
    from .state import auto_forward
    wrapped = []
    for t in inputs:
        v = Variable(tuple(t.shape), need_grad=False)
        v.data.set_tensor(t)
        wrapped.append(v)
    with auto_forward():
        out = module(*wrapped)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    tensors = [o._live if getattr(o, "_live", None) is not None else o.data.tensor
               if isinstance(o, Variable) else o for o in outs]
    return tuple(tensors) if isinstance(out, (list, tuple)) else tensors[0]
