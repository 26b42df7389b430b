"""Optimizer states as bytes without pickle: ``Updater.states`` (and optionally the
optimizer) in MXNet's ``.params`` container, one array per state leaf; and the reverse,
also from real MXNet ``.states`` pickles read by the restricted unpickler; and
:func:`to_mxnet_states`, which writes MXNet 1.9's pickle layout (writing runs no code
on our side; MXNet reads it with ``Updater.set_states``).

Key layout (one entry per leaf of each index's state)::

    i<int index> or s<url-quoted str index>   the index
    /<position>                               one level of a tuple (repeatable)
    =none  /  =empty                          a None leaf / an empty tuple (0-size array)

plus ``__mxtorch_optimizer_states__``: a uint8 array holding UTF-8 JSON
``{"format": ..., "version": 1, "optimizer": {"class": ..., "state": {...}}}`` (the
optimizer part only with ``dump_optimizer=True``), where an NDArray held by an
optimizer attribute is ``{"__ndarray__": "o<n>"}``, stored as array ``o<n>``.
"""
import json
from urllib.parse import quote, unquote

import numpy as np
import torch

from ..base import FormatError, MXNetError, MXNetTypeError, MXNetValueError, integer_types
from ..ndarray import serialize
from ..ndarray.ndarray import NDArray
from ..ndarray.pickle_compat import PickledObject, dumps_mxnet_pickle, loads_mxnet_pickle
from .. import lr_scheduler as _lrs
from .optimizer import Optimizer

__all__ = ["dumps_states", "loads_states", "to_mxnet_states", "HEADER_KEY"]

HEADER_KEY = "__mxtorch_optimizer_states__"
_OPT_ARRAY = "o"        # key prefix of arrays held by optimizer attributes
_FORMAT = "mxtorch.optimizer.states"
# optimizer attributes that are caches or live objects: never written, never restored
_SKIP_ATTRS = {"param_dict", "_mult_cache", "_mult_key", "_mult_epoch"}


def _placeholder():
    return NDArray(torch.zeros((0,), dtype=torch.uint8))


def _index_key(idx):
    if isinstance(idx, bool) or not isinstance(idx, (integer_types, str)):
        raise MXNetValueError(f"get_states: state index {idx!r} is neither an int nor a str")
    return f"i{int(idx)}" if not isinstance(idx, str) else "s" + quote(idx, safe="")


def _flatten(prefix, state, out):
    if state is None:
        out[prefix + "=none"] = _placeholder()
    elif isinstance(state, NDArray):
        out[prefix] = state
    elif isinstance(state, (tuple, list)):
        if not state:
            out[prefix + "=empty"] = _placeholder()
        for pos, sub in enumerate(state):
            _flatten(f"{prefix}/{pos}", sub, out)
    else:
        raise MXNetValueError(f"get_states: a state holds a {type(state).__name__}; states "
                              "are None, NDArrays and tuples of them")


