"""BucketingModule: one Module per bucket key, all sharing the default bucket's
parameters, gradients, optimizer and data buffers.

Owns the bucket table and the switch between buckets; every computation goes to the
current bucket's Module. Buckets bind lazily (on first use) with the default bucket as
``shared_module``, so the default bucket should be the largest.
"""
import logging
import warnings

from ..base import MXNetValueError, StateError
from ..context import Context, cpu
from ..executor.accel import make_accelerate
from ..initializer import Uniform
from .. import name as _name
from .. import ndarray as nd
from ..model import save_checkpoint_files, load_params
from .. import symbol as _sym
from .base_module import BaseModule, _check_input_names
from .module import Module

__all__ = ["BucketingModule"]


class BucketingModule(BaseModule):
    """A module for inputs of varying length (one symbol per bucket key).

    Parameters
    ----------
    sym_gen : callable
        ``sym_gen(bucket_key) -> (symbol, data_names, label_names)``; it runs inside a
        fresh NameManager, so automatic names are the same for every bucket.
    default_bucket_key : hashable
        The key of the largest bucket; required.
    logger : Logger, default logging
    context : Context or list of Context, default cpu()
    work_load_list, fixed_param_names, state_names, group2ctxs, compression_params :
        As for Module.
    compile, autocast, loss_scale, channels_last, cuda_graphs :
        Module's opt-in accelerators (not in MXNet), given to every bucket's module; with
        ``autocast='fp16'`` all buckets share one loss scale (``loss_scaler``).

    Raises
    ------
    MXNetValueError
        Without a default_bucket_key, when the default bucket's names do not match
        its symbol, or for an accelerator value Module refuses.
    """

    def __init__(self, sym_gen, default_bucket_key=None, logger=logging, context=cpu(),
                 work_load_list=None, fixed_param_names=None, state_names=None,
                 group2ctxs=None, compression_params=None, compile=False, autocast=None,
                 loss_scale=None, channels_last=False, cuda_graphs=False):
        accel = make_accelerate(compile=compile, autocast=autocast, loss_scale=loss_scale,
                                channels_last=channels_last, cuda_graphs=cuda_graphs)
        if accel is not None:
            accel.check_contexts([context] if isinstance(context, Context) else context)
        super().__init__(logger=logger)
        self._accel = accel
        if default_bucket_key is None:
            raise MXNetValueError("BucketingModule needs default_bucket_key (the key of the "
                                  "largest bucket)")
        self._default_bucket_key = default_bucket_key
        self._sym_gen = sym_gen
        symbol, data_names, label_names = self._call_sym_gen(default_bucket_key)
        data_names = list(data_names) if data_names is not None else []
        label_names = list(label_names) if label_names is not None else []
        state_names = list(state_names) if state_names is not None else []
        fixed_param_names = list(fixed_param_names) if fixed_param_names is not None else []
        _check_input_names(symbol, data_names, "data", True)
        _check_input_names(symbol, label_names, "label", False)
        _check_input_names(symbol, state_names, "state", True)
        _check_input_names(symbol, fixed_param_names, "fixed_param", True)
        self._compression_params = compression_params
        self._fixed_param_names = fixed_param_names
        self._state_names = state_names
        self._context = context
        self._work_load_list = work_load_list
        self._group2ctxs = group2ctxs
        self._buckets = {}
        self._curr_module = None
        self._curr_bucket_key = None
        self._params_dirty = False
        self._monitor = None
        self._grad_req = None

    def _call_sym_gen(self, key):
        with _name.NameManager():
            try:
                result = self._sym_gen(key)
            except Exception as e:  # name the bucket: sym_gen is user code
                raise MXNetValueError(f"sym_gen({key!r}) failed for bucket key {key!r}: "
                                      f"{type(e).__name__}: {e}") from e
        if not (isinstance(result, (tuple, list)) and len(result) == 3):
            raise MXNetValueError(f"sym_gen({key!r}) must return (symbol, data_names, "
                                  f"label_names), got {type(result).__name__}")
        return result

    def _reset_bind(self):
        self.binded = False
        self._buckets = {}
        self._curr_module = None
        self._curr_bucket_key = None

    def _new_module(self, symbol, data_names, label_names):
        module = Module(symbol, data_names, label_names, logger=self.logger,
                        context=self._context, work_load_list=self._work_load_list,
                        fixed_param_names=self._fixed_param_names,
                        state_names=self._state_names, group2ctxs=self._group2ctxs,
                        compression_params=self._compression_params)
        module._accel = self._accel   # one set of accelerators (one loss scale) for all
        return module

    @property
    def loss_scaler(self):
        """The fp16 ``LossScaler`` the buckets share, or None (see Module)."""
        return self._accel.scaler if self._accel is not None else None

    # ------------------------------------------------------------------ properties
    @property
    def data_names(self):
        if self.binded:
            return self._curr_module.data_names
        return self._call_sym_gen(self._default_bucket_key)[1]

    @property
    def output_names(self):
        if self.binded:
            return self._curr_module.output_names
        return self._call_sym_gen(self._default_bucket_key)[0].list_outputs()

    @property
    def data_shapes(self):
        self._require("data_shapes")
        return self._curr_module.data_shapes

    @property
    def label_shapes(self):
        self._require("label_shapes")
        return self._curr_module.label_shapes

    @property
    def output_shapes(self):
        self._require("output_shapes")
        return self._curr_module.output_shapes

    @property
    def symbol(self):
        """The current bucket's symbol."""
        self._require("symbol")
        return self._curr_module.symbol

    # ------------------------------------------------------------------ parameters
    def get_params(self):
        """The parameters (shared by every bucket)."""
        self._require("get_params", binded=False, params=True)
        self._curr_module._params_dirty = self._params_dirty
        params = self._curr_module.get_params()
        self._params_dirty = False
        return params

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        """Assign parameters (through the current bucket; all buckets share them)."""
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init,
                             allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "set_params call ignored.", stacklevel=2)
            return
        self._curr_module.set_params(arg_params, aux_params, allow_missing=allow_missing,
                                     force_init=force_init, allow_extra=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Initialize the parameters (a silent no-op when already done, as MXNet)."""
        if self.params_initialized and not force_init:
            return
        self._require("init_params")
        self._curr_module.init_params(initializer=initializer, arg_params=arg_params,
                                      aux_params=aux_params, allow_missing=allow_missing,
                                      force_init=force_init, allow_extra=allow_extra)
        self._params_dirty = False
        self.params_initialized = True

    def get_states(self, merge_multi_context=True):
        self._require("get_states", params=True)
        return self._curr_module.get_states(merge_multi_context=merge_multi_context)

    def set_states(self, states=None, value=None):
        self._require("set_states", params=True)
        self._curr_module.set_states(states, value)

    # ------------------------------------------------------------------ binding
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Bind the default bucket (other buckets bind when first switched to)."""
        if self.params_initialized:
            arg_params, aux_params = self.get_params()
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if shared_module is not None:
            raise MXNetValueError("shared_module for BucketingModule is not supported")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        symbol, data_names, label_names = self._call_sym_gen(self._default_bucket_key)
        module = self._buckets.get(self._default_bucket_key)
        if module is None:
            module = self._new_module(symbol, data_names, label_names)
        module.bind(data_shapes, label_shapes, for_training, inputs_need_grad,
                    force_rebind=False, shared_module=None, grad_req=grad_req)
        self._curr_module = module
        self._curr_bucket_key = self._default_bucket_key
        self._buckets[self._default_bucket_key] = module
        self.binded = True
        if self.params_initialized:
            self.set_params(arg_params, aux_params)

    def switch_bucket(self, bucket_key, data_shapes, label_shapes=None):
        """Make ``bucket_key`` current, creating and binding its module if needed.

        Raises
        ------
        StateError
            Before bind.
        MXNetValueError
            When the bucket's parameters do not have the default bucket's shapes.
        """
        self._require("switch_bucket")
        module = self._buckets.get(bucket_key)
        if module is None or not module.binded:
            if module is None:
                if data_shapes is None:
                    raise MXNetValueError(f"bucket {bucket_key!r} is new and no data shapes "
                                          "were given to bind it; pass the batch's "
                                          "provide_data")
                symbol, data_names, label_names = self._call_sym_gen(bucket_key)
                module = self._new_module(symbol, data_names, label_names)
            default = self._buckets[self._default_bucket_key]
            try:
                module.bind(data_shapes, label_shapes, self._curr_module.for_training,
                            self._curr_module.inputs_need_grad, force_rebind=False,
                            shared_module=default, grad_req=self._grad_req)
            except MXNetValueError as e:
                raise MXNetValueError(f"bucket {bucket_key!r} cannot share the parameters of the "
                                      f"default bucket {self._default_bucket_key!r}: {e}") from e
            _check_shared_shapes(module, default, bucket_key, self._default_bucket_key)
            if self._monitor is not None:
                module.install_monitor(self._monitor)
            self._buckets[bucket_key] = module
        self._curr_module = module
        self._curr_bucket_key = bucket_key

    # ------------------------------------------------------------------ optimizer
    def _dist_kvstore(self):
        return None if self._curr_module is None else self._curr_module._dist_kvstore()

    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Install the optimizer on the current bucket; every other bucket borrows it."""
        self._require("init_optimizer", params=True)
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring.")
            return
        self._curr_module.init_optimizer(kvstore, optimizer, optimizer_params,
                                         force_init=force_init)
        for mod in self._buckets.values():
            if mod is not self._curr_module and mod.binded:
                mod.borrow_optimizer(self._curr_module)
        self.optimizer_initialized = True

    # ------------------------------------------------------------------ computation
    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Bind the batch's bucket if new (then switch back to the current one)."""
        self._require("prepare", params=True)
        bucket_key = getattr(data_batch, "bucket_key", None)
        if bucket_key is None:
            bucket_key = self._default_bucket_key
        original_bucket_key = self._curr_bucket_key
        data_shapes = data_batch.provide_data
        label_shapes = data_batch.provide_label
        self.switch_bucket(bucket_key, data_shapes, label_shapes)
        self._curr_module.prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)
        self.switch_bucket(original_bucket_key, None, None)

    def forward(self, data_batch, is_train=None):
        """Switch to the batch's bucket (``bucket_key``) and run forward there."""
        self._require("forward", params=True)
        key = getattr(data_batch, "bucket_key", None)
        if key is None:
            key = self._default_bucket_key
        self.switch_bucket(key, data_batch.provide_data, data_batch.provide_label)
        self._curr_module.forward(data_batch, is_train=is_train)

    def backward(self, out_grads=None):
        self._require("backward", params=True)
        self._curr_module.backward(out_grads=out_grads)

    def update(self):
        self._require("update", params=True, optimizer=True)
        self._params_dirty = True
        self._curr_module.update()

    def get_outputs(self, merge_multi_context=True):
        self._require("get_outputs", params=True)
        return self._curr_module.get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        self._require("get_input_grads", params=True)
        if not self.inputs_need_grad:
            raise StateError("get_input_grads: bind with inputs_need_grad=True first")
        return self._curr_module.get_input_grads(merge_multi_context=merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        self._require("update_metric", params=True)
        self._curr_module.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        """Install ``mon`` on every bucket (present and future)."""
        self._require("install_monitor")
        self._monitor = mon
        for mod in self._buckets.values():
            mod.install_monitor(mon)

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, prefix, epoch, remove_amp_cast=False):
        """Write ``prefix-%04d.params``, one ``prefix-<key>-symbol.json`` per bucket and
        ``prefix.buckets`` (the keys, as one int32 array)."""
        if not self._buckets:
            raise StateError("save_checkpoint: the module has no bucket; bind it first")
        arg_params, aux_params = self.get_params()
        save_checkpoint_files(prefix, epoch, None, arg_params, aux_params)
        for key in self._buckets:
            symbol, _, _ = self._sym_gen(key)
            symbol.save(f"{prefix}-{key}-symbol.json")
        nd.save(f"{prefix}.buckets", nd.array(list(self._buckets), dtype="int32"))

    @staticmethod
    def load(prefix, epoch, sym_gen=None, default_bucket_key=None, **kwargs):
        """A BucketingModule from ``save_checkpoint`` files (not bound yet)."""
        if sym_gen is None or default_bucket_key is None:
            raise MXNetValueError("BucketingModule.load needs sym_gen and default_bucket_key")
        buckets = nd.load(f"{prefix}.buckets")
        keys = [int(k) for k in (buckets[0] if isinstance(buckets, list) else
                                 next(iter(buckets.values()))).asnumpy().tolist()]
        sym_dict = {key: _sym.load(f"{prefix}-{key}-symbol.json") for key in keys}
        arg_params, aux_params = load_params(prefix, epoch)
        return BucketingModule.load_dict(sym_dict, sym_gen, default_bucket_key, arg_params,
                                         aux_params, **kwargs)

    @staticmethod
    def load_dict(sym_dict=None, sym_gen=None, default_bucket_key=None, arg_params=None,
                  aux_params=None, **kwargs):
        """A BucketingModule from symbols per key and parameters held in memory."""
        if sym_dict is None or sym_gen is None or default_bucket_key is None:
            raise MXNetValueError("load_dict needs sym_dict, sym_gen and default_bucket_key")
        bucketing_mod = BucketingModule(sym_gen, default_bucket_key, **kwargs)
        for key, symbol in sym_dict.items():
            _, data_names, label_names = bucketing_mod._call_sym_gen(key)
            bucketing_mod._buckets[key] = bucketing_mod._new_module(symbol, data_names,
                                                                    label_names)
            if key == default_bucket_key:
                mod = bucketing_mod._curr_module = bucketing_mod._buckets[key]
                mod._arg_params = arg_params
                mod._aux_params = aux_params
                mod.params_initialized = True
        bucketing_mod.params_initialized = True
        return bucketing_mod


def _check_shared_shapes(module, default, key, default_key):
    """A bucket must use the default bucket's parameters with the same shapes."""
    own = module._exec_group.execs[0].arg_dict
    base = default._exec_group.execs[0].arg_dict
    for name in module._param_names:
        if name in base and own[name].shape != base[name].shape:
            raise MXNetValueError(
                f"bucket {key!r}: parameter {name!r} has shape {own[name].shape}, but the "
                f"default bucket {default_key!r} has {base[name].shape}; sym_gen must build "
                "the same parameters for every bucket")
        if name not in base:
            raise MXNetValueError(f"bucket {key!r}: parameter {name!r} is not in the default "
                                  f"bucket {default_key!r}; every bucket must share its "
                                  "parameters")
