"""Module: a Symbol bound to one or more contexts, with its parameters and optimizer.

Owns the parameter dicts on the host (``_arg_params``/``_aux_params``), the executor
group, the optimizer/updater and the kvstore that sums gradients across devices (and,
with update_on_kvstore, applies the optimizer). The high-level loop is BaseModule's.
"""
import logging
import warnings

import torch

from ..base import MXNetValueError, MXNetTypeError, ShapeError, StateError
from ..context import Context, cpu
from ..initializer import InitDesc, Uniform
from ..io import DataDesc
from ..ndarray.ndarray import NDArray
from ..ndarray.sparse import rebind, to_stype, zeros as sparse_zeros
from ..symbol.ops.sparse import var_stypes
from .. import optimizer as opt
from ..model import load_checkpoint, save_checkpoint_files
from ..util.atomic import atomic_write
from .. import kvstore as _kv
from ..executor.accel import make_accelerate
from .base_module import BaseModule, _check_input_names, check_given_params
from .bound_names import BoundNames
from .executor_group import DataParallelExecutorGroup

__all__ = ["Module"]


def _parse_descs(shapes, what):
    if shapes is None:
        return None
    if not isinstance(shapes, (list, tuple)):
        raise MXNetTypeError(f"{what} must be a list of (name, shape) or DataDesc, got "
                             f"{type(shapes).__name__}")
    out = []
    for x in shapes:
        if isinstance(x, DataDesc):
            out.append(x)
            continue
        if not isinstance(x, (list, tuple)) or len(x) < 2 or not isinstance(x[0], str):
            raise MXNetTypeError(f"{what}: each entry must be (name, shape) or a DataDesc, got "
                                 f"{x!r}")
        if not isinstance(x[1], (list, tuple)) or not all(
                isinstance(d, int) or hasattr(d, "__index__") for d in x[1]):
            raise MXNetTypeError(f"{what}: the shape of {x[0]!r} must be a tuple of ints, got "
                                 f"{type(x[1]).__name__}")
        out.append(DataDesc(*x))
    return out


