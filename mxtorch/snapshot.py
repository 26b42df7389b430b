"""Training snapshots: a checkpoint that a stopped ``fit`` resumes from exactly.

A snapshot after ``n`` finished epochs is MXNet's checkpoint files plus two of ours::

    prefix-symbol.json      the symbol                        (as mx.model.save_checkpoint)
    prefix-%04d.params      arg:/aux: parameters              (as mx.model.save_checkpoint)
    prefix-%04d.states      optimizer states with the optimizer's update counts and
                            lr schedule (Module.save_optimizer_states, dump_optimizer=True)
    prefix-%04d.resume      the random generators (torch CPU and CUDA, numpy's global
                            RandomState, Python's ``random``) and ``n``; written last

Every file is written to a temporary name, fsynced and renamed, and ``.resume`` is written
only after the others, so a snapshot whose ``.resume`` exists is complete: a crash at any
moment leaves the earlier snapshots whole and the newest one either whole or absent.
:func:`latest_snapshot` still opens each candidate's files (the readers check every
length against the file size) and falls back to an older snapshot when one is damaged.

Exactness: ``fit(..., resume=prefix)`` takes the snapshot just before the end-of-epoch
``train_data.reset()``; resuming restores the generators and then resets the iterator, so
the shuffle, the dropout masks and the learning rate continue as in an uninterrupted run
and the parameters come out bit-identical on CPU. Randomness outside those generators (an
iterator with its own ``RandomState``, a data loader's worker processes) is not captured.
"""
import glob
import logging
import os
import random
import re

import numpy as np
import torch

from .base import FormatError, MXNetValueError
from . import ndarray as nd
from .model import load_params_file
from .optimizer.states import loads_states

__all__ = ["save_snapshot", "load_snapshot", "latest_snapshot", "latest_checkpoint",
           "get_rng_state", "set_rng_state"]

_MT_WORDS = 624
_ITER = "iter:"     # keys of the training iterator's state in the .resume file


# ----------------------------------------------------------------------------- generators
def get_rng_state():
    """The state of every generator training draws from, as a dict of NDArrays."""
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    py_version, py_words, py_gauss = random.getstate()
    state = {
        "torch": nd.from_torch(torch.get_rng_state()),
        "numpy": nd.array(np.append(np_keys.astype(np.int64), np_pos), dtype=np.int64),
        "numpy_gauss": nd.array([np_has_gauss, np_gauss], dtype=np.float64),
        "python": nd.array(list(py_words) + [py_version], dtype=np.int64),
        "python_gauss": nd.array([py_gauss is not None, py_gauss or 0.0], dtype=np.float64),
    }
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            state[f"cuda:{i}"] = nd.from_torch(s)
    return state


def set_rng_state(state):
    """Restore the generators from :func:`get_rng_state`'s dict.

    Raises
    ------
    FormatError
        If an entry is missing or has the wrong size (nothing is restored then).
    """
    need = ("torch", "numpy", "numpy_gauss", "python", "python_gauss")
    missing = [k for k in need if k not in state]
    if missing:
        raise FormatError(f"random generator state lacks {missing}")
    np_words = state["numpy"].asnumpy()
    py_words = state["python"].asnumpy()
    if np_words.size != _MT_WORDS + 1 or py_words.size != _MT_WORDS + 2:
        raise FormatError("random generator state: Mersenne Twister words of the wrong size "
                          f"({np_words.size}, {py_words.size})")
    np_has_gauss, np_gauss = state["numpy_gauss"].asnumpy().tolist()
    py_has_gauss, py_gauss = state["python_gauss"].asnumpy().tolist()
    torch.set_rng_state(state["torch"].torch.to(torch.uint8))
    np.random.set_state(("MT19937", np_words[:_MT_WORDS].astype(np.uint32), int(np_words[-1]),
                         int(np_has_gauss), float(np_gauss)))
    random.setstate((int(py_words[-1]), tuple(int(w) for w in py_words[:-1]),
                     py_gauss if py_has_gauss else None))
    if torch.cuda.is_available():
        cuda = [state[f"cuda:{i}"].torch.to(torch.uint8)
                for i in range(torch.cuda.device_count()) if f"cuda:{i}" in state]
        if cuda:
            torch.cuda.set_rng_state_all(cuda)


# ----------------------------------------------------------------------------- snapshots
def _names(prefix, epoch):
    stem = "%s-%04d" % (prefix, epoch)
    return {"symbol": f"{prefix}-symbol.json", "params": stem + ".params",
            "states": stem + ".states", "resume": stem + ".resume"}


def _rank_file(names, rank):
    """The resume file of a worker: rank 0 writes the marker itself, the others beside it."""
    return names["resume"] if rank == 0 else f"{names['resume']}.rank{rank}"


