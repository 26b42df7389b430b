"""``mx.viz``: print_summary (MXNet's layer table) and plot_network (graphviz).

Both read the graph from the symbol's JSON (``tojson``), as MXNet 1.9.1 does, and keep
its output character for character and node for node, quirks included (see the notes in
``print_summary``), so scripts and docs written against MXNet show the same thing.
"""
import copy
import json
import re
import warnings

from .base import MXNetTypeError, MXNetValueError, OptionalDependencyError
from .symbol import Symbol

__all__ = ["print_summary", "plot_network"]

# plot_network's node colours, as MXNet's colour map (ColorBrewer Set3)
_COLORS = ("#8dd3c7", "#fb8072", "#ffffb3", "#bebada", "#80b1d3", "#fdb462", "#b3de69",
           "#fccde5")
_WEIGHT_SUFFIXES = ("_weight", "_bias", "_beta", "_gamma", "_moving_var", "_moving_mean",
                    "_running_var", "_running_mean")


def _str2tuple(string):
    """The digits of a shape attribute such as ``'(5, 5)'``, as strings."""
    return re.findall(r"\d+", string)


def _output_shapes(symbol, kwargs, what, caller):
    """``{output name: shape or dtype}`` of every internal output, inferred from
    ``kwargs`` (``what`` is 'shape' or 'type')."""
    internals = symbol.get_internals()
    infer = internals.infer_shape if what == "shape" else internals.infer_type
    _, outs, _ = infer(**kwargs)
    if outs is None:
        raise MXNetValueError(f"{caller}: Input {what} is incomplete: the {what}s "
                              f"{kwargs} do not determine every output; give the {what} of "
                              f"each data input (arguments: {symbol.list_arguments()})")
    return dict(zip(internals.list_outputs(), outs))


def _check_symbol(symbol, caller):
    if not isinstance(symbol, Symbol):
        raise MXNetTypeError(f"{caller}: symbol must be an mx.sym.Symbol, got "
                             f"{type(symbol).__name__}")


def _layer_params(node, pre_filter, shape_dict):
    """The parameter count MXNet's print_summary gives a node: from its attributes and the
    channels of its inputs (``pre_filter``); only Convolution, FullyConnected, BatchNorm
    (2 x channels, when shapes are known) and Embedding count."""
    op, attrs = node["op"], node.get("attrs", {})
    if op == "Convolution":
        count = pre_filter * int(attrs["num_filter"]) // int(attrs.get("num_group", "1"))
        for k in _str2tuple(attrs["kernel"]):
            count *= int(k)
        if attrs.get("no_bias") != "True":
            count += int(attrs["num_filter"])
        return count
    if op == "FullyConnected":
        if attrs.get("no_bias") == "True":
            return pre_filter * int(attrs["num_hidden"])
        return (pre_filter + 1) * int(attrs["num_hidden"])
    if op == "BatchNorm":
        if shape_dict is None:
            return 0
        return int(shape_dict[node["name"] + "_output"][1]) * 2
    if op == "Embedding":
        return int(attrs["input_dim"]) * int(attrs["output_dim"])
    return 0


