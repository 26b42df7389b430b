"""The local KVStore: sums device copies of values, optionally applies an updater to the
stored value, and copies it back to the devices (``mx.kv.create('local' | 'device')``).

A call on many keys is one pass: the device copies of all keys are summed with foreach
adds, an :class:`~mxtorch.optimizer.Updater` is called once with every key, and each
device receives all values with one foreach copy. The distributed stores (dist.py)
subclass it and sum across workers as well.
"""
import os

import numpy as np

import torch

from ..base import (MXNetValueError, MXNetTypeError, MXNetKeyError, MXNetNotImplementedError,
                    StateError)
from ..ndarray.ndarray import NDArray
from ..ndarray.sparse import rebind, rsp_tensor, to_dense
from ..optimizer import Optimizer, Updater, get_updater
from ..util.atomic import atomic_write
from .compression import create_compression

__all__ = ["KVStore", "create", "select"]

_LOCAL_TYPES = ("local", "local_update_cpu", "local_allreduce_cpu", "device",
                "local_allreduce_device", "nccl")


def _is_key(k):
    return isinstance(k, str) or (isinstance(k, int) and not isinstance(k, bool))


def _group(call, key, value, what="value"):
    """``(keys, lists)``: each key with the list of its NDArrays (one per device)."""
    if _is_key(key):
        keys, values = [key], [value]
    elif isinstance(key, (list, tuple)) and all(_is_key(k) for k in key):
        keys = list(key)
        if not isinstance(value, (list, tuple)) or len(value) != len(keys):
            got = len(value) if isinstance(value, (list, tuple)) else type(value).__name__
            raise MXNetValueError(f"KVStore.{call}: {len(keys)} keys need a list of "
                                  f"{len(keys)} {what}s (one NDArray or list per key), got {got}")
        values = list(value)
    else:
        raise MXNetTypeError(f"KVStore.{call}: a key is an int or a str (or a list of them), "
                             f"got {key!r}")
    if len({type(k) for k in keys}) > 1:
        raise MXNetTypeError(f"KVStore.{call}: keys mix int and str ({keys}); use one kind")
    lists = []
    for k, v in zip(keys, values):
        arrs = list(v) if isinstance(v, (list, tuple)) else [v]
        if not arrs or not all(isinstance(a, NDArray) for a in arrs):
            raise MXNetTypeError(f"KVStore.{call}: the {what} of key {k!r} must be an NDArray "
                                 f"or a non-empty list of NDArrays, got {v!r}")
        lists.append(arrs)
    return keys, lists


def create(name="local"):
    """Create a key-value store.

    Parameters
    ----------
    name : str, default 'local'
        'local' or 'device' (also MXNet's 'local_update_cpu', 'local_allreduce_cpu',
        'local_allreduce_device' and 'nccl', which behave the same here), or
        'dist_sync', 'dist_device_sync', 'dist_async' (torch.distributed: see
        :mod:`mxtorch.kvstore.dist`).

    Raises
    ------
    MXNetNotImplementedError
        For 'horovod' and 'byteps' (their engines are not torch.distributed collectives
        here; 'dist_sync' under torchrun is the equivalent).
    MXNetValueError
        For an unknown name.
    MXNetRuntimeError
        For a distributed name outside a launcher (see :mod:`mxtorch.kvstore.dist`).
    """
    if not isinstance(name, str):
        raise MXNetTypeError(f"kv.create: name must be a str, got {type(name).__name__}")
    if name in ("horovod", "byteps"):
        raise MXNetNotImplementedError(
            f"kvstore {name!r} is not provided; launch with torchrun and use "
            "kvstore='dist_sync' (all-reduce over torch.distributed, the same arithmetic)")
    if "dist" in name:
        from .dist import create_dist
        return create_dist(name)
    if name not in _LOCAL_TYPES:
        raise MXNetValueError(f"kv.create: unknown kvstore type {name!r}; use one of "
                              f"{list(_LOCAL_TYPES)}")
    return KVStore(name)


