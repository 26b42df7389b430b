"""TensorBoardLogger: scalars per batch period and per epoch, and on request histograms
of parameters and gradients, through torch.utils.tensorboard's SummaryWriter."""
import os

from ..base import MXNetValueError, MXNetTypeError
from .base import Callback, require
from .module_access import gradients_of, learning_rate_of, optimizer_of

__all__ = ["TensorBoardLogger"]


class TensorBoardLogger(Callback):
    """Write TensorBoard event files under ``logdir``.

    One object may be passed in several slots:

    - ``batch_end_callback``: every ``frequent`` batches, ``batch/Train-<name>`` (the
      metric's local values, read only then) and ``batch/learning_rate``, at the global
      step (the optimizer's update count, which a resumed fit continues);
    - ``epoch_end_callback``: ``epoch/Train-<name>``, ``epoch/time``,
      ``epoch/learning_rate`` at step = epoch;
    - ``eval_end_callback``: ``epoch/Validation-<name>`` (and the epoch values above
      when it is not also an epoch-end callback).

    With ``histograms=True`` it adds, every ``histogram_freq`` epochs at the end of the
    epoch, ``param/<name>`` for every parameter and aux state and ``grad/<name>`` for the
    gradients of the epoch's last batch.

    Parameters
    ----------
    logdir : str or os.PathLike
        Directory of the event files (created when fit starts).
    frequent : int, default 50
        Batches between batch scalars.
    histograms : bool, default False
    histogram_freq : int, default 1
        Epochs between histograms.

    Raises
    ------
    OptionalDependencyError
        When tensorboard is not installed.
    MXNetValueError, MXNetTypeError
        For bad arguments; at fit's start, for the eval_batch_end slot.
    """

    slots = ("batch_end", "epoch_end", "eval_end")

    def __init__(self, logdir, frequent=50, histograms=False, histogram_freq=1):
        super().__init__()
        if not isinstance(logdir, (str, os.PathLike)):
            raise MXNetTypeError(f"TensorBoardLogger: logdir must be a path, got "
                                 f"{type(logdir).__name__}")
        for name, value in (("frequent", frequent), ("histogram_freq", histogram_freq)):
            if not isinstance(value, int) or value < 1:
                raise MXNetValueError(f"TensorBoardLogger: {name} must be an int >= 1, got "
                                      f"{value!r}")
        self._summary = require("torch.utils.tensorboard", "TensorBoardLogger")
        self.logdir = os.fspath(logdir)
        self.frequent = frequent
        self.histograms = bool(histograms)
        self.histogram_freq = histogram_freq
        self.writer = None
        self._written = set()    # (epoch, tag) already written
        self._batches = 0

    def attach(self, module, slot):
        super().attach(module, slot)
        self._history()
        if self.writer is None:
            self.writer = self._summary.SummaryWriter(log_dir=self.logdir)

    def detach(self, module, error=None):
        """Flush and close the event file."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self._written = set()
        super().detach(module, error)

    def _step(self):
        opt = optimizer_of(self.module)
        return opt.num_update if opt is not None else self._batches

    def on_batch_end(self, param):
        self._batches += 1
        if param.nbatch % self.frequent != 0:
            return
        step = self._step()
        if param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                self.writer.add_scalar("batch/Train-" + name, value, step)
        lr = learning_rate_of(self.module)
        if lr is not None:
            self.writer.add_scalar("batch/learning_rate", lr, step)

    def on_epoch_end(self, epoch, symbol, arg_params, aux_params):
        self._write_epoch(final="eval_end" not in self.attached_slots)

    def on_eval_end(self, param):
        self._write_epoch(final=True)

    def _write_epoch(self, final):
        record = self._history().last
        for tag, value in record.items()[1:]:
            key = (record.epoch, tag)
            if value is not None and key not in self._written:
                self._written.add(key)
                self.writer.add_scalar("epoch/" + tag, value, record.epoch)
        if final:
            if self.histograms and (record.epoch + 1) % self.histogram_freq == 0:
                self._write_histograms(record.epoch)
            self.writer.flush()

    def _write_histograms(self, epoch):
        arg_params, aux_params = self.module.get_params()
        for name, arr in list(arg_params.items()) + list(aux_params.items()):
            self.writer.add_histogram("param/" + name, arr.torch.detach().cpu(), epoch)
        for name, grad in gradients_of(self.module).items():
            self.writer.add_histogram("grad/" + name, grad.cpu(), epoch)
