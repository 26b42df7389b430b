"""Distributed key-value stores on ``torch.distributed``: ``dist_sync``,
``dist_device_sync`` and ``dist_async`` (``mx.kv.create('dist_sync')``).

There is no parameter server. Every worker keeps the whole store; a push sums the
workers' values with one all-reduce per dtype (or, with 2-bit compression, an all-gather
of the packed codes), and every worker then applies the same updater to the same sum, so
the stored values stay identical on all workers, as if one server had updated them. The
numbers are those of MXNet's ``dist_sync``: the update sees the sum of all workers'
gradients (Module sets ``rescale_grad = 1 / (batch size * num_workers)``).

``dist_async`` is accepted for MXNet programs but is synchronous underneath: torch offers
no asynchronous parameter server, so its workers wait for each other at every push.

Launch: ``torchrun --nproc_per_node=N train.py`` on one machine, ``torchrun --nnodes=M
--nproc_per_node=N --rdzv_endpoint=HOST:PORT train.py`` across machines. The store joins
the default process group, creating it from the environment torchrun sets (``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) if the script has not: backend gloo,
or nccl for ``dist_device_sync`` when CUDA is available. ``MXTORCH_KVSTORE_TIMEOUT``
(seconds, default 300) bounds every collective: a worker that dies or stalls makes the
others fail with an MXNetRuntimeError naming the operation instead of hanging.
"""
import atexit
import datetime
import logging
import os

import torch
import torch.distributed as dist
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from ..base import MXNetRuntimeError, MXNetValueError, StateError
from ..ndarray.sparse import rsp_tensor, to_stype
from .kvstore import KVStore

__all__ = ["DistKVStore", "DIST_TYPES", "data_shard", "reduce_metric"]

DIST_TYPES = ("dist_sync", "dist_device_sync", "dist_async", "dist_sync_device", "dist")
_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _timeout():
    raw = os.environ.get("MXTORCH_KVSTORE_TIMEOUT", "300")
    try:
        seconds = float(raw)
    except ValueError:
        raise MXNetValueError(f"MXTORCH_KVSTORE_TIMEOUT must be a number of seconds, got "
                              f"{raw!r}") from None
    if seconds <= 0:
        raise MXNetValueError(f"MXTORCH_KVSTORE_TIMEOUT must be positive, got {seconds}")
    return datetime.timedelta(seconds=seconds)


def _join(kv_type):
    """Join (or create from torchrun's environment) the default process group."""
    if not dist.is_available():
        raise MXNetRuntimeError(f"kvstore {kv_type!r} needs torch.distributed, which this "
                                "torch build lacks")
    if dist.is_initialized():
        return
    missing = [k for k in _ENV if k not in os.environ]
    if missing:
        raise MXNetRuntimeError(
            f"kvstore {kv_type!r}: no process group and no launcher environment ({missing} "
            "unset). Start the script with torchrun, e.g. `torchrun --nproc_per_node=2 "
            "train.py`, or call torch.distributed.init_process_group() first")
    use_nccl = "device" in kv_type and torch.cuda.is_available()
    if use_nccl and "LOCAL_RANK" in os.environ:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group("nccl" if use_nccl else "gloo", timeout=_timeout())
    # the group we made is ours to close: a process leaving with gloo's threads still
    # running aborts ("terminate called without an active exception")
    atexit.register(_leave)


def _leave():
    if dist.is_initialized():
        dist.destroy_process_group()