def print_summary(symbol, shape=None, line_length=120, positions=[.44, .64, .74, 1.]):  # noqa: B006 (MXNet's signature)
    """Print a table of the layers: name (type), output shape, parameter count and the
    previous layers, then the total, as MXNet 1.9.1 prints it.

    Parameters
    ----------
    symbol : Symbol
    shape : dict of str to tuple, optional
        Input shapes (``{'data': (1, 3, 224, 224)}``). Without them output shapes are
        left blank and the counts that need input channels are 0.
    line_length : int, default 120
        Width of the table.
    positions : list of float or int, default [.44, .64, .74, 1.]
        Right edges of the four columns, as fractions of ``line_length`` (when the last
        is at most 1) or as character positions.

    Notes
    -----
    MXNet's quirks are kept so the table is the same: parameter counts come from the
    node attributes and from the channels (dim 1) of the inputs whose shapes are known,
    and only Convolution, FullyConnected, BatchNorm and Embedding count (so a Deconvolution
    shows 0). A variable is listed as a "previous layer" only when its node id appears in
    the first head entry of the JSON (normally node 0, the data).

    Raises
    ------
    MXNetTypeError
        ``symbol`` is not a Symbol.
    MXNetValueError
        ``shape`` does not determine every output shape, or ``positions`` has not four
        entries.
    """
    _check_symbol(symbol, "print_summary")
    if len(positions) != 4:
        raise MXNetValueError(f"print_summary: positions needs 4 column edges (name, shape, "
                              f"params, previous layer), got {list(positions)}")
    shape_dict = _output_shapes(symbol, shape, "shape", "print_summary") \
        if shape is not None else None
    conf = json.loads(symbol.tojson())
    nodes = conf["nodes"]
    # MXNet takes the set of the *values* of the first head entry [node, index, version]
    heads = set(conf["heads"][0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def print_row(fields):
        line = ""
        for field, end in zip(fields, positions):
            line += str(field)
            line = line[:end]
            line += " " * (end - len(line))
        print(line)

    def known_shape(key):
        return shape_dict[key][1:] if shape_dict is not None and key in shape_dict else None

    def print_layer(node, out_shape):
        pre_node, pre_filter = [], 0
        if node["op"] != "null":
            for item in node["inputs"]:
                input_node = nodes[item[0]]
                if input_node["op"] != "null" or item[0] in heads:
                    pre_node.append(input_node["name"])
                    suffix = "_output" if input_node["op"] != "null" else ""
                    in_shape = known_shape(input_node["name"] + suffix)
                    if in_shape is not None:
                        pre_filter += int(in_shape[0])
        count = _layer_params(node, pre_filter, shape_dict)
        print_row([f"{node['name']}({node['op']})", "x".join(str(x) for x in out_shape),
                   count, pre_node[0] if pre_node else ""])
        for name in pre_node[1:]:
            print_row(["", "", "", name])
        return count

    print("_" * line_length)
    print_row(["Layer (type)", "Output Shape", "Param #", "Previous Layer"])
    print("=" * line_length)
    total_params = 0
    for i, node in enumerate(nodes):
        if node["op"] == "null" and i > 0:
            continue
        out_shape = []
        if node["op"] != "null" or i in heads:
            suffix = "_output" if node["op"] != "null" else ""
            out_shape = known_shape(node["name"] + suffix) or []
        total_params += print_layer(node, out_shape)
        print(("=" if i == len(nodes) - 1 else "_") * line_length)
    print(f"Total params: {total_params}")
    print("_" * line_length)


def _node_style(node, base_attr):
    """``(label, attributes)`` of an op node in plot_network, as MXNet draws it."""
    op, attrs = node["op"], node.get("attrs", {})
    attr = copy.deepcopy(base_attr)
    label = node["name"]
    if op in ("Convolution", "FullyConnected"):
        if op == "Convolution":
            stride = "x".join(_str2tuple(attrs["stride"])) if "stride" in attrs else "1"
            label = (f"Convolution\n{'x'.join(_str2tuple(attrs['kernel']))}/{stride}, "
                     f"{attrs['num_filter']}")
        else:
            label = f"FullyConnected\n{attrs['num_hidden']}"
        attr["fillcolor"] = _COLORS[1]
    elif op == "BatchNorm":
        attr["fillcolor"] = _COLORS[3]
    elif op in ("Activation", "LeakyReLU"):
        act = attrs["act_type"] if op == "Activation" else attrs.get("act_type", "Leaky")
        label = f"{op}\n{act}"
        attr["fillcolor"] = _COLORS[2]
    elif op == "Pooling":
        kernel = "x".join(_str2tuple(attrs["kernel"])) if "kernel" in attrs else "[]"
        stride = "x".join(_str2tuple(attrs["stride"])) if "stride" in attrs else "1"
        label = f"Pooling\n{attrs['pool_type']}, {kernel}/{stride}"
        attr["fillcolor"] = _COLORS[4]
    elif op in ("Concat", "Flatten", "Reshape"):
        attr["fillcolor"] = _COLORS[5]
    elif op == "Softmax":
        attr["fillcolor"] = _COLORS[6]
    else:
        attr["fillcolor"] = _COLORS[7]
        if op == "Custom":
            label = attrs["op_type"]
    return label, attr


def _edge_key(input_node):
    """The internal output name MXNet labels an edge with: a variable's name, or
    ``<node>_output`` (with the last index for ops given ``num_outputs``)."""
    if input_node["op"] == "null":
        return input_node["name"]
    key = input_node["name"] + "_output"
    if "num_outputs" in input_node.get("attrs", {}):
        key += str(int(input_node["attrs"]["num_outputs"]) - 1)
    return key


def plot_network(symbol, title="plot", save_format="pdf", shape=None, dtype=None,  # noqa: B006
                 node_attrs={}, hide_weights=True):
    """A graphviz ``Digraph`` of the graph, drawn as MXNet 1.9.1 draws it: one box per op
    (coloured by kind, labelled with kernel/stride/filters, hidden units, activation or
    pooling), ovals for the inputs, edges from each node to its inputs labelled with the
    tensor shape (and dtype) when ``shape`` (and ``dtype``) are given.

    Parameters
    ----------
    symbol : Symbol
    title : str, default 'plot'
        The graph's name (and the rendered file's name).
    save_format : str, default 'pdf'
        The format ``render()`` writes ('svg', 'png', 'pdf', ...).
    shape : dict of str to tuple, optional
        Input shapes; edges then show the shapes (batch dim left out).
    dtype : dict of str to numpy dtype, optional
        Input dtypes; edges then show the dtype after the shape.
    node_attrs : dict, optional
        Graphviz node attributes overriding the defaults (box 1.3 x 0.8034, filled).
    hide_weights : bool, default True
        Leave out the inputs named like weights (``*_weight``, ``*_bias``, ``*_gamma``,
        ``*_beta``, ``*_moving_mean``/``var``, ``*_running_mean``/``var``); when False
        their edges point to blank nodes, as in MXNet.

    Returns
    -------
    graphviz.Digraph
        ``.source`` is the DOT text; ``.render()`` writes the file, which needs the
        graphviz ``dot`` program (graphviz raises ``ExecutableNotFound`` without it).

    Raises
    ------
    OptionalDependencyError
        The graphviz Python package is not installed (``pip install graphviz``); an
        ImportError.
    MXNetTypeError
        ``symbol`` is not a Symbol.
    MXNetValueError
        ``shape``/``dtype`` do not determine every output.
    """
    try:
        from graphviz import Digraph
    except ImportError as e:
        raise OptionalDependencyError(
            "Draw network requires graphviz library: pip install graphviz (and the graphviz "
            "'dot' program to render files)") from e
    _check_symbol(symbol, "plot_network")
    shape_dict = _output_shapes(symbol, shape, "shape", "plot_network") \
        if shape is not None else None
    type_dict = _output_shapes(symbol, dtype, "type", "plot_network") \
        if dtype is not None else None
    nodes = json.loads(symbol.tojson())["nodes"]
    names = [node["name"] for node in nodes]
    if len(names) != len(set(names)):
        seen = set()
        repeated = set(n for n in names if n in seen or seen.add(n))
        warnings.warn("There are multiple variables with the same name in your graph, this "
                      "may result in cyclic graph. Repeated names: " + ",".join(repeated),
                      RuntimeWarning, stacklevel=2)
    base_attr = {"shape": "box", "fixedsize": "true", "width": "1.3", "height": "0.8034",
                 "style": "filled"}
    base_attr.update(node_attrs)
    dot = Digraph(name=title, format=save_format)
    hidden = set()
    for node in nodes:
        if node["op"] == "null":
            if node["name"].endswith(_WEIGHT_SUFFIXES):
                if hide_weights:
                    hidden.add(node["name"])
                continue  # not drawn; its edges (hide_weights=False) make a blank node
            attr = copy.deepcopy(base_attr)
            attr["shape"] = "oval"
            attr["fillcolor"] = _COLORS[0]
            label = node["name"]
        else:
            label, attr = _node_style(node, base_attr)
        dot.node(name=node["name"], label=label, **attr)
    for node in nodes:
        if node["op"] == "null":
            continue
        inputs = node["inputs"][:1] if node["op"] == "_contrib_BilinearResize2D" \
            else node["inputs"]
        for item in inputs:
            input_node = nodes[item[0]]
            if input_node["name"] in hidden:
                continue
            attr = {"dir": "back", "arrowtail": "open", "label": ""}
            key = _edge_key(input_node)
            if shape_dict is not None:
                attr["label"] = "x".join(str(x) for x in shape_dict[key][1:])
            if type_dict is not None:
                attr["label"] += "(" + type_dict[key].__name__ + ")"
            dot.edge(tail_name=node["name"], head_name=input_node["name"], **attr)
    return dot
