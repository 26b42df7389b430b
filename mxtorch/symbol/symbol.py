"""The Symbol graph: nodes, Variable/Group, composition of ops, naming, attributes,
list_* queries, shape/type inference and MXNet's JSON layout.

A Symbol is a list of output entries ``(node, index)``. A node is a variable
(``op is None``) or an application of a registered OpDef to input entries. Nodes are
immutable once built (except hidden attributes set through ``_set_attr``).
"""
import json
import numbers

import numpy as np
import torch

from ..base import (MXNetValueError, MXNetTypeError, MXNetKeyError, MXNetIndexError,
                    MXNetNotImplementedError, ShapeError, FormatError, np_dtype, torch_dtype,
                    DTYPE_NP_TO_MX, DTYPE_MX_TO_NP, numeric_types)
from .. import name as _name
from ..attribute import AttrScope
from .registry import (get_op, HIDDEN_KEYS, _format, OperatorNotImplementedError,
                       UnknownOperatorError)
from . import legacy_json

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "make_op_function"]

class _Node:
    __slots__ = ("op", "name", "attrs", "inputs", "in_versions", "_p", "_nout")

    def __init__(self, op, name, attrs, inputs, in_versions=None):
        self.op = op            # OpDef or None for a variable
        self.name = name
        self.attrs = attrs      # dict str -> str (op params and hidden attributes)
        self.inputs = inputs    # list of (node, output index)
        # the JSON version field of each input entry when loaded from a file (MXNet writes
        # back what it read); None: 1 for auxiliary states, 0 otherwise
        self.in_versions = in_versions
        self._p = None
        self._nout = None

    @property
    def params(self):
        """Parsed op parameters (cached)."""
        if self._p is None:
            self._p = self.op.parse_params(self.attrs)
        return self._p

    def num_outputs(self):
        """The number of outputs, hidden ones included (cached with the parameters)."""
        if self._nout is None:
            self._nout = 1 if self.op is None else self.op.num_outputs(self.params)
        return self._nout

    def num_visible(self):
        return 1 if self.op is None else self.op.num_visible(self.params)

    def output_name(self, index):
        if self.op is None:
            return self.name
        return f"{self.name}_{self.op.output_names(self.params)[index]}"

    def aux_positions(self):
        """Indices of this node's inputs that are auxiliary states."""
        if self.op is None or not self.op.aux:
            return ()
        n = len(self.inputs)
        return tuple(range(n - len(self.op.aux), n))