# ----------------------------------------------------------------------------- JSON values
def _enc(v, arrays):
    """A JSON value for an attribute; NDArrays inside it (e.g. LBSGD's accumulated
    gradients) go to ``arrays`` under ``o<n>`` keys and are referenced by key."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (integer_types, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, tuple):
        return {"__tuple__": [_enc(x, arrays) for x in v]}
    if isinstance(v, list):
        return [_enc(x, arrays) for x in v]
    if isinstance(v, dict):
        return {"__dict__": [[_enc(k, arrays), _enc(x, arrays)] for k, x in v.items()]}
    if isinstance(v, _lrs.LRScheduler):
        return {"__scheduler__": type(v).__name__, "state": _enc(dict(vars(v)), arrays)}
    if isinstance(v, NDArray):
        key = f"{_OPT_ARRAY}{len(arrays)}"
        arrays[key] = v
        return {"__ndarray__": key}
    raise TypeError(type(v).__name__)


def _dec(v, arrays):
    if isinstance(v, list):
        return [_dec(x, arrays) for x in v]
    if isinstance(v, dict):
        if "__tuple__" in v:
            return tuple(_dec(x, arrays) for x in v["__tuple__"])
        if "__dict__" in v:
            return {_hashable(_dec(k, arrays)): _dec(x, arrays) for k, x in v["__dict__"]}
        if "__scheduler__" in v:
            return _restore_scheduler(v["__scheduler__"], _dec(v["state"], arrays))
        if "__ndarray__" in v:
            if v["__ndarray__"] not in arrays:
                raise FormatError(f"optimizer states: the optimizer refers to array "
                                  f"{v['__ndarray__']!r}, which the file does not hold")
            return arrays[v["__ndarray__"]]
        raise FormatError(f"optimizer states: unknown JSON value {sorted(v)}")
    return v


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def optimizer_config(opt, arrays):
    """The optimizer's class name and JSON-able attributes (live objects skipped); the
    NDArrays they hold are added to ``arrays`` (which holds only such arrays)."""
    state = {}
    for k, v in vars(opt).items():
        if k in _SKIP_ATTRS:
            continue
        name = k[1:] if k in ("_lr_mult", "_wd_mult", "_idx2name") else k
        before = set(arrays)
        try:
            state[name] = _enc(v, arrays)
        except TypeError:   # e.g. a user attribute holding an object: not data
            for key in set(arrays) - before:
                del arrays[key]
    return {"class": type(opt).__name__, "state": state}


def _restore_scheduler(name, state):
    cls = getattr(_lrs, name, None)
    if not (isinstance(cls, type) and issubclass(cls, _lrs.LRScheduler)):
        raise FormatError(f"optimizer states: unknown lr_scheduler class {name!r}; known: "
                          f"{', '.join(_lrs.__all__)}")
    sched = cls.__new__(cls)
    sched.__dict__.update(state)
    return sched


def _from_pickled(v):
    """Turn restored MXNet objects (lr_scheduler) inside an attribute into ours."""
    if isinstance(v, PickledObject):
        if v["module"] == "mxnet.lr_scheduler":
            return _restore_scheduler(v["class"], {k: _from_pickled(x)
                                                   for k, x in v["state"].items()})
        raise FormatError(f"optimizer states: cannot restore a {v['module']}.{v['class']} "
                          "inside an optimizer")
    if isinstance(v, tuple):
        return tuple(_from_pickled(x) for x in v)
    if isinstance(v, list):
        return [_from_pickled(x) for x in v]
    if isinstance(v, dict):
        return {k: _from_pickled(x) for k, x in v.items()}
    return v


def restore_optimizer(class_name, state):
    """A registered optimizer of ``class_name`` with its attributes set from ``state``
    (MXNet's pickled ``__dict__`` or ours).

    Raises
    ------
    FormatError
        If the class is not registered.
    """
    cls = Optimizer.opt_registry.get(str(class_name).lower())
    if cls is None:
        raise FormatError(f"optimizer states: optimizer class {class_name!r} is not "
                          f"registered (known: {', '.join(sorted(Optimizer.opt_registry))}); "
                          "register it with mx.optimizer.register before loading")
    try:
        opt = cls()
    except Exception:  # noqa: BLE001 - a user class without defaults: fill attributes only
        opt = cls.__new__(cls)
        Optimizer.__init__(opt)
    current = state.get("_index_update_count")
    for k, v in state.items():
        if k in _SKIP_ATTRS or k == "_index_update_count":
            continue
        setattr(opt, k, _from_pickled(v))
    counts = opt._all_index_update_counts
    if not isinstance(counts, dict) or not counts:
        counts = opt._all_index_update_counts = {0: {}}
    dev = next((d for d, c in counts.items() if c is current), None)
    if dev is None:
        dev = next((d for d, c in counts.items() if c == current), next(iter(counts)))
    opt._index_update_count = counts[dev]
    return opt


# ----------------------------------------------------------------------------- bytes
def dumps_states(states, optimizer=None):
    """Bytes of ``states`` (and of ``optimizer`` if given) in the .params container."""
    arrays = {}
    for idx, state in states.items():
        _flatten(_index_key(idx), state, arrays)
    header = {"format": _FORMAT, "version": 1}
    if optimizer is not None:
        opt_arrays = {}
        header["optimizer"] = optimizer_config(optimizer, opt_arrays)
        arrays.update(opt_arrays)
    raw = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    arrays[HEADER_KEY] = NDArray(torch.from_numpy(raw.copy()))
    return serialize.dumps(arrays)


def _parse_key(key):
    kind, _, rest = key.partition("=")
    parts = kind.split("/")
    head = parts[0]
    if head[:1] == "i":
        idx = int(head[1:])
    elif head[:1] == "s":
        idx = unquote(head[1:])
    else:
        raise FormatError(f"optimizer states: bad key {key!r}")
    return idx, [int(p) for p in parts[1:]], rest


def _assemble(entries):
    """Rebuild a nested state from ``[(path, marker, array)]``."""
    if len(entries) == 1 and not entries[0][0]:
        _, marker, arr = entries[0]
        if marker == "none":
            return None
        if marker == "empty":
            return ()
        return arr
    children = {}
    for path, marker, arr in entries:
        if not path:
            if marker == "empty":
                continue
            raise FormatError("optimizer states: a state is both a leaf and a tuple")
        children.setdefault(path[0], []).append((path[1:], marker, arr))
    if sorted(children) != list(range(len(children))):
        raise FormatError(f"optimizer states: tuple positions {sorted(children)} have gaps")
    return tuple(_assemble(children[p]) for p in range(len(children)))


def loads_states(buf):
    """``(states, optimizer_or_None)`` from our bytes or from an MXNet ``.states`` pickle.

    Raises
    ------
    FormatError
        If the bytes are neither (corrupt or truncated bytes included: no other
        exception escapes).
    """
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise MXNetValueError(f"set_states expects bytes, got {type(buf).__name__}")
    try:
        return _loads(bytes(buf))
    except MXNetError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as e:       # json / utf-8 / structure errors of a bad file
        raise FormatError(f"optimizer states: corrupt bytes, not optimizer states "
                          f"({type(e).__name__}: {e})") from e


def _loads(buf):
    if buf[:1] == b"\x80" or buf[:1] in (b"(", b"}"):     # a pickle (MXNet's format)
        obj = loads_mxnet_pickle(buf, source="optimizer states")
        if isinstance(obj, tuple) and len(obj) == 2:
            states, opt = obj
            if isinstance(opt, PickledObject):
                opt = restore_optimizer(opt["class"], opt["state"])
            return states, opt
        return obj, None
    arrays = serialize.loads(buf, source="optimizer states")
    if not isinstance(arrays, dict) or HEADER_KEY not in arrays:
        raise FormatError("optimizer states: these bytes are an NDArray file without the "
                          f"{HEADER_KEY!r} header, not optimizer states")
    header = json.loads(bytes(arrays.pop(HEADER_KEY).asnumpy()).decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise FormatError(f"optimizer states: unknown format in header {str(header)[:80]!r}")
    opt_arrays = {k: arrays.pop(k) for k in [k for k in arrays if k.startswith(_OPT_ARRAY)]}
    grouped = {}
    for key, arr in arrays.items():
        idx, path, marker = _parse_key(key)
        grouped.setdefault(idx, []).append((path, marker, arr))
    states = {idx: _assemble(entries) for idx, entries in grouped.items()}
    opt = None
    if "optimizer" in header:
        cfg = header["optimizer"]
        opt = restore_optimizer(cfg["class"], {k: _dec(v, opt_arrays)
                                               for k, v in cfg["state"].items()})
    return states, opt


# ----------------------------------------------------------------------------- to MXNet
_MX_OPTIMIZER_MODULE = "mxnet.optimizer.optimizer"
_MX_CONTRIB_MODULE = "mxnet.optimizer.contrib"


_PLAIN = (type(None), bool, int, float, str, np.integer, np.floating, NDArray)


def _to_mxnet_value(v, name):
    """An attribute value as MXNet pickles it: schedulers become ``mxnet.lr_scheduler``
    objects, containers are converted element by element.

    Raises
    ------
    MXNetTypeError
        For a value MXNet's pickle cannot carry (named by ``name``).
    """
    if isinstance(v, _lrs.LRScheduler):
        return PickledObject.of("mxnet.lr_scheduler", type(v).__name__,
                                {k: _to_mxnet_value(x, f"{name}.{k}")
                                 for k, x in vars(v).items()})
    if isinstance(v, tuple):
        return tuple(_to_mxnet_value(x, name) for x in v)
    if isinstance(v, list):
        return [_to_mxnet_value(x, name) for x in v]
    if isinstance(v, dict):
        return {_to_mxnet_value(k, name): _to_mxnet_value(x, name) for k, x in v.items()}
    if not isinstance(v, _PLAIN):
        raise MXNetTypeError(f"to_mxnet_states: optimizer attribute {name!r} holds a "
                             f"{type(v).__name__}, which an MXNet .states file cannot carry; "
                             "delete the attribute (or save without dump_optimizer)")
    return v


def mxnet_optimizer_object(opt):
    """``opt`` as the MXNet optimizer object its pickle holds: MXNet's class name in
    ``mxnet.optimizer.optimizer`` (``.contrib`` for GroupAdaGrad) and its ``__dict__`` under MXNet's attribute names
    (``param_dict`` left out, as MXNet's ``__getstate__`` does)."""
    state = {}
    for k, v in vars(opt).items():
        if k in _SKIP_ATTRS:
            continue
        name = k[1:] if k in ("_lr_mult", "_wd_mult", "_idx2name") else k
        state[name] = _to_mxnet_value(v, name)
    state.setdefault("aggregate_num", type(opt).aggregate_num)   # a class default here
    module = _MX_CONTRIB_MODULE if type(opt).__module__.endswith(".contrib") \
        else _MX_OPTIMIZER_MODULE
    return PickledObject.of(module, type(opt).__name__, state)


def to_mxnet_states(buf):
    """MXNet 1.9 ``.states`` bytes (what its ``Updater.get_states`` writes) for states
    saved by mxtorch's ``Updater.get_states`` (or by MXNet: then a rewrite).

    MXNet loads the result with ``Updater.set_states`` (``Module.load_optimizer_states``):
    the states dict, or with ``dump_optimizer=True`` the tuple ``(states, optimizer)``,
    where the optimizer is MXNet's class of the same name with our attributes.

    Parameters
    ----------
    buf : bytes
        Bytes from ``Updater.get_states`` (ours or MXNet's).

    Returns
    -------
    bytes
        A protocol-3 pickle.

    Raises
    ------
    FormatError
        If ``buf`` is not optimizer states.
    MXNetTypeError
        If the optimizer holds an attribute MXNet's pickle cannot carry (e.g. a user
        object): drop it before saving.
    """
    states, opt = loads_states(buf)
    if opt is None:
        return dumps_mxnet_pickle(dict(states))
    return dumps_mxnet_pickle((dict(states), mxnet_optimizer_object(opt)))
