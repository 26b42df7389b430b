"""The DataIter protocol and the iterators that wrap other iterators (ResizeIter,
PrefetchingIter). Array-backed iteration lives in ndarray_iter.py."""
import threading

from ..base import MXNetError, MXNetNotImplementedError, MXNetValueError
from .data_desc import DataBatch, DataDesc

__all__ = ["DataIter", "ResizeIter", "PrefetchingIter"]


class _MissingDescError(MXNetError, AttributeError):
    """provide_data/provide_label read on an iterator that never set them."""


class DataIter:
    """The base class of data iterators.

    ``iter(it)`` returns ``it``; each ``next(it)`` returns a :class:`DataBatch` and
    raises ``StopIteration`` at the end of the data; ``reset()`` starts again.
    A subclass either overrides ``next`` or implements ``iter_next`` and ``getdata``
    (and ``getlabel``, ``getpad``, ``getindex`` where it has them), and sets or
    defines ``provide_data`` / ``provide_label`` (lists of DataDesc).

    Parameters
    ----------
    batch_size : int, default 0
    """

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        """Reset the iterator to the beginning of the data."""

    def next(self):
        """The next DataBatch.

        Raises
        ------
        StopIteration
            At the end of the data.
        """
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(),
                             pad=self.getpad(), index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        """Move to the next batch; return whether there is one."""
        raise MXNetNotImplementedError(f"{type(self).__name__} must implement iter_next() "
                                       "(with getdata/getlabel) or override next()")

    def getdata(self):
        """The data arrays (list of NDArray) of the current batch."""
        raise MXNetNotImplementedError(f"{type(self).__name__} must implement getdata() "
                                       "or override next()")

    def getlabel(self):
        """The label arrays (list of NDArray) of the current batch; None if there are none."""
        return None

    def getindex(self):
        """The example indices (numpy array) of the current batch, or None."""
        return None

    def getpad(self):
        """The number of padding examples at the end of the current batch, or None."""
        return None

    # provide_data / provide_label: subclasses assign them or define properties
    def _get_desc(self, attr):
        try:
            return self.__dict__["_" + attr]
        except KeyError:
            raise _MissingDescError(f"{type(self).__name__} has no {attr}: set self.{attr} to a "
                                    "list of DataDesc (or (name, shape)) in __init__ or define "
                                    "it as a property") from None

    provide_data = property(lambda self: self._get_desc("provide_data"),
                            lambda self, v: self.__dict__.__setitem__("_provide_data", v),
                            doc="The DataDesc of each data input.")
    provide_label = property(lambda self: self._get_desc("provide_label"),
                             lambda self, v: self.__dict__.__setitem__("_provide_label", v),
                             doc="The DataDesc of each label input.")


class ResizeIter(DataIter):
    """Make an iterator yield exactly ``size`` batches per epoch (wrapping around
    with a reset, or stopping early).

    Parameters
    ----------
    data_iter : DataIter
    size : int
        Batches per epoch.
    reset_internal : bool, default True
        Whether ``reset`` also resets ``data_iter``.
    """

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__()
        if int(size) < 0:
            raise MXNetValueError(f"ResizeIter: size must be >= 0, got {size}")
        self.data_iter = data_iter
        self.size = int(size)
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        self.batch_size = data_iter.batch_size
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True

    def next(self):
        if self.iter_next():
            return self.current_batch
        raise StopIteration

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


def _renamed(descs, rename):
    """DataDescs with names mapped through ``rename`` (as MXNet: dtype kept, layout reset)."""
    return [DataDesc(rename[x.name], x.shape, x.dtype) if isinstance(x, DataDesc)
            else DataDesc(*x) for x in descs]


class PrefetchingIter(DataIter):
    """Fetch the next batch of one or more iterators in background threads.

    The batches of the iterators are joined: data and labels concatenated as lists,
    pad and index from the first.

    Parameters
    ----------
    iters : DataIter or list of DataIter
    rename_data, rename_label : list of dict, optional
        For the i-th iterator, ``{'old_name': 'new_name'}`` for each of its inputs.

    Raises
    ------
    MXNetValueError
        No iterator given, or (while iterating) the iterators run out at different
        batches or give different pads.
    """

    def __init__(self, iters, rename_data=None, rename_label=None):
        super().__init__()
        if not isinstance(iters, list):
            iters = [iters]
        if not iters:
            raise MXNetValueError("PrefetchingIter: give at least one iterator")
        self.n_iter = len(iters)
        self.iters = iters
        self.rename_data = rename_data
        self.rename_label = rename_label
        self.batch_size = self.provide_data[0][1][0]
        self.data_ready = [threading.Event() for _ in range(self.n_iter)]
        self.data_taken = [threading.Event() for _ in range(self.n_iter)]
        for e in self.data_taken:
            e.set()
        self.started = True
        self.current_batch = None
        self.next_batch = [None] * self.n_iter
        self._errors = [None] * self.n_iter
        self.prefetch_threads = [threading.Thread(target=self._prefetch, args=(i,), daemon=True)
                                 for i in range(self.n_iter)]
        for t in self.prefetch_threads:
            t.start()

    def _prefetch(self, i):
        while True:
            self.data_taken[i].wait()
            if not self.started:
                break
            try:
                self.next_batch[i] = self.iters[i].next()
            except StopIteration:
                self.next_batch[i] = None
            except Exception as e:  # handed to the consumer thread, re-raised there
                self.next_batch[i] = None
                self._errors[i] = e
            self.data_taken[i].clear()
            self.data_ready[i].set()

    def close(self):
        """Stop the background threads (also done when the iterator is collected)."""
        if getattr(self, "started", False):
            self.started = False
            for e in self.data_taken:
                e.set()
            for t in self.prefetch_threads:
                t.join()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def _descs(self, attr, renames):
        if renames is None:
            return sum([list(getattr(it, attr)) for it in self.iters], [])
        return sum([_renamed(getattr(it, attr), r) for r, it in zip(renames, self.iters)], [])

    @property
    def provide_data(self):
        return self._descs("provide_data", self.rename_data)

    @property
    def provide_label(self):
        return self._descs("provide_label", self.rename_label)

    def _raise_pending(self):
        for i, err in enumerate(self._errors):
            if err is not None:
                self._errors[i] = None
                raise err

    def reset(self):
        for e in self.data_ready:
            e.wait()
        for it in self.iters:
            it.reset()
        for e in self.data_ready:
            e.clear()
        self._errors = [None] * self.n_iter
        for e in self.data_taken:
            e.set()

    def iter_next(self):
        for e in self.data_ready:
            e.wait()
        self._raise_pending()
        if self.next_batch[0] is None:
            if any(b is not None for b in self.next_batch):
                raise MXNetValueError("PrefetchingIter: the iterators have different numbers "
                                      "of batches")
            return False
        if any(b is None or b.pad != self.next_batch[0].pad for b in self.next_batch):
            raise MXNetValueError("PrefetchingIter: the iterators have different numbers of "
                                  "examples (batch counts or pads differ)")
        self.current_batch = DataBatch(sum([list(b.data) for b in self.next_batch], []),
                                       sum([list(b.label or []) for b in self.next_batch], []),
                                       self.next_batch[0].pad, self.next_batch[0].index,
                                       provide_data=self.provide_data,
                                       provide_label=self.provide_label)
        for e in self.data_ready:
            e.clear()
        for e in self.data_taken:
            e.set()
        return True

    def next(self):
        if self.iter_next():
            return self.current_batch
        raise StopIteration

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad
