"""Tracker: the best value so far of one metric of module.history, and MonitorCallback,
the base of the callbacks that act on it (EarlyStopping, BestCheckpoint)."""
from ..base import MXNetValueError, MXNetTypeError
from .base import Callback

__all__ = ["Tracker", "MonitorCallback"]

_MAX_HINTS = ("acc", "f1", "mcc", "pearson", "auc", "precision", "recall")


class Tracker:
    """Tracks the best value of one metric of the history (shared by EarlyStopping and
    BestCheckpoint).

    Parameters
    ----------
    owner : str
        The callback's name, for messages.
    monitor : str or None
        A metric name as the metric reports it (``'accuracy'``, ``'cross-entropy'``);
        read from the validation values in the eval-end slot and from the training values
        in the epoch-end slot. None: the first value of the record.
    mode : {'auto', 'min', 'max'}
        'auto' is 'max' for names with acc, f1, mcc, pearson, auc, precision or recall,
        'min' otherwise.
    min_delta : float, >= 0
        A change smaller than this is no improvement.
    """

    def __init__(self, owner, monitor, mode, min_delta):
        if mode not in ("auto", "min", "max"):
            raise MXNetValueError(f"{owner}: invalid mode {mode!r}; use 'auto', 'min' or 'max'")
        if not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise MXNetValueError(f"{owner}: invalid min_delta {min_delta!r}; it must be a "
                                  "number >= 0")
        if monitor is not None and not isinstance(monitor, str):
            raise MXNetTypeError(f"{owner}: monitor must be a metric name (str), got "
                                 f"{type(monitor).__name__}")
        self.owner = owner
        self.monitor = monitor
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best = None
        self.best_epoch = None

    def _mode(self, name):
        if self.mode != "auto":
            return self.mode
        return "max" if any(h in name.lower() for h in _MAX_HINTS) else "min"

    def check_names(self, history, slot):
        """Refuse at attach time a monitor that the slot's metric does not report."""
        names = history.validation_names if slot == "eval_end" else history.train_names
        if slot == "eval_end" and not history.has_validation:
            raise MXNetValueError(f"{self.owner} was passed as eval_end_callback but fit has "
                                  "no eval_data; give fit eval_data=..., or pass it as "
                                  "epoch_end_callback to monitor a training metric")
        if self.monitor is not None and names is not None and self.monitor not in names:
            raise MXNetValueError(f"{self.owner}: monitor={self.monitor!r} is not reported by "
                                  f"the {'validation' if slot == 'eval_end' else 'training'} "
                                  f"metric, which reports {names}; pass one of these")

    def read(self, record, slot):
        """``(name, value)`` of the monitored metric in ``record`` for ``slot``."""
        values = record.validation if slot == "eval_end" else record.train
        if not values:
            raise MXNetValueError(f"{self.owner}: epoch {record.epoch} has no "
                                  f"{'validation' if slot == 'eval_end' else 'training'} "
                                  "values to monitor")
        name = self.monitor if self.monitor is not None else next(iter(values))
        if name not in values:
            raise MXNetValueError(f"{self.owner}: monitor={name!r} is not among the metric's "
                                  f"values {list(values)}; pass one of these")
        return name, values[name]

    def update(self, epoch, name, value):
        """Record ``value`` of ``epoch``; True when it improves on the best so far by more
        than min_delta (NaN never improves)."""
        if value != value:      # NaN
            return False
        if self.best is None:
            better = True
        elif self._mode(name) == "max":
            better = value > self.best + self.min_delta
        else:
            better = value < self.best - self.min_delta
        if better:
            self.best, self.best_epoch = value, epoch
        return better


class MonitorCallback(Callback):
    """A callback judging each epoch by one metric of ``module.history``: passed in one
    slot, eval_end (a validation metric) or epoch_end (a training metric); every epoch it
    calls ``on_value(record, name, value, improved)``."""

    slots = ("eval_end", "epoch_end")

    def __init__(self, owner, monitor, mode, min_delta):
        super().__init__()
        self.tracker = Tracker(owner, monitor, mode, min_delta)

    @property
    def best(self):
        return self.tracker.best

    @property
    def best_epoch(self):
        return self.tracker.best_epoch

    def attach(self, module, slot):
        super().attach(module, slot)
        if len(self.attached_slots) > 1:
            raise MXNetValueError(f"{self.tracker.owner}: pass it in one slot only "
                                  "(eval_end_callback or epoch_end_callback), not both")
        self.tracker.check_names(self._history(), slot)
        self.tracker.best = self.tracker.best_epoch = None

    def on_epoch_end(self, epoch, symbol, arg_params, aux_params):
        self._check("epoch_end")

    def on_eval_end(self, param):
        self._check("eval_end")

    def _check(self, slot):
        record = self._history().last
        name, value = self.tracker.read(record, slot)
        self.on_value(record, name, value, self.tracker.update(record.epoch, name, value))

    def on_value(self, record, name, value, improved):
        raise NotImplementedError
