"""LibSVMIter: csr batches from a LibSVM text file (MXNet 1.9.1's ``mx.io.LibSVMIter``).

Each line is ``<label> <index>:<value> ...`` with zero-based feature indices. The file is
parsed once into one csr array; batches are row slices of it. As MXNet's sparse batch
loader does with ``round_batch`` (its only mode), the last batch of an epoch is completed
with rows from the start of the data (``pad`` counts them) and the next epoch starts
after those rows. ``num_parts``/``part_index`` split the file by bytes, each part taking
the lines that start in it (dmlc's InputSplit), so a worker reads only its share.
"""
import os

import numpy as np
import torch

from ..base import FormatError, MXNetValueError
from ..ndarray.ndarray import NDArray
from ..ndarray.sparse import CSRNDArray, csr_cat, csr_rows, csr_tensor
from .data_desc import DataBatch, DataDesc
from .data_iter import DataIter

__all__ = ["LibSVMIter"]


def _part_lines(path, num_parts, part_index):
    """The lines of ``path`` that start in byte range ``part_index`` of ``num_parts``."""
    with open(path, "rb") as f:
        raw = f.read()
    size = len(raw)
    begin, end = size * part_index // num_parts, size * (part_index + 1) // num_parts

    def align(pos):   # the first line start at or after pos
        if pos == 0 or pos >= size:
            return min(pos, size)
        nl = raw.rfind(b"\n", 0, pos)
        if nl == pos - 1:
            return pos
        nxt = raw.find(b"\n", pos)
        return size if nxt < 0 else nxt + 1

    return raw[align(begin):align(end)].decode("utf-8").splitlines()


