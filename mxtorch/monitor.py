"""``mx.mon.Monitor``: statistics of the arrays of executors, every ``interval`` batches.

The executor reports each op output of a forward (``<node>_output``) and each input
gradient of a backward (``<node>_backward_output<k>``) through its monitor callback;
the monitor adds the arguments and aux states at ``toc``. Statistics stay on the device
until ``toc`` turns them into strings (one host sync per monitored batch).
"""
import logging
import math
import re

import torch

from .base import MXNetTypeError, MXNetValueError
from .ndarray.ndarray import NDArray

__all__ = ["Monitor"]


def _default_stat(x):
    """``norm(x) / sqrt(x.size)``, MXNet's default statistic (a (1,) array)."""
    t = x._data
    v = torch.linalg.vector_norm(t.float() if not t.is_floating_point() else t).reshape(1)
    return NDArray(v / math.sqrt(max(t.numel(), 1)), x.context)


class Monitor:
    """Monitor inputs, outputs, weights and gradients of executors.

    Parameters
    ----------
    interval : int
        Collect every ``interval`` batches (the batches where ``tic`` sees
        ``step % interval == 0``).
    stat_func : callable, optional
        ``NDArray -> NDArray`` (or a list of NDArrays). Default ``norm(x)/sqrt(x.size)``.
    pattern : str, default '.*'
        Regular expression; only names it matches (from the start) are recorded, e.g.
        ``'.*weight|.*output'`` or ``'.*backward.*'`` (all gradients).
    sort : bool, default False
        Sort the results of ``toc`` by name.
    monitor_all : bool, default False
        Also monitor op inputs, where the executor supports it.

    Raises
    ------
    MXNetValueError
        If ``interval`` is not a positive int or ``pattern`` is not a valid regex.
    MXNetTypeError
        If ``stat_func`` is not callable.
    """

    def __init__(self, interval, stat_func=None, pattern=".*", sort=False, monitor_all=False):
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise MXNetValueError(f"Monitor: interval must be a positive int, got {interval!r}")
        if stat_func is None:
            stat_func = _default_stat
        if not callable(stat_func):
            raise MXNetTypeError(f"Monitor: stat_func must be callable, got "
                                 f"{type(stat_func).__name__}")
        try:
            self.re_prog = re.compile(pattern)
        except (re.error, TypeError) as e:
            raise MXNetValueError(f"Monitor: pattern {pattern!r} is not a regular expression: "
                                  f"{e}") from None
        self.stat_func = stat_func
        self.interval = interval
        self.activated = False
        self.queue = []
        self.step = 0
        self.exes = []
        self.sort = sort
        self.monitor_all = monitor_all

    def stat_helper(self, name, array):
        """The executor callback: record ``stat_func(array)`` while activated."""
        if not self.activated or not self.re_prog.match(name):
            return
        self.queue.append((self.step, name, self.stat_func(array)))

    def install(self, exe):
        """Install the callback on an executor (several executors may share a monitor)."""
        exe.set_monitor_callback(self.stat_helper, self.monitor_all)
        self.exes.append(exe)

    def tic(self):
        """Start collecting for the current batch (call before forward)."""
        if self.step % self.interval == 0:
            self.queue = []
            self.activated = True
        self.step += 1

    def toc(self):
        """Stop collecting; add the arguments and aux states of every executor.

        Returns
        -------
        list of (int, str, str)
            ``(step, name, stat)``; a (1,)-shaped stat prints as a scalar, others as
            arrays, each followed by a tab. Empty if this batch was not collected.
        """
        if not self.activated:
            return []
        for exe in self.exes:
            for name, array in zip(exe._symbol.list_arguments(), exe.arg_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
            for name, array in zip(exe._symbol.list_auxiliary_states(), exe.aux_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
        self.activated = False
        if self.sort:
            self.queue.sort(key=lambda x: x[1])
        res = []
        for n, k, v_list in self.queue:
            if isinstance(v_list, NDArray):
                v_list = [v_list]
            if not isinstance(v_list, (list, tuple)) or \
                    not all(isinstance(v, NDArray) for v in v_list):
                raise MXNetTypeError(f"Monitor: stat_func must return an NDArray or a list of "
                                     f"NDArrays, got {type(v_list).__name__} for {k!r}")
            s = ""
            for v in v_list:
                s += (str(v.asscalar()) if v.shape == (1,) else str(v.asnumpy())) + "\t"
            res.append((n, k, s))
        self.queue = []
        return res

    def toc_print(self):
        """``toc`` and log each entry as ``'Batch: {:7d} {:30s} {:s}'``."""
        for n, k, v in self.toc():
            logging.info("Batch: {:7d} {:30s} {:s}".format(n, k, v))