def _topo(entries):
    """Nodes reachable from ``entries`` in DFS post-order (inputs in order), as nnvm does."""
    order, seen = [], set()
    for head, _ in entries:
        if id(head) in seen:
            continue
        stack = [(head, iter(head.inputs))]
        seen.add(id(head))
        while stack:
            node, it = stack[-1]
            for src, _ in it:
                if id(src) not in seen:
                    seen.add(id(src))
                    stack.append((src, iter(src.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _complete(shape):
    return shape is not None and all(d > 0 for d in shape)


def _merge_shape(old, new, where):
    if new is None:
        return old
    new = tuple(int(d) for d in new)
    if old is None:
        return new
    if len(old) != len(new):
        if all(d == 0 for d in old) or not old:
            return new
        raise ShapeError(f"shape inference: {where} has inconsistent shapes {old} and {new}")
    merged = []
    for a, b in zip(old, new):
        if a and b and a != b:
            raise ShapeError(f"shape inference: {where} has inconsistent shapes {old} and {new}; "
                             "check the data shapes given to bind/infer_shape")
        merged.append(a or b)
    return tuple(merged)


def _parse_shape_attr(s):
    from .registry import _parse_shape
    return _parse_shape(s)


class Symbol:
    """A symbolic graph with one or more outputs."""
    __slots__ = ("_outputs", "_order", "_aux")
    __array_priority__ = 1000.0

    def __init__(self, outputs):
        self._outputs = list(outputs)
        self._order = self._aux = None

    # ------------------------------------------------------------------ structure
    def _topo(self):
        """The nodes in DFS post-order. A graph never changes once built (nodes keep
        their inputs; attributes do not affect the order), so it is computed once."""
        if self._order is None:
            self._order = _topo(self._outputs)
        return self._order

    @property
    def name(self):
        """The name of a single-output symbol's node (None for a group)."""
        if len(self._outputs) != 1:
            return None
        return self._outputs[0][0].name

    def __repr__(self):
        if len(self._outputs) == 1:
            return f"<Symbol {self.name}>"
        return f"<Symbol group [{', '.join(self.list_outputs())}]>"

    def __len__(self):
        return len(self._outputs)

    def __iter__(self):
        return (Symbol([e]) for e in self._outputs)

    def __getitem__(self, index):
        if isinstance(index, str):
            names = self.list_outputs()
            matches = [i for i, n in enumerate(names) if n == index]
            if not matches:
                raise MXNetValueError(f"no output named {index!r}; outputs are {names}")
            if len(matches) > 1:
                raise MXNetValueError(f"several outputs are named {index!r}")
            index = matches[0]
        if isinstance(index, slice):
            return Symbol(self._outputs[index])
        if not -len(self._outputs) <= index < len(self._outputs):
            raise MXNetIndexError(f"output index {index} out of range: the symbol has "
                                  f"{len(self._outputs)} output(s)")
        return Symbol([self._outputs[index]])

    def __copy__(self):
        return Symbol(self._outputs)

    def __deepcopy__(self, memo):
        return load_json(self.tojson())

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state):
        self._outputs = load_json(state["json"])._outputs
        self._order = self._aux = None

    def list_arguments(self):
        """Names of the non-auxiliary input variables, in graph (DFS) order."""
        aux = self._aux_ids()
        return [n.name for n in self._topo() if n.op is None and id(n) not in aux]

    def list_auxiliary_states(self):
        """Names of the auxiliary-state variables (e.g. BatchNorm moving statistics)."""
        aux = self._aux_ids()
        return [n.name for n in self._topo() if n.op is None and id(n) in aux]

    def list_inputs(self):
        """Names of all input variables (arguments and auxiliary states) in graph order."""
        return [n.name for n in self._topo() if n.op is None]

    def list_outputs(self):
        """Names of the outputs (``<node>_output`` for op outputs, the name for variables)."""
        return [node.output_name(i) for node, i in self._outputs]

    def _aux_ids(self):
        """Ids of the variables that are auxiliary states (computed once, as the order)."""
        if self._aux is None:
            self._aux = {id(n.inputs[pos][0]) for n in self._topo()
                         for pos in n.aux_positions()}
        return self._aux

    def get_internals(self):
        """A group of every visible output of every node in the graph."""
        entries = []
        for n in self._topo():
            entries.extend((n, i) for i in range(n.num_visible()))
        return Symbol(entries)

    def get_children(self):
        """The inputs of this symbol's node as a group (None for a variable)."""
        node = self._outputs[0][0]
        if not node.inputs:
            return None
        return Symbol(node.inputs)

    # ------------------------------------------------------------------ attributes
    def attr(self, key):
        """A string attribute of this symbol's node, or None."""
        node = self._outputs[0][0]
        if key in node.attrs:
            return node.attrs[key]
        if key in HIDDEN_KEYS:
            return node.attrs.get(f"__{key}__")
        return None

    def list_attr(self, recursive=False):
        """The attributes of this node (``recursive`` is deprecated, use attr_dict)."""
        if recursive:
            raise MXNetValueError("list_attr(recursive=True) is deprecated; use attr_dict()")
        node = self._outputs[0][0]
        return _with_plain_keys(node.attrs)

    def attr_dict(self):
        """``{node name: {attr: value}}`` for every node with attributes."""
        ret = {}
        for n in self._topo():
            if n.attrs:
                ret[n.name] = _with_plain_keys(n.attrs)
        return ret

    def _set_attr(self, **kwargs):
        """Set string attributes on this symbol's node(s); on an op node a key must be one
        of the op's parameters or a hidden ``__key__`` (as MXNet's MXSymbolSetAttr)."""
        attrs = {}
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise MXNetValueError(f"attribute {key} must be a string, got {value!r}")
            attrs[f"__{key}__" if key in HIDDEN_KEYS else key] = value
        for node, _ in self._outputs:
            if node.op is not None:
                node.op.check_attrs(attrs, node.name)
        for node, _ in self._outputs:
            node.attrs.update(attrs)
            node._p = node._nout = None

    # ------------------------------------------------------------------ inference
    def infer_type(self, *args, **kwargs):
        """Infer dtypes of arguments, outputs and aux states from the given ones.

        Returns ``(arg_types, out_types, aux_types)`` as numpy types, or Nones when some
        cannot be decided.
        """
        res = self._infer_type_impl(*args, **kwargs)
        arg, out, aux = res
        if any(t is None for t in arg + out + aux):
            return None, None, None
        return res

    def infer_type_partial(self, *args, **kwargs):
        return self._infer_type_impl(*args, **kwargs)

    def _infer_type_impl(self, *args, **kwargs):
        known = self._named_inputs(args, kwargs, "infer_type")
        known = {k: np_dtype(v) for k, v in known.items() if v is not None}
        nodes = self._topo()
        types_ = self._infer_types(nodes, known)
        return self._collect(nodes, types_, lambda t: None if t is None else t.type)

    def _infer_types(self, nodes, known):
        index = {id(n): i for i, n in enumerate(nodes)}
        types_ = {}
        for i, n in enumerate(nodes):
            if n.op is None:
                t = np_dtype(known[n.name]) if known.get(n.name) is not None else None
                if t is None and "__dtype__" in n.attrs:
                    t = np.dtype(DTYPE_MX_TO_NP[int(n.attrs["__dtype__"])])
                if t is not None:
                    types_[(i, 0)] = t
        ops = [(i, n, [(index[id(s)], k) for s, k in n.inputs])
               for i, n in enumerate(nodes) if n.op is not None]
        for _ in range(3):              # up to 3 passes, until nothing changes
            changed = False
            for i, n, keys in ops:
                ins = [types_.get(k) for k in keys]
                if n.op.infer_type is not None:
                    try:
                        ins, outs = n.op.infer_type(n.params, ins)
                    except (TypeError, ValueError) as e:
                        given = [None if t is None else str(np.dtype(t)) for t in ins]
                        raise MXNetTypeError(f"type inference failed at node {n.name!r} "
                                             f"({n.op.name}) with input types {given}: {e}"
                                             ) from e
                else:
                    first = next((t for t in ins if t is not None), None)
                    ins = [t if t is not None else first for t in ins]
                    outs = [first] * n.num_outputs()
                for k, t in zip(keys, ins):
                    if t is not None and types_.get(k) is None:
                        types_[k] = np.dtype(t)
                        changed = True
                for k, t in enumerate(outs):
                    old = types_.get((i, k))   # (numpy's dtype == None is True for float64)
                    if t is not None and (old is None or old != t):
                        types_[(i, k)] = np.dtype(t)
                        changed = True
            if not changed:
                break
        return types_

    def infer_shape(self, *args, **kwargs):
        """Infer shapes of arguments, outputs and aux states from the given input shapes.

        Shapes are given by position (in ``list_arguments()`` order) or by name. Returns
        ``(arg_shapes, out_shapes, aux_shapes)``; ``(None, None, None)`` when some shape
        cannot be decided (use ``infer_shape_partial`` to see which).
        """
        arg, out, aux = self._infer_shape_impl(False, args, kwargs)
        if any(not _complete(s) for s in arg + out + aux):
            return None, None, None
        return arg, out, aux

    def infer_shape_partial(self, *args, **kwargs):
        """Like infer_shape, with ``()`` (or 0 dims) for what cannot be decided."""
        arg, out, aux = self._infer_shape_impl(True, args, kwargs)
        fix = lambda lst: [() if s is None else s for s in lst]  # noqa: E731
        return fix(arg), fix(out), fix(aux)

    def _infer_shape_impl(self, partial, args, kwargs):
        known = self._named_inputs(args, kwargs, "infer_shape")
        nodes = self._topo()
        shapes, _ = self._infer_shapes(nodes, known, {})
        return self._collect(nodes, shapes, lambda s: s)

    def _named_inputs(self, args, kwargs, what):
        if args and kwargs:
            raise MXNetValueError(f"{what}: pass input information either by position or by "
                                  "name, not both")
        if args:
            names = self.list_arguments()
            if len(args) > len(names):
                raise MXNetValueError(f"{what}: {len(args)} positional values for "
                                      f"{len(names)} arguments {names}")
            return {n: v for n, v in zip(names, args) if v is not None}
        inputs = set(self.list_inputs())
        for key in kwargs:
            if key not in inputs:
                raise MXNetKeyError(f"{what}: {key!r} is not an input of this symbol; "
                                    f"inputs are {sorted(inputs)}")
        return {k: v for k, v in kwargs.items() if v is not None}

    def _collect(self, nodes, values, conv):
        index = {id(n): i for i, n in enumerate(nodes)}
        aux = self._aux_ids()
        arg_v = [conv(values.get((i, 0))) for i, n in enumerate(nodes)
                 if n.op is None and id(n) not in aux]
        aux_v = [conv(values.get((i, 0))) for i, n in enumerate(nodes)
                 if n.op is None and id(n) in aux]
        out_v = [conv(values.get((index[id(n)], k))) for n, k in self._outputs]
        return arg_v, out_v, aux_v

    def _infer_shapes(self, nodes, known, known_types):
        """Shapes (and dtypes) of every entry, keyed by (node position, output index).

        Runs the ops' shape rules to a fixed point, and torch's meta device for the
        outputs of ops without an output rule.
        """
        index = {id(n): i for i, n in enumerate(nodes)}
        types_ = self._infer_types(nodes, known_types)
        shapes = {}
        for i, n in enumerate(nodes):
            if n.op is None:
                s = known.get(n.name)
                if s is None and "__shape__" in n.attrs:
                    s = _parse_shape_attr(n.attrs["__shape__"])
                if s is not None:
                    if not isinstance(s, (tuple, list)):
                        raise MXNetTypeError(f"shape of {n.name!r} must be a tuple of ints, "
                                             f"got {type(s).__name__}")
                    shapes[(i, 0)] = tuple(int(d) for d in s)
        done = set()
        for _ in range(len(nodes) + 1):
            changed = False
            for i, n in enumerate(nodes):
                if n.op is None or i in done:
                    continue
                keys = [(index[id(s)], k) for s, k in n.inputs]
                ins = [shapes.get(k) for k in keys]
                nout = n.num_outputs()
                outs = [shapes.get((i, k)) for k in range(nout)]
                where = f"node {n.name!r} ({n.op.name})"
                new_ins, new_outs = ins, None
                if n.op.infer_shape is not None:
                    try:
                        new_ins, new_outs = n.op.infer_shape(n.params, list(ins), list(outs))
                    except ShapeError:
                        raise
                    except (ValueError, IndexError, TypeError, ZeroDivisionError) as e:
                        raise ShapeError(f"shape inference failed at {where} with input shapes "
                                         f"{ins}: {e}") from e
                if new_outs is None:
                    new_outs = outs
                    if all(_complete(s) for s in new_ins):
                        new_outs = _meta_forward(n, new_ins, [types_.get(k) for k in keys], where)
                for k, s in zip(keys, new_ins):
                    m = _merge_shape(shapes.get(k), s, where)
                    if m != shapes.get(k):
                        shapes[k] = m
                        changed = True
                for k, s in enumerate(new_outs):
                    m = _merge_shape(shapes.get((i, k)), s, where)
                    if m != shapes.get((i, k)):
                        shapes[(i, k)] = m
                        changed = True
                if all(_complete(shapes.get(k)) for k in keys) and all(
                        _complete(shapes.get((i, k))) for k in range(nout)):
                    done.add(i)
            if not changed:
                break
        return shapes, types_

    # ------------------------------------------------------------------ JSON
    def tojson(self, remove_amp_cast=True):
        """The graph in MXNet's JSON layout (nodes, arg_nodes, node_row_ptr, heads, attrs)."""
        nodes = self._topo()
        index = {id(n): i for i, n in enumerate(nodes)}
        jnodes, row_ptr = [], [0]
        for n in nodes:
            jn = {"op": "null" if n.op is None else n.op.name, "name": n.name}
            if n.attrs:
                jn["attrs"] = dict(sorted(n.attrs.items()))
            versions = n.in_versions
            if versions is None:
                auxpos = set(n.aux_positions())
                versions = [1 if p in auxpos else 0 for p in range(len(n.inputs))]
            jn["inputs"] = [[index[id(s)], k, v] for (s, k), v in zip(n.inputs, versions)]
            jnodes.append(jn)
            row_ptr.append(row_ptr[-1] + n.num_outputs())
        doc = {"nodes": jnodes,
               "arg_nodes": [i for i, n in enumerate(nodes) if n.op is None],
               "node_row_ptr": row_ptr,
               "heads": [[index[id(n)], k, 0] for n, k in self._outputs],
               "attrs": {"mxnet_version": ["int", legacy_json.CURRENT_VERSION]}}
        return _dump_json(doc)

    def save(self, fname, remove_amp_cast=True):
        """Write ``tojson()`` to ``fname`` (atomically)."""
        from ..util.atomic import atomic_write
        atomic_write(fname, self.tojson().encode("utf-8"))

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, other, op, scalar_op, hint, scalar_hint):
        if isinstance(other, Symbol):
            return _create(op, [self, other], {}, hint=hint)
        if isinstance(other, numeric_types):
            return _create(scalar_op, [self], {"scalar": other}, hint=scalar_hint)
        raise MXNetTypeError(f"unsupported operand type {type(other).__name__} for a Symbol; "
                             "use a Symbol or a number")

    def __add__(self, o): return self._binary(o, "elemwise_add", "_plus_scalar", "_plus", "_plusscalar")
    def __radd__(self, o): return self.__add__(o)
    def __sub__(self, o): return self._binary(o, "elemwise_sub", "_minus_scalar", "_minus", "_minusscalar")
    def __rsub__(self, o): return self._binary(o, None, "_rminus_scalar", None, "_rminusscalar")
    def __mul__(self, o): return self._binary(o, "elemwise_mul", "_mul_scalar", "_mul", "_mulscalar")
    def __rmul__(self, o): return self.__mul__(o)
    def __truediv__(self, o): return self._binary(o, "elemwise_div", "_div_scalar", "_div", "_divscalar")
    def __rtruediv__(self, o): return self._binary(o, None, "_rdiv_scalar", None, "_rdivscalar")
    def __neg__(self): return self.__mul__(-1.0)
    def __pow__(self, o): return self._binary(o, "_power", "_power_scalar", "_power", "_powerscalar")
    def __rpow__(self, o): return self._binary(o, None, "_rpower_scalar", None, "_rpower_scalar")
    def __mod__(self, o): return self._binary(o, "_mod", "_mod_scalar", "_mod", "_modscalar")
    def __rmod__(self, o): return self._binary(o, None, "_rmod_scalar", None, "_rmodscalar")
    def __abs__(self): return _create("abs", [self], {}, hint="abs")

    # comparisons build graph nodes, as in MXNet: a Symbol is unhashable and has no truth
    # value (``sym in list`` raises)
    def _compare(self, other, op):
        return self._binary(other, op, op + "_scalar", op, op + "_scalar")

    def __eq__(self, o): return self._compare(o, "_equal")
    def __ne__(self, o): return self._compare(o, "_not_equal")
    def __gt__(self, o): return self._compare(o, "_greater")
    def __ge__(self, o): return self._compare(o, "_greater_equal")
    def __lt__(self, o): return self._compare(o, "_lesser")
    def __le__(self, o): return self._compare(o, "_lesser_equal")
    __hash__ = None

    def __bool__(self):
        raise MXNetNotImplementedError(
            "Function __bool__ (namely operator \"bool\") is not implemented for Symbol and "
            "only available in NDArray; a comparison of symbols is a graph node, not a value")

    # ------------------------------------------------------------------ binding
    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None,
                    group2ctx=None, shared_arg_names=None, shared_exec=None,
                    shared_buffer=None, **kwargs):
        """Bind with arrays allocated from the given input shapes (see Executor)."""
        from ..executor import Executor
        return Executor.simple_bind(self, ctx, grad_req=grad_req, type_dict=type_dict,
                                    shared_exec=shared_exec, shapes=kwargs,
                                    shared_arg_names=shared_arg_names,
                                    shared_buffer=shared_buffer, group2ctx=group2ctx,
                                    stype_dict=stype_dict)

    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None,
             group2ctx=None, shared_exec=None):
        """Bind to given argument (and gradient / aux) arrays (see Executor)."""
        from ..executor import Executor
        return Executor(self, ctx, args, args_grad, grad_req, aux_states, group2ctx=group2ctx)

    def eval(self, ctx=None, **kwargs):
        """Evaluate with the given input arrays; returns the list of outputs."""
        from ..context import current_context
        ex = self.bind(ctx or current_context(), kwargs, grad_req="null")
        return ex.forward()


