"""Training callbacks (``mx.callback``) with MXNet 1.9.1's log formats: BatchEndParam,
Speedometer, ProgressBar, metric loggers and checkpoint savers.

Metric values are read (a device sync) only on the batches where a line is logged.
"""
import logging
import math
import time
from collections import namedtuple

from .base import MXNetValueError

__all__ = ["BatchEndParam", "module_checkpoint", "do_checkpoint", "log_train_metric",
           "Speedometer", "ProgressBar", "LogValidationMetricsCallback"]

BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])
BatchEndParam.__doc__ = """What a batch-end callback receives: ``epoch``, ``nbatch`` (0-based
batch number in the epoch), ``eval_metric`` (the EvalMetric, or None) and ``locals``
(the caller's local variables)."""


def _period(period):
    return int(max(1, period))


def _writes_checkpoints():
    """False on the workers other than rank 0 of a torch.distributed job: the parameters
    are the same everywhere, so one worker writes the files (on a shared file system
    every worker can then resume from them)."""
    import torch.distributed as dist
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def module_checkpoint(mod, prefix, period=1, save_optimizer_states=False):
    """An epoch-end callback calling ``mod.save_checkpoint`` every ``period`` epochs (on
    rank 0 only in a distributed job).

    Parameters
    ----------
    mod : BaseModule
    prefix : str
        File prefix (``prefix-symbol.json``, ``prefix-%04d.params``).
    period : int, default 1
        Epochs between checkpoints (at least 1).
    save_optimizer_states : bool, default False
        Also write ``prefix-%04d.states``.

    Returns
    -------
    callable
        ``cb(iter_no, sym=None, arg=None, aux=None)``; epoch ``iter_no`` saves as
        number ``iter_no + 1``.
    """
    period = _period(period)

    def _callback(iter_no, sym=None, arg=None, aux=None):
        if (iter_no + 1) % period == 0 and _writes_checkpoints():
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)
    return _callback


def do_checkpoint(prefix, period=1):
    """An epoch-end callback saving ``prefix-symbol.json`` and ``prefix-%04d.params``
    (through ``mx.model.save_checkpoint``) every ``period`` epochs (on rank 0 only in a
    distributed job).

    Parameters
    ----------
    prefix : str
    period : int, default 1
        Epochs between checkpoints (at least 1).

    Returns
    -------
    callable
        ``cb(iter_no, sym, arg, aux)``; epoch ``iter_no`` saves as number ``iter_no + 1``.
    """
    period = _period(period)

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0 and _writes_checkpoints():
            from .model import save_checkpoint
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def log_train_metric(period, auto_reset=False):
    """A batch-end callback logging ``Iter[%d] Batch[%d] Train-%s=%f`` every ``period``
    batches.

    Parameters
    ----------
    period : int
        Batches between logs.
    auto_reset : bool, default False
        Call ``eval_metric.reset_local()`` after each log.

    Raises
    ------
    MXNetValueError
        period < 1.
    """
    if int(period) < 1:
        raise MXNetValueError(f"log_train_metric: period must be >= 1, got {period!r}")

    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch,
                             name, value)
            if auto_reset:
                param.eval_metric.reset_local()
    return _callback


class Speedometer:
    """Log the training speed and the metric every ``frequent`` batches.

    The first call of an epoch starts the timer (a decreasing ``nbatch`` marks a new
    epoch). Every ``frequent`` batches it logs
    ``Epoch[%d] Batch [%d-%d]\\tSpeed: %.2f samples/sec`` then ``\\t%s=%f`` per metric
    value and resets the metric's local state (``auto_reset``); without auto_reset the
    range reads ``Batch [0-%d]``. With no metric it logs
    ``Iter[%d] Batch [%d]\\tSpeed: %.2f samples/sec``. The metric is read only then.

    Parameters
    ----------
    batch_size : int
    frequent : int, default 50
        Batches between logs.
    auto_reset : bool, default True

    Raises
    ------
    MXNetValueError
        frequent < 1.
    """

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        if int(frequent) < 1:
            raise MXNetValueError(f"Speedometer: frequent must be >= 1, got {frequent!r}")
        self.batch_size = batch_size
        self.frequent = frequent
        self.init = False
        self.tic = 0
        self.last_count = 0
        self.auto_reset = auto_reset

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:
            self.init = False
        self.last_count = count
        if not self.init:
            self.init = True
            self.tic = time.time()
            return
        if count % self.frequent != 0:
            return
        try:
            speed = self.frequent * self.batch_size / (time.time() - self.tic)
        except ZeroDivisionError:
            speed = float("inf")
        metric = param.eval_metric
        if metric is not None:
            name_value = metric.get_name_value()
            values = sum((tuple(nv) for nv in name_value), ())
            if self.auto_reset:
                metric.reset_local()
                msg = "Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec" + "\t%s=%f" * len(
                    name_value)
                logging.info(msg, param.epoch, count - self.frequent, count, speed, *values)
            else:
                msg = "Epoch[%d] Batch [0-%d]\tSpeed: %.2f samples/sec" + "\t%s=%f" * len(
                    name_value)
                logging.info(msg, param.epoch, count, speed, *values)
        else:
            logging.info("Iter[%d] Batch [%d]\tSpeed: %.2f samples/sec", param.epoch, count,
                         speed)
        self.tic = time.time()


class ProgressBar:
    """Log a progress bar ``[====----] 50%`` of the batches done in the epoch.

    Parameters
    ----------
    total : int
        Batches per epoch.
    length : int, default 80
        Characters in the bar.

    Raises
    ------
    MXNetValueError
        total < 1.
    """

    def __init__(self, total, length=80):
        if total < 1:
            raise MXNetValueError(f"ProgressBar: total must be >= 1, got {total!r}")
        self.bar_len = length
        self.total = total

    def __call__(self, param):
        count = param.nbatch
        filled_len = int(round(self.bar_len * count / float(self.total)))
        percents = math.ceil(100.0 * count / float(self.total))
        prog_bar = "=" * filled_len + "-" * (self.bar_len - filled_len)
        logging.info("[%s] %s%s\r", prog_bar, percents, "%")


class LogValidationMetricsCallback:
    """A score-end callback logging ``Epoch[%d] Validation-%s=%f`` per metric value."""

    def __call__(self, param):
        if not param.eval_metric:
            return
        for name, value in param.eval_metric.get_name_value():
            logging.info("Epoch[%d] Validation-%s=%f", param.epoch, name, value)


# the callbacks beyond MXNet's (mx.callbacks), under mx.callback too
from .callbacks import (StopTraining, Callback, EarlyStopping, BestCheckpoint,  # noqa: E402
                        LearningRateLogger, CSVLogger, TensorBoardLogger)

__all__ += ["StopTraining", "Callback", "EarlyStopping", "BestCheckpoint",
            "LearningRateLogger", "CSVLogger", "TensorBoardLogger"]
