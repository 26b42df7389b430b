"""History: what ``fit`` records per epoch (training and validation metric values, time,
learning rate), returned by fit and kept as ``module.history``; ``plot`` draws the
training curve with matplotlib. fit (base_module.py) fills it; callbacks read it.
"""
import io
import math

from .base import MXNetValueError
from .util.atomic import atomic_write

__all__ = ["History", "EpochRecord"]


class EpochRecord:
    """One epoch of a History.

    Attributes
    ----------
    epoch : int
    train : dict of str to float
        The training metric's values (``Epoch[e] Train-<name>=`` in the log).
    validation : dict of str to float
        The validation metric's values; empty without eval_data (or before validation).
    time : float
        Seconds of the training part (``Epoch[e] Time cost=``).
    learning_rate : float or None
        The optimizer's learning rate at the end of the epoch.
    """

    __slots__ = ("epoch", "train", "validation", "time", "learning_rate")

    def __init__(self, epoch, train, time, learning_rate):
        self.epoch = epoch
        self.train = dict(train)
        self.validation = {}
        self.time = time
        self.learning_rate = learning_rate

    def items(self):
        """``[(column, value)]``: epoch, Train-<name>..., Validation-<name>..., time,
        learning_rate (the CSV and TensorBoard names)."""
        out = [("epoch", self.epoch)]
        out += [("Train-" + k, v) for k, v in self.train.items()]
        out += [("Validation-" + k, v) for k, v in self.validation.items()]
        out += [("time", self.time), ("learning_rate", self.learning_rate)]
        return out

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.items())
        return f"EpochRecord({inner})"


class History:
    """Per-epoch record of one ``fit`` call (``fit`` returns it; ``module.history``).

    Indexing gives EpochRecords (``history[-1]``, ``history.last``); ``train(name)``,
    ``validation(name)``, ``epochs``, ``times`` and ``learning_rates`` give columns.

    Attributes
    ----------
    begin_epoch : int
        The first epoch this fit runs (after a resume, the snapshot's epoch).
    train_names, validation_names : list of str or None
        The metric names fit will report (None when they could not be known before
        training); ``validation_names`` is None without eval_data.
    has_validation : bool
        Whether fit has eval_data.
    stop_reason : str or None
        The message of the StopTraining that ended fit early, if one did.
    stopped_epoch : int or None
        The epoch in which it was raised.
    """

    def __init__(self, begin_epoch=0, train_names=None, validation_names=None,
                 has_validation=False):
        self.begin_epoch = begin_epoch
        self.train_names = train_names
        self.validation_names = validation_names
        self.has_validation = has_validation
        self.records = []
        self.stop_reason = None
        self.stopped_epoch = None

    # ------------------------------------------------------------------ recording (fit)
    def record_train(self, epoch, name_values, time, learning_rate):
        """Start the record of ``epoch`` with the training values (called by fit)."""
        self.records.append(EpochRecord(epoch, name_values, time, learning_rate))

    def record_validation(self, epoch, name_values):
        """Add validation values to the record of ``epoch`` (called by fit).

        Raises
        ------
        MXNetValueError
            When ``epoch`` is not the last recorded epoch.
        """
        if not self.records or self.records[-1].epoch != epoch:
            raise MXNetValueError(f"History.record_validation: epoch {epoch} has no training "
                                  "record yet; record_train comes first")
        self.records[-1].validation.update(name_values)

    # ------------------------------------------------------------------ reading
    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, i):
        return self.records[i]

    @property
    def last(self):
        """The latest EpochRecord, or None."""
        return self.records[-1] if self.records else None

    @property
    def epochs(self):
        return [r.epoch for r in self.records]

    @property
    def times(self):
        return [r.time for r in self.records]

    @property
    def learning_rates(self):
        return [r.learning_rate for r in self.records]

    def train(self, name):
        """The training values of metric ``name`` per epoch (NaN where missing)."""
        return [r.train.get(name, math.nan) for r in self.records]

    def validation(self, name):
        """The validation values of metric ``name`` per epoch (NaN where missing)."""
        return [r.validation.get(name, math.nan) for r in self.records]

    def metric_names(self):
        """Every metric name seen, training or validation, in first-seen order."""
        names = {}
        for r in self.records:
            names.update(dict.fromkeys(r.train))
            names.update(dict.fromkeys(r.validation))
        return list(names)

    def to_dict(self):
        """``{column: [value per epoch]}`` with the columns of ``EpochRecord.items``."""
        columns = {}
        for r in self.records:
            columns.update(dict.fromkeys(k for k, _ in r.items()))
        out = {k: [] for k in columns}
        for r in self.records:
            row = dict(r.items())
            for k in columns:
                out[k].append(row.get(k))
        return out

    def __repr__(self):
        return (f"History({len(self.records)} epochs"
                + (f", stopped at epoch {self.stopped_epoch}: {self.stop_reason}"
                   if self.stop_reason else "") + ")")

    # ------------------------------------------------------------------ plot
    def plot(self, path, metrics=None, learning_rate=True, title=None, dpi=100):
        """Write the training curve as a PNG: one panel per metric (training and
        validation against epoch), and one for the learning rate.

        Parameters
        ----------
        path : str or os.PathLike
            The PNG file (written atomically).
        metrics : list of str, optional
            Metric names to draw (default: all).
        learning_rate : bool, default True
            Add a learning-rate panel (when one was recorded).
        title : str, optional
        dpi : int, default 100

        Returns
        -------
        str
            ``path``.

        Raises
        ------
        MXNetValueError
            When the history is empty or a name in ``metrics`` was never recorded.
        OptionalDependencyError
            When matplotlib is not installed.
        """
        from .callbacks.base import require
        if not self.records:
            raise MXNetValueError("History.plot: no epoch recorded; run fit first")
        known = self.metric_names()
        metrics = known if metrics is None else list(metrics)
        unknown = [m for m in metrics if m not in known]
        if unknown:
            raise MXNetValueError(f"History.plot: metrics {unknown} were never recorded; "
                                  f"recorded: {known}")
        require("matplotlib", "History.plot")
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.ticker import MaxNLocator

        lrs = [lr for lr in self.learning_rates if lr is not None]
        panels = list(metrics) + (["learning rate"] if learning_rate and lrs else [])
        fig = Figure(figsize=(5 * max(1, len(panels)), 3.6))
        FigureCanvasAgg(fig)
        epochs = self.epochs
        for i, name in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), i + 1)
            if name == "learning rate" and i == len(metrics):
                ax.plot(epochs, [math.nan if lr is None else lr for lr in self.learning_rates],
                        marker="o", color="tab:green")
                ax.set_ylabel("learning rate")
            else:
                for label, values in (("train", self.train(name)),
                                      ("validation", self.validation(name))):
                    if any(v == v for v in values):
                        ax.plot(epochs, values, marker="o", label=label)
                ax.set_ylabel(name)
                ax.legend()
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, alpha=0.3)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        atomic_write(path, buf.getvalue())
        return path
