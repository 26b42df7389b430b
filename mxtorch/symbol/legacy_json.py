"""Reading symbol JSON written by any MXNet version, and the upgrade of old graphs.

``read_document`` checks the layout of a ``-symbol.json`` document (nnvm's JSON graph:
``nodes``, ``arg_nodes``, ``heads``, optional ``node_row_ptr`` and ``attrs``) and returns
plain records. ``upgrade`` then brings a graph written by an older MXNet to the 1.9.1
graph, as MXNet's LoadLegacyJSON pass does (src/nnvm/legacy_json_util.cc), by the
``mxnet_version`` stored in the file (0.8.0 when missing):

- before 1.9.1: keys named like hidden attributes (``lr_mult``, ``ctx_group``, ...) become
  ``__lr_mult__``; ``<input>_lr_mult`` on an op moves to that input variable (where MXNet
  knows the op's input names);
- before 0.9.0: auxiliary states were not stored; they are added as variables
  ``<node>_<input>`` carrying the node's attributes;
- before 0.9.4: variables get the attributes their op sets on compose (BatchNorm's moving
  statistics get their ``__init__``);
- before 0.9.5: ``argmax``/``argmin`` with ``axis=-1`` lose the axis (it now means None).

``check_attributes`` then refuses the keys MXNet's parameter parsers refuse. The per-op
facts these rules need (which ops have no parser, no input names, a legacy parser) were
measured on MXNet 1.9.1 and live in mxnet_op_names. Building the Symbol from the records
is symbol.py's job; this file knows the formats.
"""
import json
import logging

from ..base import FormatError, MXNetValueError
from . import mxnet_op_names
from .registry import HIDDEN_KEYS

__all__ = ["CURRENT_VERSION", "read_document", "upgrade", "check_attributes", "node_params",
           "version_text"]

CURRENT_VERSION = 10901          # MXNet 1.9.1, as MXNET_VERSION writes it
_DEFAULT_VERSION = 800           # a file without mxnet_version is from MXNet 0.8.0

_GRAPH_KEYS = ("nodes", "arg_nodes", "node_row_ptr", "heads", "attrs")
_NODE_KEYS = ("op", "name", "inputs", "attrs", "attr", "param", "control_deps", "subgraphs",
              "backward_source_id")

_log = logging.getLogger(__name__)


def version_text(v):
    """``10901`` -> ``"v1.9.1"``."""
    return f"v{v // 10000}.{v // 100 % 100}.{v % 100}"


# ---------------------------------------------------------------------- reading
def _entry(value, where, num_nodes):
    """``[node, index]`` or ``[node, index, version]`` -> a tuple of three ints."""
    if (not isinstance(value, list) or len(value) not in (2, 3)
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in value)):
        raise FormatError(f"symbol JSON: {where} must be [node, output] or "
                          f"[node, output, version] of ints, got {value!r}")
    node_id, index = value[0], value[1]
    version = value[2] if len(value) == 3 else 0
    if not 0 <= node_id < num_nodes or index < 0:
        raise FormatError(f"symbol JSON: {where} refers to node {node_id} output {index}, "
                          f"but the file has {num_nodes} nodes")
    return node_id, index, version


def _str_dict(value, where):
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise FormatError(f"symbol JSON: {where} must map strings to strings, got {value!r}")
    return dict(value)


def _node_attrs(jn, where):
    """A node's attribute dict as nnvm reads it: ``attrs`` and ``attr`` fill the same map
    (the later key in the file replaces the earlier one), then ``param`` (MXNet 0.8) adds
    the keys they lack."""
    attrs = {}
    for key, value in jn.items():
        if key in ("attrs", "attr"):
            attrs = _str_dict(value, f"{where} {key!r}")
    for key, value in _str_dict(jn.get("param", {}), f"{where} 'param'").items():
        attrs.setdefault(key, value)
    return attrs


def _graph_version(doc):
    attrs = doc.get("attrs", {})
    if not isinstance(attrs, dict):
        raise FormatError(f"symbol JSON: 'attrs' must be an object, got {attrs!r}")
    if "mxnet_version" not in attrs:
        return _DEFAULT_VERSION
    v = attrs["mxnet_version"]
    if (not isinstance(v, list) or len(v) != 2 or v[0] != "int" or not isinstance(v[1], int)
            or isinstance(v[1], bool)):
        raise FormatError(f"symbol JSON: 'mxnet_version' must be [\"int\", <version>] (e.g. "
                          f"[\"int\", 10901] for 1.9.1), got {v!r}")
    return v[1]


