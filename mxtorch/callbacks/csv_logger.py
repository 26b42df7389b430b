"""CSVLogger: one row per epoch (epoch, training and validation values, time, learning
rate) in a CSV file, continued across a resumed fit."""
import csv
import io
import os

from ..base import MXNetValueError, MXNetTypeError
from ..util.atomic import atomic_write
from .base import Callback

__all__ = ["CSVLogger"]


def _cell(value):
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _epoch_of(row):
    """The epoch of a CSV row (rows that do not start with one sort after every epoch)."""
    try:
        return int(row[0])
    except (IndexError, ValueError):
        return float("inf")


class CSVLogger(Callback):
    """Write ``module.history`` as CSV, one row per epoch.

    Columns: ``epoch``, ``Train-<name>`` per training value, ``Validation-<name>`` per
    validation value, ``time`` and ``learning_rate``. Pass it as ``eval_end_callback``
    when fit has eval_data (the row then holds the validation values), else as
    ``epoch_end_callback``. Rows are flushed as they are written.

    Parameters
    ----------
    filename : str or os.PathLike
    separator : str, default ','
    append : bool or None, default None
        None: continue the file when fit starts after epoch 0 (``resume=`` found a
        snapshot, or ``begin_epoch > 0``), dropping its rows for epochs at or after that
        epoch (the resumed run writes them again); start a new file when fit starts at
        epoch 0. True: always keep the existing rows. False: always start a new file.

    Raises
    ------
    MXNetTypeError
        For a bad filename or separator.
    MXNetValueError
        At fit's start, for a slot other than eval_end/epoch_end, or when it is to
        continue a file whose header has other columns (use another file or append=False).
    """

    slots = ("eval_end", "epoch_end")

    def __init__(self, filename, separator=",", append=None):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise MXNetTypeError(f"CSVLogger: filename must be a path, got "
                                 f"{type(filename).__name__}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise MXNetTypeError(f"CSVLogger: separator must be one character, got "
                                 f"{separator!r}")
        if append not in (None, True, False):
            raise MXNetTypeError(f"CSVLogger: append must be None, True or False, got "
                                 f"{append!r}")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._header = None

    def attach(self, module, slot):
        super().attach(module, slot)
        if len(self.attached_slots) > 1:
            raise MXNetValueError("CSVLogger: pass it in one slot only (eval_end_callback or "
                                  "epoch_end_callback), not both")
        self._history()
        self._header = None

    def on_epoch_end(self, epoch, symbol, arg_params, aux_params):
        self._write()

    def on_eval_end(self, param):
        self._write()

    def _line(self, cells):
        buf = io.StringIO()
        csv.writer(buf, delimiter=self.separator, lineterminator="\n").writerow(cells)
        return buf.getvalue()

    def _write(self):
        history = self._history()
        items = history.last.items()
        header = [k for k, _ in items]
        row = self._line([_cell(v) for _, v in items])
        if self._header is None:
            self._start(header, history.begin_epoch, row)
            self._header = header
            return
        if header != self._header:
            raise MXNetValueError(f"CSVLogger: epoch {history.last.epoch} has columns {header} "
                                  f"but the file {self.filename} has {self._header}")
        with open(self.filename, "a", encoding="utf-8", newline="") as f:
            f.write(row)

    def _start(self, header, begin_epoch, row):
        """First row of this fit: a new file, or the kept rows of the old one plus it
        (written atomically)."""
        keep_old = self.append if self.append is not None else begin_epoch > 0
        kept = []
        if keep_old and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f, delimiter=self.separator))
            if rows:
                if rows[0] != header:
                    raise MXNetValueError(
                        f"CSVLogger: cannot continue {self.filename}: its columns are "
                        f"{rows[0]}, this fit writes {header}; give another filename or "
                        "append=False")
                kept = [r for r in rows[1:] if self.append or _epoch_of(r) < begin_epoch]
        text = self._line(header) + "".join(self._line(r) for r in kept) + row
        atomic_write(self.filename, text)
