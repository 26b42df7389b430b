"""``AttrScope``: attributes attached to every symbol created inside a ``with`` block."""
import threading

from .base import MXNetValueError

__all__ = ["AttrScope"]


class AttrScope:
    """``with mx.AttrScope(ctx_group='dev1'):`` attaches ``__ctx_group__='dev1'`` (and any other
    given string attributes) to the symbols created in the block. Scopes nest."""
    _local = threading.local()

    def __init__(self, **kwargs):
        self._old_scope = None
        for value in kwargs.values():
            if not isinstance(value, str):
                raise MXNetValueError(f"AttrScope values must be strings, got {value!r}; "
                                      "pass str(value)")
        self._attr = kwargs

    def get(self, attr):
        """``attr`` updated with this scope's attributes (explicit ones win)."""
        if not self._attr:
            return dict(attr) if attr else {}
        ret = dict(self._attr)
        if attr:
            ret.update(attr)
        return ret

    def __enter__(self):
        self._old_scope = AttrScope.current()
        attr = dict(self._old_scope._attr)
        attr.update(self._attr)
        self._attr = attr
        AttrScope._local.value = self
        return self

    def __exit__(self, *exc):
        AttrScope._local.value = self._old_scope

    @staticmethod
    def current():
        scope = getattr(AttrScope._local, "value", None)
        if scope is None:
            scope = AttrScope()
            AttrScope._local.value = scope
        return scope
