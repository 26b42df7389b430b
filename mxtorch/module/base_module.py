"""BaseModule: the module state machine and the high-level loop (fit, score, predict).

Who owns what: this file owns the states (binded, params_initialized,
optimizer_initialized, ...), the checks that guard them, and fit/score/predict/
iter_predict written only in terms of the intermediate API (bind, init_params,
init_optimizer, forward, backward, update, update_metric, get_outputs, prepare).
Subclasses (Module, BucketingModule, SequentialModule, PythonModule) supply those
primitives. Call order in fit follows MXNet 1.9.1 exactly (see the reference, 2.1).
Progress bars live in callbacks/progress.py, the callback protocol (attach/detach,
StopTraining) in callbacks/base.py, the per-epoch record in history.py.
"""
import contextlib
import logging
import os
import sys
import threading
import time

import numpy as np
import torch

from ..base import (MXNetNotImplementedError, MXNetRuntimeError, MXNetValueError,
                    MXNetTypeError, StateError)
from .. import metric as _metric
from .. import ndarray as nd
from ..ndarray.ndarray import NDArray
from ..initializer import Uniform
from ..io import DataBatch, DataIter, NDArrayIter
from ..callback import BatchEndParam
from ..callbacks.base import CallbackList, FitCallbacks
from ..callbacks.module_access import learning_rate_of
from ..callbacks import progress as _progress
from ..history import History
from .fit_params import FitParams
from ..model import save_params_file, load_params_file
from .. import snapshot
from . import checks

__all__ = ["BaseModule"]


# score(progress=_NESTED): a transient bar under fit's epoch bar
_NESTED = object()

# predict's 'bar when stderr is a terminal' answer for the current sys.stderr object: a
# serving loop calls predict per sample, and asking the terminal costs a system call
_auto_bar = [None, False]


def _predict_bar(progress):
    if progress is not None:
        return _progress.enabled(progress, "predict")
    err = sys.stderr
    if _auto_bar[0] is not err:
        _auto_bar[:] = [err, _progress.enabled(None, "predict")]
    return _auto_bar[1]


def _metric_names(metric):
    """The names a metric reports (None when they cannot be known before it has data)."""
    try:
        if not isinstance(metric, _metric.EvalMetric):
            metric = _metric.create(metric)
        return [name for name, _ in metric.get_name_value()]
    except Exception:   # a custom metric may not report before its first update
        return None


def _check_input_names(symbol, names, typename, throw):
    """Check that ``names`` are arguments of ``symbol`` (MXNet's message and candidates)."""
    args = symbol.list_arguments()
    for name in names:
        if name in args:
            continue
        candidates = [arg for arg in args if not arg.endswith(("_weight", "_bias", "_gamma",
                                                                 "_beta"))]
        msg = (f"You created Module with Module(..., {typename}_names={list(names)}) but input "
               f"with name '{name}' is not found in symbol.list_arguments(). Did you mean one "
               f"of:\n\t{', '.join(candidates)}")
        if throw:
            raise MXNetValueError(msg)
        logging.warning(msg)


def _gathered(store, output_list, always_output_list):
    """``predict``'s merged outputs of every worker of ``store``, in rank order: first the
    number of outputs (a worker without batches takes the others'; a worker whose batches
    disagree sends -1, so that every worker raises), then each output's rows (see
    DistKVStore.all_gather_rows)."""
    counts = {len(out) for out in output_list}
    mine = -1 if len(counts) > 1 else (counts.pop() if counts else 0)
    found = set(store.all_gather_rows(torch.tensor([mine])).tolist()) - {0}
    if -1 in found:
        raise MXNetValueError("Cannot merge batches, as num of outputs is not the same in "
                              "mini-batches on some worker. Maybe bucketing is used? Use "
                              "merge_batches=False without gather")
    if len(found) > 1:
        raise MXNetValueError(f"predict(gather=...): the workers' modules have different "
                              f"numbers of outputs {sorted(found)}; every worker must run the "
                              "same module")
    if not found:
        return []
    num_outputs = found.pop()
    merged = []
    for i in range(num_outputs):
        local = (torch.cat([out[i].torch for out in output_list]) if output_list
                 else torch.empty(0))
        merged.append(nd.from_torch(store.all_gather_rows(local)))
    if num_outputs == 1 and not always_output_list:
        return merged[0]
    return merged