def _with_plain_keys(attrs):
    ret = dict(attrs)
    for key in HIDDEN_KEYS:
        if f"__{key}__" in attrs:
            ret[key] = attrs[f"__{key}__"]
    return ret


def _meta_forward(node, shapes, dtypes, where):
    """Output shapes of ``node`` by running its forward on torch's meta device."""
    ins = [torch.empty(s, dtype=torch_dtype(t if t is not None else np.float32), device="meta")
           for s, t in zip(shapes, dtypes)]
    try:
        out = node.op.forward(node.params, False, *ins)
    except (RuntimeError, ValueError, IndexError, TypeError) as e:
        raise ShapeError(f"{where} cannot take input shapes {shapes}: {e}") from e
    if isinstance(out, torch.Tensor):
        out = (out,)
    return [tuple(o.shape) for o in out]


# ---------------------------------------------------------------------- JSON writer
def _dump_json(obj, indent=0):
    """JSON in the layout dmlc's writer gives MXNet files (objects with more than one key
    and arrays with more than ten items on several lines)."""
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(obj, dict):
        items = [f"{json.dumps(k)}: {_dump_json(v, indent + 1)}" for k, v in obj.items()]
        if len(items) <= 1:
            return "{" + ", ".join(items) + "}"
        return "{\n" + ", \n".join(pad + it for it in items) + "\n" + end + "}"
    if isinstance(obj, list):
        items = [_dump_json(v, indent + 1) for v in obj]
        if len(items) <= 10 and not any(isinstance(v, dict) for v in obj):
            return "[" + ", ".join(items) + "]"
        return "[\n" + ", \n".join(pad + it for it in items) + "\n" + end + "]"
    return json.dumps(obj)


