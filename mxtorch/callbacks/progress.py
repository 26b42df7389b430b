"""Progress bars (tqdm) for fit, score and predict: batches done, samples/s and the
running metric. base_module.py decides once per call whether a bar is shown; this file
owns the bar and its throttling (the metric is read, a device sync, only when the bar is
redrawn, at most every REFRESH_SECONDS).
"""
import contextlib
import importlib.util
import os
import sys
import time

from ..base import MXNetTypeError
from .base import require

__all__ = ["enabled", "ProgressBar", "bar_if", "num_batches", "redirect_logging",
           "REFRESH_SECONDS"]

#: least seconds between two redraws of a bar (and two reads of its metric)
REFRESH_SECONDS = 0.25


def enabled(progress, call):
    """Whether ``call`` shows a bar: ``progress`` True/False, or None for 'when stderr is
    a terminal and tqdm is installed'.

    Raises
    ------
    MXNetTypeError
        When ``progress`` is not None or a bool.
    OptionalDependencyError
        ``progress=True`` without tqdm.
    """
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        if not (isatty and isatty()):
            return False
        return importlib.util.find_spec("tqdm") is not None
    if progress is True or progress is False:
        if progress:
            require("tqdm", f"{call}(progress=True)")
        return progress
    raise MXNetTypeError(f"{call}: progress must be None (a bar when stderr is a terminal), "
                         f"True or False, got {progress!r}")


def num_batches(data_iter, num_batch=None):
    """The batches ``data_iter`` yields per pass if it can tell (``len()``, or an
    NDArrayIter's size), capped by ``num_batch``; else None."""
    total = None
    try:
        total = len(data_iter)
    except TypeError:
        n = getattr(data_iter, "num_data", None)
        bs = getattr(data_iter, "batch_size", None)
        handle = getattr(data_iter, "last_batch_handle", None)
        if isinstance(n, int) and isinstance(bs, int) and bs > 0:
            if handle == "pad":
                total = -(-n // bs)
            elif handle == "discard":
                total = n // bs
    if num_batch is not None:
        total = num_batch if total is None else min(total, num_batch)
    return total


def _batch_size(batch):
    if isinstance(batch, list):
        return sum(_batch_size(b) for b in batch)
    data = getattr(batch, "data", None)
    if data:
        return int(data[0].shape[0])
    return 0


def _screen():
    """tqdm's ncols/nrows: None (follow the terminal) when stderr reports its size; a
    terminal of unknown size (a bare pseudo-terminal reports 0 x 0, and tqdm would then
    draw nothing) gets 100 columns and 20 rows."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
        cols, rows = size.columns, size.lines
    except (OSError, ValueError, AttributeError):
        cols = rows = 0
    return {"ncols": None if cols > 0 else 100, "nrows": None if rows > 0 else 20,
            "dynamic_ncols": cols > 0}


def _format(name_values):
    return ", ".join(f"{name}={value:.4g}" for name, value in name_values)


class ProgressBar:
    """One tqdm bar over batches, showing samples/s and a metric's running values.

    Parameters
    ----------
    desc : str
        The label before the bar (``Epoch[0]``, ``score``, ``predict``).
    total : int or None
        Batches expected (None: a counter without a bar).
    leave : bool, default True
        Keep the finished bar on screen (False for a bar nested in fit's epoch bar).
    """

    def __init__(self, desc, total, leave=True):
        tqdm = require("tqdm", "progress bars").tqdm
        # the rate shown is samples/s (in the postfix), not tqdm's batches/s
        fmt = None if total is None else \
            "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"
        self._bar = tqdm(total=total, desc=desc, unit="batch", leave=leave, bar_format=fmt,
                         mininterval=REFRESH_SECONDS, file=sys.stderr, **_screen())
        self._start = time.perf_counter()
        self._last = self._start
        self._samples = 0
        self._prefix = ""

    def step(self, batch, metric=None, read=None):
        """One batch done. The metric (``metric.get_name_value()``, or ``read()``) is read
        only when the bar is about to be redrawn."""
        self._samples += _batch_size(batch)
        now = time.perf_counter()
        if now - self._last >= REFRESH_SECONDS:
            self._last = now
            values = read() if read is not None else (
                metric.get_name_value() if metric is not None else ())
            self._bar.set_postfix_str(self._postfix(values, now), refresh=False)
        self._bar.update(1)

    def _postfix(self, values, now):
        head = self._prefix
        if not head:
            elapsed = now - self._start
            head = f"{self._samples / elapsed:.1f} samples/s" if elapsed > 0 else ""
        return ", ".join(s for s in (head, _format(values)) if s)

    def show(self, name_values, keep=False):
        """Show ``name_values`` now (values already read: no extra sync). ``keep`` freezes
        the speed and these values ahead of later ones (the training values while the
        validation values are added)."""
        postfix = self._postfix(name_values, time.perf_counter())
        self._bar.set_postfix_str(postfix, refresh=True)
        if keep:
            self._prefix = postfix

    def close(self):
        """Finish the bar (its last state stays on screen when ``leave``)."""
        self._bar.close()


@contextlib.contextmanager
def bar_if(show, desc, total, leave=True):
    """A ProgressBar for the ``with`` block when ``show``, else None; closed at its end.
    ``total`` is an int, None, or a callable giving it (called only when shown)."""
    if not show:
        yield None
        return
    bar = ProgressBar(desc, total() if callable(total) else total, leave=leave)
    try:
        yield bar
    finally:
        bar.close()


@contextlib.contextmanager
def redirect_logging():
    """Route console logging through tqdm while bars are shown, so log lines print above
    the bar instead of through it."""
    from tqdm.contrib.logging import logging_redirect_tqdm
    with logging_redirect_tqdm():
        yield