def distributed_arg(value, call, arg, none_ok=False):
    """Check a ``call(..., arg=value)`` that takes True, False or a distributed KVStore
    (``predict(gather=)``, BigDL ``evaluate(distributed=)``): returns the store or the
    flag (None as False where ``none_ok``), before any work."""
    if isinstance(value, KVStore):
        if not hasattr(value, "all_gather_rows"):
            raise MXNetValueError(f"{call}: {arg}= got a {value.type!r} kvstore, which is not "
                                  "distributed; pass mx.kv.create('dist_sync') (under "
                                  f"torchrun), or {arg}=True or False")
        return value
    if none_ok and value is None:
        return False
    if not isinstance(value, (bool, np.bool_)):
        raise MXNetTypeError(f"{call}: {arg} must be True, False or a distributed KVStore, "
                             f"got {type(value).__name__}")
    return bool(value)


def select(kvstore, num_device, arg_params):
    """The kvstore a Module uses, and whether it updates the parameters (MXNet's rules).

    ``update_on_kvstore`` starts from ``MXNET_UPDATE_ON_KVSTORE`` (default 1). A plain
    string on one device means no kvstore; otherwise ``create(name)``, and 'local' stops
    updating on the kvstore when the largest parameter has more than 16 * 2**20
    elements. A KVStore object is used as given. Without a kvstore nothing updates on it.

    Parameters
    ----------
    kvstore : str, KVStore or None
    num_device : int
    arg_params : dict of str to NDArray
        The parameters (only their sizes are read).

    Returns
    -------
    (KVStore or None, bool)

    Raises
    ------
    MXNetTypeError
        For a kvstore that is neither None, a str nor a KVStore.
    """
    update_on_kvstore = bool(int(os.getenv("MXNET_UPDATE_ON_KVSTORE", "1")))
    if kvstore is None:
        kv = None
    elif isinstance(kvstore, KVStore):
        kv = kvstore
    elif isinstance(kvstore, str):
        if num_device == 1 and "dist" not in kvstore:
            kv = None
        else:
            kv = create(kvstore)
            if kvstore == "local":
                max_size = max((arr.size for arr in arg_params.values()), default=0)
                if max_size > 1024 * 1024 * 16:
                    update_on_kvstore = False
    else:
        raise MXNetTypeError(f"kvstore must be a KVStore, a str or None, got "
                             f"{type(kvstore).__name__}")
    if kv is None:
        return None, False
    return kv, update_on_kvstore and kv.is_capable(KVStore.OPTIMIZER)