class DistKVStore(KVStore):
    """A KVStore whose pushes sum over all workers of the default process group.

    Parameters
    ----------
    kv_type : str
        One of ``dist_sync``, ``dist_device_sync``, ``dist_async`` (see module doc).
    """

    def __init__(self, kv_type="dist_sync"):
        _join(kv_type)
        super().__init__(kv_type)
        self._backend = dist.get_backend()

    @property
    def rank(self):
        """This worker's rank in the process group."""
        return dist.get_rank()

    @property
    def num_workers(self):
        """The number of workers (the process group's size)."""
        return dist.get_world_size()

    def barrier(self):
        """Wait until every worker reaches this call."""
        self._collective("barrier", dist.barrier)

    _barrier = barrier

    def _collective(self, what, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (RuntimeError, dist.DistError) as err:
            raise MXNetRuntimeError(
                f"kvstore {self._type!r}: {what} across {dist.get_world_size()} workers failed "
                f"on rank {dist.get_rank()}: a worker died, diverged or took longer than "
                f"MXTORCH_KVSTORE_TIMEOUT ({_timeout().total_seconds():g} s). "
                f"Cause: {err}") from err

    def broadcast_int(self, value):
        """Rank 0's ``value`` (an int or None) on every worker."""
        t = torch.tensor([-1 if value is None else int(value)], dtype=torch.int64)
        t = t.to(self._comm_device(t.device))
        self._collective("broadcast", dist.broadcast, t, src=0)
        v = int(t.item())
        return None if v < 0 else v

    def _comm_device(self, device):
        """Where a tensor travels: the CPU for gloo; a GPU for NCCL (which cannot send
        host tensors: counts and metric totals go through the current GPU)."""
        if self._backend != "nccl":
            return torch.device("cpu")
        return device if device.type == "cuda" else torch.device("cuda",
                                                                  torch.cuda.current_device())

    def all_gather_rows(self, tensor):
        """Every worker's ``tensor`` concatenated along axis 0 in rank order, the same on
        every worker. The workers' row counts may differ (they are gathered first; each
        tensor is padded to the longest, gathered and cut); a worker with no rows may pass
        any tensor of 0 rows and takes the others' trailing shape and dtype.

        Parameters
        ----------
        tensor : torch.Tensor
            At least 1-D; rows along axis 0.

        Returns
        -------
        torch.Tensor
            On ``tensor``'s device.

        Raises
        ------
        MXNetValueError
            ``tensor`` is 0-D or of an unsupported dtype (on this worker only: the others
            then stop at the timeout), or the workers' tensors differ in trailing shape or
            dtype (on every worker).
        MXNetRuntimeError
            A collective failed (a worker died or timed out).
        """
        if tensor.dim() == 0:
            raise MXNetValueError("all_gather_rows: the tensor must have rows (axis 0); got "
                                  "a 0-d tensor; reshape it to (1,)")
        if tensor.dtype not in _GATHER_DTYPES:
            raise MXNetValueError(f"all_gather_rows: dtype {tensor.dtype} is not supported; "
                                  f"use one of {_GATHER_DTYPES}")
        device = self._comm_device(tensor.device)
        workers = self.num_workers
        head = torch.tensor([tensor.shape[0], tensor.dim(), _GATHER_DTYPES.index(tensor.dtype)],
                            dtype=torch.int64, device=device)
        heads = [torch.empty_like(head) for _ in range(workers)]
        self._collective("all_gather_rows (row counts)", dist.all_gather, heads, head)
        heads = [h.tolist() for h in heads]
        full = [h for h in heads if h[0] > 0]
        if not full:
            return tensor
        if len({(h[1], h[2]) for h in full}) > 1:
            raise MXNetValueError(
                "all_gather_rows: the workers' tensors differ in rank or dtype: "
                f"{[(h[1], str(_GATHER_DTYPES[h[2]])) for h in heads]} (ndim, dtype per rank)")
        ndim, dtype = full[0][1], _GATHER_DTYPES[full[0][2]]
        if ndim > 1:
            width = max(h[1] for h in heads) - 1
            tail = list(tensor.shape[1:]) if tensor.shape[0] else []
            mine = torch.tensor(tail + [-1] * (width - len(tail)), dtype=torch.int64,
                                device=device)
            tails = [torch.empty_like(mine) for _ in range(workers)]
            self._collective("all_gather_rows (shapes)", dist.all_gather, tails, mine)
            tails = {tuple(t.tolist()[:ndim - 1]) for t, h in zip(tails, heads) if h[0] > 0}
            if len(tails) > 1:
                raise MXNetValueError(f"all_gather_rows: the workers' rows differ in shape: "
                                      f"{sorted(tails)}; every worker must send rows of "
                                      "one shape")
            tail = next(iter(tails))
        else:
            tail = ()
        most = max(h[0] for h in heads)
        comm_dtype = torch.uint8 if dtype == torch.bool else dtype
        buf = torch.zeros((most,) + tail, dtype=comm_dtype, device=device)
        if tensor.shape[0]:
            buf[:tensor.shape[0]] = tensor.to(device=device, dtype=comm_dtype)
        parts = [torch.empty_like(buf) for _ in range(workers)]
        self._collective("all_gather_rows", dist.all_gather, parts, buf)
        out = torch.cat([p[:h[0]] for p, h in zip(parts, heads)])
        return out.to(device=tensor.device, dtype=dtype)

    # ------------------------------------------------------------------ data
    def init(self, key, value):
        """Initialize keys; every worker then holds worker 0's values (MXNet: the server
        keeps the first worker's init)."""
        before = set(self._store)
        super().init(key, value)
        new = [k for k in self._store if k not in before]
        self._broadcast_from_root([self._store[k]._data for k in new])

    def _broadcast_from_root(self, tensors):
        for group in _by_dtype_device(tensors):
            ts = [tensors[i] for i in group]
            flat = _flatten_dense_tensors(ts).to(self._comm_device(ts[0].device))
            self._collective("init (broadcast from rank 0)", dist.broadcast, flat, src=0)
            with torch.no_grad():
                for t, v in zip(ts, _unflatten_dense_tensors(flat, ts)):
                    t.copy_(v)

    def _reduce(self, keys, lists):
        """This worker's device sum, then the sum over workers (new tensors)."""
        local = super()._reduce(keys, lists)
        if self._compression is not None:   # 2-bit codes of dense values (as MXNet)
            return self._reduce_compressed(keys, [to_stype(t, "default") for t in local])
        out = list(local)
        for i, t in enumerate(local):
            if t.layout is not torch.strided:
                out[i] = self._reduce_row_sparse(t)
        dense = [i for i, t in enumerate(local) if t.layout is torch.strided]
        for group in _by_dtype_device([local[i] for i in dense]):
            group = [dense[g] for g in group]
            ts = [local[i] for i in group]
            flat = _flatten_dense_tensors(ts).to(self._comm_device(ts[0].device))
            self._collective("push (all-reduce)", dist.all_reduce, flat)
            for i, v in zip(group, _unflatten_dense_tensors(flat, ts)):
                out[i] = v.to(local[i].device)
        return out

    def _reduce_row_sparse(self, t):
        """The sum over workers of a row_sparse gradient: its values (dense) and a mask of
        its rows in one all-reduce; the result keeps the union of the workers' rows."""
        t = to_stype(t, "row_sparse").coalesce()
        dense = t.to_dense()
        mask = torch.zeros(t.shape[0], dtype=dense.dtype, device=dense.device)
        mask[t.indices()[0]] = 1
        flat = torch.cat([dense.reshape(-1), mask]).to(self._comm_device(dense.device))
        self._collective("push (all-reduce of a row_sparse gradient)", dist.all_reduce, flat)
        flat = flat.to(dense.device)
        total, mask = flat[:dense.numel()].reshape(dense.shape), flat[dense.numel():]
        rows = mask.nonzero().reshape(-1)
        return rsp_tensor(total.index_select(0, rows), rows, total.shape)

    def _reduce_compressed(self, keys, local):
        """2-bit codes of each worker's sum (with its residual), all-gathered packed, then
        dequantized and summed in rank order (the same sum on every worker)."""
        comp = self._compression
        codes = [comp.quantize(("worker", k), t) for k, t in zip(keys, local)]
        sizes = [c.numel() for c in codes]
        packed = comp.pack(torch.cat([c.reshape(-1) for c in codes]))
        packed = packed.to(self._comm_device(local[0].device))
        gathered = [torch.empty_like(packed) for _ in range(self.num_workers)]
        self._collective("push (all-gather of 2-bit codes)", dist.all_gather, gathered, packed)
        total = sum(sizes)
        out = [torch.zeros_like(t) for t in local]
        for worker in gathered:
            flat = comp.unpack(worker, total)
            start = 0
            for i, n in enumerate(sizes):
                part = flat[start:start + n].reshape(local[i].shape).to(local[i].device)
                out[i] += comp.dequantize(part, local[i].dtype)
                start += n
        return out

    def set_gradient_compression(self, compression_params):
        """2-bit compression of what each worker pushes (after summing its devices).

        Raises
        ------
        StateError
            After keys were initialized (as MXNet, set it first).
        """
        if self._store:
            raise StateError("set_gradient_compression: call it before init() of any key")
        super().set_gradient_compression(compression_params)

    def _compress_devices(self):
        return False     # workers compress their device sum, not each device copy


_GATHER_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                  torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)


