"""``mxtorch.nn.Module``: nnabla's define-by-run module (nested modules, a parameter scope
per module, path-like parameter names, save/load) with BigDL's AbstractModule API mixed
in from ``bigdl_api.py``. Containers (lists, dicts, Sequential) are in ``containers.py``;
file formats in ``param_io.py``."""
import functools
import inspect
import re
from collections import OrderedDict

from ..base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError
from . import param_io
from .bigdl_api import BigDLAPI
from .parameter import assign_loaded, flatten_scope, parameter_scope, set_parameter
from .state import module_frame
from .variable import Variable

__all__ = ["Module"]


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _in_module_scope(method):
    """Wrap a subclass method so that it runs inside its module's parameter scope (PF
    calls register there) with the module marked as the running one."""
    @functools.wraps(method)
    def scoped(self, *args, **kwargs):
        with parameter_scope("", self.parameter_scope), module_frame(self):
            return method(self, *args, **kwargs)
    scoped._module_scoped = True
    return scoped


class Module(BigDLAPI):
    """A building block of a model: subclasses implement :meth:`call`; calling the module
    runs it. ``super().__init__()`` is optional: all state is created lazily.

    Every plain method defined in a subclass body (``__init__``, ``call``, helpers,
    ``__call__`` if overridden) runs inside the module's own parameter scope, so PF
    functions called there create parameters named like paths in this module
    ('conv/W', 'bn/beta', ...), and modules assigned as attributes nest: their
    parameters appear as '@<attribute>/conv/W' ('@res1/@conv1/conv/W' two levels down).

    Internals (for code that builds on this class, e.g. the BigDL mixin)
    ---------------------------------------------------------------------
    ``self.parameter_scope`` : OrderedDict
        This module's own parameters: a tree of OrderedDicts (one per PF scope) whose
        leaves are :class:`Variable` (``.data.tensor`` is the torch tensor, ``.grad``
        the gradient NdArray, ``need_grad`` False for running statistics).
    ``self.submodules`` : OrderedDict name -> Module
        Direct children in assignment order (lists/dicts of modules are held as a
        ModuleList/ModuleDict child whose children are named '0', '1', ... or by key).
        ``named_modules()`` walks the tree depth first.
    ``self.training`` : bool, stored as ``__dict__['_training']`` (default True)
        Setting it sets it on every existing descendant.
    ``__dict__['_name']``, ``__dict__['_parent']`` : the attribute name and the parent.

    Notes
    -----
    ``training`` is read when a graph is built (when the module is called): with it
    False, ``F.dropout`` is the identity and ``PF.batch_normalization`` (batch_stat
    left at None) uses the running statistics. nnabla's own layers ignore the flag;
    calls that pass ``batch_stat=`` explicitly keep nnabla's behaviour.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for attr, value in list(vars(cls).items()):
            if not inspect.isfunction(value) or getattr(value, "_module_scoped", False):
                continue
            if attr.startswith("__") and attr not in ("__init__", "__call__"):
                continue
            setattr(cls, attr, _in_module_scope(value))

    # ------------------------------------------------------------------ lazy state
    @property
    def parameter_scope(self):
        """This module's own parameter scope (an OrderedDict tree of Variables)."""
        scope = self.__dict__.get("_parameter_scope")
        if scope is None:
            scope = self.__dict__["_parameter_scope"] = OrderedDict()
        return scope

    @property
    def submodules(self):
        """Direct child modules, name -> Module, in assignment order."""
        subs = self.__dict__.get("_submodules")
        if subs is None:
            subs = self.__dict__["_submodules"] = OrderedDict()
        return subs

    @property
    def training(self):
        """Whether the module is in training mode (default True)."""
        return self.__dict__.get("_training", True)

    @training.setter
    def training(self, value):
        self.__dict__["_training"] = bool(value)
        for sub in self.submodules.values():
            sub.training = value

    @property
    def name(self):
        """The attribute name this module was assigned to; for a root module, its class
        name in snake_case (ResUnit -> 'res_unit')."""
        return self.__dict__.get("_name") or _snake(type(self).__name__)

    @property
    def parent(self):
        """The module this one is an attribute of, or None."""
        return self.__dict__.get("_parent")

    def is_root(self):
        """Whether the module has no parent."""
        return self.parent is None

    def get_path_name(self):
        """'@root/@child/...' down to this module."""
        names, m = [], self
        while m is not None:
            names.append("@" + m.name)
            m = m.parent
        return "/".join(reversed(names))

    def get_scope_name(self):
        """'@child/@grandchild' following the first submodule at each level."""
        names, m = [], self
        while m.submodules:
            name, m = next(iter(m.submodules.items()))
            names.append("@" + name)
        return "/".join(names)

    def named_modules(self, prefix=""):
        """``(path, module)`` for this module ('' path) and every descendant, depth first
        in assignment order; paths look like '@res1/@conv1'."""
        yield prefix, self
        for name, sub in self.submodules.items():
            yield from sub.named_modules(f"{prefix}/@{name}" if prefix else f"@{name}")

    # ------------------------------------------------------------------ attributes
    def __setattr__(self, name, value):
        from .containers import as_module
        value = as_module(value, f"{type(self).__name__}.{name}")
        if isinstance(value, Module):
            self.__dict__.pop(name, None)
            self.submodules[name] = value
            value.__dict__["_name"] = name
            value.__dict__["_parent"] = self
            return
        subs = self.__dict__.get("_submodules")
        if subs and name in subs:
            del subs[name]
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        subs = self.__dict__.get("_submodules")
        if subs is not None and name in subs:
            return subs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        subs = self.__dict__.get("_submodules")
        if subs is not None and name in subs:
            del subs[name]
        else:
            object.__delattr__(self, name)

    def __len__(self):
        """The number of direct submodules."""
        return len(self.submodules)

    def __bool__(self):
        return True   # a module without submodules is still a module (len() is 0)

    # ------------------------------------------------------------------ running
    def call(self, *args, **kwargs):
        """Build the computation; subclasses implement it with F/PF calls and submodules."""
        raise MXNetNotImplementedError(f"{type(self).__name__} must implement call(self, ...) "
                                       "to be called")

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    # ------------------------------------------------------------------ parameters
    def get_parameters(self, recursive=True, grad_only=False, memo=None):
        """All parameters as an OrderedDict path -> Variable.

        Submodules come first, in assignment order, with keys '@<name>/...', then this
        module's own parameters in creation order ('conv/W', 'bn/beta', ...).

        Parameters
        ----------
        recursive : bool, default True
            Include submodules' parameters.
        grad_only : bool, default False
            Only parameters with need_grad=True.
        memo : set, optional
            Variables (ids) already listed; each Variable is listed once.
        """
        memo = set() if memo is None else memo
        out = OrderedDict()
        if recursive:
            for name, sub in self.submodules.items():
                for k, v in sub.get_parameters(True, grad_only, memo).items():
                    out[f"@{name}/{k}"] = v
        for k, v in flatten_scope(self.parameter_scope, "", grad_only):
            if id(v) not in memo:
                memo.add(id(v))
                out[k] = v
        return out

    def _route(self, key):
        """(module, key inside its own scope) for a '@child/.../name' key, or (None, child
        name) when a child is missing."""
        m = self
        while key.startswith("@"):
            head, sep, rest = key.partition("/")
            if not sep or not rest:
                raise MXNetValueError(f"parameter key {key!r} names a module but no "
                                      "parameter: use '@module/scope/name'")
            child = m.submodules.get(head[1:])
            if child is None:
                return None, head[1:]
            m, key = child, rest
        return m, key

    def set_parameter(self, key, param, raise_if_missing=False):
        """Put Variable ``param`` at ``key`` ('@child/...' keys go to the child).

        Raises
        ------
        MXNetValueError
            For an unknown '@child' when ``raise_if_missing`` (else the key is ignored).
        """
        if not isinstance(param, Variable):
            raise MXNetTypeError(f"set_parameter({key!r}): expected an nn.Variable, got "
                                 f"{type(param).__name__}")
        m, local = self._route(key)
        if m is None:
            if raise_if_missing:
                raise MXNetValueError(f"set_parameter: {type(self).__name__} has no submodule "
                                      f"{local!r} for key {key!r}")
            return
        with parameter_scope("", m.parameter_scope):
            set_parameter(local, param)

    def set_parameters(self, params, raise_if_missing=False):
        """:meth:`set_parameter` for every item of the dict ``params``."""
        for k, v in params.items():
            self.set_parameter(k, v, raise_if_missing)

    def zero_grad(self):
        """Set the gradient of every parameter (running statistics included) to 0."""
        for v in self.get_parameters().values():
            v.grad.zero()

    def save_parameters(self, path, extension=".h5"):
        """Save every parameter (need_grad or not) to a file.

        Parameters
        ----------
        path : str, os.PathLike or writable binary file object
            The format comes from the file name: '.h5' (nnabla's layout: one dataset
            per key, '/' making groups, attrs ``need_grad`` and ``index``),
            '.safetensors' or '.params' (MXNet; need_grad=False keys as 'aux:').
        extension : str, default '.h5'
            The format when ``path`` is a file object.
        """
        items = OrderedDict((k, (v.data.tensor.detach().cpu().numpy(), v.need_grad))
                            for k, v in self.get_parameters(grad_only=False).items())
        param_io.save_arrays(path, items, extension, "Module.save_parameters")

    def load_parameters(self, path, extension=".h5", raise_if_missing=True):
        """Load a parameter file (.h5, .safetensors or .params) into this module.

        Existing parameters get the file's values in place (graphs and solvers that
        hold them see the new values); parameters not created yet are created, so a
        later first call uses them; parameters absent from the file are kept.

        Parameters
        ----------
        path : str, os.PathLike or readable binary file object
        extension : str, default '.h5'
            The format when ``path`` is a file object.
        raise_if_missing : bool, default True
            Raise for a key naming a submodule this module lacks (else skip the key).

        Raises
        ------
        MXNetValueError
            For an unknown submodule (with raise_if_missing) or a shape that differs from
            an existing parameter's; nothing is changed then.
        FormatError
            If the file is unreadable.

        Notes
        -----
        ``.h5`` files are parsed by libhdf5, which a crafted file can crash: load them
        only from sources you trust (``.safetensors`` is safe for any source).
        """
        items = param_io.load_arrays(path, extension, "Module.load_parameters")
        entries = []
        for key, (arr, need_grad) in items.items():
            m, local = self._route(key)
            if m is None:
                if raise_if_missing:
                    raise MXNetValueError(
                        f"load_parameters: the file's key {key!r} names submodule {local!r}, "
                        f"which {type(self).__name__} does not have; pass "
                        "raise_if_missing=False to skip such keys")
                continue
            entries.append((m.parameter_scope, local, arr, need_grad, key))
        assign_loaded(entries, "Module.load_parameters")
