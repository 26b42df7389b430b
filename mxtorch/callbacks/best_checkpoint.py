"""BestCheckpoint: save a checkpoint only when the monitored metric improves."""
import logging

from ..base import MXNetValueError, MXNetTypeError
from .tracker import MonitorCallback

__all__ = ["BestCheckpoint"]


class BestCheckpoint(MonitorCallback):
    """Keep the checkpoint of the best epoch so far (by ``monitor``).

    Pass it as ``eval_end_callback`` to judge by a validation metric, or as
    ``epoch_end_callback`` to judge by a training metric. Each file is written to a
    temporary name and renamed, so a crash never leaves half a checkpoint.

    Parameters
    ----------
    prefix : str
        File prefix; ``prefix-symbol.json`` is written with the parameters.
    monitor : str, optional
        A metric name as the metric reports it; default: its first value.
    mode : {'auto', 'min', 'max'}, default 'auto'
        See EarlyStopping.
    min_delta : float, default 0
    naming : {'best', 'epoch'}, default 'best'
        'best': overwrite ``prefix-best.params`` (load it with
        ``mx.model.load_params_file``). 'epoch': write MXNet's ``prefix-%04d.params``
        numbered ``epoch + 1`` as ``do_checkpoint`` does, only for improving epochs
        (load with ``mx.model.load_checkpoint`` / ``Module.load``).
    save_optimizer_states : bool, default False
        Also write the optimizer states (``prefix-best.states`` / ``prefix-%04d.states``).

    Attributes
    ----------
    best, best_epoch : float, int
    last_saved : str or None
        The params file written last.

    Raises
    ------
    MXNetValueError
        For a bad naming, mode or min_delta; at fit's start, for a slot other than
        eval_end/epoch_end or a monitor the metric does not report.
    MXNetTypeError
        For a prefix that is not a str.
    """

    def __init__(self, prefix, monitor=None, mode="auto", min_delta=0.0, naming="best",
                 save_optimizer_states=False):
        super().__init__("BestCheckpoint", monitor, mode, min_delta)
        if not isinstance(prefix, str) or not prefix:
            raise MXNetTypeError(f"BestCheckpoint: prefix must be a non-empty str, got "
                                 f"{prefix!r}")
        if naming not in ("best", "epoch"):
            raise MXNetValueError(f"BestCheckpoint: invalid naming {naming!r}; use 'best' "
                                  "(prefix-best.params) or 'epoch' (prefix-%04d.params)")
        self.prefix = prefix
        self.naming = naming
        self.save_optimizer_states = bool(save_optimizer_states)
        self.last_saved = None

    def attach(self, module, slot):
        if self.save_optimizer_states and not hasattr(module, "save_optimizer_states"):
            raise MXNetValueError(f"BestCheckpoint: {type(module).__name__} cannot save "
                                  "optimizer states; pass save_optimizer_states=False")
        super().attach(module, slot)

    def on_value(self, record, name, value, improved):
        if improved:
            self._save(record.epoch, name, value)

    def _save(self, epoch, name, value):
        from ..model import save_params_file
        module = self.module
        stem = f"{self.prefix}-best" if self.naming == "best" else \
            "%s-%04d" % (self.prefix, epoch + 1)
        if module.symbol is not None:
            module.symbol.save(f"{self.prefix}-symbol.json")
        arg_params, aux_params = module.get_params()
        save_params_file(stem + ".params", arg_params, aux_params)
        if self.save_optimizer_states:
            module.save_optimizer_states(stem + ".states")
        self.last_saved = stem + ".params"
        logging.info('Saved best checkpoint to "%s" (%s=%f, epoch %d)', self.last_saved,
                     name, value, epoch)