def load_json(json_str):
    """A Symbol from MXNet's symbol JSON, written by any MXNet version (0.8 to 1.9).

    Files of older versions are upgraded as MXNet 1.9.1 does (see legacy_json), so
    ``load_json(old).tojson()`` is what MXNet 1.9.1 writes after loading the same file.

    Raises
    ------
    FormatError
        The text is not a symbol JSON document, or a node has an unknown or invalid
        attribute.
    UnknownOperatorError
        A node's op is not an MXNet operator (a ValueError; the message suggests names).
    OperatorNotImplementedError
        A node uses an MXNet operator that mxtorch does not implement.
    """
    records, heads, version = legacy_json.read_document(json_str)
    nodes = []
    for rec in records:
        inputs = [(nodes[i], k) for i, k, _ in rec["inputs"]]
        versions = [v for _, _, v in rec["inputs"]]
        nodes.append(_Node(_json_op(rec), rec["name"], rec["attrs"], inputs, versions))
    outputs = [(nodes[i], k) for i, k, _ in heads]
    graph = _topo(outputs)
    try:
        legacy_json.upgrade(graph, version, lambda name, attrs: _Node(None, name, attrs, [], []))
        for n in graph:
            if n.op is not None:
                legacy_json.check_attributes(n, version)
                n._p = legacy_json.node_params(n)  # a bad attribute names its node at load
    except MXNetValueError as e:
        raise FormatError(f"symbol JSON (format of MXNet {legacy_json.version_text(version)}): "
                          f"{e}") from e
    for n in graph:
        _check_entries(f"node {n.name!r}", n.inputs, "input")
        need = n.op.input_names(n.params) + list(n.op.aux) if n.op is not None else []
        if len(n.inputs) != len(need):
            raise FormatError(f"symbol JSON: node {n.name!r} ({n.op.name}) has "
                              f"{len(n.inputs)} inputs, but the op takes {len(need)} {need}")
    _check_entries("heads", outputs, "entry")
    return Symbol(outputs)


