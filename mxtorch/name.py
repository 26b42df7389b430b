"""Automatic names of symbols: ``NameManager`` (``fullyconnected0``) and ``Prefix``."""
import threading

__all__ = ["NameManager", "Prefix", "current"]


class NameManager:
    """Gives unique names to symbols created without one.

    The name is the lower-cased op name plus a counter kept per hint in this manager,
    as MXNet does (``fullyconnected0``, ``_plus1``). ``with NameManager():`` starts a
    fresh set of counters.
    """
    _local = threading.local()

    def __init__(self):
        self._counter = {}
        self._old_manager = None

    def get(self, name, hint):
        """The given ``name`` if not None, else ``hint`` plus this manager's next counter."""
        if name:
            return name
        n = self._counter.get(hint, 0)
        self._counter[hint] = n + 1
        return f"{hint}{n}"

    def __enter__(self):
        self._old_manager = current()
        NameManager._local.value = self
        return self

    def __exit__(self, *exc):
        NameManager._local.value = self._old_manager

    @staticmethod
    def current():
        return current()


class Prefix(NameManager):
    """A NameManager that puts ``prefix`` in front of every name (given or automatic)."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)


_default = NameManager()


def current():
    """The active NameManager."""
    return getattr(NameManager._local, "value", None) or _default
