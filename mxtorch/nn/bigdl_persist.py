"""Saving and loading BigDL modules without pickle.

``save_module`` writes one safetensors file: the tensors (every parameter and running
statistic, keyed by path) and, in its metadata, a JSON definition of the tree (class
paths, constructor arguments, names, scales, children added after construction, graph
wiring). ``load_module`` rebuilds only classes under ``mxtorch.nn`` or in an explicit
allow-list, so a file cannot run code. ``save_weights``/``load_weights`` keep BigDL's
table ``layer name -> weight, bias``; ``copy_weights`` serves them and
``load_model_weights``.
"""
import importlib
import json
import os

import numpy as np
import torch

from ..base import FormatError, MXNetTypeError, MXNetValueError
from ..util.atomic import atomic_write
from . import bigdl_tree as tree
from .bigdl_bookkeeping import state as _state

__all__ = ["save_module", "load_module", "save_weights", "load_weights", "copy_weights",
           "state_tensors"]

_META_KEY = "mxtorch.bigdl.module"
_FORMAT = 1


def _check_target(path, over_write, call):
    path = os.fspath(path)
    if os.path.exists(path) and not over_write:
        raise MXNetValueError(f"{call}: {path} already exists! Pass over_write=True to "
                              "replace it")
    return path


def _class_path(obj):
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


# ---------------------------------------------------------------------- definition
def _encode(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, where) for k, v in value.items()}}
    if tree.is_bigdl(value) or isinstance(value, torch.nn.Module):
        if not _buildable(value):
            raise MXNetTypeError(f"save_module: the constructor argument {type(value).__name__} "
                                 f"of {where} cannot be saved: its constructor arguments are "
                                 "unknown (a plain torch module); use a BigDL layer, or build it "
                                 "in the constructor of a BigDLAPI class")
        return {"__module__": _definition(value, where)}
    raise MXNetTypeError(f"save_module: the constructor argument {value!r} of {where} cannot "
                         "be saved (only numbers, strings, lists, tuples, dicts and modules)")


def _buildable(node):
    """Whether a definition can construct ``node`` (its constructor call was recorded, or
    its class rebuilds itself)."""
    return ("_bigdl_ctor" in node.__dict__
            or getattr(type(node), "_bigdl_rebuild", None) is not None)


def _definition(node, where="the root"):
    """The JSON-able definition of ``node`` and its subtree."""
    d = {"class": _class_path(node)}
    if tree.is_bigdl(node):
        st = _state(node)
        node.get_name()                       # fixes the default postfix
        d["name"], d["postfix"] = st.name, st.postfix
        d["training"] = node.is_training()
    scales = [node.__dict__.get(k) for k in (tree.SCALE_W, tree.SCALE_B, tree.CACHE_W,
                                              tree.CACHE_B)]
    if any(s is not None for s in scales):
        d["scales"] = scales
    kids = tree.children(node)
    rebuild = getattr(type(node), "_bigdl_rebuild", None)
    if rebuild is not None:
        d["graph"] = node._bigdl_definition()
        d["layers"] = [_definition(c, f"{where}/{n}") for n, c in kids]
        return d
    ctor = node.__dict__.get("_bigdl_ctor")
    if ctor is not None:
        d["args"] = _encode(list(ctor[0]), type(node).__name__)
        d["kwargs"] = _encode(dict(ctor[1]), type(node).__name__)
    made = set(node.__dict__.get("_bigdl_ctor_children", ()))
    d["children"] = []
    for name, child in kids:
        if ctor is None or name in made:
            d["children"].append([name, False, _definition(child, f"{where}/{name}")])
        elif not _buildable(child):
            raise MXNetTypeError(f"save_module: {where}/{name} ({type(child).__name__}) was "
                                 "added after construction and its constructor arguments are "
                                 "unknown; use a BigDL layer, or create it in the constructor "
                                 "of a BigDLAPI class")
        else:
            d["children"].append([name, True, _definition(child, f"{where}/{name}")])
    return d


def _resolve(path, allowed):
    classes = {f"{a.__module__}.{a.__qualname__}": a for a in allowed if isinstance(a, type)}
    if path in classes:
        return classes[path]
    if not (path.startswith("mxtorch.nn.") or path in allowed):
        raise MXNetValueError(f"load_module: the file asks for class {path}, which is not "
                              "under mxtorch.nn; pass it in allowed_classes=[...] if you trust "
                              "the file")
    module_name, _, qualname = path.rpartition(".")
    while module_name:
        try:
            obj = importlib.import_module(module_name)
            break
        except ImportError:
            module_name, _, head = module_name.rpartition(".")
            qualname = f"{head}.{qualname}"
    else:
        raise FormatError(f"load_module: cannot import the module of class {path}")
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise FormatError(f"load_module: class {path} does not exist")
    if not isinstance(obj, type):
        raise FormatError(f"load_module: {path} is not a class")
    return obj