def _json_op(rec):
    """The OpDef of a JSON node record (None for a variable)."""
    if rec["op"] == "null":
        return None
    try:
        return get_op(rec["op"])
    except OperatorNotImplementedError as e:
        raise OperatorNotImplementedError(f"symbol JSON: node {rec['name']!r}: {e}") from None
    except UnknownOperatorError as e:
        raise UnknownOperatorError(f"symbol JSON: node {rec['name']!r}: {e}") from None


def _check_entries(where, entries, what):
    for node, k in entries:
        if k >= node.num_outputs():
            raise FormatError(f"symbol JSON: {where}: {what} [{node.name!r}, {k}] asks for "
                              f"output {k} of a node with {node.num_outputs()} output(s)")


def load(fname):
    """Load a symbol from an MXNet ``-symbol.json`` file (see load_json; a file that is not
    UTF-8 text raises FormatError)."""
    with open(fname, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{fname}: not a symbol JSON file (not UTF-8 text: {e})") from e
    return load_json(text)


# ---------------------------------------------------------------------- creation
def Variable(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None,
             stype=None, **kwargs):
    """A symbolic input variable.

    Parameters
    ----------
    name : str
    attr : dict of str to str, optional
    shape : tuple, optional
        Stored as ``__shape__`` and used by shape inference.
    lr_mult, wd_mult : float, optional
    dtype : dtype, optional
    init : Initializer or str, optional
        This variable's own initializer (``__init__``); it wins over name rules.
    stype : str, optional
    kwargs : further attributes; names must start and end with double underscores.
    """
    if not isinstance(name, str):
        raise MXNetTypeError("Expect a string for variable `name`")
    attrs = AttrScope.current().get(attr)
    attrs = {f"__{k}__" if k in HIDDEN_KEYS else k: _format(v) for k, v in attrs.items()}
    if shape is not None:
        # MXNet writes str(shape): an int (``shape=(1)``) stays "1"
        attrs["__shape__"] = str(int(shape)) if isinstance(shape, numbers.Integral) \
            else str(tuple(shape))
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attrs["__dtype__"] = str(DTYPE_NP_TO_MX[np_dtype(dtype)])
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        codes = {"default": 0, "row_sparse": 1, "csr": 2}
        if stype not in codes:
            raise MXNetValueError(f"unknown stype {stype!r}; use 'default', 'row_sparse' or 'csr'")
        attrs["__storage_type__"] = str(codes[stype])
    for key, value in kwargs.items():
        if key.startswith("__") and key.endswith("__"):
            attrs[key] = _format(value)
        else:
            raise MXNetValueError(f"Attribute name={key} is not supported. Additional attributes "
                                  "must start and end with double underscores, e.g. __yourattr__")
    return Symbol([(_Node(None, name, attrs, []), 0)])


var = Variable


def Group(symbols):
    """One symbol whose outputs are the outputs of ``symbols`` in order."""
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise MXNetTypeError("Expected a non-empty list of symbols as input")
    outputs = []
    for s in symbols:
        outputs.extend(s._outputs)
    return Symbol(outputs)


def _entry(value, opname, argname):
    if not isinstance(value, Symbol):
        raise MXNetTypeError(f"{opname}: input '{argname}' must be a Symbol, got "
                             f"{type(value).__name__}")
    if len(value._outputs) != 1:
        raise MXNetValueError(f"{opname}: input '{argname}' is a group of {len(value._outputs)} "
                              "outputs; pick one with sym[i]")
    return value._outputs[0]


def _create(opname, args, kwargs, hint=None, name=None, attr=None):
    """Apply a registered op to symbols; creates missing inputs as variables."""
    op = get_op(opname)
    sym_kwargs = {k: v for k, v in kwargs.items() if isinstance(v, Symbol)}
    other = {k: v for k, v in kwargs.items() if not isinstance(v, Symbol)}
    if not op.variadic:  # as MXNet's signatures: input symbols, then parameters in order
        first = next((i for i, a in enumerate(args) if not isinstance(a, Symbol)), len(args))
        args, extra = args[:first], args[first:]
        if extra and not args and not sym_kwargs and op._inputs:
            first_input = "data" if callable(op._inputs) else op._inputs[0]
            _entry(extra[0], opname, first_input)  # a non-symbol where the input belongs
        for key, value in zip(op.params, extra):
            if key in other:
                raise MXNetTypeError(f"{opname}: got multiple values for parameter '{key}'")
            other[key] = value
        if len(extra) > len(op.params):
            raise MXNetTypeError(f"{opname}: too many positional arguments")
    if op.variadic:
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = list(args[0])
        other.setdefault(op.variadic, len(args))
    params, hidden = op.split_kwargs(other)
    p = op.parse_params(params)
    names = op.input_names(p)
    if len(args) > len(names):
        raise MXNetTypeError(f"{opname}: {len(args)} positional inputs given, but it takes "
                             f"{len(names)} ({names})")
    for key in sym_kwargs:
        if key not in names and key not in op.aux:
            raise MXNetTypeError(f"{opname}: unknown input '{key}'; inputs are "
                                 f"{names + list(op.aux)}")
    scope_attrs = AttrScope.current().get(attr)
    attrs = {f"__{k}__" if k in HIDDEN_KEYS else k: _format(v) for k, v in scope_attrs.items()}
    attrs.update(hidden)
    attrs.update(params)
    op.check_attrs(attrs, name or opname)
    name = _name.current().get(name, hint or op.hint)
    inputs = []
    for i, iname in enumerate(list(names) + list(op.aux)):
        if i < len(args):
            inputs.append(_entry(args[i], opname, iname))
        elif iname in sym_kwargs:
            inputs.append(_entry(sym_kwargs[iname], opname, iname))
        else:
            inputs.append((_Node(None, f"{name}_{iname}", dict(attrs), []), 0))
    op.set_input_var_attrs(p, inputs)
    node = _Node(op, name, attrs, inputs)
    node._p = p
    nvis = node.num_visible()
    return Symbol([(node, i) for i in range(nvis)])


def make_op_function(opname, hint=None):
    """The ``mx.sym.<Op>`` creation function of a registered op."""
    op = get_op(opname)

    def creator(*args, name=None, attr=None, **kwargs):
        return _create(opname, args, kwargs, hint=hint, name=name, attr=attr)

    creator.__name__ = opname
    creator.__doc__ = (f"Symbolic {op.name}: inputs {list(op._inputs) if not callable(op._inputs) else '...'}"
                       f", parameters {sorted(op.params)}.")
    return creator