def _by_dtype_device(tensors):
    groups = {}
    for i, t in enumerate(tensors):
        groups.setdefault((t.dtype, t.device), []).append(i)
    return list(groups.values())


def create_dist(name):
    """A DistKVStore for one of :data:`DIST_TYPES`."""
    if name not in DIST_TYPES:
        raise MXNetValueError(f"unknown distributed kvstore {name!r}; use one of {DIST_TYPES}")
    return DistKVStore(name)



def data_shard(kvstore=None):
    """``{'num_parts': ..., 'part_index': ...}`` for this worker's shard of the data:
    ``mx.io.NDArrayIter(x, y, batch_size, **mx.kv.data_shard(kv))``.

    Parameters
    ----------
    kvstore : KVStore, optional
        Its ``num_workers`` and ``rank``; by default the default process group's, or one
        part when torch.distributed is not initialized.
    """
    if kvstore is not None:
        return {"num_parts": kvstore.num_workers, "part_index": kvstore.rank}
    if dist.is_available() and dist.is_initialized():
        return {"num_parts": dist.get_world_size(), "part_index": dist.get_rank()}
    return {"num_parts": 1, "part_index": 0}


# ----------------------------------------------------------------------------- metrics
_METRIC_BASE_KEYS = {"name", "output_names", "label_names", "_has_global_stats", "_kwargs",
                     "_t_sum", "_t_num", "_t_gsum", "_t_gnum"}
