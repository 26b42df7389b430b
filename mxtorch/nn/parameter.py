"""Parameter scopes: a tree of ``OrderedDict``s whose leaves are Variables, with a
stack of current scopes. PF functions create their parameters here; a Module pushes its
own scope dict while its methods run. File formats are in ``param_io.py``."""
import contextlib
import threading
from collections import OrderedDict

import numpy as np

from ..base import MXNetTypeError, MXNetValueError
from .nd_array import NdArray, as_shape
from .variable import Variable

__all__ = ["parameter_scope", "get_current_parameter_scope", "get_parameter",
           "set_parameter", "pop_parameter", "get_parameter_or_create", "get_parameters",
           "clear_parameters", "flatten_scope"]

_ROOT = OrderedDict()


class _ScopeStack(threading.local):
    """The stack of current scopes, one per thread (the root tree is shared)."""

    def __init__(self):
        self.scopes = [_ROOT]


_local = _ScopeStack()


def get_current_parameter_scope():
    """The current scope dict (the global root unless inside ``parameter_scope``)."""
    return _local.scopes[-1]


def _child(scope, name, create=True):
    for part in name.split("/"):
        if not part:
            continue
        nxt = scope.get(part)
        if nxt is None:
            if not create:
                return None
            nxt = scope[part] = OrderedDict()
        elif not isinstance(nxt, OrderedDict):
            raise MXNetValueError(f"parameter_scope: {part!r} is a parameter, not a scope; "
                                  "choose another scope name")
        scope = nxt
    return scope


@contextlib.contextmanager
def parameter_scope(name, scope=None):
    """Enter the child scope ``name`` ('a/b' enters two levels), creating it if missing.

    Parameters
    ----------
    name : str
        Empty to make ``scope`` itself the current scope (what Module does).
    scope : OrderedDict, optional
        The dict to start from (default: the current scope).
    """
    if not isinstance(name, str):
        raise MXNetTypeError(f"parameter_scope: name must be a str, got {type(name).__name__}")
    base = get_current_parameter_scope() if scope is None else scope
    scopes = _local.scopes
    scopes.append(_child(base, name) if name else base)
    try:
        yield scopes[-1]
    finally:
        scopes.pop()


def _split(key):
    head, _, leaf = key.rpartition("/")
    if not leaf:
        raise MXNetValueError(f"parameter key {key!r} ends with '/': name the parameter")
    return head, leaf


def get_parameter(key):
    """The parameter at '/'-path ``key`` in the current scope, or None."""
    head, leaf = _split(key)
    scope = _child(get_current_parameter_scope(), head, create=False)
    v = None if scope is None else scope.get(leaf)
    return v if isinstance(v, Variable) else None


def set_parameter(key, param):
    """Put Variable ``param`` at '/'-path ``key`` in the current scope (replacing)."""
    if not isinstance(param, Variable):
        raise MXNetTypeError(f"set_parameter({key!r}): expected an nn.Variable, got "
                             f"{type(param).__name__}")
    head, leaf = _split(key)
    _child(get_current_parameter_scope(), head)[leaf] = param


def pop_parameter(key):
    """Remove and return the parameter at ``key`` (None if absent)."""
    head, leaf = _split(key)
    scope = _child(get_current_parameter_scope(), head, create=False)
    if scope is None or not isinstance(scope.get(leaf), Variable):
        return None
    return scope.pop(leaf)


def _initial_value(initializer, shape, name):
    if initializer is None:
        return np.zeros(shape, np.float32)
    if isinstance(initializer, np.ndarray):
        value = initializer
    elif callable(initializer):
        value = np.asarray(initializer(shape=list(shape)))
    else:
        raise MXNetTypeError(f"parameter {name!r}: initializer must be None, a numpy array or "
                             f"a callable init(shape=...), got {type(initializer).__name__}")
    if value.shape != shape:
        raise MXNetValueError(f"parameter {name!r}: initializer gave shape {value.shape}, "
                              f"expected {shape}")
    return value.astype(np.float32) if value.dtype == np.float64 else value