def _decode(value, allowed):
    if isinstance(value, list):
        return [_decode(v, allowed) for v in value]
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_decode(v, allowed) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: _decode(v, allowed) for k, v in value["__dict__"].items()}
        if "__module__" in value:
            return _build(value["__module__"], allowed)
        raise FormatError(f"load_module: unknown encoded value {value!r}")
    return value


def _build(d, allowed):
    cls = _resolve(d["class"], allowed)
    if "graph" in d:
        node = cls._bigdl_rebuild([_build(c, allowed) for c in d["layers"]], d["graph"])
    elif "args" in d:
        node = cls(*_decode(d["args"], allowed), **_decode(d["kwargs"], allowed))
    else:
        raise FormatError(f"load_module: {d['class']} has no constructor arguments saved")
    _apply(node, d, allowed)
    return node


def _apply(node, d, allowed):
    """Set the saved names, scales and modes on ``node`` (already constructed) and build
    the children added after its construction."""
    if d["class"] != _class_path(node):
        raise FormatError(f"load_module: the file has {d['class']} where the constructor "
                          f"made {_class_path(node)}")
    if "scales" in d:
        for key, value in zip((tree.SCALE_W, tree.SCALE_B, tree.CACHE_W, tree.CACHE_B),
                              d["scales"]):
            if value is not None:
                node.__dict__[key] = value
    if tree.is_bigdl(node):
        if d.get("name"):
            node.set_name(d["name"])
        _state(node).postfix = d.get("postfix")
        node.set_training(d.get("training", True))
    if "graph" in d:
        for (_, child), cd in zip(tree.children(node), d["layers"]):
            _apply(child, cd, allowed)
        return
    existing = dict(tree.children(node))
    for name, added, cd in d.get("children", []):
        if added:
            _attach(node, name, _build(cd, allowed))
        elif name in existing:
            _apply(existing[name], cd, allowed)
        else:
            raise FormatError(f"load_module: the constructor of {d['class']} made no child "
                              f"{name!r}")


def _attach(node, name, child):
    hook = getattr(node, "_bigdl_attach", None)
    if hook is not None:
        hook(name, child)
    elif isinstance(node, torch.nn.Module):
        node.add_module(name, child)
    else:
        setattr(node, name, child)


# ---------------------------------------------------------------------- tensors
def state_tensors(root, params=True):
    """``{path.name: tensor}`` of every parameter (unless ``params`` is False) and running
    statistic, each once, in module order (each module's own order inside)."""
    out, seen = {}, set()
    for path, node in tree.walk(root):
        for name, t, extra in tree.own_state(node):
            if id(t) in seen or not (params or extra):
                continue
            seen.add(id(t))
            out[f"{path}.{name}" if path else name] = t
    return out


def _create_lazy(root, tensors, extras, order):
    """Create the parameters an nnabla-style module makes on its first call (absent after
    construction) from the file's tensors, in the module's own scope and saved order."""
    mine = state_tensors(root)
    nodes = dict(tree.walk(root))
    for key in [k for k in order if k in tensors] + sorted(set(tensors) - set(order)):
        if key in mine:
            continue
        for path, node in sorted(nodes.items(), key=lambda item: -len(item[0])):
            prefix = f"{path}." if path else ""
            if key.startswith(prefix) and tree.is_nnabla(node):
                from .parameter import get_parameter_or_create, parameter_scope
                value = tensors[key].numpy()
                with parameter_scope("", node.parameter_scope):
                    get_parameter_or_create(key[len(prefix):], value.shape, value,
                                            need_grad=key not in extras)
                break


def _write(path, tensors, metadata):
    from safetensors.torch import save
    data = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    atomic_write(path, save(data, metadata=metadata))