class KVStore:
    """A key-value store on one machine, over several devices.

    Values are summed over the device copies pushed for a key. With an updater
    (``set_optimizer``), a push applies ``updater(key, summed, stored)`` to the stored
    value; without one, the stored value becomes the sum. ``pull`` copies the stored
    value to every output array. The stored copy of a key lives on the device of the
    first value pushed for it (MXNet's 'device' placement, also used for 'local': the
    numbers are the same, and no host round trip is paid on GPUs).

    Parameters
    ----------
    kv_type : str, default 'local'
        The name reported by :attr:`type`; use :func:`create` to validate it.
    """

    OPTIMIZER = "optimizer"

    def __init__(self, kv_type="local"):
        self._type = kv_type
        self._store = {}
        self._updater = None
        self._staging = {}
        self._compression = None

    def __repr__(self):
        return f"<KVStore {self._type!r}: {len(self._store)} keys>"

    # ------------------------------------------------------------------ properties
    @property
    def type(self):
        """The kvstore type name (``'local'``, ``'device'``, ...)."""
        return self._type

    @property
    def rank(self):
        """The rank of this worker: always 0 on one machine."""
        return 0

    @property
    def num_workers(self):
        """The number of workers: always 1 on one machine."""
        return 1

    def is_capable(self, capability):
        """Whether the store supports ``capability`` ('optimizer': True).

        Raises
        ------
        MXNetValueError
            For an unknown capability.
        """
        if str(capability).lower() == KVStore.OPTIMIZER:
            return True
        raise MXNetValueError(f"KVStore.is_capable: unknown capability {capability!r}; "
                              "known: 'optimizer'")

    def barrier(self):
        """Wait for all workers: nothing to wait for on one machine."""

    _barrier = barrier

    # ------------------------------------------------------------------ data
    def init(self, key, value):
        """Initialize keys with values (copied; one NDArray per key).

        Raises
        ------
        MXNetKeyError
            If a key is already initialized (nothing is changed).
        MXNetValueError
            If a key is given several values.
        """
        keys, lists = _group("init", key, value)
        for k, arrs in zip(keys, lists):
            if k in self._store:
                raise MXNetKeyError(f"KVStore.init: duplicate init of key {k!r}")
            if len(arrs) != 1:
                raise MXNetValueError(f"KVStore.init: key {k!r} got {len(arrs)} values; give "
                                      "one (push sums device copies, init does not)")
        if len(set(keys)) != len(keys):
            raise MXNetKeyError(f"KVStore.init: a key appears twice in {keys}")
        for k, arrs in zip(keys, lists):
            a = arrs[0]
            self._store[k] = NDArray(to_dense(a._data.detach()).clone(), a.context)  # held dense

    def assign(self, key, value):
        """Replace the stored values of initialized keys (copied; no updater runs): for
        parameters restored after the store was initialized, e.g. from a snapshot.

        Raises
        ------
        MXNetKeyError
            If a key was never initialized.
        """
        keys, lists = _group("assign", key, value)
        stored = self._stored("assign", keys)
        with torch.no_grad():
            for s, arrs in zip(stored, lists):
                s._data.copy_(arrs[0]._data.to(s._data.device))

    def _stored(self, call, keys):
        missing = [k for k in keys if k not in self._store]
        if missing:
            raise MXNetKeyError(f"KVStore.{call}: keys {missing} are not initialized; call "
                                "init(key, value) first")
        return [self._store[k] for k in keys]

    def push(self, key, value, priority=0):
        """Push values: the device copies of each key are summed, then either given to
        the updater with the stored value or stored as they are.

        Parameters
        ----------
        key : int, str or list of them
        value : NDArray, list of NDArray (device copies), or a list of those per key
        priority : int, default 0
            Accepted for compatibility; pushes run in call order.

        Raises
        ------
        MXNetKeyError
            If a key was never initialized.
        """
        keys, lists = _group("push", key, value)
        stored = self._stored("push", keys)
        self._push(keys, lists, stored)

    def _push(self, keys, lists, stored):
        merged = self._reduce(keys, lists)
        # the stored copy follows the merge device (first device copy), once
        for i, (k, s, m) in enumerate(zip(keys, stored, merged)):
            if s._data.device != m.device:
                stored[i] = self._store[k] = NDArray(s._data.to(m.device), lists[i][0].context)
        if self._updater is None:
            with torch.no_grad():
                torch._foreach_copy_([s._data for s in stored], [to_dense(m) for m in merged])
            return
        grads = [NDArray(m, arrs[0].context) for m, arrs in zip(merged, lists)]
        if isinstance(self._updater, Updater):
            self._updater(keys, grads, stored)
        else:
            for k, g, s in zip(keys, grads, stored):
                self._updater(k, g, s)

    def _reduce(self, keys, lists):
        """Per key, the sum of its device copies, on the first copy's device. A key with
        one copy gives that tensor itself (never written to). With gradient compression
        each device copy is sent as its 2-bit values (error feedback per key and device)."""
        if self._compression is not None and self._compress_devices():
            comp = self._compression
            lists = [[NDArray(comp.roundtrip((k, d), a._data), a.context)
                      for d, a in enumerate(arrs)] for k, arrs in zip(keys, lists)]
        firsts = [arrs[0]._data for arrs in lists]
        ndev = max(len(arrs) for arrs in lists)
        if ndev == 1:
            return firsts
        if any(a._data.layout is not torch.strided for arrs in lists for a in arrs):
            return [_sparse_sum(arrs) for arrs in lists]
        merged = list(firsts)
        with torch.no_grad():
            for d in range(1, ndev):
                idx = [i for i, arrs in enumerate(lists) if len(arrs) > d]
                srcs = [lists[i][d]._data for i in idx]
                dsts = [merged[i] for i in idx]
                if any(s.device != t.device for s, t in zip(srcs, dsts)):
                    srcs = self._stage(d, [keys[i] for i in idx], srcs, dsts)
                if d == 1:  # the first add allocates the sums: device copies stay intact
                    sums = torch._foreach_add(dsts, srcs)
                    for i, s in zip(idx, sums):
                        merged[i] = s
                else:
                    torch._foreach_add_(dsts, srcs)
        return merged

    def _stage(self, d, keys, srcs, dsts):
        """Copies of ``srcs`` on the devices of ``dsts`` (buffers kept per key and slot)."""
        bufs = []
        for k, s, t in zip(keys, srcs, dsts):
            buf = self._staging.get((k, d))
            if buf is None or buf.shape != s.shape or buf.device != t.device or \
                    buf.dtype != s.dtype:
                buf = self._staging[(k, d)] = torch.empty_like(s, device=t.device)
            bufs.append(buf)
        torch._foreach_copy_(bufs, srcs, non_blocking=True)
        return bufs

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Copy the stored values into ``out`` (an NDArray, a list of device copies, or a
        list of those per key).

        Raises
        ------
        MXNetValueError
            If ``out`` is None.
        MXNetKeyError
            If a key was never initialized.
        """
        if out is None:
            raise MXNetValueError("KVStore.pull: out is required (the arrays to fill)")
        keys, outs = _group("pull", key, out, what="out")
        self._pull(self._stored("pull", keys), outs)

    @staticmethod
    def _pull(stored, outs):
        ndev = max(len(o) for o in outs)
        with torch.no_grad():
            for d in range(ndev):
                pairs = [(o[d]._data, s._data) for s, o in zip(stored, outs) if len(o) > d]
                for dst, src in pairs:
                    if tuple(dst.shape) != tuple(src.shape):
                        raise MXNetValueError(f"KVStore.pull: out has shape {tuple(dst.shape)}, "
                                              f"the stored value {tuple(src.shape)}")
                torch._foreach_copy_([p[0] for p in pairs], [p[1] for p in pairs],
                                     non_blocking=True)

    def pushpull(self, key, value, out=None, priority=0):
        """``push(key, value)`` then ``pull(key, out)``; with ``out=None`` the result is
        written back into ``value`` (without an updater: the sum over devices, in place).

        Raises
        ------
        MXNetKeyError
            If a key was never initialized.
        """
        keys, lists = _group("pushpull", key, value)
        outs = lists if out is None else _group("pushpull", key, out, what="out")[1]
        stored = self._stored("pushpull", keys)
        self._push(keys, lists, stored)
        self._pull([self._store[k] for k in keys], outs)

    def broadcast(self, key, value, out, priority=0):
        """Initialize ``key`` with ``value`` and copy it into ``out``.

        Raises
        ------
        MXNetKeyError
            If a key is already initialized.
        """
        self.init(key, value)
        self.pull(key, out=out, priority=priority)

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        """Pull only the rows ``row_ids`` of each stored value.

        A row_sparse ``out`` gets exactly those rows (as in MXNet); a dense ``out`` gets
        them with every other row zero (that row_sparse result written densely). Values are
        stored dense here, so the pull is a gather of rows, not a sparse transfer.

        Parameters
        ----------
        key : int, str or list of them
        out : NDArray or list (as for pull)
        row_ids : NDArray or list of NDArray (one per out array), row indices

        Raises
        ------
        MXNetValueError
            If ``out`` or ``row_ids`` is missing or their counts differ.
        """
        if out is None or row_ids is None:
            raise MXNetValueError("KVStore.row_sparse_pull: out and row_ids are required")
        keys, outs = _group("row_sparse_pull", key, out, what="out")
        flat_outs = [o for per_key in outs for o in per_key]
        ids = list(row_ids) if isinstance(row_ids, (list, tuple)) else [row_ids]
        if len(ids) == 1 and len(flat_outs) > 1:
            ids = ids * len(flat_outs)
        if len(ids) != len(flat_outs):
            raise MXNetValueError(f"KVStore.row_sparse_pull: {len(flat_outs)} out arrays but "
                                  f"{len(ids)} row_ids; give one row_ids per out array")
        stored = self._stored("row_sparse_pull", keys)
        pos = 0
        with torch.no_grad():
            for s, per_key in zip(stored, outs):
                for o in per_key:
                    rows = ids[pos]._data.to(device=s._data.device, dtype=torch.long).unique()
                    src = to_dense(s._data)
                    if o.stype == "row_sparse":
                        rebind(o, rsp_tensor(src.index_select(0, rows), rows, src.shape).to(
                            device=o._data.device, dtype=o._data.dtype))
                    else:
                        dense = torch.zeros_like(src)
                        dense[rows] = src[rows]
                        o._data.copy_(dense)
                    pos += 1

    def set_gradient_compression(self, compression_params):
        """Send gradients as 2-bit values with error feedback (MXNet's
        ``{'type': '2bit', 'threshold': t}``; see :mod:`mxtorch.kvstore.compression`).
        On one machine each device's copy is compressed before the sum.

        Raises
        ------
        MXNetValueError
            For parameters other than MXNet's 2bit (or 'none').
        """
        self._compression = create_compression(compression_params)

    def _compress_devices(self):
        return True

    # ------------------------------------------------------------------ optimizer
    def set_optimizer(self, optimizer):
        """Apply ``optimizer`` on push: installs ``Updater(optimizer)`` as the updater.

        Raises
        ------
        MXNetTypeError
            If ``optimizer`` is not an Optimizer.
        """
        if not isinstance(optimizer, Optimizer):
            raise MXNetTypeError(f"KVStore.set_optimizer expects an Optimizer, got "
                                 f"{type(optimizer).__name__}")
        self._updater = get_updater(optimizer)

    def set_updater(self, updater):
        """Use ``updater(key, summed_grad, stored_weight)`` on push (an Updater is called
        once per push with the lists of all keys).

        Raises
        ------
        MXNetTypeError
            If ``updater`` is not callable.
        """
        if not callable(updater):
            raise MXNetTypeError(f"KVStore.set_updater expects a callable, got "
                                 f"{type(updater).__name__}")
        self._updater = updater

    _set_updater = set_updater

    def _require_updater(self, call):
        if not isinstance(self._updater, Updater):
            raise StateError(f"KVStore.{call}: no optimizer is set; call set_optimizer() first")

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Write the updater's states to ``fname`` (atomically).

        Parameters
        ----------
        fname : str
        dump_optimizer : bool, default False
            Also save the optimizer (learning rate, schedule, counters).

        Raises
        ------
        StateError
            If no optimizer is set.
        """
        self._require_updater("save_optimizer_states")
        atomic_write(fname, self._updater.get_states(dump_optimizer))

    def load_optimizer_states(self, fname):
        """Load updater states written by :meth:`save_optimizer_states` (or MXNet).

        Raises
        ------
        StateError
            If no optimizer is set.
        """
        self._require_updater("load_optimizer_states")
        with open(fname, "rb") as f:
            self._updater.set_states(f.read())


def _sparse_sum(arrays):
    """The sum of device copies of which some are sparse, on the first copy's device
    (row_sparse when every copy is)."""
    first = arrays[0]._data
    total = first
    for a in arrays[1:]:
        total = torch.add(total, a._data.to(first.device)) if total.layout is not torch.strided \
            else torch.add(total, to_dense(a._data).to(first.device))
    return total.coalesce() if total.layout is torch.sparse_coo else total
