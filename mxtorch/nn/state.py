"""Process-wide modes of the define-by-run graph: automatic forward (dynamic mode) and
the (per-thread) stack of modules whose methods are running (their ``training`` flag is what
``F.dropout`` and ``PF.batch_normalization`` read when a graph is built)."""
import contextlib
import threading

__all__ = ["auto_forward", "set_auto_forward", "get_auto_forward", "module_frame",
           "current_training"]

_auto_forward = [False]            # process-wide, as nnabla's set_auto_forward


class _ModuleStack(threading.local):
    def __init__(self):
        self.modules = []


_local = _ModuleStack()


def set_auto_forward(auto):
    """Turn dynamic mode on (functions run as soon as they are called) or off (default).

    Parameters
    ----------
    auto : bool
    """
    _auto_forward[0] = bool(auto)


def get_auto_forward():
    """Whether dynamic mode is on (False by default)."""
    return _auto_forward[0]


@contextlib.contextmanager
def auto_forward(auto=True):
    """Context manager running every function as soon as it is called, so ``.d`` of each
    output is ready at once; the previous mode comes back on exit.

    Parameters
    ----------
    auto : bool, default True
    """
    previous = _auto_forward[0]
    _auto_forward[0] = bool(auto)
    try:
        yield
    finally:
        _auto_forward[0] = previous


@contextlib.contextmanager
def module_frame(module):
    """Mark ``module`` as the innermost module whose method is running."""
    _local.modules.append(module)
    try:
        yield
    finally:
        _local.modules.pop()


def current_training():
    """The ``training`` flag of the innermost running module; True outside any module
    (nnabla's behaviour: dropout and batch statistics always on)."""
    stack = _local.modules
    return stack[-1].training if stack else True
