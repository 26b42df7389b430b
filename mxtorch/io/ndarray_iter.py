"""NDArrayIter: batches over in-memory arrays with MXNet 1.9.1's naming, padding,
discard, roll-over and shuffle rules.

The arrays are stored once as tensors; a full batch is a view (``narrow``) of them and
only the padded / rolled-over batches are built with ``torch.cat``.
"""
import numbers

import numpy as np
import torch

from ..base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError, StateError
from ..ndarray.ndarray import NDArray, array as _nd_array
from ..ndarray.sparse import CSRNDArray, csr_matrix, csr_rows, csr_take
from .data_desc import DataBatch, DataDesc
from .data_iter import DataIter

__all__ = ["NDArrayIter"]

_HANDLES = ("pad", "discard", "roll_over")


def _pinned(t):
    """``t`` in page-locked memory when a GPU is present and ``t`` is a dense CPU tensor
    (batches then reach the GPU by asynchronous copies, as a DataLoader's with
    ``pin_memory=True``); else ``t``."""
    if t.device.type == "cpu" and t.layout is torch.strided and torch.cuda.is_available() \
            and not t.is_pinned():
        return t.pin_memory()
    return t


def _to_ndarray(value, key):
    """An NDArray for one input: NDArrays are kept (no copy), tensors wrapped, anything
    else copied to float32 on the current context (as MXNet's ``nd.array`` does; on the
    CPU of a machine with a GPU, into page-locked memory)."""
    if isinstance(value, NDArray):
        out = value
    elif isinstance(value, torch.Tensor):
        out = NDArray(value.detach())
    elif hasattr(value, "tocsr"):          # a scipy.sparse matrix
        out = csr_matrix(value)
    else:
        try:
            out = _nd_array(np.asarray(value), dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise MXNetTypeError(f"NDArrayIter: invalid type {type(value).__name__} for {key!r}; "
                                 "expected an NDArray, numpy.ndarray or torch.Tensor") from e
        out._data = _pinned(out._data)
    if out.ndim == 0:
        raise MXNetValueError(f"NDArrayIter: input {key!r} is a scalar; it needs a batch axis")
    return out


def _init_data(data, allow_empty, default_name):
    """Inputs in canonical form: a name-sorted list of (name, NDArray)."""
    if data is None:
        if not allow_empty:
            raise MXNetValueError("NDArrayIter: data is None; pass an array, a list of arrays "
                                  "or a dict of name -> array")
        data = []
    if isinstance(data, (np.ndarray, NDArray, torch.Tensor)):
        data = [data]
    if isinstance(data, list):
        if not data and not allow_empty:
            raise MXNetValueError("NDArrayIter: data is an empty list; give at least one array")
        if len(data) == 1:
            data = {default_name: data[0]}
        else:
            data = {"_%d_%s" % (i, default_name): d for i, d in enumerate(data)}
    if not isinstance(data, dict):
        raise MXNetTypeError(f"NDArrayIter: input must be an NDArray, numpy.ndarray, a list of "
                             f"them or a dict of name -> array, got {type(data).__name__}")
    return sorted(((k, _to_ndarray(v, k)) for k, v in data.items()), key=lambda kv: kv[0])


def _rows(arr, axis, lo, hi):
    if arr.stype == "csr":
        return CSRNDArray(csr_rows(arr._data, lo, hi), arr._ctx)
    return NDArray(arr._data.narrow(axis, lo, hi - lo), arr._ctx)


class NDArrayIter(DataIter):
    """Iterate over NDArrays / numpy arrays / tensors in mini-batches.

    Parameters
    ----------
    data : array, list of arrays or dict of str to array
        One array is named ``data_name``; a list of n > 1 arrays is named
        ``'_%d_%s' % (i, data_name)``; a dict keeps its names. Inputs are sorted by
        name. numpy inputs are copied to float32 NDArrays (in page-locked memory where a
        GPU is present, for asynchronous copies to it); NDArrays are used as they are.
    label : same as data, optional
        None or ``[]`` gives batches with ``label == []``.
    batch_size : int, default 1
    shuffle : bool, default False
        Shuffle (``np.random.shuffle`` of ``idx``) at construction and at every reset,
        re-gathering the arrays by ``idx`` each time (so permutations compound, as
        in MXNet).
    last_batch_handle : {'pad', 'discard', 'roll_over'}, default 'pad'
        'pad' completes the last batch from the start of the data (``pad`` counts the
        extra rows); 'discard' drops it; 'roll_over' carries its rows into the first
        batch of the next epoch (whose ``pad`` is then reported as the number of
        carried rows, MXNet's quirk).
    data_name : str, default 'data'
    label_name : str, default 'softmax_label'
    layout : str, default 'NCHW'
        The position of 'N' is the batch axis of every input (data and label).
    num_parts, part_index : int, default 1, 0
        Iterate over part ``part_index`` of ``num_parts`` contiguous parts of the examples
        (as MXNet's record iterators): each distributed worker reads its own shard.
        ``mx.kv.data_shard(kv)`` gives both from a kvstore's rank and num_workers.

    Raises
    ------
    MXNetValueError
        batch_size not a positive int, an unknown last_batch_handle, a layout without
        'N', empty data, inputs of different lengths, or a part_index outside
        ``[0, num_parts)``.
    MXNetTypeError
        An input of an unsupported type.
    """

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label", layout="NCHW", num_parts=1,
                 part_index=0):
        if not (isinstance(num_parts, numbers.Integral) and isinstance(part_index, numbers.Integral)
                and num_parts >= 1 and 0 <= part_index < num_parts):
            raise MXNetValueError(f"NDArrayIter: part_index must be in [0, num_parts), got "
                                  f"part_index={part_index!r}, num_parts={num_parts!r}")
        if (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                or batch_size <= 0):
            raise MXNetValueError(f"NDArrayIter: batch_size must be a positive int, got "
                                  f"{batch_size!r}")
        if last_batch_handle not in _HANDLES:
            raise MXNetValueError(f"NDArrayIter: last_batch_handle must be one of {_HANDLES}, got "
                                  f"{last_batch_handle!r}")
        if not isinstance(layout, str) or "N" not in layout:
            raise MXNetValueError(f"NDArrayIter: layout must be a str with an 'N' (batch) axis, "
                                  f"got {layout!r}")
        super().__init__(int(batch_size))
        self.layout = layout
        self._axis = layout.find("N")
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        sparse = [k for k, v in self.data + self.label if v.stype != "default"]
        self._dense = not sparse
        if sparse and (last_batch_handle != "discard" or self._axis != 0):
            raise MXNetNotImplementedError(
                f"NDArrayIter: sparse inputs {sparse} need last_batch_handle='discard' and "
                f"batch axis 0 (as in MXNet); got {last_batch_handle!r}, layout {layout!r}")
        if any(v.stype == "row_sparse" for _, v in self.data + self.label):
            raise MXNetNotImplementedError("NDArrayIter: row_sparse inputs are not supported "
                                           "(MXNet iterates over csr only); pass "
                                           "arr.tostype('csr') or a dense array")
        lengths = {}
        for k, v in self.data + self.label:
            if v.ndim <= self._axis:
                raise MXNetValueError(f"NDArrayIter: input {k!r} of shape {v.shape} has no batch "
                                      f"axis {self._axis} (layout {layout!r})")
            lengths[k] = v.shape[self._axis]
        if num_parts > 1:
            total = self.data[0][1].shape[self._axis]
            lo, hi = part_index * total // num_parts, (part_index + 1) * total // num_parts
            self.data = [(k, _rows(v, self._axis, lo, hi)) for k, v in self.data]
            self.label = [(k, _rows(v, self._axis, lo, hi)) for k, v in self.label]
        self.num_data = self.data[0][1].shape[self._axis]
        if len(set(lengths.values())) > 1:
            raise MXNetValueError(f"NDArrayIter: all data and label inputs must have the same "
                                  f"number of examples along the batch axis, got {lengths}")
        if self.num_data == 0:
            raise MXNetValueError("NDArrayIter: the data has no examples (length 0 along the "
                                  "batch axis)")
        self.idx = np.arange(self.num_data)
        self._order = np.arange(self.num_data)   # row i of self.data is row _order[i] of the input
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None
        self.reset()

    # ------------------------------------------------------------------ descriptions
    def _descs(self, source):
        ax, bs = self._axis, self.batch_size
        return [DataDesc(k, tuple(v.shape[:ax]) + (bs,) + tuple(v.shape[ax + 1:]), v.dtype,
                         layout=self.layout) for k, v in source]

    @property
    def provide_data(self):
        """DataDesc of each data input, with the batch axis set to batch_size."""
        return self._descs(self.data)

    @property
    def provide_label(self):
        """DataDesc of each label input (``[]`` without labels)."""
        return self._descs(self.label)

    @property
    def data_list(self):
        """The data then label arrays."""
        return [x[1] for x in self.data] + [x[1] for x in self.label]

    @property
    def num_source(self):
        return len(self.data) + len(self.label)

    # ------------------------------------------------------------------ epoch control
    def hard_reset(self):
        """Reset to the start, dropping any rolled-over rows."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self):
        """Reset to the start of the data (keeping rolled-over rows for 'roll_over')."""
        if self.shuffle:
            self._shuffle_data()
        if (self.last_batch_handle == "roll_over"
                and self.num_data - self.batch_size < self.cursor < self.num_data):
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self):
        """Advance the cursor by batch_size; True while it is inside the data."""
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        """The next DataBatch (an incomplete last batch is cached and ends the epoch)."""
        if not self.iter_next():
            raise StopIteration
        cur, end = self.cursor, self.cursor + self.batch_size
        if cur >= 0 and end <= self.num_data and self._axis == 0 and self._dense:
            # a full batch: views of the rows (what _batchify gives, without its cases)
            return DataBatch(data=[NDArray(a._data[cur:end], a._ctx) for _, a in self.data],
                             label=[NDArray(a._data[cur:end], a._ctx) for _, a in self.label],
                             pad=0, index=None)
        data = self.getdata()
        label = self.getlabel()
        if data[0].shape[self._axis] != self.batch_size:
            self._cache_data = data
            self._cache_label = label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    # ------------------------------------------------------------------ batch building
    def _slice(self, arr, start, end):
        """A view of rows [start, end) along the batch axis (clamped like Python slicing)."""
        if arr.stype == "csr":
            return _rows(arr, 0, start, max(start, min(end, arr.shape[0])))
        if self._axis == 0:
            return NDArray(arr._data[start:end], arr._ctx)
        index = (slice(None),) * self._axis + (slice(start, end),)
        return NDArray(arr._data[index], arr._ctx)

    def _getdata(self, source, start=None, end=None):
        start = 0 if start is None else start
        return [self._slice(arr, start, self.num_data if end is None else end)
                for _, arr in source]

    def _cat(self, pieces, like):
        return NDArray(torch.cat([p._data for p in pieces], dim=self._axis), like._ctx)

    def _batchify(self, source):
        if self.cursor >= self.num_data:
            raise StateError("NDArrayIter: the epoch is over (cursor past the data); call "
                             "reset() before reading another batch")
        bs, n, cur = self.batch_size, self.num_data, self.cursor
        if self.last_batch_handle == "roll_over" and -bs < cur < 0:
            if self._cache_data is None and self._cache_label is None:
                raise StateError("NDArrayIter: no rolled-over rows are cached for this batch; "
                                 "call hard_reset() to start the epoch from the beginning")
            if cur + bs > n:
                raise MXNetValueError(
                    f"NDArrayIter: 'roll_over' cannot fill a batch of {bs} from {-cur} carried "
                    f"rows and {n} examples; use batch_size <= {n} or last_batch_handle='pad'")
            cache = self._cache_data if self._cache_data is not None else self._cache_label
            second = self._getdata(source, end=cur + bs)
            if self._cache_data is not None:
                self._cache_data = None
            else:
                self._cache_label = None
            if not cache or not second:
                return cache if cache else second
            return [self._cat([a, b], a) for a, b in zip(cache, second)]
        if self.last_batch_handle == "pad" and cur + bs > n:
            reps, rem = divmod(bs - n + cur, n)
            out = []
            for _, arr in source:
                pieces = [self._slice(arr, cur, n)] + [arr] * reps
                if rem:
                    pieces.append(self._slice(arr, 0, rem))
                out.append(self._cat(pieces, arr))
            return out
        return self._getdata(source, cur, min(cur + bs, n))

    def getdata(self):
        """The data arrays of the current batch."""
        return self._batchify(self.data)

    def getlabel(self):
        """The label arrays of the current batch (``[]`` without labels)."""
        return self._batchify(self.label)

    def getpad(self):
        """Padding rows of the current batch ('roll_over': rows carried over, MXNet's quirk)."""
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0

    def _shuffle_data(self):
        """Permute ``idx`` in place (numpy's global RNG) and gather every array by it.

        As MXNet, ``idx`` is shuffled again each time and applied to the already shuffled
        arrays, so an epoch's order depends on every earlier shuffle (see get_state)."""
        np.random.shuffle(self.idx)
        self.data = self._gather(self.data, self.idx)
        self.label = self._gather(self.label, self.idx)
        self._order = self._order[self.idx]

    # ------------------------------------------------------------------ resumable state
    def get_state(self):
        """The iterator's position and order as numpy arrays (for exact resume): the row
        order of the arrays, the shuffle index and the cursor."""
        return {"order": self._order.copy(), "idx": self.idx.copy(),
                "cursor": np.array([self.cursor], dtype=np.int64)}

    def set_state(self, state):
        """Return to a state from :meth:`get_state` of an iterator over the same data.

        Raises
        ------
        MXNetValueError
            If the state is for another number of examples.
        """
        order = np.asarray(state["order"], dtype=np.int64)
        idx = np.asarray(state["idx"], dtype=np.int64)
        if order.shape != (self.num_data,) or idx.shape != (self.num_data,):
            raise MXNetValueError(f"NDArrayIter.set_state: the state is for {order.size} "
                                  f"examples, this iterator has {self.num_data}")
        rows = np.argsort(self._order)[order]    # back to the input's order, then to `order`
        self.data = self._gather(self.data, rows)
        self.label = self._gather(self.label, rows)
        self._order, self.idx = order, idx
        self.cursor = int(np.asarray(state["cursor"]).reshape(-1)[0])
        self._cache_data = self._cache_label = None

    def _gather(self, source, rows):
        out = []
        for k, arr in source:
            index = torch.from_numpy(rows).to(arr._data.device)
            if arr.stype == "csr":
                out.append((k, CSRNDArray(csr_take(arr._data, index), arr._ctx)))
                continue
            t = arr._data   # a permutation of all rows; page-locked stays page-locked
            pinned = torch.empty_like(t, pin_memory=True) if t.is_pinned() else None
            out.append((k, NDArray(torch.index_select(t, self._axis, index, out=pinned),
                                   arr._ctx)))
        return out