def read_document(json_str):
    """Check the layout of a symbol JSON document and return its parts.

    Returns
    -------
    records : list of dict
        One per node in file order: ``op`` (``'null'`` for a variable), ``name``, ``attrs``
        (str -> str) and ``inputs`` (``(node, output, version)`` tuples, each node before
        the nodes that use it).
    heads : list of (node, output, version)
    version : int
        The writer's MXNet version (major*10000 + minor*100 + patch).

    Raises
    ------
    FormatError
        Not JSON, or not in the layout of an MXNet symbol file; the message says where.
    """
    try:
        doc = json.loads(json_str)
    except (TypeError, ValueError) as e:
        raise FormatError(f"symbol JSON: not a JSON document ({e})") from e
    if not isinstance(doc, dict):
        raise FormatError("symbol JSON: expected an object with 'nodes', 'arg_nodes' and "
                          f"'heads', got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(_GRAPH_KEYS))
    missing = [k for k in ("nodes", "arg_nodes", "heads") if k not in doc]
    if unknown or missing:
        problem = f"unknown keys {unknown}" if unknown else f"missing keys {missing}"
        raise FormatError(f"symbol JSON: {problem}; an MXNet symbol file has the keys "
                          f"{list(_GRAPH_KEYS)} (node_row_ptr and attrs optional)")
    jnodes = doc["nodes"]
    if not isinstance(jnodes, list) or not all(isinstance(jn, dict) for jn in jnodes):
        raise FormatError("symbol JSON: 'nodes' must be a list of objects")
    records = []
    for i, jn in enumerate(jnodes):
        where = f"node {i}"
        bad = sorted(set(jn) - set(_NODE_KEYS))
        if bad or not all(k in jn for k in ("op", "name", "inputs")):
            raise FormatError(f"symbol JSON: {where} has keys {sorted(jn)}; a node needs 'op', "
                              f"'name' and 'inputs' and may only have {list(_NODE_KEYS)}")
        if not isinstance(jn["op"], str) or not isinstance(jn["name"], str):
            raise FormatError(f"symbol JSON: {where}: 'op' and 'name' must be strings")
        where = f"node {i} ({jn['name']!r})"
        if not isinstance(jn["inputs"], list):
            raise FormatError(f"symbol JSON: {where}: 'inputs' must be a list")
        inputs = [_entry(e, f"{where} input {k}", len(jnodes))
                  for k, e in enumerate(jn["inputs"])]
        for src, _, _ in inputs:
            if src >= i:
                raise FormatError(f"symbol JSON: {where} uses node {src}, which does not come "
                                  "before it; nodes must be in topological order")
        if jn["op"] == "null" and inputs:
            raise FormatError(f"symbol JSON: {where} is a variable ('op': 'null') with inputs")
        records.append({"op": jn["op"], "name": jn["name"], "attrs": _node_attrs(jn, where),
                        "inputs": inputs})
    arg_nodes = doc["arg_nodes"]
    if not isinstance(arg_nodes, list) or not all(
            isinstance(a, int) and 0 <= a < len(records) and records[a]["op"] == "null"
            for a in arg_nodes):
        raise FormatError(f"symbol JSON: 'arg_nodes' must list indices of variable nodes, got "
                          f"{arg_nodes!r}")
    if not isinstance(doc["heads"], list):
        raise FormatError("symbol JSON: 'heads' must be a list of [node, output, version]")
    heads = [_entry(h, f"head {k}", len(records)) for k, h in enumerate(doc["heads"])]
    return records, heads, _graph_version(doc)


# ---------------------------------------------------------------------- upgrade
def node_params(node, attrs=None):
    """The parsed parameters of an op node (of ``attrs`` when given); a bad or missing
    parameter raises MXNetValueError naming the node."""
    try:
        return node.op.parse_params(node.attrs if attrs is None else attrs)
    except MXNetValueError as e:
        raise MXNetValueError(f"node {node.name!r}: {e}") from e


def _hidden_match(key):
    """How MXNet's upgrader reads an attribute key: ``(hidden, None)`` for ``lr_mult``,
    ``(hidden, input name)`` for ``weight_lr_mult``, None for any other key."""
    for hidden in HIDDEN_KEYS:
        pos = key.rfind(hidden)
        if pos == 0 and len(key) == len(hidden):
            return hidden, None
        if pos > 1 and pos == len(key) - len(hidden):
            return hidden, key[:pos - 1]
    return None


def _looks_hidden(key):
    """Whether MXNet's upgrader sets ``key`` aside while it parses (it starts or ends with
    a hidden key: ``lr_mult_x``, ``weight_lr_mult``, ``xlr_mult``)."""
    for hidden in HIDDEN_KEYS:
        pos = key.rfind(hidden)
        if pos == 0 or (pos > 0 and pos == len(key) - len(hidden)):
            return True
    return False


def _fix_hidden_keys(node):
    """``lr_mult`` -> ``__lr_mult__``; ``<input>_lr_mult`` on an op -> ``__lr_mult__`` on
    that input when it is a variable and MXNet knows the op's input names (FListInputNames;
    MXNet's UpgradeJSON_FixParsing). Other keys stay."""
    matches = {k: m for k, m in ((k, _hidden_match(k)) for k in node.attrs) if m}
    if not matches:
        return
    plain = {k: v for k, v in node.attrs.items() if k not in matches}
    names = None
    if node.op is not None and node.op.name not in mxnet_op_names.NO_INPUT_NAMES_OPS:
        names = node.op.input_names(node_params(node, plain)) + list(node.op.aux)
    for key, (hidden, input_name) in matches.items():
        value = node.attrs[key]
        if input_name is None:
            plain[f"__{hidden}__"] = value
            continue
        idx = names.index(input_name) if names and input_name in names else len(node.inputs)
        if idx < len(node.inputs) and node.inputs[idx][0].op is None:
            node.inputs[idx][0].attrs[f"__{hidden}__"] = value
        else:
            plain[key] = value
    node.attrs.clear()
    node.attrs.update(plain)


def _add_missing_inputs(node, make_variable):
    """Add the inputs (auxiliary states) MXNet < 0.9 did not store (UpgradeJSON_000800_000900)."""
    names = node.op.input_names(node_params(node)) + list(node.op.aux)
    for name in names[len(node.inputs):]:
        var = make_variable(f"{node.name}_{name}", dict(node.attrs))
        node.inputs.append((var, 0))
        node.in_versions.append(0)


def check_attributes(node, version):
    """Refuse the attribute keys of an op node that MXNet 1.9.1's parser refuses (after
    ``upgrade``): unknown keys, except on ops without a parser and, in a file older than
    1.9.1, the ``lr_mult``-like keys legacy ops keep (their parser runs once, while the
    upgrade has set those keys aside)."""
    attrs = node.attrs
    if version < CURRENT_VERSION and node.op.name in mxnet_op_names.KEEPS_HIDDEN_KEY_OPS:
        attrs = {k: v for k, v in attrs.items() if not _looks_hidden(k)}
    node.op.check_attrs(attrs, node.name, loading=True)


def upgrade(nodes, version, make_variable):
    """Upgrade a graph written by MXNet ``version`` to the 1.9.1 graph, in place.

    Parameters
    ----------
    nodes : list of node
        The graph's nodes reachable from its heads, in DFS post-order. A node has ``op``
        (OpDef or None), ``name``, ``attrs`` (a mutable dict), ``inputs`` (a mutable list of
        ``(node, output)``) and ``in_versions`` (a mutable list of ints).
    version : int
        The ``mxnet_version`` of the file.
    make_variable : callable(name, attrs) -> node
        Creates a variable node (for the auxiliary states of files before 0.9.0).
    """
    if version > CURRENT_VERSION:
        _log.info("loading a symbol saved by MXNet %s with mxtorch, which follows MXNet "
                  "v1.9.1; this may not work", version_text(version))
        return
    if version == CURRENT_VERSION:
        return
    _log.info("Loading symbol saved by previous version %s. Attempting to upgrade...",
              version_text(version))
    ops = [n for n in nodes if n.op is not None]
    for n in nodes:
        _fix_hidden_keys(n)
    if version < 900:
        for n in ops:
            _add_missing_inputs(n, make_variable)
    if version < 904:
        for n in ops:
            n.op.set_input_var_attrs(node_params(n), n.inputs)
    if version < 905:
        for n in ops:
            if n.op.name in ("argmax", "argmin") and n.attrs.get("axis") == "-1":
                del n.attrs["axis"]
    _log.info("Symbol successfully upgraded!")
