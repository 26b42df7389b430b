"""LearningRateLogger: log the optimizer's learning rate (a Python number, no sync)."""
import logging

from ..base import MXNetValueError
from .base import Callback
from .module_access import learning_rate_of

__all__ = ["LearningRateLogger"]


class LearningRateLogger(Callback):
    """Log the learning rate the optimizer uses now (with its lr_scheduler applied).

    As ``batch_end_callback`` it logs ``Epoch[%d] Batch [%d]\\tlearning_rate=%g`` every
    ``frequent`` batches; as ``epoch_end_callback``, ``Epoch[%d] learning_rate=%g``.
    (``module.history.learning_rates`` keeps the per-epoch values in any case.)

    Parameters
    ----------
    frequent : int, default 50
        Batches between lines in the batch-end slot.

    Attributes
    ----------
    values : list of (epoch, nbatch or None, float)
        Everything logged.

    Raises
    ------
    MXNetValueError
        frequent < 1; at fit's start, another slot.
    """

    slots = ("batch_end", "epoch_end")

    def __init__(self, frequent=50):
        super().__init__()
        if not isinstance(frequent, int) or frequent < 1:
            raise MXNetValueError(f"LearningRateLogger: frequent must be an int >= 1, got "
                                  f"{frequent!r}")
        self.frequent = frequent
        self.values = []

    def on_batch_end(self, param):
        if param.nbatch % self.frequent == 0:
            lr = learning_rate_of(self.module)
            if lr is not None:
                self.values.append((param.epoch, param.nbatch, lr))
                logging.info("Epoch[%d] Batch [%d]\tlearning_rate=%g", param.epoch,
                             param.nbatch, lr)

    def on_epoch_end(self, epoch, symbol, arg_params, aux_params):
        lr = learning_rate_of(self.module)
        if lr is not None:
            self.values.append((epoch, None, lr))
            logging.info("Epoch[%d] learning_rate=%g", epoch, lr)