def save_snapshot(module, prefix, epoch, data_iter=None, store=None):
    """Write the snapshot of ``module`` after ``epoch`` finished epochs (see module doc).

    With a distributed kvstore (``store``) only rank 0 writes the parameters, states and
    symbol (they are the same on every worker); each worker writes its own generator and
    iterator state (``.resume.rank<r>``), and rank 0 writes its ``.resume`` marker after a
    barrier, so a complete snapshot has every worker's part. The prefix must be on a file
    system all workers share.

    Parameters
    ----------
    module : BaseModule
        Bound, with parameters and an optimizer.
    prefix : str
    epoch : int
        The number of finished epochs; resuming starts at this epoch.
    data_iter : DataIter, optional
        The training iterator; its ``get_state()`` (if it has one, as NDArrayIter) is
        saved too, since a shuffle's outcome depends on the order it starts from.
    store : DistKVStore, optional
        The distributed kvstore the module trains with.
    """
    names = _names(prefix, epoch)
    rank = store.rank if store is not None else 0
    rng = get_rng_state()      # first: saving must not be what moves a generator
    if hasattr(data_iter, "get_state"):
        rng.update({_ITER + k: nd.array(v, dtype=v.dtype) for k, v in
                    data_iter.get_state().items()})
    if rank == 0:
        module.save_checkpoint(prefix, epoch)
        module.save_optimizer_states(names["states"], dump_optimizer=True)
    rng["epoch"] = nd.array([epoch], dtype=np.int64)
    if rank != 0:
        nd.save(_rank_file(names, rank), rng)
    if store is not None:
        store.barrier()        # every worker's part is on disk before the marker
    if rank == 0:
        nd.save(names["resume"], rng)
        logging.info('Saved resumable snapshot "%s"', names["resume"])


def _epochs(prefix, suffix):
    pattern = re.compile(re.escape(os.path.basename(prefix)) + r"-(\d{4,})" + re.escape(suffix)
                         + "$")
    found = []
    for path in glob.glob(glob.escape(prefix) + "-*" + suffix):
        m = pattern.match(os.path.basename(path))
        if m:
            found.append(int(m.group(1)))
    return sorted(found, reverse=True)


def _readable(*loaders):
    try:
        for load in loaders:
            load()
    except (OSError, FormatError, MXNetValueError) as err:
        logging.warning("skipping a damaged checkpoint: %s", err)
        return False
    return True


def _read_states(path):
    with open(path, "rb") as f:
        return loads_states(f.read())


def latest_checkpoint(prefix):
    """The newest epoch whose ``prefix-symbol.json`` and ``prefix-%04d.params`` both read
    back whole, or None. Damaged or partial files are skipped with a warning."""
    from . import symbol as sym
    for epoch in _epochs(prefix, ".params"):
        names = _names(prefix, epoch)
        if _readable(lambda: sym.load(names["symbol"]),
                     lambda: load_params_file(names["params"])):
            return epoch
    return None


def latest_snapshot(prefix):
    """The newest complete, readable snapshot's epoch (see :func:`save_snapshot`), or None."""
    from . import symbol as sym
    for epoch in _epochs(prefix, ".resume"):
        names = _names(prefix, epoch)
        if _readable(lambda: nd.load(names["resume"]), lambda: sym.load(names["symbol"]),
                     lambda: load_params_file(names["params"]),
                     lambda: _read_states(names["states"])):
            return epoch
    return None


def load_snapshot(module, prefix, epoch, data_iter=None, store=None):
    """Restore ``module`` (bound, optimizer initialized), the generators and, when the
    snapshot holds its state, ``data_iter`` from a snapshot. Reset the iterator next.
    With a distributed ``store`` each worker reads its own generator state.

    Returns
    -------
    int
        The epoch to resume at.

    Raises
    ------
    FormatError
        If the snapshot's files are damaged; the module is unchanged then.
    """
    names = _names(prefix, epoch)
    rng = nd.load(_rank_file(names, store.rank if store is not None else 0))
    if not isinstance(rng, dict) or "epoch" not in rng:
        raise FormatError(f"{names['resume']}: not a resume file (no 'epoch' entry)")
    saved_epoch = int(rng.pop("epoch").asnumpy()[0])
    if saved_epoch != epoch:
        raise FormatError(f"{names['resume']}: holds epoch {saved_epoch}, not {epoch}")
    arg_params, aux_params = load_params_file(names["params"])
    _read_states(names["states"])      # read everything before changing anything
    module.set_params(arg_params, aux_params, allow_missing=False, force_init=True)
    module._sync_kvstore_weights()
    module.load_optimizer_states(names["states"])
    iter_state = {k[len(_ITER):]: rng.pop(k).asnumpy() for k in list(rng) if k.startswith(_ITER)}
    if iter_state and hasattr(data_iter, "set_state"):
        data_iter.set_state(iter_state)
    set_rng_state(rng)
    return epoch
