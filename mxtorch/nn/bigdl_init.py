"""MXNet names for the tensors of a module tree, and re-initialization with MXNet
initializers by those names (BigDL's ``reset(initMethod)``; the bridge's
``init_params``).

Naming: a tensor at path ``conv1.weight`` is ``conv1_weight`` (a BigDL layer named with
``set_name`` uses its name instead of its path); the weight and bias of a
normalization layer are ``*_gamma``/``*_beta``; running statistics are auxiliary states
``*_moving_mean``/``*_moving_var``; nnabla's ``W``/``b`` are ``weight``/``bias``.
"""
import torch

from ..base import MXNetTypeError, MXNetValueError
from . import bigdl_tree as tree

__all__ = ["mxnet_names", "reset_subtree"]

_NORM = (torch.nn.modules.batchnorm._NormBase, torch.nn.LayerNorm, torch.nn.GroupNorm)
_LEAF = {"W": "weight", "b": "bias", "mean": "moving_mean", "var": "moving_var",
         "running_mean": "moving_mean", "running_var": "moving_var"}


def _leaf_name(node, name, index, count):
    leaf = name.replace("/", "_")
    last = name.rsplit("/", 1)[-1]
    if isinstance(node, _NORM) and last in ("weight", "bias"):
        return leaf[:-len(last)] + ("gamma" if last == "weight" else "beta")
    if last in _LEAF:
        return leaf[:-len(last)] + _LEAF[last]
    if last.endswith(("weight", "bias", "gamma", "beta")):
        return leaf
    return leaf + ("_bias" if tree.is_bias(name, index, count) else "_weight")


def mxnet_names(root):
    """``[(name, tensor, kind)]`` for every parameter (kind 'arg') and running statistic
    (kind 'aux') of the subtree, each once, in module order.

    Raises
    ------
    MXNetValueError
        When two tensors get the same name (layers named alike).
    """
    out, seen, owners = [], set(), {}
    for path, node in tree.walk(root):
        prefix = node.get_name() if tree.is_bigdl(node) and node.has_name() else \
            path.replace(".", "_")
        params = tree.own_params(node)
        entries = [(_leaf_name(node, n, i, len(params)), t, "arg")
                   for i, (n, t) in enumerate(params)]
        entries += [(_leaf_name(node, n, 0, 0), t, "aux") for n, t in tree.own_extras(node)]
        for leaf, t, kind in entries:
            if id(t) in seen:
                continue
            seen.add(id(t))
            name = f"{prefix}_{leaf}" if prefix else leaf
            if name in owners:
                raise MXNetValueError(f"two tensors of the network are named {name!r} (in "
                                      f"{owners[name]!r} and {path!r}); give the layers "
                                      "distinct names with set_name()")
            owners[name] = path
            out.append((name, t, kind))
    return out


def init_tensor(initializer, name, tensor, kind):
    """Fill ``tensor`` by MXNet's rules for ``name``: auxiliary moving means 0, variances
    1, others through ``initializer(InitDesc(name), array)``."""
    from ..initializer import InitDesc
    from ..ndarray import from_torch
    with torch.no_grad():
        if kind == "aux":
            tensor.fill_(1.0 if name.endswith("var") else 0.0)
            return
        initializer(InitDesc(name), from_torch(tensor.data))


def reset_subtree(root, init_method=None):
    """Re-initialize the subtree: each module's ``reset_parameters()`` (and running
    statistics to 0/1) when ``init_method`` is None, else the MXNet initializer (or its
    registered name) by :func:`mxnet_names`.

    Raises
    ------
    MXNetTypeError
        For an ``init_method`` that is neither None, a name nor an initializer.
    MXNetValueError
        From the initializer, for a name its rules do not cover.
    """
    if init_method is None:
        for _, node in tree.walk(root):
            if isinstance(node, torch.nn.Module) and hasattr(node, "reset_parameters"):
                node.reset_parameters()
            if hasattr(node, "reset_running_stats"):
                node.reset_running_stats()
        return
    from .. import initializer as init
    if isinstance(init_method, str):
        init_method = init.create(init_method)
    if not isinstance(init_method, init.Initializer):
        raise MXNetTypeError(f"reset: init_method must be an mx.init initializer or its name, "
                             f"got {type(init_method).__name__}")
    for name, tensor, kind in mxnet_names(root):
        init_tensor(init_method, name, tensor, kind)
