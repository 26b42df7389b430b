"""``Updater``: applies an optimizer to (index, grad, weight) triples, owning the
per-index states; and ``get_updater``. States save to and load from bytes without
pickle (see states.py), and real MXNet ``.states`` pickles load too."""
import torch

from ..base import MXNetTypeError
from ..ndarray.ndarray import NDArray
from .optimizer import Optimizer
from .states import dumps_states, loads_states

__all__ = ["Updater", "get_updater"]


class Updater:
    """Updates weights with an optimizer, creating each index's state on first use.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer to apply.

    Attributes
    ----------
    states : dict
        Index (int, or str parameter name with a kvstore) -> state (None, NDArray or
        tuple).
    states_synced : dict
        Index -> whether its state is on the weight's context (False after set_states
        until the index is next updated).
    optimizer : Optimizer
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}

    @property
    def aggregate_updates(self):
        return self.optimizer.aggregate_num > 0

    def __call__(self, index, grad, weight):
        """Update ``weight`` in place. ``index``, ``grad`` and ``weight`` are single
        values or equal-length lists (all parameters of one device in one call: the
        built-in optimizers then update them all with fused torch ops)."""
        opt = self.optimizer
        if not isinstance(index, (list, tuple)):
            indices, grads, weights = [index], [grad], [weight]
        else:
            indices, grads, weights = list(index), list(grad), list(weight)
        if weights:
            opt._set_current_context(weights[0].context.device_id)
        states, synced = self.states, self.states_synced
        for i, idx in enumerate(indices):
            if isinstance(idx, bytes):
                idx = indices[i] = idx.decode("utf-8")
            if idx not in states:
                states[idx] = opt.create_state_multi_precision(idx, weights[i])
                synced[idx] = True
            elif not synced[idx]:
                states[idx] = self.sync_state_context(states[idx], weights[i].context)
                synced[idx] = True
        if any(g._data.layout is not torch.strided for g in grads):
            dense = [k for k, g in enumerate(grads) if g._data.layout is torch.strided]
            for k in range(len(grads)):
                if k not in dense:
                    self._update_row_sparse(indices[k], weights[k], grads[k])
            indices, weights, grads = ([x[k] for k in dense] for x in (indices, weights, grads))
        self._update_dense(indices, weights, grads)

    def _update_dense(self, indices, weights, grads):
        opt, states = self.optimizer, self.states
        if opt._native():
            opt._update_many(indices, weights, grads, [states[i] for i in indices],
                             allow_mp=True)
        elif self.aggregate_updates:
            self._update_chunks(indices, weights, grads)
        else:
            for i, w, g in zip(indices, weights, grads):
                opt.update_multi_precision(i, w, g, states[i])

    def _update_row_sparse(self, idx, weight, grad):
        """Update with a row_sparse gradient. Lazily (SGD and Adam with ``lazy_update``,
        AdaGrad: MXNet's sparse kernels) only the rows in ``grad.indices`` of the weight and
        of its row-shaped states change, as if the optimizer ran on those rows alone;
        otherwise the gradient is made dense (MXNet's standard update)."""
        g = grad._data.coalesce()
        if not getattr(self.optimizer, "lazy_rows", False):
            self._update_dense([idx], [weight], [NDArray(g.to_dense(), grad._ctx)])
            return
        rows = g.indices()[0]
        full = weight.shape

        def gather(state):
            if isinstance(state, NDArray) and state.shape == full:
                return NDArray(state._data.index_select(0, rows), state._ctx)
            if isinstance(state, (tuple, list)):
                return type(state)(gather(x) for x in state)
            return state

        def scatter(dst, src):
            if isinstance(dst, NDArray) and dst.shape == full:
                dst._data.index_copy_(0, rows, src._data.to(dst._data.dtype))
            elif isinstance(dst, (tuple, list)):
                for d, s_ in zip(dst, src):
                    scatter(d, s_)

        state = self.states[idx]
        w_rows, s_rows = gather(weight), gather(state)
        self.states[idx] = s_rows
        try:
            self._update_dense([idx], [w_rows], [NDArray(g.values(), grad._ctx)])
        finally:
            self.states[idx] = state
        with torch.no_grad():
            scatter(weight, w_rows)
            scatter(state, s_rows)

    def _update_chunks(self, indices, weights, grads):
        """MXNet's aggregated calls, for subclasses that override update methods."""
        opt, step = self.optimizer, self.optimizer.aggregate_num
        by_dtype = {}
        for i, w, g in zip(indices, weights, grads):
            by_dtype.setdefault(w.dtype, []).append((i, w, g))
        for triples in by_dtype.values():
            idx, ws, gs = (list(t) for t in zip(*triples))
            for s in range(0, len(idx), step):
                opt.update_multi_precision(idx[s:s + step], ws[s:s + step], gs[s:s + step],
                                           [self.states[i] for i in idx[s:s + step]])

    def sync_state_context(self, state, context):
        """``state`` with every array moved to ``context``."""
        if state is None:
            return None
        if isinstance(state, (tuple, list)):
            synced = [self.sync_state_context(s, context) for s in state]
            return tuple(synced) if isinstance(state, tuple) else synced
        return state.as_in_context(context)

    def set_states(self, states):
        """Load states (and, if present, the optimizer) from bytes written by
        :meth:`get_states` or by MXNet 1.x's ``Updater.get_states`` (a pickle, read
        without running code). All states are marked unsynced.

        Raises
        ------
        FormatError
            If the bytes are not optimizer states.
        """
        loaded, optimizer = loads_states(states)
        if optimizer is not None:
            self.optimizer = optimizer
        self.states = dict(loaded)
        self.states_synced = dict.fromkeys(self.states.keys(), False)

    def get_states(self, dump_optimizer=False):
        """The states as bytes (MXNet's NDArray file container, no pickle).

        Parameters
        ----------
        dump_optimizer : bool, default False
            Also save the optimizer's class and attributes (learning rate, schedule,
            update counts, multipliers); :meth:`set_states` then restores it.
        """
        return dumps_states(self.states, self.optimizer if dump_optimizer else None)


def get_updater(optimizer):
    """An :class:`Updater` for ``optimizer`` (what a kvstore or Module calls with
    ``(index, grad, weight)``).

    Raises
    ------
    MXNetTypeError
        If ``optimizer`` is not an Optimizer.
    """
    if not isinstance(optimizer, Optimizer):
        raise MXNetTypeError(f"get_updater expects an Optimizer, got "
                             f"{type(optimizer).__name__}; build one with "
                             "mx.optimizer.create('sgd', ...)")
    return Updater(optimizer)
