"""EarlyStopping: stop fit when a monitored metric stops improving, optionally putting
back the best epoch's parameters."""
import logging

from ..base import MXNetValueError
from .base import StopTraining
from .tracker import MonitorCallback

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Pass it as ``eval_end_callback`` to watch a validation metric (fit needs eval_data),
    or as ``epoch_end_callback`` to watch a training metric. When it stops it raises
    StopTraining (fit returns normally; ``module.history.stop_reason`` says why).

    Parameters
    ----------
    monitor : str, optional
        A metric name as the metric reports it (``'accuracy'``, ``'cross-entropy'``);
        default: the metric's first value. Checked against the metric's names when fit
        starts.
    mode : {'auto', 'min', 'max'}, default 'auto'
        Whether smaller or larger is better; 'auto' is 'max' for accuracy-like names
        (acc, f1, mcc, pearson, auc, precision, recall) and 'min' otherwise.
    patience : int, default 0
        Training stops after this many epochs in a row without improvement (0 and 1
        both stop at the first such epoch, as in Keras).
    min_delta : float, default 0
        A change smaller than this is no improvement.
    restore_best : bool, default False
        Keep a copy of the parameters of the best epoch and put them back into the
        module when training stops (early, or at num_epoch).

    Attributes
    ----------
    best, best_epoch : float, int
        The best value and its epoch.
    stopped_epoch : int or None
        The epoch after which it stopped training.

    Raises
    ------
    MXNetValueError
        For a negative patience, a bad mode or min_delta; at fit's start, for a slot
        other than eval_end/epoch_end or a monitor the metric does not report.
    """

    def __init__(self, monitor=None, mode="auto", patience=0, min_delta=0.0,
                 restore_best=False):
        super().__init__("EarlyStopping", monitor, mode, min_delta)
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise MXNetValueError(f"EarlyStopping: invalid patience {patience!r}; it must be "
                                  "an int >= 0")
        self.patience = patience
        self.restore_best = bool(restore_best)
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = None
        self._best_params = None
        self._restored = False

    def attach(self, module, slot):
        super().attach(module, slot)
        self._reset()

    def on_value(self, record, name, value, improved):
        if improved:
            self.wait = 0
            if self.restore_best:
                arg, aux = self.module.get_params()
                self._best_params = ({k: v.copy() for k, v in arg.items()},
                                     {k: v.copy() for k, v in aux.items()})
            return
        self.wait += 1
        if self.wait >= max(1, self.patience):
            self.stopped_epoch = record.epoch
            self._restore()
            raise StopTraining(f"EarlyStopping: {name} did not improve on {self.best:g} "
                               f"(epoch {self.best_epoch}) for {self.wait} epoch(s)")

    def _restore(self):
        if self.restore_best and self._best_params is not None and not self._restored:
            self.module.set_params(*self._best_params)
            self._restored = True
            logging.info("EarlyStopping: restored the parameters of epoch %d", self.best_epoch)

    def detach(self, module, error=None):
        """At the end of fit (not after an error) put the best parameters back."""
        if error is None:
            history = getattr(module, "history", None)
            if history is not None and history.last is not None and \
                    history.last.epoch != self.best_epoch:
                self._restore()
        self._best_params = None
        super().detach(module, error)
