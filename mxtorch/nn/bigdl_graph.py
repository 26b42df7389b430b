"""Graph building (BigDL's ``module.inputs(nodes)``, ``Input()`` and ``Graph``/``Model``):
a DAG of modules run in topological order, backward in reverse with the gradients of
a node's several consumers summed.

Owns Node, Input and Model; the modules in it keep their own forward/backward, times
and caches.
"""
from ..base import MXNetTypeError, MXNetValueError
from .bigdl_layers import Container, Identity, as_layer

__all__ = ["Node", "Input", "Model"]


class Node:
    """A module in a graph with its predecessors.

    Parameters
    ----------
    module : BigDL module (a plain torch module is wrapped)
    prev : sequence of Node or (Node, index)
        ``index`` (1-based) selects one tensor of a predecessor's Table output.
    """

    def __init__(self, module, prev=()):
        self.module = as_layer(module)
        self.prev = []
        for p in prev:
            node, index = (p if isinstance(p, tuple) else (p, None))
            if not isinstance(node, Node):
                raise MXNetTypeError(f"inputs(): expected graph nodes (from module.inputs() or "
                                     f"Input()), got {type(node).__name__}")
            if index is not None and (not isinstance(index, int) or index < 1):
                raise MXNetValueError(f"inputs(): the output index of a Table is 1-based, got "
                                      f"{index!r}")
            self.prev.append((node, index))

    @property
    def element(self):
        """The module of this node."""
        return self.module


def Input(name=None):
    """A start node of a graph (an Identity module), optionally named."""
    layer = Identity()
    if name is not None:
        layer.set_name(name)
    return Node(layer)


def _list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class Model(Container):
    """A graph of modules from its input node(s) to its output node(s) (BigDL's Graph;
    Python's ``Model``). Several inputs or outputs are lists, in node order.

    Parameters
    ----------
    inputs : Node or list of Node
        Start nodes (``Input()`` or ``module.inputs()``).
    outputs : Node or list of Node

    Raises
    ------
    MXNetValueError
        An output that does not depend on the inputs only, an input that is not a start
        node, or a module used by two nodes (use ``clone_module(deep=False)`` to share
        its weights).
    """

    def __init__(self, inputs, outputs):
        super().__init__()
        inputs, outputs = _list(inputs), _list(outputs)
        order, seen = [], set()

        def visit(node, stack):
            if id(node) in seen:
                return
            if id(node) in stack:
                raise MXNetValueError(
                    f"Model: the graph has a cycle through {node.module.get_name()!r}: a node "
                    "is among its own inputs; build each node from earlier ones with "
                    "module.inputs(...)")
            stack.add(id(node))
            for p, _ in node.prev:
                visit(p, stack)
            stack.discard(id(node))
            seen.add(id(node))
            order.append(node)

        for out in outputs:
            if not isinstance(out, Node):
                raise MXNetTypeError(f"Model: outputs must be graph nodes, got "
                                     f"{type(out).__name__}")
            visit(out, set())
        for node in inputs:
            if not isinstance(node, Node) or node.prev:
                raise MXNetValueError("Model: each input must be a start node (Input() or "
                                      "module.inputs() with no argument)")
        index = {id(n): i for i, n in enumerate(order)}
        for node in order:
            if not node.prev and id(node) not in {id(i) for i in inputs}:
                raise MXNetValueError(f"Model: node {node.module.get_name()} has no input and "
                                      "is not one of the model's inputs")
        missing = [n.module.get_name() for n in inputs if id(n) not in index]
        if missing:
            raise MXNetValueError(f"Model: inputs {missing} do not lead to any output")
        modules = [n.module for n in order]
        if len({id(m) for m in modules}) != len(modules):
            raise MXNetValueError("Model: a module is used by two nodes; give each node its "
                                  "own module (clone_module(deep=False) shares the weights)")
        for node in order:
            self.add(node.module)
        # the wiring by positions: per node [(prev position, index)], inputs, outputs
        self._wiring = [[(index[id(p)], i) for p, i in n.prev] for n in order]
        self._input_pos = [index[id(n)] for n in inputs]
        self._output_pos = [index[id(n)] for n in outputs]
        self._node_inputs = None

    def node(self, name):
        """The module named ``name``.

        Raises
        ------
        MXNetValueError
            When no module has that name.
        """
        for layer in self.layers:
            if layer.get_name() == name:
                return layer
        raise MXNetValueError(f"Model.node: no module named {name!r}; the names are "
                              f"{[layer.get_name() for layer in self.layers]}")

    def _gather(self, outputs, i, model_inputs):
        if i in self._input_pos:
            return model_inputs[self._input_pos.index(i)]
        acts = [outputs[j] if idx is None else _list(outputs[j])[idx - 1]
                for j, idx in self._wiring[i]]
        return acts[0] if len(acts) == 1 else acts

    def update_output(self, input):
        model_inputs = [input] if len(self._input_pos) == 1 else _list(input)
        if len(model_inputs) != len(self._input_pos):
            raise MXNetValueError(f"Model: {len(self._input_pos)} inputs expected, got "
                                  f"{len(model_inputs)}")
        outputs, node_inputs = [], []
        for i, layer in enumerate(self.layers):
            x = self._gather(outputs, i, model_inputs)
            node_inputs.append(x)
            outputs.append(layer.forward(x))
        self._node_inputs = node_inputs
        outs = [outputs[i] for i in self._output_pos]
        return outs[0] if len(outs) == 1 else outs

    def _bigdl_backward(self, input, grad_output):
        if self._node_inputs is None:
            from ..base import StateError
            raise StateError("Model.backward: call forward(input) first")
        layers = self.layers
        grads = [None] * len(layers)
        for pos, g in zip(self._output_pos, _list(grad_output) if len(self._output_pos) > 1
                          else [grad_output]):
            grads[pos] = _add(grads[pos], g)
        input_grads = [None] * len(self._input_pos)
        for i in range(len(layers) - 1, -1, -1):
            if grads[i] is None:
                continue
            gi = layers[i].backward(self._node_inputs[i], grads[i])
            if i in self._input_pos:
                input_grads[self._input_pos.index(i)] = gi
                continue
            wiring = self._wiring[i]
            parts = [gi] if len(wiring) == 1 else _list(gi)
            for (j, idx), g in zip(wiring, parts):
                if idx is not None:
                    full = [None] * len(_list(layers[j].output))
                    full[idx - 1] = g
                    g = full
                grads[j] = _add(grads[j], g)
        return input_grads[0] if len(input_grads) == 1 else input_grads

    def _bigdl_definition(self):
        return {"wiring": self._wiring, "inputs": self._input_pos, "outputs": self._output_pos}

    @classmethod
    def _bigdl_rebuild(cls, layers, extra):
        """A Model of ``layers`` (in stored order) wired by ``extra`` (see
        ``_bigdl_definition``); used by load_module."""
        nodes = []
        for layer, wiring in zip(layers, extra["wiring"]):
            nodes.append(Node(layer, [(nodes[j], idx) if idx is not None else nodes[j]
                                      for j, idx in wiring]))
        return cls([nodes[i] for i in extra["inputs"]], [nodes[i] for i in extra["outputs"]])


def _add(acc, g):
    """Sum of gradients (None is zero; Tables add element-wise, None entries are zero)."""
    if acc is None:
        return g
    if g is None:
        return acc
    if isinstance(acc, list):
        return [_add(a, b) for a, b in zip(acc, _list(g))]
    return acc + g