_TOTALS = ("sum_metric", "num_inst", "global_sum_metric", "global_num_inst")


def _leaves(metric):
    children = getattr(metric, "metrics", None)
    if isinstance(children, list):
        return [leaf for child in children for leaf in _leaves(child)]
    return [metric]


def _reducible(metric):
    """Whether the metric's whole state is its four totals (its other attributes are
    configuration), so summing the totals over workers gives the metric of all batches."""
    return all(k in _METRIC_BASE_KEYS or v is None or isinstance(v, (bool, int, float, str))
               for k, v in vars(metric).items())


def reduce_metric(store, metric):
    """Sum a metric's totals over all workers of ``store`` (one all-reduce), so every worker
    reports the metric of every worker's batches. Metrics that keep other state (F1's
    counts, ...) are left as they are, with a warning.

    Returns
    -------
    list of EvalMetric
        The metrics that were not reduced.
    """
    leaves = _leaves(metric)
    ok = [m for m in leaves if _reducible(m)]
    skipped = [m for m in leaves if not _reducible(m)]
    if skipped:
        logging.warning("metrics %s keep state beyond sum/count and are not aggregated across "
                        "workers; each worker reports its own batches",
                        [m.name for m in skipped])
    if not ok:
        return skipped
    values = torch.tensor([float(getattr(m, k)) for m in ok for k in _TOTALS],
                          dtype=torch.float64)
    values = values.to(store._comm_device(values.device))
    store._collective("metric (all-reduce)", dist.all_reduce, values)
    for i, m in enumerate(ok):
        s, n, gs, gn = values[4 * i:4 * i + 4].tolist()
        m.sum_metric, m.num_inst = s, int(round(n))
        m.global_sum_metric, m.global_num_inst = gs, int(round(gn))
    return skipped
