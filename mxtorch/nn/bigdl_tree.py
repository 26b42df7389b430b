"""A uniform view of a module tree for the BigDL API: children, own parameters, own extra
parameters (running statistics), names and gradient scales of any node.

A node is a :class:`~mxtorch.nn.bigdl_api.BigDLAPI` module, a plain ``torch.nn.Module``,
or any object with the hooks below. This file owns that protocol and the BigDL
naming of parameters; the mixin (bigdl_api.py) builds the public calls on it.

Hooks a node may define (a ``torch.nn.Module`` needs none of them):

``_bigdl_children()``
    ``[(name, child), ...]`` of its direct submodules, in order.
``_bigdl_own_params()``
    ``[(name, tensor), ...]`` of the trainable parameters it owns itself (leaf tensors).
``_bigdl_own_extras()``
    ``[(name, tensor), ...]`` of its other state (running mean/var).

An :class:`mxtorch.nn.Module` (nnabla's) needs none either: its documented internals
(``submodules``, ``parameter_scope`` of Variables with ``need_grad``) are read here,
its gradients live in ``Variable.grad``.
"""
import torch

__all__ = ["Slot", "is_nnabla", "children", "own_params", "own_extras", "walk", "is_bigdl",
           "node_name", "scale_of", "set_scale", "param_keys", "is_bias", "subtree_params",
           "slots", "find", "own_state"]

#: scale attributes kept in a node's ``__dict__`` (any node, BigDL or plain torch)
SCALE_W, SCALE_B = "_bigdl_scale_w", "_bigdl_scale_b"
CACHE_W, CACHE_B = "_bigdl_scale_w_cache", "_bigdl_scale_b_cache"


def is_bigdl(node):
    """Whether ``node`` carries the BigDL API (the mixin sets ``_bigdl_api = True``)."""
    return bool(getattr(type(node), "_bigdl_api", False))


def is_nnabla(node):
    """Whether ``node`` is an nnabla-style :class:`mxtorch.nn.Module` (not torch)."""
    return (not isinstance(node, torch.nn.Module) and hasattr(type(node), "parameter_scope")
            and hasattr(type(node), "submodules"))


def _nnabla_vars(node, need_grad):
    from .parameter import flatten_scope
    return [(k, v) for k, v in flatten_scope(node.parameter_scope) if v.need_grad == need_grad]


def children(node):
    """``[(name, child)]`` of ``node``'s direct submodules."""
    hook = getattr(node, "_bigdl_children", None)
    if hook is not None:
        return list(hook())
    if isinstance(node, torch.nn.Module):
        return list(node.named_children())
    if is_nnabla(node):
        return list(node.submodules.items())
    return []


def _own_vars(node):
    """``[(name, tensor, variable or None)]`` of the parameters ``node`` owns."""
    hook = getattr(node, "_bigdl_own_params", None)
    if hook is not None:
        return [(n, t, None) for n, t in hook()]
    if isinstance(node, torch.nn.Module):
        return [(n, p, None) for n, p in node.named_parameters(recurse=False)]
    if is_nnabla(node):
        return [(n, v.data.tensor, v) for n, v in _nnabla_vars(node, True)]
    return []


def own_params(node):
    """``[(name, tensor)]`` of the parameters ``node`` owns (not its children's)."""
    return [(n, t) for n, t, _ in _own_vars(node)]


def own_extras(node):
    """``[(name, tensor)]`` of ``node``'s own floating-point state besides parameters."""
    hook = getattr(node, "_bigdl_own_extras", None)
    if hook is not None:
        return list(hook())
    if isinstance(node, torch.nn.Module):
        return [(n, b) for n, b in node.named_buffers(recurse=False)
                if b is not None and b.is_floating_point()]
    if is_nnabla(node):
        return [(n, v.data.tensor) for n, v in _nnabla_vars(node, False)]
    return []


def own_state(node):
    """``[(name, tensor, is_extra)]`` of ``node``'s parameters and extra state in its own
    order (an nnabla module's creation order; a torch module's parameters, then buffers)."""
    if is_nnabla(node) and getattr(node, "_bigdl_own_params", None) is None:
        from .parameter import flatten_scope
        return [(k, v.data.tensor, not v.need_grad) for k, v in
                flatten_scope(node.parameter_scope)]
    return ([(n, t, False) for n, t in own_params(node)] +
            [(n, t, True) for n, t in own_extras(node)])