class Module(BoundNames, BaseModule):
    """A module that wraps a Symbol.

    Parameters
    ----------
    symbol : Symbol
    data_names : list of str, default ('data',)
    label_names : list of str or None, default ('softmax_label',)
    logger : Logger, default logging
    context : Context or list of Context, default cpu()
    work_load_list : list of number, optional
        Relative share of the batch per context (default uniform).
    fixed_param_names : list of str, optional
        Parameters that are never updated (no gradient).
    state_names : list of str, optional
        Inputs that are neither data nor parameters (set with set_states).
    group2ctxs : dict or list of dict, optional
        Model parallelism (issue 3).
    compression_params : dict, optional
        Gradient compression for the kvstore (issue 7).
    compile : bool or dict, default False
        (not in MXNet; this and the next four are opt-in accelerators, all off by
        default) ``torch.compile`` the bound graph, once per bound shape (a reshape
        compiles again); the backward is compiled with it. A dict gives torch.compile's
        keywords, e.g. ``{'mode': 'max-autotune'}``. The first batches are slow while it
        compiles; results equal the default path to float rounding.
    autocast : None, 'bf16' or 'fp16', default None
        Run forward and backward under ``torch.autocast`` in bfloat16 or float16.
        Parameters, gradients, optimizer states, outputs and checkpoints stay float32;
        loss ops (SoftmaxOutput, ...) compute in float32. Results agree with the default
        path to the precision of the chosen type.
    loss_scale : None, False, 'dynamic', float or dict, default None
        Only with ``autocast='fp16'``, where None means 'dynamic': gradients are computed
        for the loss times a scale and unscaled at ``update`` (folded into the optimizer's
        ``rescale_grad``); an update whose gradients hold inf or nan is skipped (its update
        counts do not move) and halves the scale, ``growth_interval`` (2000) clean updates
        double it. A number is a static scale; a dict sets ``init_scale`` (2**16),
        ``growth_interval``, ``growth_factor`` (2) and ``backoff_factor`` (0.5); False turns
        scaling off. ``update`` then reads one flag from the device per step, and
        ``grad_arrays`` hold scaled gradients between ``backward`` and ``update``
        (``get_input_grads`` are unscaled). ``mod.loss_scaler`` gives the scale. With
        ``fit(check_nan=True)`` an overflow the scaler would skip is reported as an error.
    channels_last : bool, default False
        Keep 4-D inputs, convolution weights and their gradients in
        ``torch.channels_last`` memory format (faster convolutions on recent GPUs and
        CPUs with oneDNN); values are unchanged.
    cuda_graphs : bool, default False
        On GPU contexts, capture forward and backward of each bound shape in CUDA graphs
        after 3 eager warm-up steps and replay them (the iterator's batches are copied
        into static buffers). Every output that carries a gradient must be a loss head.
        The optimizer update runs outside the graph.

    Raises
    ------
    MXNetValueError
        When a data, state or fixed parameter name is not an argument of ``symbol``; for
        an accelerator value out of range (``autocast='fp8'``, ``loss_scale=-1``,
        ``loss_scale`` without ``autocast='fp16'``, ``cuda_graphs`` on CPU contexts).
    MXNetTypeError
        For an accelerator value of the wrong type (``compile='yes'``).
    """

    _resumable = True

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",),
                 logger=logging, context=cpu(), work_load_list=None, fixed_param_names=None,
                 state_names=None, group2ctxs=None, compression_params=None, compile=False,
                 autocast=None, loss_scale=None, channels_last=False, cuda_graphs=False):
        accel = make_accelerate(compile=compile, autocast=autocast, loss_scale=loss_scale,
                                channels_last=channels_last, cuda_graphs=cuda_graphs)
        if accel is not None:
            accel.check_contexts([context] if isinstance(context, Context) else context)
        super().__init__(logger=logger)
        self._accel = accel
        if isinstance(context, Context):
            context = [context]
        self._context = list(context)
        if work_load_list is None:
            work_load_list = [1] * len(self._context)
        if len(work_load_list) != len(self._context):
            raise MXNetValueError(f"work_load_list has {len(work_load_list)} entries for "
                                  f"{len(self._context)} contexts")
        self._work_load_list = work_load_list
        self._group2ctxs = group2ctxs
        self._symbol = symbol
        data_names = list(data_names) if data_names is not None else []
        label_names = list(label_names) if label_names is not None else []
        state_names = list(state_names) if state_names is not None else []
        fixed_param_names = list(fixed_param_names) if fixed_param_names is not None else []
        _check_input_names(symbol, data_names, "data", True)
        _check_input_names(symbol, label_names, "label", False)
        _check_input_names(symbol, state_names, "state", True)
        _check_input_names(symbol, fixed_param_names, "fixed_param", True)
        arg_names = symbol.list_arguments()
        input_names = data_names + label_names + state_names
        self._param_names = [x for x in arg_names if x not in input_names]
        self._fixed_param_names = fixed_param_names
        self._aux_names = symbol.list_auxiliary_states()
        self._data_names = data_names
        self._label_names = label_names
        self._state_names = state_names
        self._output_names = symbol.list_outputs()
        self._arg_params = None
        self._aux_params = None
        self._params_dirty = False
        self._compression_params = compression_params
        self._optimizer = None
        self._kvstore = None
        self._update_on_kvstore = None
        self._updater = None
        self._preload_opt_states = None
        self._grad_req = None
        self._exec_group = None
        self._data_shapes = None
        self._label_shapes = None
        self._update_plan = None

    # ------------------------------------------------------------------ checkpoints
    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """A Module from ``prefix-symbol.json`` and ``prefix-%04d.params`` (and, if asked,
        ``prefix-%04d.states`` loaded at init_optimizer). kwargs go to the constructor."""
        sym, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Write ``prefix-symbol.json``, ``prefix-%04d.params`` and optionally
        ``prefix-%04d.states``; each file is written to a temporary name and renamed."""
        arg_params, aux_params = self.get_params()
        save_checkpoint_files(prefix, epoch, self._symbol, arg_params, aux_params)
        if save_optimizer_states:
            state_name = "%s-%04d.states" % (prefix, epoch)
            self.save_optimizer_states(state_name)
            logging.info('Saved optimizer state to "%s"', state_name)

    # ------------------------------------------------------------------ properties
    def _reset_bind(self):
        self.binded = False
        self._exec_group = None
        self._data_shapes = None
        self._label_shapes = None
        self._update_plan = None

    @property
    def loss_scaler(self):
        """The fp16 ``LossScaler`` (``.scale``, ``.skipped``), or None without loss
        scaling (see the ``loss_scale`` argument)."""
        return self._accel.scaler if self._accel is not None else None

    @property
    def output_shapes(self):
        self._require("output_shapes")
        return self._exec_group.get_output_shapes()

    # ------------------------------------------------------------------ parameters
    def get_params(self):
        """``(arg_params, aux_params)``: the same CPU dicts each call, synced from the
        devices when the parameters changed since the last call."""
        self._require("get_params", binded=False, params=True)
        if self._params_dirty:
            self._sync_params_from_devices()
        return self._arg_params, self._aux_params

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Initialize parameters and aux states (from the dicts given, else the initializer).

        Raises
        ------
        MXNetRuntimeError
            A parameter is missing from ``arg_params``/``aux_params`` and allow_missing is
            False (the message names it).
        MXNetValueError
            A name in the dicts is not a parameter and allow_extra is False.
        """
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "init_params call ignored.", stacklevel=2)
            return
        self._require("init_params")
        check_given_params(arg_params, aux_params, self._param_names, self._aux_names,
                           allow_missing, allow_extra)
        attrs = self._symbol.attr_dict()

        def _impl(name, arr, cache):
            if cache is not None and name in cache:
                cache_arr = cache[name]
                if cache_arr is not arr:
                    _copy(cache_arr, arr, name)
            elif initializer is not None:
                initializer(InitDesc(name, attrs.get(name, None)), arr)

        for name, arr in sorted(self._arg_params.items()):
            _impl(name, arr, arg_params)
        for name, arr in sorted(self._aux_params.items()):
            _impl(name, arr, aux_params)
        self.params_initialized = True
        self._params_dirty = False
        self._exec_group.set_params(self._arg_params, self._aux_params, allow_extra=allow_extra)

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        """Assign parameter and aux values (see init_params for the errors)."""
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init,
                             allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "set_params call ignored.", stacklevel=2)
            return
        self._require("set_params")
        self._exec_group.set_params(arg_params, aux_params, allow_extra=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    def _sync_params_from_devices(self):
        self._exec_group.get_params(self._arg_params, self._aux_params)
        self._params_dirty = False

    # ------------------------------------------------------------------ binding
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Allocate executors for the given input shapes.

        Parameters
        ----------
        data_shapes : list of (str, tuple) or DataDesc
        label_shapes : list of (str, tuple) or DataDesc, optional
        for_training : bool, default True
        inputs_need_grad : bool, default False
        force_rebind : bool, default False
        shared_module : Module, optional
            Share parameters (and memory) with this bound module (bucketing).
        grad_req : str, list or dict, default 'write'

        Raises
        ------
        MXNetTypeError / MXNetValueError
            For malformed shapes or data names that do not match ``data_names``; the module
            stays unbound.
        """
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if not for_training and inputs_need_grad:
            raise MXNetValueError("inputs_need_grad=True requires for_training=True")
        data_descs = _parse_descs(data_shapes, "data_shapes")
        label_descs = _parse_descs(label_shapes, "label_shapes")
        if sorted(d.name for d in data_descs) != sorted(self._data_names):
            raise MXNetValueError(f"Data provided by data_shapes don't match names specified by "
                                  f"data_names ({[d.name for d in data_descs]} vs. "
                                  f"{self._data_names})")
        if label_descs is not None and self._label_names and \
                sorted(d.name for d in label_descs) != sorted(self._label_names):
            self.logger.warning("Data provided by label_shapes don't match names specified by "
                                "label_names (%s vs. %s)", [d.name for d in label_descs],
                                self._label_names)
        elif label_descs is None and self._label_names and for_training:
            self.logger.warning("label_shapes is None but label_names is %s", self._label_names)
        shared_group = None
        if shared_module is not None:
            if not (isinstance(shared_module, Module) and shared_module.binded and
                    shared_module.params_initialized):
                raise StateError("shared_module must be a bound Module with initialized "
                                 "parameters")
            shared_group = shared_module._exec_group
            if len(shared_group.execs) < len(self._context):
                raise MXNetValueError("shared_module has fewer executors than this module")
        group = DataParallelExecutorGroup(
            self._symbol, self._context, self._work_load_list, data_descs, label_descs,
            self._param_names, for_training, inputs_need_grad, shared_group,
            logger=self.logger, fixed_param_names=self._fixed_param_names, grad_req=grad_req,
            state_names=self._state_names, group2ctxs=self._group2ctxs, accel=self._accel)
        # the binding succeeded: commit the new state
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        self._exec_group = group
        self._data_shapes, self._label_shapes = group.data_shapes, group.label_shapes
        self._total_exec_bytes = 0
        self._update_plan = None
        if shared_module is not None:
            self.params_initialized = True
            self._arg_params = shared_module._arg_params
            self._aux_params = shared_module._aux_params
        elif self.params_initialized:
            group.set_params(self._arg_params, self._aux_params)
        else:
            stypes = var_stypes(self._symbol)     # row_sparse parameters stay row_sparse here
            self._arg_params = {name: _zeros_like_cpu(arr[0], stypes.get(name)) for name, arr in
                                zip(self._param_names, group.param_arrays)}
            self._aux_params = {name: _zeros_like_cpu(arr[0]) for name, arr in
                                zip(self._aux_names, group.aux_arrays)}
        if shared_module is not None and shared_module.optimizer_initialized:
            self.borrow_optimizer(shared_module)
        self.binded = True

    def reshape(self, data_shapes, label_shapes=None):
        """Reshape the bound executors for new input shapes (parameters and optimizer,
        including its rescale_grad, are kept)."""
        self._require("reshape")
        data_descs = _parse_descs(data_shapes, "data_shapes")
        label_descs = _parse_descs(label_shapes, "label_shapes")
        self._exec_group.reshape(data_descs, label_descs)
        self._data_shapes, self._label_shapes = self._exec_group.data_shapes, \
            self._exec_group.label_shapes
        self._update_plan = None

    # ------------------------------------------------------------------ optimizer
    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Install an optimizer (name or Optimizer) with rescale_grad = 1/batch size.

        Raises
        ------
        StateError
            Before bind and init_params.
        MXNetValueError
            For an unknown optimizer name.
        """
        self._require("init_optimizer", params=True)
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        if self._params_dirty:
            self._sync_params_from_devices()
        kvstore, update_on_kvstore = self._create_kvstore(kvstore)
        if self.loss_scaler is not None and update_on_kvstore and kvstore is not None and \
                "dist" in kvstore.type:
            raise MXNetValueError(
                "init_optimizer: fp16 loss scaling skips updates whose gradients overflow, "
                "which a distributed kvstore that applies the optimizer itself cannot do; "
                "set MXNET_UPDATE_ON_KVSTORE=0 (gradients are then summed across workers "
                "before the check) or drop loss_scale")
        batch_size = self._exec_group.batch_size
        if kvstore is not None and "dist" in kvstore.type and "_sync" in kvstore.type:
            batch_size *= kvstore.num_workers     # MXNet: the gradient of the global batch
        n = len(self._context)
        if update_on_kvstore:
            idx2name = dict(enumerate(self._param_names))
        else:
            idx2name = {i * n + k: name for i, name in enumerate(self._param_names)
                        for k in range(n)}
        optimizer_params = dict(optimizer_params)
        if isinstance(optimizer, str):
            if "rescale_grad" not in optimizer_params:
                optimizer_params["rescale_grad"] = 1.0 / batch_size
            optimizer = opt.create(optimizer, sym=self.symbol, param_idx2name=idx2name,
                                   **optimizer_params)
        elif isinstance(optimizer, opt.Optimizer):
            if optimizer.rescale_grad != 1.0 / batch_size:
                warnings.warn(
                    "Optimizer created manually outside Module but rescale_grad is not "
                    f"normalized to 1.0/batch_size/num_workers ({optimizer.rescale_grad} vs. "
                    f"{1.0 / batch_size}). Is this intended?", stacklevel=2)
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        else:
            raise MXNetTypeError(f"optimizer must be a name or an Optimizer, got "
                                 f"{type(optimizer).__name__}")
        if kvstore is not None:
            if self._compression_params:
                kvstore.set_gradient_compression(self._compression_params)
            self._init_kvstore(kvstore, optimizer, update_on_kvstore)
        self._optimizer = optimizer
        self._kvstore = kvstore
        self._update_on_kvstore = update_on_kvstore
        self._updater = None if update_on_kvstore else opt.get_updater(optimizer)
        self._update_plan = None
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    def _create_kvstore(self, kvstore):
        """``(kvstore or None, update_on_kvstore)`` by MXNet's rules (see
        :func:`mxtorch.kvstore.select`)."""
        return _kv.select(kvstore, len(self._context), self._arg_params)

    def _init_kvstore(self, kv, optimizer, update_on_kvstore):
        """Give every parameter to the kvstore (one call): broadcast to the devices when
        the kvstore updates them, else only init (it then just sums gradients)."""
        names = self._param_names
        values = [self._arg_params[name] for name in names]
        if update_on_kvstore:
            kv.set_optimizer(optimizer)
            if names:
                kv.broadcast(names, values, out=self._exec_group.param_arrays)
        elif names:
            kv.init(names, values)

    def _sync_kvstore_weights(self):
        """After parameters were set behind an initialized optimizer: give a kvstore that
        updates the weights (``update_on_kvstore``) the module's current values, which
        its next update would otherwise overwrite with its own copy (as in MXNet)."""
        if self._kvstore is not None and self._update_on_kvstore and self._param_names:
            arg_params, _ = self.get_params()
            self._kvstore.assign(list(self._param_names),
                                 [arg_params[n] for n in self._param_names])

    def _dist_kvstore(self):
        from ..kvstore.dist import DistKVStore
        return self._kvstore if isinstance(self._kvstore, DistKVStore) else None

    def borrow_optimizer(self, shared_module):
        """Use the optimizer, updater and kvstore of ``shared_module`` (bucketing)."""
        if not shared_module.optimizer_initialized:
            raise StateError("borrow_optimizer: the shared module has no optimizer; call its "
                             "init_optimizer() first")
        self._optimizer = shared_module._optimizer
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self._updater = shared_module._updater
        self._update_plan = None
        self.optimizer_initialized = True

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Write the optimizer states to ``fname`` (atomically): the kvstore's when it
        updates the parameters (keyed by parameter name), else the module updater's.

        ``dump_optimizer=True`` (not in MXNet's Module) also writes the optimizer's update
        counts and lr schedule, which :meth:`load_optimizer_states` then continues from.
        """
        self._require("save_optimizer_states", optimizer=True)
        if self._update_on_kvstore:
            self._kvstore.save_optimizer_states(fname, dump_optimizer=dump_optimizer)
        else:
            atomic_write(fname, self._updater.get_states(dump_optimizer))

    def load_optimizer_states(self, fname):
        """Load optimizer states from ``fname`` (ours, or an MXNet pickle through a
        restricted unpickler) into the kvstore's updater or the module's.

        A file that also holds the optimizer (``dump_optimizer=True``) carries its update
        counts and lr schedule onto this module's optimizer, which stays the one in use
        (MXNet's Updater would swap in the unpickled optimizer and leave the module's
        ``_optimizer`` stale).
        """
        self._require("load_optimizer_states", optimizer=True)
        updater = self._kvstore._updater if self._update_on_kvstore else self._updater
        with open(fname, "rb") as f:
            updater.set_states(f.read())
        if updater.optimizer is not self._optimizer:
            self._optimizer.load_progress(updater.optimizer)
            updater.optimizer = self._optimizer

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        """Forward one batch; a batch of other shapes reshapes the executors first."""
        self._require("forward", params=True)
        if not hasattr(data_batch, "data") and not isinstance(data_batch, list):
            raise MXNetTypeError("forward: data_batch needs a .data list (e.g. mx.io.DataBatch), "
                                 f"got {type(data_batch).__name__}")
        curr = self._data_shapes
        if isinstance(data_batch, list):
            new_shapes = None  # per-device batches: MXNet reshapes from their total
            total = sum(db.data[0].shape[0] for db in data_batch)
            if total != self._exec_group.batch_size:
                new_shapes = [(d.name, (total,) + tuple(d.shape[1:])) for d in curr]
        else:
            data = data_batch.data
            if len(data) != len(curr):
                raise MXNetValueError(f"forward: the batch has {len(data)} data arrays, the "
                                      f"module expects {len(curr)} ({self._data_names})")
            shapes = [tuple(x.shape) for x in data]
            new_shapes = None if all(s == d.shape for s, d in zip(shapes, curr)) else shapes
        if new_shapes is not None:
            self._reshape_for(data_batch, new_shapes)
        self._exec_group.forward(data_batch, is_train)

    def _reshape_for(self, data_batch, new_shapes):
        curr = self._data_shapes
        provide = getattr(data_batch, "provide_data", None)
        if provide:
            new_dshape = provide
        elif isinstance(new_shapes[0], tuple) and isinstance(new_shapes[0][0], str):
            new_dshape = [DataDesc(n, s, d.dtype, d.layout) for (n, s), d in zip(new_shapes, curr)]
        else:
            new_dshape = [DataDesc(d.name, s, d.dtype, d.layout) for d, s in zip(curr, new_shapes)]
        provide_label = getattr(data_batch, "provide_label", None)
        label = getattr(data_batch, "label", None)
        if provide_label:
            new_lshape = provide_label
        elif label and self._label_shapes:
            new_lshape = [DataDesc(d.name, tuple(x.shape), d.dtype, d.layout)
                          for d, x in zip(self._label_shapes, label)]
        else:
            new_lshape = None
        try:
            self.reshape(new_dshape, new_lshape)
        except ShapeError as err:
            bound = ", ".join(f"'{d.name}' {tuple(d.shape)}" for d in curr)
            given = ", ".join(f"'{d.name}' {tuple(d.shape)}" for d in new_dshape)
            raise ShapeError(f"forward: the batch has data {given} but the module is bound "
                             f"with {bound}, and the network cannot take it ({err}); feed "
                             "batches of the bound shape or bind again") from err

    def backward(self, out_grads=None):
        """Backward of the last forward (loss heads need no out_grads)."""
        self._require("backward", params=True)
        self._exec_group.backward(out_grads=out_grads)

    def update(self):
        """Apply the optimizer to every parameter with a gradient.

        With ``update_on_kvstore`` the kvstore sums the device gradients, updates its
        copy of each weight and copies it to the devices (one pushpull of all keys).
        Otherwise the kvstore (if any) sums the gradients in place and each device runs
        the updater once on all its parameters, with keys ``index * num_device + k``.
        """
        self._require("update", params=True, optimizer=True)
        self._params_dirty = True
        plan = self._update_plan
        if plan is None:
            plan = self._update_plan = self._make_update_plan()
        names, grads, weights, per_device = plan
        if not names:
            return
        if self._accel is not None and self._accel.scaler is not None:
            self._update_scaled(plan)
            return
        if self._update_on_kvstore:
            self._kvstore.pushpull(names, grads, out=weights)
            return
        if self._kvstore is not None:
            self._kvstore.pushpull(names, grads)
        for indices, dev_grads, dev_weights in per_device:
            self._updater(indices, dev_grads, dev_weights)

    def _update_scaled(self, plan):
        """fp16 loss scaling: skip the update when a gradient overflowed, else apply it
        with ``rescale_grad`` divided by the scale (one pass over the gradients less
        than unscaling them first)."""
        names, grads, weights, per_device = plan
        scaler = self._accel.scaler
        if self._kvstore is not None and not self._update_on_kvstore:
            # sum first, so that every device (and worker) decides on the same gradients
            self._kvstore.pushpull(names, grads)
        if scaler.has_overflow([g._data for g in dev_grads] for _, dev_grads, _ in per_device):
            scaler.step_done(True)
            return
        optimizer = self._optimizer
        base = optimizer.rescale_grad
        optimizer.rescale_grad = base / scaler.scale
        try:
            if self._update_on_kvstore:
                self._kvstore.pushpull(names, grads, out=weights)
            else:
                for indices, dev_grads, dev_weights in per_device:
                    self._updater(indices, dev_grads, dev_weights)
        finally:
            optimizer.rescale_grad = base
        scaler.step_done(False)

    def _make_update_plan(self):
        """``(names, grads, weights, per_device)`` of the parameters with gradients:
        per-parameter device lists for the kvstore, and per device the updater's
        (indices, grads, weights)."""
        group = self._exec_group
        n = len(self._context)
        names, grads, weights = [], [], []
        per_device = [([], [], []) for _ in range(n)]
        for i, name in enumerate(self._param_names):
            grad_list = group.grad_arrays[i] if group.grad_arrays else None
            if grad_list is None or grad_list[0] is None:
                continue
            names.append(name)
            grads.append(list(grad_list))
            weights.append(list(group.param_arrays[i]))
            for k in range(n):
                per_device[k][0].append(i * n + k)
                per_device[k][1].append(grad_list[k])
                per_device[k][2].append(group.param_arrays[i][k])
        return names, grads, weights, per_device

    def get_outputs(self, merge_multi_context=True):
        """Outputs of the last forward (merged across devices by default)."""
        self._require("get_outputs", params=True)
        return self._exec_group.get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        """Gradients of the data inputs, in data_shapes order (needs inputs_need_grad)."""
        self._require("get_input_grads", params=True)
        if not self.inputs_need_grad:
            raise StateError("get_input_grads: bind with inputs_need_grad=True first")
        return self._exec_group.get_input_grads(merge_multi_context=merge_multi_context)

    def get_states(self, merge_multi_context=True):
        """The state arrays (per device; merging is not supported, as in MXNet)."""
        self._require("get_states", params=True)
        return self._exec_group.get_states(merge_multi_context=merge_multi_context)

    def set_states(self, states=None, value=None):
        """Set the states from arrays or fill them with a scalar ``value``."""
        self._require("set_states", params=True)
        self._exec_group.set_states(states, value)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Accumulate ``eval_metric`` on the last outputs (once per device)."""
        self._exec_group.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        """Install ``mon`` on every executor."""
        self._require("install_monitor")
        self._exec_group.install_monitor(mon)

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Pull the rows of row_sparse parameters that the next batch needs.

        With the update on the kvstore, ``sparse_row_id_fn(data_batch)`` returns
        ``{param name: row ids}`` and those rows of each row_sparse parameter are pulled
        into every device copy (``row_sparse_pull``), as MXNet does. The device copies
        here hold every row and every update pulls the whole value back, so this only
        refreshes rows that are already current; it is kept for MXNet's call order.

        Raises
        ------
        MXNetTypeError
            If ``sparse_row_id_fn`` does not return a dict.
        MXNetValueError
            If it names a parameter the module does not have.
        """
        self._require("prepare", params=False)
        if sparse_row_id_fn is None:
            return
        if not self._kvstore or not self._update_on_kvstore:
            warnings.warn("Parameters are not updated in the KVStore. No need to call "
                          "sparse_row_id_fn.", stacklevel=2)
            return
        row_ids = sparse_row_id_fn(data_batch)
        if not isinstance(row_ids, dict):
            raise MXNetTypeError(f"sparse_row_id_fn must return a dict of parameter name -> "
                                 f"row ids, got {type(row_ids).__name__}")
        group = self._exec_group
        stypes = var_stypes(self._symbol)
        for name, rows in row_ids.items():
            if name not in group.param_names:
                raise MXNetValueError(f"sparse_row_id_fn names {name!r}, which is not a "
                                      f"parameter; parameters are {group.param_names}")
            if stypes.get(name) != "row_sparse":
                warnings.warn(f"{name}.stype is not 'row_sparse'. No need to perform "
                              "row_sparse_pull.", stacklevel=2)
                continue
            copies = group.param_arrays[group.param_names.index(name)]
            pulled = [sparse_zeros("row_sparse", w.shape, ctx=w.context, dtype=w._data.dtype)
                      for w in copies]
            self._kvstore.row_sparse_pull(name, pulled, row_ids=rows)
            with torch.no_grad():
                for w, p in zip(copies, pulled):
                    w._data.index_copy_(0, p._data.indices()[0], p._data.values())

    # ------------------------------------------------------------------ export (issue 8)
    def to_torch(self):
        """The symbol with the current parameters as a plain ``torch.nn.Module``
        (``mxtorch.export.SymbolNet``), in ``eval()`` mode.

        Its inputs are ``data_names`` (then ``state_names``), positional; labels may be
        given by name. In eval mode it computes what ``predict`` computes; call
        ``.train()`` to run the training graph (``fixed_param_names`` get
        ``requires_grad=False``). The parameters are copies: training the returned module
        does not change this one.

        Raises
        ------
        StateError
            Parameters are not initialized (bind and init_params first).
        """
        from ..export import SymbolNet
        self._require("to_torch", binded=False, params=True)
        arg_params, aux_params = self.get_params()
        return SymbolNet(self._symbol, arg_params, aux_params,
                         input_names=self._data_names + self._state_names,
                         label_names=self._label_names,
                         fixed_param_names=self._fixed_param_names).eval()

    def export_onnx(self, path, in_shapes=None, in_types=None, dynamic=False,
                    dynamic_input_shapes=None, opset_version=None, verbose=False):
        """Write the module for inference as an ONNX file (through ``to_torch`` and
        torch.onnx; see ``mx.onnx.export_model``).

        Parameters
        ----------
        path : str
        in_shapes : list of tuple, optional
            Default: the bound ``data_shapes`` (then the states' shapes).
        in_types : dtype or list of dtype, optional
            Default: the bound ``data_shapes`` dtypes.
        dynamic, dynamic_input_shapes, opset_version, verbose
            As in ``mx.onnx.export_model``.

        Returns
        -------
        str
            ``path``.

        Raises
        ------
        StateError
            Not bound, or parameters not initialized.
        """
        from ..onnx import export_net
        self._require("export_onnx", params=True)
        net = self.to_torch()
        if in_shapes is None or in_types is None:
            descs = {d.name: d for d in self._data_shapes}
            arg_arrays = self._exec_group.execs[0].arg_dict
            bound = [(tuple(descs[n].shape), descs[n].dtype) if n in descs else
                     (arg_arrays[n].shape, arg_arrays[n].dtype) for n in net.input_names]
            in_shapes = [s for s, _ in bound] if in_shapes is None else in_shapes
            in_types = [t for _, t in bound] if in_types is None else in_types
        return export_net(net, path, in_shapes, in_types, dynamic=dynamic,
                          dynamic_input_shapes=dynamic_input_shapes,
                          opset_version=opset_version, verbose=verbose)


def _zeros_like_cpu(arr, stype=None):
    if stype == "row_sparse":
        return sparse_zeros(stype, arr.shape, ctx=cpu(), dtype=arr._data.dtype)
    return NDArray(torch.zeros(arr.shape, dtype=arr._data.dtype), cpu())


def _copy(src, dst, name):
    t = src._data if isinstance(src, NDArray) else torch.as_tensor(src)
    if tuple(t.shape) != dst.shape:
        raise MXNetValueError(f"parameter {name!r}: shape {tuple(t.shape)} given, the module "
                              f"needs {dst.shape}")
    if t.layout is not torch.strided or dst._data.layout is not torch.strided:
        rebind(dst, to_stype(t, dst.stype).to(dtype=dst._data.dtype, copy=True))
        return
    with torch.no_grad():
        dst._data.copy_(t)

