"""The bookkeeping half of the BigDL API: per-module state (cached activities, times,
name, line separator), times, names, printing, clearing, cloning, shapes, numeric type
and reset. :class:`mxtorch.nn.bigdl_api.BigDLAPI` adds computation and parameters."""
import copy
import uuid

import torch

from ..base import MXNetTypeError, StateError
from . import bigdl_tree as tree

__all__ = ["BigDLBookkeeping", "state"]


class _State:
    """The BigDL bookkeeping of one module (kept in its ``__dict__``)."""

    def __init__(self):
        self.name = None
        self.postfix = None
        self.forward_ns = 0
        self.backward_ns = 0
        self.output = None
        self.grad_input = None
        self.graph = None          # (input tensors, output tensors) of the last forward
        self.input_shape = None
        self.output_shape = None
        self.line = "\n"


def state(module):
    """The :class:`_State` of ``module`` (created on first use)."""
    st = module.__dict__.get("_bigdl_state")
    if st is None:
        st = module.__dict__["_bigdl_state"] = _State()
    return st


class BigDLBookkeeping:
    """Times, names, printing, copies and shapes of a BigDL module (a base of BigDLAPI)."""

    def _bigdl_like(self):
        """A parameter of the subtree (its device and dtype convert inputs), or None."""
        params = tree.subtree_params(self)
        return params[0] if params else None

    # ------------------------------------------------------------------ times
    def get_times(self):
        """``[(module, forward_ns, backward_ns)]``: each BigDL module of the subtree with
        the nanoseconds spent in its own forward/backward since construction or
        :meth:`reset_times`; a module containing others is charged its total minus theirs
        (its overhead), so the entries sum to this module's totals."""
        out = []

        def visit(node, entries):
            st = state(node)
            inner = []
            for child in _bigdl_below(node):
                visit(child, inner)
            fwd = st.forward_ns - sum(state(c).forward_ns for c in _bigdl_below(node))
            bwd = st.backward_ns - sum(state(c).backward_ns for c in _bigdl_below(node))
            entries.extend(inner)
            entries.append((node, fwd, bwd))

        visit(self, out)
        return out

    def get_times_group_by_module_type(self):
        """``[(qualified class name, forward_ns, backward_ns)]`` summed per module type,
        the largest forward+backward first."""
        sums = {}
        for node, fwd, bwd in self.get_times():
            key = f"{type(node).__module__}.{type(node).__qualname__}"
            f, b = sums.get(key, (0, 0))
            sums[key] = (f + fwd, b + bwd)
        return sorted(((k, f, b) for k, (f, b) in sums.items()), key=lambda e: -(e[1] + e[2]))

    def reset_times(self):
        """Zero the forward/backward times of the subtree; returns self."""
        for _, node in tree.walk(self):
            if tree.is_bigdl(node):
                st = state(node)
                st.forward_ns = st.backward_ns = 0
        return self

    # ------------------------------------------------------------------ names
    def set_name(self, name):
        """Name this module (used by freeze, tables, weights and graphs); returns self."""
        if not isinstance(name, str) or not name:
            raise MXNetTypeError(f"set_name: the name must be a non-empty str, got {name!r}")
        state(self).name = name
        return self

    def get_name(self):
        """The name set with :meth:`set_name`, else ``ClassName@postfix`` (a random hex
        postfix fixed on first use)."""
        st = state(self)
        if st.name is not None:
            return st.name
        if st.postfix is None:
            st.postfix = format(hash(uuid.uuid4()) & 0xFFFFFFFF, "x")
        return f"{type(self).__name__}@{st.postfix}"

    def has_name(self):
        """Whether a name was set with :meth:`set_name`."""
        return state(self).name is not None

    # ------------------------------------------------------------------ printing
    def set_line(self, line):
        """The line separator of :meth:`to_string` (nested modules add two spaces);
        returns self."""
        state(self).line = line
        return self

    def to_string(self):
        """BigDL's printable tree: ``ClassName[name]``, and for a module with children
        ``{ [input -> (1) -> (2) -> output] (1): ... }`` on lines of :meth:`set_line`."""
        line = state(self).line
        head = f"{type(self).__name__}[{self.get_name()}]"
        extra = self.extra_repr() if hasattr(self, "extra_repr") else ""
        if extra:
            head += f"({extra})"
        kids = tree.children(self)
        if not kids:
            return head
        tab = "  "
        arrows = " -> ".join(f"({i + 1})" for i in range(len(kids)))
        parts = []
        for i, (_, child) in enumerate(kids):
            if tree.is_bigdl(child):
                saved = state(child).line
                child.set_line(line + tab)
                text = child.to_string()
                child.set_line(saved)
            else:
                text = repr(child).replace("\n", line + tab)
            parts.append(f"({i + 1}): {text}")
        return (f"{head}{{{line}{tab}[input -> {arrows} -> output]{line}{tab}"
                f"{(line + tab).join(parts)}{line}}}")

    def __str__(self):
        return self.to_string()

    # ------------------------------------------------------------------ state
    def clear_state(self):
        """Drop the cached output, gradInput and recorded graph of the subtree; returns
        self."""
        for _, node in tree.walk(self):
            if tree.is_bigdl(node):
                st = state(node)
                st.output = st.grad_input = st.graph = None
        return self

    def release(self):
        """Release resources: on torch this frees the cached activities and graph (there
        is no native memory to free by hand); returns self."""
        return self.clear_state()

    def clone_module(self, deep=True):
        """A copy of this module: ``deep=True`` copies the parameters, ``deep=False``
        shares their storage (gradients and caches are separate). Names, scales and
        modes are kept; cached activities are not."""
        saved = {}
        for _, node in tree.walk(self):
            if tree.is_bigdl(node):
                st = state(node)
                saved[id(node)] = (st.output, st.grad_input, st.graph)
                st.output = st.grad_input = st.graph = None
        try:
            clone = copy.deepcopy(self)
        finally:
            for _, node in tree.walk(self):
                if id(node) in saved:
                    st = state(node)
                    st.output, st.grad_input, st.graph = saved[id(node)]
        if not deep:
            with torch.no_grad():
                for mine, theirs in zip(tree.subtree_params(self), tree.subtree_params(clone)):
                    theirs.data = mine.data
                for (_, n1), (_, n2) in zip(tree.walk(self), tree.walk(clone)):
                    for (_, b1), (_, b2) in zip(tree.own_extras(n1), tree.own_extras(n2)):
                        b2.data = b1.data
        return clone

    def get_input_shape(self):
        """The shape (batch first) of the last forward's input (a list for a Table).

        Raises
        ------
        StateError
            Before the first forward.
        """
        shape = state(self).input_shape
        if shape is None:
            raise StateError(f"get_input_shape: {self.get_name()} has not run forward yet")
        return shape

    def get_output_shape(self):
        """The shape (batch first) of the last forward's output (see get_input_shape)."""
        shape = state(self).output_shape
        if shape is None:
            raise StateError(f"get_output_shape: {self.get_name()} has not run forward yet")
        return shape

    def get_numeric_type(self):
        """The parameters' type in BigDL's words: 'float' (float32), 'double' (float64),
        else the torch dtype's name; 'float' without parameters."""
        like = self._bigdl_like()
        if like is None:
            return "float"
        return {torch.float32: "float", torch.float64: "double"}.get(
            like.dtype, str(like.dtype).replace("torch.", ""))

    def reset(self, init_method=None):
        """Re-initialize the parameters: with ``init_method`` None each module's own
        default (``reset_parameters``); else an MXNet initializer (instance or name, e.g.
        ``mx.init.Xavier()`` or 'xavier') applied by MXNet's name rules (weight, bias,
        gamma, beta; running mean 0 and var 1). Returns self."""
        from .bigdl_init import reset_subtree
        reset_subtree(self, init_method)
        return self


def _bigdl_below(node):
    """The nearest BigDL modules under ``node`` (through plain torch modules)."""
    out = []
    for _, child in tree.children(node):
        if tree.is_bigdl(child):
            out.append(child)
        else:
            out.extend(_bigdl_below(child))
    return out
