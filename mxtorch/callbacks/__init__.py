"""Callbacks beyond MXNet's (``mx.callbacks``; also re-exported from ``mx.callback``):
StopTraining, EarlyStopping, BestCheckpoint, LearningRateLogger, CSVLogger,
TensorBoardLogger, and the progress bars of fit/score/predict. The protocol (slots,
attach/detach, module.history) is described in ``mxtorch.callbacks.base``.
"""
from .base import StopTraining, Callback, OptionalDependencyError
from .early_stopping import EarlyStopping
from .best_checkpoint import BestCheckpoint
from .lr_logger import LearningRateLogger
from .csv_logger import CSVLogger
from .tensorboard import TensorBoardLogger
from . import progress

__all__ = ["StopTraining", "Callback", "OptionalDependencyError", "EarlyStopping",
           "BestCheckpoint", "LearningRateLogger", "CSVLogger", "TensorBoardLogger",
           "progress"]