def _read(path, call):
    from safetensors import safe_open
    try:
        with safe_open(os.fspath(path), framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, f.metadata() or {}
    except FileNotFoundError:
        raise
    except Exception as e:
        raise FormatError(f"{call}: {path} is not a safetensors file written by mxtorch "
                          f"({type(e).__name__}: {e})") from e


def save_module(module, path, weight_path=None, over_write=False):
    """Write ``module`` (definition and weights) to ``path`` as a safetensors file; with
    ``weight_path`` the weights go there and ``path`` holds only the definition. Clears
    the cached state first, as BigDL does. Returns the module.

    Raises
    ------
    MXNetValueError
        A target exists and ``over_write`` is False ("<file> already exists!").
    MXNetTypeError
        A part of the tree cannot be described (the message names it).
    """
    path = _check_target(path, over_write, "save_module")
    if weight_path is not None:
        weight_path = _check_target(weight_path, over_write, "save_module")
    module.clear_state()
    tensors = state_tensors(module)
    extras = sorted(state_tensors(module, params=False))
    meta = {_META_KEY: json.dumps({"format": _FORMAT, "root": _definition(module),
                                   "extras": extras, "order": list(tensors)})}
    if weight_path is None:
        _write(path, tensors, meta)
    else:
        _write(weight_path, tensors, {_META_KEY + ".weights": str(_FORMAT)})
        _write(path, {}, meta)
    return module


def load_module(path, weight_path=None, allowed_classes=()):
    """Rebuild a module written by :func:`save_module`.

    Parameters
    ----------
    path : str
    weight_path : str, optional
        Where the weights are, when they were saved apart.
    allowed_classes : sequence of class or 'module.QualName'
        Classes outside ``mxtorch.nn`` that the file may construct.

    Raises
    ------
    FormatError
        Not such a file, or its tensors do not fit the rebuilt module.
    MXNetValueError
        The file asks for a class that is not allowed.
    """
    tensors, meta = _read(path, "load_module")
    if _META_KEY not in meta:
        raise FormatError(f"load_module: {path} holds no module definition (was it written "
                          "by save_weights? use load_weights)")
    spec = json.loads(meta[_META_KEY])
    if spec.get("format") != _FORMAT:
        raise FormatError(f"load_module: {path} has format {spec.get('format')}, this "
                          f"version reads {_FORMAT}")
    if weight_path is not None:
        tensors, _ = _read(weight_path, "load_module")
    module = _build(spec["root"], tuple(allowed_classes))
    _create_lazy(module, tensors, set(spec.get("extras", ())), spec.get("order", []))
    mine = state_tensors(module)
    if set(mine) != set(tensors):
        raise FormatError(f"load_module: the weights do not fit the module: missing "
                          f"{sorted(set(mine) - set(tensors))}, unexpected "
                          f"{sorted(set(tensors) - set(mine))}")
    with torch.no_grad():
        for k, t in mine.items():
            if tuple(t.shape) != tuple(tensors[k].shape):
                raise FormatError(f"load_module: {k} has shape {tuple(tensors[k].shape)} in "
                                  f"the file, the module needs {tuple(t.shape)}")
            t.copy_(tensors[k])
    return module


def save_weights(module, path, over_write=False):
    """Save each layer's 'weight' and 'bias' (only those, as BigDL) as
    ``<layer name>/weight`` in a safetensors file. Returns the module.

    Raises
    ------
    MXNetValueError
        The file exists and ``over_write`` is False.
    """
    path = _check_target(path, over_write, "save_weights")
    tensors = {f"{layer}/{key}": t for layer, entry in (module.get_parameters_table() or
                                                        {}).items()
               for key, t in entry.items() if key in ("weight", "bias")}
    _write(path, tensors, {_META_KEY + ".weights_table": str(_FORMAT)})
    return module


def load_weights(module, path, match_all=True):
    """Copy the weights of :func:`save_weights`'s file into ``module`` by layer name
    (see :func:`copy_weights`); returns the module."""
    tensors, _ = _read(path, "load_weights")
    table = {}
    for key, t in tensors.items():
        layer, _, name = key.rpartition("/")
        table.setdefault(layer, {})[name] = t
    copy_weights(module, table, match_all, "load_weights")
    return module


def copy_weights(module, source, match_all, call):
    """Copy 'weight' and 'bias' of each layer of ``module`` from ``source`` (layer name ->
    {'weight', 'bias'}). Everything is checked before anything is copied.

    Raises
    ------
    MXNetValueError
        With ``match_all``, a layer of ``module`` missing from ``source`` (BigDL means to
        raise here but its code drops the exception); a shape that differs.
    """
    targets = module.get_parameters_table() or {}
    pairs = []
    missing = []
    for layer, entry in targets.items():
        src = source.get(layer)
        keys = [k for k in ("weight", "bias") if k in entry]
        if not keys:
            continue
        if src is None:
            missing.append(layer)
            continue
        for key in keys:
            if key not in src:
                if match_all:
                    raise MXNetValueError(f"{call}: layer {layer} has no {key} in the source")
                continue
            value = src[key].detach()
            if tuple(value.shape) != tuple(entry[key].shape):
                raise MXNetValueError(f"{call}: {layer}/{key} has shape "
                                      f"{tuple(entry[key].shape)}, the source "
                                      f"{tuple(value.shape)}")
            pairs.append((entry[key], value))
    if missing and match_all:
        raise MXNetValueError(f"{call}: no weights for layers {missing} (the source has "
                              f"{sorted(source)}); name the layers alike with set_name, or "
                              "pass match_all=False")
    with torch.no_grad():
        for dst, value in pairs:
            dst.copy_(value.to(dst))