def get_parameter_or_create(name, shape=None, initializer=None, need_grad=True,
                            as_need_grad=None):
    """The parameter ``name`` of the current scope, created if missing.

    Parameters
    ----------
    name : str
        A '/'-path relative to the current scope.
    shape : tuple of int
        Required to create; checked against an existing parameter.
    initializer : None, numpy.ndarray or callable, optional
        None gives zeros; a callable is called as ``init(shape=list)``.
    need_grad : bool, default True
        Stored on the parameter (an existing one gets this flag).
    as_need_grad : bool, optional
        The flag of the returned variable (default ``need_grad``); when it differs, an
        unlinked variable sharing the parameter's arrays is returned.

    Raises
    ------
    MXNetValueError
        If the existing parameter has another shape.
    """
    param = get_parameter(name)
    if param is None:
        if shape is None:
            raise MXNetValueError(f"parameter {name!r} does not exist; give its shape to "
                                  "create it")
        shape = as_shape(shape, f"shape of parameter {name!r}")
        param = Variable(shape, need_grad=need_grad)
        param._data = NdArray.from_numpy_array(_initial_value(initializer, shape, name))
        set_parameter(name, param)
    else:
        if shape is not None and tuple(param.shape) != as_shape(shape):
            raise MXNetValueError(
                f"The size of existing parameter {name!r} {param.shape} is different from the "
                f"requested {as_shape(shape)}: a second call in the same scope shares "
                "parameters; pass name=... (or use another parameter_scope) for new ones")
        param.need_grad = need_grad
    want = need_grad if as_need_grad is None else bool(as_need_grad)
    return param if want == param.need_grad else param.get_unlinked_variable(need_grad=want)


def flatten_scope(scope, prefix="", grad_only=False):
    """``(path, Variable)`` pairs of a scope tree, depth first, in insertion order."""
    for k, v in scope.items():
        path = f"{prefix}{k}"
        if isinstance(v, OrderedDict):
            yield from flatten_scope(v, path + "/", grad_only)
        elif not grad_only or v.need_grad:
            yield path, v


def get_parameters(params=None, path="", grad_only=True):
    """The parameters of the current scope as an OrderedDict of '/'-path -> Variable.

    Parameters
    ----------
    params : OrderedDict, optional
        A dict to add the entries to (returned); a new one by default.
    path : str, default ''
        A prefix for the keys ('pre' gives 'pre/affine/W').
    grad_only : bool, default True
        Skip parameters with need_grad=False (note: Module.get_parameters defaults to
        False).
    """
    out = OrderedDict() if params is None else params
    out.update(flatten_scope(get_current_parameter_scope(), f"{path}/" if path else "",
                             grad_only))
    return out


def clear_parameters():
    """Remove every parameter and sub-scope of the current scope."""
    get_current_parameter_scope().clear()


def assign_loaded(entries, call):
    """Write loaded arrays into scopes, all-or-nothing.

    Parameters
    ----------
    entries : list of (scope dict, key in that scope, numpy array, need_grad, shown key)
        An existing parameter gets the array (dtype kept) in place, so graphs and
        solvers holding it see the values; a missing one is created.
    call : str
        The public call, for errors.

    Raises
    ------
    MXNetValueError
        If an array's shape differs from its existing parameter's (checked for every
        entry before anything is written).
    """
    import torch
    found = []
    for scope, key, arr, _, shown in entries:
        with parameter_scope("", scope):
            cur = get_parameter(key)
        if cur is not None and tuple(cur.shape) != arr.shape:
            raise MXNetValueError(f"{call}: {shown!r} has shape {arr.shape} in the file but "
                                  f"{cur.shape} in the model; nothing was loaded")
        found.append(cur)
    for cur, (scope, key, arr, need_grad, _) in zip(found, entries):
        if cur is None:
            cur = Variable(arr.shape, need_grad)
            with parameter_scope("", scope):
                set_parameter(key, cur)
        cur.data.set_tensor(torch.from_numpy(np.array(arr, copy=True)))
        cur.need_grad = need_grad