class Slot:
    """A parameter and where its gradient lives: ``tensor.grad`` for torch, the
    Variable's ``grad`` for nnabla. ``scale`` is its gradient scale."""

    __slots__ = ("weight", "var", "scale")

    def __init__(self, weight, var, scale):
        self.weight, self.var, self.scale = weight, var, scale

    @property
    def grad(self):
        """The gradient tensor (allocated as zeros when missing)."""
        if self.var is not None:
            return self.var.grad.tensor
        if self.weight.grad is None:
            self.weight.grad = torch.zeros_like(self.weight)
        return self.weight.grad

    @property
    def target(self):
        """The tensor autograd differentiates against: the parameter itself for torch;
        for an nnabla Variable the requires-grad alias its graph reads (valid after a
        forward with gradients enabled)."""
        return self.var._input_tensor() if self.var is not None else self.weight

    def has_grad(self):
        return self.var is not None or self.weight.grad is not None

    def zero(self):
        with torch.no_grad():
            if self.var is not None:
                self.var.grad.zero()
            else:
                self.grad.detach_().zero_()

    def add(self, g, alpha=1.0):
        """``grad += alpha * g``."""
        with torch.no_grad():
            if self.var is not None:
                self.var.grad.accumulate(g * alpha if alpha != 1 else g)
            else:
                self.grad.add_(g.to(self.weight.dtype), alpha=alpha)


def walk(node, prefix=""):
    """``[(path, node)]`` of ``node`` and its descendants, depth-first, each node once
    (paths joined with '.', the root's is ``prefix``)."""
    out, seen = [], set()

    def visit(n, path):
        if id(n) in seen:
            return
        seen.add(id(n))
        out.append((path, n))
        for name, child in children(n):
            visit(child, f"{path}.{name}" if path else name)

    visit(node, prefix)
    return out


def node_name(node, path):
    """BigDL's name of a node: ``get_name()`` for a BigDL module, else its path in the
    tree (its class name at the root)."""
    if is_bigdl(node):
        return node.get_name()
    return path or type(node).__name__


def is_bias(name, index, count):
    """Whether the ``index``-th of ``count`` own parameters is a bias (scaled by scale_b):
    named 'bias' or 'b', or the second of exactly two (BigDL's convention)."""
    leaf = name.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
    return leaf in ("bias", "b") or (count == 2 and index == 1 and leaf not in ("weight", "W"))


def param_keys(count):
    """BigDL's ``(weight key, gradient key)`` per parameter of a module with ``count``:
    weight/gradWeight, then bias/gradBias; with more than two weightN/gradientN."""
    if count == 1:
        return [("weight", "gradWeight")]
    if count == 2:
        return [("weight", "gradWeight"), ("bias", "gradBias")]
    return [(f"weight{i}", f"gradient{i}") for i in range(count)]


def scale_of(node, bias):
    """The gradient scale of ``node``'s weights (``bias=False``) or biases."""
    return node.__dict__.get(SCALE_B if bias else SCALE_W, 1.0)


def set_scale(node, bias, value):
    node.__dict__[SCALE_B if bias else SCALE_W] = float(value)


def slots(node):
    """A :class:`Slot` per parameter of the subtree, each once, in module order."""
    out, seen = [], set()
    for _, n in walk(node):
        params = _own_vars(n)
        for i, (name, p, var) in enumerate(params):
            if id(p) in seen:
                continue
            seen.add(id(p))
            out.append(Slot(p, var, scale_of(n, is_bias(name, i, len(params)))))
    return out


def subtree_params(node):
    """Every parameter tensor of the subtree, each once, in module order."""
    return [s.weight for s in slots(node)]


def find(root, name):
    """The node of the subtree named ``name`` (BigDL name or path), or None.

    Raises
    ------
    MXNetValueError
        When several modules have that name.
    """
    from ..base import MXNetValueError
    hits = [n for path, n in walk(root) if node_name(n, path) == name
            or (path and path == name)]
    if len(hits) > 1:
        raise MXNetValueError(f"find module: {len(hits)} modules are named {name!r}; give "
                              "them distinct names with set_name()")
    return hits[0] if hits else None