def _parse(lines, path, width, label_width):
    """(values, indices, indptr, labels) of LibSVM lines: the first token of each line is
    its label, the ``index:value`` pairs its features (``label_width`` wide in a label
    file, whose own first tokens MXNet reads and drops)."""
    values, indices, indptr, labels = [], [], [0], []
    for num, line in enumerate(lines, 1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        try:
            if label_width is None:
                labels.append(float(tokens[0]))
            for tok in tokens[1:]:
                key, _, val = tok.partition(":")
                if key == "qid":
                    continue
                idx = int(key)
                if not 0 <= idx < (label_width or width):
                    raise MXNetValueError(
                        f"{path}: line {num} has feature index {idx}, outside [0, "
                        f"{label_width or width}) (indices are zero-based; set data_shape "
                        "/ label_shape to the number of features)")
                indices.append(idx)
                values.append(float(val))
        except ValueError as e:
            if isinstance(e, MXNetValueError):
                raise
            raise FormatError(f"{path}: line {num} is not LibSVM ('<label> <index>:<value> "
                              f"...'): {line[:80]!r}") from e
        indptr.append(len(indices))
    return values, indices, indptr, labels


class LibSVMIter(DataIter):
    """Batches of csr data (and dense labels) from a LibSVM file.

    Parameters
    ----------
    data_libsvm : str
        The LibSVM file (``<label> <index>:<value> ...`` per line, zero-based indices).
    data_shape : tuple of int
        ``(num_features,)``.
    label_libsvm : str, optional
        Labels in LibSVM form in their own file (one line per data line): the labels are
        then the features of its lines, csr arrays of ``label_shape`` (as in MXNet, the
        first token of each of its lines is read as that line's label and dropped).
        Without it, the first token of each data line.
    label_shape : tuple of int, default (1,)
    batch_size : int
    num_parts, part_index : int, default 1, 0
        Read only part ``part_index`` of ``num_parts`` byte ranges of the files.
    round_batch : bool, default True
        MXNet supports only True (see the module docstring); False raises.
    data_name, label_name : str, default 'data', 'softmax_label'

    Raises
    ------
    MXNetValueError
        For a bad shape, batch size or part, ``round_batch=False``, an index outside
        ``data_shape``, a label file of another length, or an empty part.
    FormatError
        For a line that is not LibSVM.
    """

    def __init__(self, data_libsvm, data_shape, label_libsvm=None, label_shape=(1,),
                 batch_size=1, num_parts=1, part_index=0, round_batch=True,
                 data_name="data", label_name="softmax_label", **kwargs):
        data_shape, label_shape = tuple(data_shape), tuple(label_shape)
        if len(data_shape) != 1 or data_shape[0] <= 0:
            raise MXNetValueError(f"LibSVMIter: data_shape must be (num_features,), got "
                                  f"{data_shape}")
        if not (isinstance(batch_size, int) and batch_size > 0):
            raise MXNetValueError(f"LibSVMIter: batch_size must be a positive int, got "
                                  f"{batch_size!r}")
        if not 0 <= part_index < num_parts:
            raise MXNetValueError(f"LibSVMIter: part_index must be in [0, num_parts), got "
                                  f"{part_index} of {num_parts}")
        if not round_batch:
            raise MXNetValueError("LibSVMIter: round_batch=False is not supported (MXNet's "
                                  "sparse batch loader has only round_batch=True)")
        super().__init__(batch_size)
        width = data_shape[0]
        values, indices, indptr, labels = _parse(
            _part_lines(os.fspath(data_libsvm), num_parts, part_index), data_libsvm, width, None)
        n = len(indptr) - 1
        if n == 0:
            raise MXNetValueError(f"LibSVMIter: {data_libsvm} (part {part_index} of "
                                  f"{num_parts}) has no examples")
        self._data = csr_tensor(torch.tensor(values, dtype=torch.float32),
                                torch.tensor(indices, dtype=torch.int64),
                                torch.tensor(indptr, dtype=torch.int64), (n, width))
        if label_libsvm is not None:
            lv, li, lp, _ = _parse(_part_lines(os.fspath(label_libsvm), num_parts, part_index),
                                   label_libsvm, width, int(np.prod(label_shape)))
            if len(lp) - 1 != n:
                raise MXNetValueError(f"LibSVMIter: {label_libsvm} has {len(lp) - 1} lines "
                                      f"for {n} data lines")
            self._label = csr_tensor(torch.tensor(lv, dtype=torch.float32),
                                     torch.tensor(li, dtype=torch.int64),
                                     torch.tensor(lp, dtype=torch.int64),
                                     (n, int(np.prod(label_shape))))
            label_batch = (batch_size,) + label_shape
        else:
            self._label = torch.tensor(labels, dtype=torch.float32)
            if label_shape != (1,):
                self._label = self._label.reshape(-1, 1).expand(n, int(np.prod(label_shape)))
            label_batch = (batch_size,) if label_shape == (1,) else (batch_size,) + label_shape
        self.num_data = n
        self._start = 0        # the rows the previous epoch's padding used are skipped
        self._cursor = None
        self.provide_data = [DataDesc(data_name, (batch_size, width), np.float32)]
        self.provide_label = [DataDesc(label_name, label_batch, np.float32)]

    def reset(self):
        """Start the next epoch (after the rows the last batch wrapped around to)."""
        self._cursor = None

    def _rows(self, start, end):
        data = csr_rows(self._data, start, end)
        label = (csr_rows(self._label, start, end) if self._label.layout is torch.sparse_csr
                 else self._label[start:end])
        return data, label

    def next(self):
        if self._cursor is None:
            self._cursor = self._start
        cur, bs, n = self._cursor, self.batch_size, self.num_data
        if cur >= n:
            raise StopIteration
        end = cur + bs
        parts, pad = [self._rows(cur, min(end, n))], max(0, end - n)
        wrapped = pad
        while wrapped > 0:          # complete the batch from the start (several passes if
            take = min(wrapped, n)  # the data is smaller than a batch)
            parts.append(self._rows(0, take))
            wrapped -= take
        self._cursor = end
        if pad:
            self._start = pad % n
        elif end == n:
            self._start = 0
        data = csr_cat([p[0] for p in parts])
        labels = [p[1] for p in parts]
        label = (csr_cat(labels) if labels[0].layout is torch.sparse_csr
                 else torch.cat(labels))
        label_nd = CSRNDArray(label) if label.layout is torch.sparse_csr else NDArray(label)
        return DataBatch(data=[CSRNDArray(data)], label=[label_nd], pad=pad, index=None,
                         provide_data=self.provide_data, provide_label=self.provide_label)