def check_given_params(arg_params, aux_params, arg_names, aux_names, allow_missing,
                       allow_extra):
    """Validate the dicts given to ``init_params``/``set_params`` before any array is
    touched (a failed call changes nothing).

    Raises
    ------
    MXNetRuntimeError
        A name of ``arg_names``/``aux_names`` is missing and allow_missing is False.
    MXNetValueError
        A given name is not one of them and allow_extra is False.
    """
    for given, names, kind in ((arg_params, arg_names, "arg_params"),
                               (aux_params, aux_names, "aux_params")):
        if given is None:
            continue
        if not allow_missing:
            missing = [n for n in names if n not in given]
            if missing:
                raise MXNetRuntimeError(
                    f"{missing[0]} is not presented in {kind} (missing: {missing}); pass "
                    "allow_missing=True to initialize the missing ones with the initializer")
        if not allow_extra:
            extra = [n for n in given if n not in names]
            if extra:
                raise MXNetValueError(
                    f'Find name "{extra[0]}" that is not in the '
                    f'{"arguments" if kind == "arg_params" else "auxiliary states"} '
                    f"(extra: {extra}; there are {list(names)}); pass allow_extra=True to "
                    "ignore them")


class BaseModule:
    """The base class of a module: a machine that binds a computation, initializes its
    parameters, runs forward and backward, updates, and gets fit/predict/score for free.

    States: initial -> binded (memory allocated for given input shapes) ->
    params_initialized -> optimizer_initialized. ``for_training`` and
    ``inputs_need_grad`` describe the binding. Each intermediate call checks the states
    it needs and raises StateError naming the call to make first.

    Parameters
    ----------
    logger : Logger, default logging
    """

    _resumable = False   # fit(resume=...) needs save/load_optimizer_states(dump_optimizer)

    def __init__(self, logger=logging):
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None
        self._total_exec_bytes = 0
        # predict() holds it for one batch's forward and output copy, so threads sharing a
        # bound module take turns instead of overwriting each other's inputs and outputs
        self._predict_lock = threading.Lock()
        self.history = None   # the History of the last fit

    # ------------------------------------------------------------------ distributed
    def _dist_kvstore(self):
        """The distributed kvstore this module trains with, or None (see Module)."""
        return None

    def _sync_kvstore_weights(self):
        """Hand parameters set behind an initialized optimizer to a kvstore that updates
        the weights itself (Module); nothing to do for modules without one."""

    def _reduce_metric(self, metric):
        """With a distributed kvstore, sum ``metric``'s totals over the workers, so the log
        lines and results of fit and score count every worker's batches."""
        store = self._dist_kvstore()
        if store is not None:
            from ..kvstore.dist import reduce_metric
            reduce_metric(store, metric)

    # ------------------------------------------------------------------ state checks
    def _require(self, call, binded=True, params=False, optimizer=False):
        if binded and not self.binded:
            raise StateError(f"{call}: the module is not bound; call bind(data_shapes=..., "
                             "label_shapes=...) first")
        if params and not self.params_initialized:
            raise StateError(f"{call}: parameters are not initialized; call init_params() "
                             "(or set_params) first")
        if optimizer and not self.optimizer_initialized:
            raise StateError(f"{call}: the optimizer is not initialized; call "
                             "init_optimizer() first")

    # ------------------------------------------------------------------ high level
    def forward_backward(self, data_batch):
        """``forward(data_batch, is_train=True)`` then ``backward()``."""
        self.forward(data_batch, is_train=True)
        self.backward()

    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None,
              score_end_callback=None, reset=True, epoch=0, sparse_row_id_fn=None,
              progress=None):
        """Run prediction on ``eval_data`` and evaluate it with ``eval_metric``.

        Parameters
        ----------
        eval_data : DataIter, or numpy array / NDArray (wrapped in an NDArrayIter with
            the bound batch size; labels are then not available)
        eval_metric : EvalMetric, str, list or callable
        num_batch : int, optional
            Stop after this many batches (default: the whole iterator).
        batch_end_callback, score_end_callback : callable or list, optional
            Called with a BatchEndParam after each batch / at the end. A StopTraining
            raised by a batch callback ends scoring after that batch.
        reset : bool, default True
            Reset ``eval_data`` first.
        epoch : int, default 0
            Passed to the callbacks.
        progress : bool or None, default None
            Show a progress bar (tqdm; batches, samples/s, the running metric). None:
            when stderr is a terminal.

        Returns
        -------
        list of (name, value)
            The metric's local values (padding included, as in MXNet).

        Raises
        ------
        StateError
            Before bind and init_params.
        MXNetTypeError
            For a bad ``progress`` or a callback that is not callable.
        """
        self._require("score", params=True)
        nested = progress is _NESTED
        show_bar = nested or _progress.enabled(progress, "score")
        callbacks = CallbackList.of("eval_batch_end", batch_end_callback)
        end_callbacks = CallbackList.of("eval_end", score_end_callback, callbacks.stop)
        eval_data = self._as_iter(eval_data, "score")
        if reset:
            eval_data.reset()
        if not isinstance(eval_metric, _metric.EvalMetric):
            eval_metric = _metric.create(eval_metric)
        eval_metric.reset()
        actual_num_batch = 0
        with _progress.bar_if(show_bar, "validation" if nested else "score",
                              lambda: _progress.num_batches(eval_data, num_batch),
                              leave=not nested) as bar:
            for nbatch, eval_batch in enumerate(eval_data):
                if num_batch is not None and nbatch == num_batch:
                    break
                self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
                self.forward(eval_batch, is_train=False)
                if isinstance(eval_batch, list):
                    self.update_metric(eval_metric, [eb.label for eb in eval_batch],
                                       pre_sliced=True)
                else:
                    self.update_metric(eval_metric, eval_batch.label)
                if callbacks:
                    callbacks(BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric,
                                            locals=locals()))
                actual_num_batch += 1
                if bar is not None:
                    bar.step(eval_batch, eval_metric)
                if callbacks.stop.slot == "eval_batch_end":
                    break
            if end_callbacks:
                end_callbacks(BatchEndParam(epoch=epoch, nbatch=actual_num_batch,
                                            eval_metric=eval_metric, locals=locals()))
            self._reduce_metric(eval_metric)
            result = eval_metric.get_name_value()
            if bar is not None:
                bar.show(result)
        return result

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Yield ``(outputs, nbatch, batch)`` per batch; outputs have padding removed."""
        self._require("iter_predict", params=True)
        eval_data = self._as_iter(eval_data, "iter_predict")
        if reset:
            eval_data.reset()
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            outputs = [out[0:out.shape[0] - pad] for out in self.get_outputs()]
            yield outputs, nbatch, eval_batch

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True,
                always_output_list=False, sparse_row_id_fn=None, progress=None, gather=False):
        """Run prediction and collect the outputs.

        Several threads may call ``predict`` on one bound module: each batch's forward and
        the copy of its outputs run under a lock, so the threads take turns and each gets
        its own results (no speed-up; bind one module per thread for parallel inference).
        ``score``, ``iter_predict`` and ``fit`` are not thread-safe: their outputs and
        metrics live in the module until its next forward.

        Parameters
        ----------
        eval_data : DataIter, NDArray or numpy array
            An array is run as one batch and the first output is returned.
        num_batch : int, optional
        merge_batches : bool, default True
            Concatenate the batches' outputs (padding removed) along axis 0.
        reset : bool, default True
        always_output_list : bool, default False
            Return a list even for a single output.
        progress : bool or None, default None
            Show a progress bar over the batches of a DataIter (tqdm). None: when stderr
            is a terminal.
        gather : bool or KVStore, default False
            Distributed prediction (an extension): each worker predicts its shard of the
            data (e.g. ``NDArrayIter(..., **mx.kv.data_shard(kv))``), then the merged
            outputs of all workers are gathered and returned concatenated in rank order,
            the same on every worker. True uses the module's distributed kvstore (from
            ``fit`` or ``init_optimizer`` with ``kvstore='dist_sync'``); a KVStore from
            ``mx.kv.create('dist_sync')`` uses that one. Every worker must call it.
            False (the default) runs no collective.

        Returns
        -------
        NDArray, list of NDArray, or (merge_batches=False) a list per batch of lists.

        Raises
        ------
        StateError
            Before bind and init_params; or ``gather=True`` on a module without a
            distributed kvstore.
        MXNetValueError
            For ``eval_data`` of another type, batches with different numbers of outputs
            to merge, ``gather`` with ``merge_batches=False``, a ``gather`` KVStore that
            is not distributed, or workers whose outputs differ in number or shape.
        MXNetTypeError
            For a ``gather`` that is neither a bool nor a KVStore.
        """
        self._require("predict", params=True)
        store = self._gather_store(gather, merge_batches) if gather is not False else None
        show_bar = _predict_bar(progress)
        if isinstance(eval_data, (NDArray, np.ndarray)):
            if isinstance(eval_data, np.ndarray):
                eval_data = nd.array(eval_data)
            with self._predict_lock:
                self.forward(DataBatch([eval_data]))
                out = self.get_outputs()[0].copy()
            return out if store is None else _gathered(store, [[out]], False)
        if not isinstance(eval_data, DataIter):
            raise MXNetValueError("eval_data must be of type NDArray or DataIter (got "
                                  f"{type(eval_data).__name__})")
        if reset:
            eval_data.reset()
        output_list = []
        lock = self._predict_lock
        with (_progress.bar_if(True, "predict",
                               lambda: _progress.num_batches(eval_data, num_batch))
              if show_bar else contextlib.nullcontext()) as bar:
            for nbatch, eval_batch in enumerate(eval_data):
                if num_batch is not None and nbatch == num_batch:
                    break
                pad = eval_batch.pad
                with lock:
                    self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
                    self.forward(eval_batch, is_train=False)
                    output_list.append([out[0:out.shape[0] - pad].copy() if pad else out.copy()
                                        for out in self.get_outputs()])
                if bar is not None:
                    bar.step(eval_batch)
        if store is not None:
            return _gathered(store, output_list, always_output_list)
        if not output_list:
            return output_list
        if merge_batches:
            num_outputs = len(output_list[0])
            for out in output_list:
                if len(out) != num_outputs:
                    raise MXNetValueError("Cannot merge batches, as num of outputs is not the same "
                                          "in mini-batches. Maybe bucketing is used? Use "
                                          "merge_batches=False")
            merged = (output_list[0] if len(output_list) == 1 else   # already copies
                      [nd.concatenate([out[i] for out in output_list]) for i in range(num_outputs)])
            if num_outputs == 1 and not always_output_list:
                return merged[0]
            return merged
        return output_list

    def _gather_store(self, gather, merge_batches):
        """The distributed store ``predict(gather=...)`` gathers over, or None (checked
        before any work)."""
        from ..kvstore.kvstore import KVStore, distributed_arg
        gather = distributed_arg(gather, "predict", "gather", none_ok=True)
        if gather is False:
            return None
        if not merge_batches:
            raise MXNetValueError("predict: gather needs merge_batches=True (the workers' "
                                  "outputs are gathered as merged arrays); drop "
                                  "merge_batches=False or gather=")
        if isinstance(gather, KVStore):
            return gather
        store = self._dist_kvstore()
        if store is None:
            raise StateError("predict(gather=True): the module has no distributed kvstore to "
                             "gather over; fit or init_optimizer it with "
                             "kvstore='dist_sync' (under torchrun), or pass the store: "
                             "predict(..., gather=mx.kv.create('dist_sync'))")
        return store

    def _as_iter(self, data, call):
        if isinstance(data, DataIter):
            return data
        if isinstance(data, (NDArray, np.ndarray)):
            batch = self.data_shapes[0].shape[0] if self.binded else len(data)
            return NDArrayIter(data, batch_size=batch, data_name=self.data_names[0])
        raise MXNetTypeError(f"{call}: eval_data must be a DataIter, NDArray or numpy array, "
                             f"got {type(data).__name__}")

    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", optimizer="sgd",
            optimizer_params=(("learning_rate", 0.01),), eval_end_callback=None,
            eval_batch_end_callback=None, initializer=Uniform(0.01), arg_params=None,
            aux_params=None, allow_missing=False, force_rebind=False, force_init=False,
            begin_epoch=0, num_epoch=None, validation_metric=None, monitor=None,
            sparse_row_id_fn=None, fit_params=None, resume=None, check_nan=False,
            progress=None):
        """Train the module parameters.

        Parameters
        ----------
        train_data : DataIter
        eval_data : DataIter, optional
            Evaluated with ``score`` after every epoch.
        eval_metric : str or EvalMetric, default 'acc'
        epoch_end_callback : callable or list
            ``cb(epoch, symbol, arg_params, aux_params)`` after each epoch (before validation).
        batch_end_callback : callable or list
            ``cb(BatchEndParam)`` after each batch.
        kvstore : str or KVStore, default 'local'
        optimizer : str or Optimizer, default 'sgd'
        optimizer_params : dict or tuple of pairs, default (('learning_rate', 0.01),)
        eval_end_callback, eval_batch_end_callback : callable or list
            Passed to ``score`` as score_end_callback / batch_end_callback.
        initializer : Initializer, default Uniform(0.01)
        arg_params, aux_params : dict, optional
            Initial values; they win over the initializer.
        allow_missing : bool, default False
        force_rebind, force_init : bool, default False
        begin_epoch : int, default 0
        num_epoch : int
            Required.
        validation_metric : str or EvalMetric, optional
            Defaults to ``eval_metric``.
        monitor : Monitor, optional
        sparse_row_id_fn : callable, optional
        fit_params : FitParams, optional
            The arguments above as one object (MXNet Scala's FitParams): the fields set
            on it replace the keyword arguments.
        resume : str, optional
            A file prefix for resumable snapshots (not in MXNet; see ``mx.snapshot``): fit
            starts from the newest complete snapshot of the prefix, if any (parameters,
            optimizer states and update counts, random generators; ``begin_epoch`` becomes
            its epoch), and writes a snapshot after every epoch. A run stopped and resumed
            this way ends with the parameters an uninterrupted run gives, bit for bit on CPU.
        check_nan : bool, default False
            Check every batch (not in MXNet; costs a host sync per batch): NaN/Inf in its
            data or labels and SoftmaxOutput labels outside the classes are refused before
            the forward pass, NaN/Inf in the outputs or gradients before the update; the
            error names the first bad array, element and batch.
        progress : bool or None, default None
            (not in MXNet) A tqdm bar per epoch (batches, samples/s, the running training
            metric, then the validation values) on stderr. None: when stderr is a
            terminal. MXNet's log lines are logged either way; the metric is read for the
            bar only when it is redrawn (at most every
            ``mx.callbacks.progress.REFRESH_SECONDS``).

        Returns
        -------
        History
            Per-epoch training and validation values, time and learning rate (also kept
            as ``module.history``). MXNet's fit returns None.

        Notes
        -----
        Functions are called as in MXNet. ``mx.callback.Callback`` objects (EarlyStopping,
        BestCheckpoint, CSVLogger, TensorBoardLogger, LearningRateLogger) are attached
        to this module before the first epoch and detached when fit ends (see
        ``mxtorch.callbacks.base``). Any callback may raise ``mx.callback.StopTraining``
        to end fit cleanly; fit then returns normally.

        Raises
        ------
        MXNetValueError
            When ``num_epoch`` is None, or a callback object is passed in a slot it does
            not support.
        MXNetTypeError
            When ``fit_params`` is not a FitParams, ``resume`` not a path prefix,
            ``progress`` not None or a bool, or a callback not callable.
        MXNetNotImplementedError
            When ``resume`` is given to a module kind that cannot save its optimizer states.
        """
        if fit_params is not None:
            if not isinstance(fit_params, FitParams):
                raise MXNetTypeError(f"fit: fit_params must be a FitParams, got "
                                     f"{type(fit_params).__name__}")
            kwargs = {k: v for k, v in locals().items()
                      if k not in ("self", "train_data", "fit_params")}
            return self.fit(train_data, **fit_params.merged(kwargs))
        if num_epoch is None:
            raise MXNetValueError("fit: please specify number of epochs (num_epoch=...)")
        if resume is not None:
            if not isinstance(resume, (str, os.PathLike)):
                raise MXNetTypeError(f"fit: resume must be a file prefix (str), got "
                                     f"{type(resume).__name__}")
            if not self._resumable:
                raise MXNetNotImplementedError(
                    f"fit(resume=...) is not available for {type(self).__name__} yet (issue 9); "
                    "use mx.mod.Module, or epoch_end_callback=mx.callback.module_checkpoint")
            resume = os.fspath(resume)
        show_bar = _progress.enabled(progress, "fit")
        callbacks = FitCallbacks(batch_end_callback, epoch_end_callback,
                                  eval_batch_end_callback, eval_end_callback,
                                  self._record_validation)
        if validation_metric is None:
            validation_metric = eval_metric
        if not isinstance(eval_metric, _metric.EvalMetric):
            eval_metric = _metric.create(eval_metric)
        found = snapshot.latest_snapshot(resume) if resume is not None else None
        self.history = History(begin_epoch if found is None else found,
                               train_names=_metric_names(eval_metric),
                               validation_names=(_metric_names(validation_metric)
                                                 if eval_data else None),
                               has_validation=bool(eval_data))
        callbacks.attach(self)
        error = None
        try:
            self._fit(train_data, eval_data, eval_metric, callbacks, kvstore, optimizer,
                      optimizer_params, initializer, arg_params, aux_params, allow_missing,
                      force_rebind, force_init, begin_epoch, num_epoch, validation_metric,
                      monitor, sparse_row_id_fn, resume, found, check_nan, show_bar)
        except BaseException as err:
            error = err
            raise
        finally:
            callbacks.detach(self, error)
        return self.history

    def _fit(self, train_data, eval_data, eval_metric, callbacks, kvstore, optimizer,
             optimizer_params, initializer, arg_params, aux_params, allow_missing,
             force_rebind, force_init, begin_epoch, num_epoch, validation_metric, monitor,
             sparse_row_id_fn, resume, found, check_nan, show_bar):
        """fit's body in MXNet's call order (fit checked the arguments and attached the
        callbacks); the BatchEndParam locals hold MXNet's names (self, data_batch,
        eval_metric, epoch, nbatch, train_data, eval_data, ...)."""
        self.bind(data_shapes=train_data.provide_data, label_shapes=train_data.provide_label,
                  for_training=True, force_rebind=force_rebind)
        if monitor is not None:
            self.install_monitor(monitor)
        self.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init)
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer,
                            optimizer_params=optimizer_params)
        if resume is not None and self._dist_kvstore() is not None:
            found = self._dist_kvstore().broadcast_int(found)   # every worker: rank 0's
        if found is not None:
            begin_epoch = snapshot.load_snapshot(self, resume, found, train_data,
                                                    store=self._dist_kvstore())
            train_data.reset()
            self.logger.info("Resumed from snapshot %s-%04d", resume, found)
        batch_callbacks, stop = callbacks.batch_end, callbacks.stop
        total = _progress.num_batches(train_data) if show_bar else None

        with _progress.redirect_logging() if show_bar else contextlib.nullcontext():
            for epoch in range(begin_epoch, num_epoch):
                with _progress.bar_if(show_bar, f"Epoch[{epoch}]", total) as bar:
                    tic = time.time()
                    eval_metric.reset()
                    nbatch = 0
                    data_iter = iter(train_data)
                    end_of_batch = False
                    try:
                        next_data_batch = next(data_iter)
                    except StopIteration:
                        raise MXNetValueError(
                            f"fit: train_data yielded no batch in epoch {epoch}; check that it "
                            "is not empty and that batch_size <= its size (or use "
                            "last_batch_handle='pad')") from None
                    while not end_of_batch:
                        data_batch = next_data_batch
                        if monitor is not None:
                            monitor.tic()
                        if check_nan:
                            checks.check_batch(self, data_batch, epoch, nbatch)
                        self.forward_backward(data_batch)
                        if check_nan:
                            checks.check_step(self, epoch, nbatch)
                        self.update()
                        if isinstance(data_batch, list):
                            self.update_metric(eval_metric, [db.label for db in data_batch],
                                               pre_sliced=True)
                        else:
                            self.update_metric(eval_metric, data_batch.label)
                        try:
                            next_data_batch = next(data_iter)
                            self.prepare(next_data_batch, sparse_row_id_fn=sparse_row_id_fn)
                        except StopIteration:
                            end_of_batch = True
                        if monitor is not None:
                            monitor.toc_print()
                        if end_of_batch:
                            self._reduce_metric(eval_metric)
                            eval_name_vals = eval_metric.get_global_name_value()
                        if batch_callbacks:
                            batch_callbacks(BatchEndParam(epoch=epoch, nbatch=nbatch,
                                                          eval_metric=eval_metric,
                                                          locals=locals()))
                        nbatch += 1
                        if bar is not None:
                            bar.step(data_batch, read=eval_metric.get_global_name_value)
                        if stop.requested and not end_of_batch:
                            eval_name_vals = eval_metric.get_global_name_value()
                            break

                    for name, val in eval_name_vals:
                        self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, val)
                    toc = time.time()
                    self.logger.info("Epoch[%d] Time cost=%.3f", epoch, (toc - tic))
                    self.history.record_train(epoch, eval_name_vals, toc - tic,
                                              learning_rate_of(self))
                    if bar is not None:
                        bar.show(eval_name_vals, keep=True)

                    arg_params, aux_params = self.get_params()
                    self.set_params(arg_params, aux_params)
                    callbacks.epoch_end(epoch, self.symbol, arg_params, aux_params)

                    if eval_data:
                        res = self.score(eval_data, validation_metric,
                                         score_end_callback=callbacks.eval_end,
                                         batch_end_callback=callbacks.eval_batch_end,
                                         epoch=epoch,
                                         progress=_NESTED if bar is not None else False)
                        for name, val in res:
                            self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, val)
                        if bar is not None:
                            bar.show([("val_" + name, val) for name, val in res])
                if resume is not None and end_of_batch:     # not for an epoch cut short
                    snapshot.save_snapshot(self, resume, epoch + 1, train_data,
                                       store=self._dist_kvstore())
                train_data.reset()
                if stop.requested:
                    self.history.stop_reason, self.history.stopped_epoch = stop.reason, epoch
                    self.logger.info("Epoch[%d] Training stopped (%s_callback): %s", epoch,
                                     stop.slot, stop.reason)
                    break
                total = nbatch

    def _record_validation(self, param):
        """The first eval-end callback of fit: puts the validation values in the history
        before the user's eval-end callbacks run."""
        self.history.record_validation(param.epoch, param.eval_metric.get_name_value())

    # ------------------------------------------------------------------ symbol / shapes
    @property
    def symbol(self):
        """The symbol of this module (may change, e.g. the current bucket's)."""
        return self._symbol

    @property
    def data_names(self):
        raise NotImplementedError()

    @property
    def output_names(self):
        raise NotImplementedError()

    @property
    def data_shapes(self):
        raise NotImplementedError()

    @property
    def label_shapes(self):
        raise NotImplementedError()

    @property
    def output_shapes(self):
        raise NotImplementedError()

    # ------------------------------------------------------------------ parameters
    def get_params(self):
        raise NotImplementedError()

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        raise NotImplementedError()

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        """Assign parameter and aux state values (``init_params`` with no initializer)."""
        self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init,
                         allow_extra=allow_extra)

    def save_params(self, fname):
        """Save parameters to ``fname`` as ``arg:<name>``/``aux:<name>`` (MXNet .params)."""
        arg_params, aux_params = self.get_params()
        save_params_file(fname, arg_params, aux_params)

    def load_params(self, fname):
        """Load parameters written by ``save_params`` (keys ``arg:``/``aux:``; any other
        key raises MXNetValueError)."""
        arg_params, aux_params = load_params_file(fname, strict=True)
        self.set_params(arg_params, aux_params)

    def get_states(self, merge_multi_context=True):
        """States of the module (see Module.get_states); none by default."""
        self._require("get_states", params=True)
        if merge_multi_context is not True and merge_multi_context is not False:
            raise MXNetTypeError("merge_multi_context must be a bool")
        return []

    def set_states(self, states=None, value=None):
        """Set the states (see Module.set_states); none by default."""
        self._require("set_states", params=True)
        if states or value is not None:
            raise MXNetValueError("this module has no states to set")

    def install_monitor(self, mon):
        raise NotImplementedError()

    # ------------------------------------------------------------------ computation
    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Prepare for a batch (switch bucket, pull row-sparse params); nothing by default."""
        if sparse_row_id_fn is not None:
            logging.warning("sparse_row_id_fn is not used by %s", type(self).__name__)

    def forward(self, data_batch, is_train=None):
        raise NotImplementedError()

    def backward(self, out_grads=None):
        raise NotImplementedError()

    def get_outputs(self, merge_multi_context=True):
        raise NotImplementedError()

    def get_input_grads(self, merge_multi_context=True):
        raise NotImplementedError()

    def update(self):
        raise NotImplementedError()

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        raise NotImplementedError()

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        raise NotImplementedError()

    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        raise NotImplementedError()
