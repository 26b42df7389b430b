"""Modules that hold other modules: ModuleList and ModuleDict (what a list or dict of
modules assigned to an attribute becomes) and nnabla's Sequential."""
from ..base import MXNetNotImplementedError, MXNetTypeError
from .module import Module

__all__ = ["ModuleList", "ModuleDict", "Sequential", "as_module"]


def as_module(value, where):
    """``value`` itself, or a ModuleList/ModuleDict when it is a non-empty list, tuple or
    dict of modules (parameters then appear as '@attr/@0/...' or '@attr/@key/...').

    Raises
    ------
    MXNetTypeError
        For a container mixing modules and other values (its modules' parameters could
        not be tracked).
    """
    if isinstance(value, (list, tuple)) and value and not isinstance(value, ModuleList):
        kinds = [isinstance(v, Module) for v in value]
        if all(kinds):
            return ModuleList(value)
        if any(kinds):
            raise MXNetTypeError(f"{where}: a list mixing modules and other values cannot be "
                                 "registered; keep the modules in a list of their own")
    if isinstance(value, dict) and value and not isinstance(value, ModuleDict):
        kinds = [isinstance(v, Module) for v in value.values()]
        if all(kinds):
            return ModuleDict(value)
        if any(kinds):
            raise MXNetTypeError(f"{where}: a dict mixing modules and other values cannot be "
                                 "registered; keep the modules in a dict of their own")
    return value


class ModuleList(Module):
    """A list of modules; element i is the submodule named 'i'."""

    def __init__(self, modules=()):
        for m in modules:
            self.append(m)

    def append(self, module):
        """Add ``module`` as the next element."""
        if not isinstance(module, Module):
            raise MXNetTypeError(f"ModuleList.append: expected a Module, got "
                                 f"{type(module).__name__}")
        setattr(self, str(len(self.submodules)), module)

    def __getitem__(self, index):
        items = list(self.submodules.values())
        return items[index]

    def __iter__(self):
        return iter(list(self.submodules.values()))

    def call(self, *args, **kwargs):
        raise MXNetNotImplementedError("a ModuleList is a container: call its elements "
                                       "(or use nn.Sequential to chain them)")


class ModuleDict(Module):
    """A dict of modules; the value under key k is the submodule named k."""

    def __init__(self, modules=None):
        for k, m in (modules or {}).items():
            self[k] = m

    def __setitem__(self, key, module):
        if not isinstance(key, str) or "/" in key or not isinstance(module, Module):
            raise MXNetTypeError(f"ModuleDict: keys must be str without '/' and values "
                                 f"Modules, got {key!r}: {type(module).__name__}")
        setattr(self, key, module)

    def __getitem__(self, key):
        return self.submodules[key]

    def __contains__(self, key):
        return key in self.submodules

    def __iter__(self):
        return iter(list(self.submodules))

    def keys(self):
        return self.submodules.keys()

    def values(self):
        return self.submodules.values()

    def items(self):
        return self.submodules.items()

    def call(self, *args, **kwargs):
        raise MXNetNotImplementedError("a ModuleDict is a container: call its values")


class Sequential(Module):
    """Modules applied one after the other.

    Parameters
    ----------
    *modules : Module or (str, Module)
        Unnamed modules are registered as '<module.name>_<index>'.
    """

    def __init__(self, *modules):
        for idx, m in enumerate(modules):
            name = None
            if isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str):
                name, m = m
            if not isinstance(m, Module):
                raise MXNetTypeError(f"nn.Sequential: argument {idx} is a "
                                     f"{type(m).__name__}, expected a Module or "
                                     "('name', Module)")
            setattr(self, name or f"{m.name}_{idx}", m)

    def call(self, *args, **kwargs):
        """Feed the inputs to the first module and each output to the next."""
        out = None
        for i, m in enumerate(self.submodules.values()):
            out = m(*args, **kwargs) if i == 0 else m(out)
        return out
