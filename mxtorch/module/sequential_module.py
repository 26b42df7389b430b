"""SequentialModule: a container that chains modules, the outputs of one being the data
of the next (MXNet 1.9.1's ``mx.mod.SequentialModule``).

Owns the chain, each module's meta (``take_labels``, ``auto_wiring``) and the wiring of
shapes, batches and gradients between neighbours; every computation runs in the chained
modules. The high-level loop (fit, score, predict, save_params) is BaseModule's.
"""
import copy
import logging

from ..base import MXNetError, MXNetRuntimeError, MXNetTypeError, MXNetValueError, StateError
from ..initializer import Uniform
from ..io import DataDesc
from .base_module import BaseModule

__all__ = ["SequentialModule"]


class SequentialModule(BaseModule):
    """A container module that chains several modules together.

    Module ``i + 1`` takes the outputs of module ``i`` as its data; each module that was
    added with ``take_labels=True`` receives the labels of the batch given to the chain.
    Building one symbolic graph is more flexible and faster; this is a handy utility for
    composing modules of different kinds (e.g. a Module followed by a PythonLossModule).

    Parameters
    ----------
    logger : Logger, default logging

    Examples
    --------
    >>> seq = mx.mod.SequentialModule()
    >>> seq.add(mod1).add(mod2, take_labels=True, auto_wiring=True)
    """

    META_TAKE_LABELS = "take_labels"
    META_AUTO_WIRING = "auto_wiring"

    def __init__(self, logger=logging):
        super().__init__(logger=logger)
        self._modules = []
        self._metas = []
        self._label_shapes = None
        self._wire_names = None
        self._meta_keys = {getattr(SequentialModule, x) for x in dir(SequentialModule)
                           if x.startswith("META_")}

    def add(self, module, **kwargs):
        """Add a module to the end of the chain.

        Parameters
        ----------
        module : BaseModule
            The module to add.
        **kwargs
            Meta information for this module. Known keys:

            - ``take_labels`` (default False): the module receives the labels of the
              batch (any module of the chain may take them; they all get the same ones).
            - ``auto_wiring`` (default False): rename the incoming data (the previous
              module's outputs, or the chain's data for the first module) to this
              module's ``data_names``, in order. Without it, the incoming names must be
              this module's data names (e.g. ``relu1_output``).

        Returns
        -------
        SequentialModule
            ``self``, so that calls chain: ``seq.add(a).add(b, take_labels=True)``.

        Raises
        ------
        MXNetTypeError
            When ``module`` is not a BaseModule.
        MXNetValueError
            For an unknown meta key (a typo); the chain is unchanged.

        Notes
        -----
        Adding a module resets the chain to its initial state (``binded``,
        ``params_initialized`` and ``optimizer_initialized`` become False), as in MXNet:
        bind and init_params again. Modules already in the chain keep their own state.
        """
        if not isinstance(module, BaseModule):
            raise MXNetTypeError(f"SequentialModule.add: module must be a BaseModule (Module, "
                                 f"PythonLossModule, ...), got {type(module).__name__}")
        for key in kwargs:
            if key not in self._meta_keys:
                raise MXNetValueError(f'SequentialModule.add: unknown meta "{key}", a typo? '
                                      f"Known meta keys: {sorted(self._meta_keys)}")
        self._modules.append(module)
        self._metas.append(dict(kwargs))
        self.binded = False
        self.params_initialized = False
        self.optimizer_initialized = False
        return self

    def _takes_labels(self, i):
        return bool(self._metas[i].get(SequentialModule.META_TAKE_LABELS, False))

    def _auto_wiring(self, i):
        return bool(self._metas[i].get(SequentialModule.META_AUTO_WIRING, False))

    def _describe(self, i):
        return f"module {i} ({type(self._modules[i]).__name__})"

    # ------------------------------------------------------------------ properties
    @property
    def data_names(self):
        """The first module's data names ([] for an empty chain)."""
        return self._modules[0].data_names if self._modules else []

    @property
    def output_names(self):
        """The last module's output names ([] for an empty chain)."""
        return self._modules[-1].output_names if self._modules else []

    @property
    def data_shapes(self):
        """The first module's data shapes (needs bind)."""
        self._require("data_shapes")
        return self._modules[0].data_shapes

    @property
    def label_shapes(self):
        """The label shapes given to bind, or None when no module takes labels."""
        self._require("label_shapes")
        return self._label_shapes

    @property
    def output_shapes(self):
        """The last module's output shapes (needs bind)."""
        self._require("output_shapes")
        return self._modules[-1].output_shapes

    # ------------------------------------------------------------------ parameters
    def get_params(self):
        """The parameters of every module, merged.

        Returns
        -------
        (dict, dict)
            ``(arg_params, aux_params)``: name -> NDArray over the whole chain.
        """
        self._require("get_params", params=True)
        arg_params, aux_params = {}, {}
        for module in self._modules:
            arg, aux = module.get_params()
            arg_params.update(arg)
            aux_params.update(aux)
        return arg_params, aux_params

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Initialize the parameters of every module (a no-op when already done and not
        ``force_init``).

        Parameters
        ----------
        initializer : Initializer, default Uniform(0.01)
        arg_params, aux_params : dict, optional
            Values for the whole chain (name -> array); they win over the initializer.
            Each module takes the names it has.
        allow_missing : bool, default False
            Fill names absent from ``arg_params``/``aux_params`` with the initializer.
        force_init : bool, default False
        allow_extra : bool, default False
            Accept names that no module of the chain has.

        Raises
        ------
        StateError
            Before bind.
        MXNetValueError
            Two modules have a parameter (or aux state) of the same name ("Duplicated
            parameter names"), or a given name belongs to no module and not allow_extra.
        MXNetRuntimeError
            A parameter is missing from the given dicts and not allow_missing.
        """
        if self.params_initialized and not force_init:
            return
        self._require("init_params")
        known = [_param_names_of(m) for m in self._modules]
        if all(k is not None for k in known):
            # every module's names are known: check everything before changing anything
            self._check_duplicates(known)
            self._check_given(known, arg_params, aux_params, allow_missing, allow_extra)
        for module in self._modules:
            # each module sees the whole chain's dicts: names of the others are expected
            module.init_params(initializer=initializer, arg_params=arg_params,
                               aux_params=aux_params, allow_missing=allow_missing,
                               force_init=force_init, allow_extra=True)
        names = []
        for module in self._modules:
            arg, aux = module.get_params()
            names.append((set(arg), set(aux)))
        self._check_duplicates(names)
        self._check_given(names, arg_params, aux_params, True, allow_extra)
        self.params_initialized = True

    def _check_duplicates(self, names):
        for kind in (0, 1):
            owner = {}
            for i, pair in enumerate(names):
                for name in sorted(pair[kind]):
                    if name in owner:
                        j = owner[name]
                        raise MXNetValueError(
                            f'Duplicated parameter names: name "{name}" in layer {i} '
                            f"({type(self._modules[i]).__name__}) is already used in layer "
                            f"{j} ({type(self._modules[j]).__name__}); give the symbols of "
                            "the chained modules distinct parameter names")
                    owner[name] = i

    @staticmethod
    def _check_given(names, arg_params, aux_params, allow_missing, allow_extra):
        for kind, given, what in ((0, arg_params, "arg_params"), (1, aux_params, "aux_params")):
            if given is None:
                continue
            needed = set().union(*(pair[kind] for pair in names))
            if not allow_missing:
                missing = sorted(needed - set(given))
                if missing:
                    raise MXNetRuntimeError(
                        f"{missing[0]} is not presented in {what} (missing: {missing}); pass "
                        "allow_missing=True to initialize the missing ones with the initializer")
            if not allow_extra:
                extra = sorted(set(given) - needed)
                if extra:
                    raise MXNetValueError(
                        f'Find name "{extra[0]}" in {what} that no module of the chain has '
                        f"(extra: {extra}); pass allow_extra=True to ignore them")

    # ------------------------------------------------------------------ binding
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Bind every module, wiring the output shapes of each into the data shapes of
        the next.

        Module ``i`` gets the labels only if added with ``take_labels=True``, and
        ``inputs_need_grad = inputs_need_grad or (for_training and i > 0)`` so that
        gradients flow back through the chain.

        Parameters
        ----------
        data_shapes : list of (str, tuple) or DataDesc
            The first module's data (typically ``data_iter.provide_data``).
        label_shapes : list of (str, tuple) or DataDesc, optional
        for_training : bool, default True
        inputs_need_grad : bool, default False
            Compute gradients of the chain's data (``get_input_grads``).
        force_rebind : bool, default False
            Rebind every module even if bound.
        shared_module : None
            Not supported.
        grad_req : str, list or dict, default 'write'
            Passed to every module.

        Raises
        ------
        StateError
            The chain is empty (call add first).
        MXNetTypeError
            ``data_shapes`` is not a list.
        MXNetValueError
            ``shared_module`` given, ``inputs_need_grad`` without ``for_training``, or a
            chain that does not wire: the message names the module and the shapes.
        """
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if not self._modules:
            raise StateError("SequentialModule.bind: the chain is empty (Attempting to bind an "
                             "empty SequentialModule); add modules with add(module) first")
        if inputs_need_grad and not for_training:
            raise MXNetValueError("SequentialModule.bind: inputs_need_grad=True requires "
                                  "for_training=True")
        if shared_module is not None:
            raise MXNetValueError("SequentialModule.bind: shared_module is not supported")
        if not isinstance(data_shapes, (list, tuple)):
            raise MXNetTypeError("SequentialModule.bind: data_shapes must be a list of "
                                 f"(name, shape) or DataDesc, got {type(data_shapes).__name__}")
        self._check_wiring(data_shapes)
        self.binded = False  # until every module is bound (a failed rebind leaves it so)
        anybody_needs_label = False
        my_data_shapes = list(data_shapes)
        for i, module in enumerate(self._modules):
            if self._takes_labels(i):
                my_label_shapes = label_shapes
                anybody_needs_label = True
            else:
                my_label_shapes = None
            my_inputs_need_grad = bool(inputs_need_grad or (for_training and i > 0))
            if self._auto_wiring(i):
                my_data_shapes = [_renamed(desc, new) for new, desc in
                                  zip(module.data_names, my_data_shapes)]
            try:
                module.bind(data_shapes=my_data_shapes, label_shapes=my_label_shapes,
                            for_training=for_training, inputs_need_grad=my_inputs_need_grad,
                            force_rebind=force_rebind, shared_module=None, grad_req=grad_req)
            except MXNetError as e:
                source = ("the chain's data_shapes" if i == 0 else
                          f"the output_shapes of {self._describe(i - 1)}")
                raise type(e)(f"SequentialModule.bind: {self._describe(i)} with data_names "
                              f"{list(module.data_names)} cannot be bound to {source} "
                              f"{_pairs(my_data_shapes)}: {e}") from e
            my_data_shapes = module.output_shapes
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._label_shapes = label_shapes if anybody_needs_label else None
        # the data names of each module, as forward passes them on (fixed at bind)
        self._wire_names = [[_name_of(d) for d in m.data_shapes] for m in self._modules]
        self.binded = True

    def _check_wiring(self, data_shapes):
        """The names and counts of the chain must wire (checked before binding anything)."""
        incoming = [_name_of(d) for d in data_shapes]
        source = "the chain's data_shapes"
        for i, module in enumerate(self._modules):
            names = list(module.data_names)
            if self._auto_wiring(i):
                if len(names) != len(incoming):
                    raise MXNetValueError(
                        f"SequentialModule.bind: {self._describe(i)} has {len(names)} data "
                        f"inputs {names} but {source} give {len(incoming)}: {incoming} "
                        "(auto_wiring renames them in order, so the counts must match)")
            elif sorted(names) != sorted(incoming):
                raise MXNetValueError(
                    f"SequentialModule.bind: {self._describe(i)} expects data {names} but "
                    f"{source} are named {incoming}; name its data variables like those, or "
                    f"add it with auto_wiring=True")
            incoming = list(module.output_names)
            source = f"the outputs of {self._describe(i)}"

    # ------------------------------------------------------------------ optimizer
    def _dist_kvstore(self):
        return next((m._dist_kvstore() for m in self._modules
                     if m._dist_kvstore() is not None), None)

    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Install the same optimizer settings on every module.

        Parameters
        ----------
        kvstore : str or KVStore, default 'local'
        optimizer : str or Optimizer, default 'sgd'
            An Optimizer instance is shared by every module; give a name to have one
            optimizer (and rescale_grad) per module, as MXNet's examples do.
        optimizer_params : dict or tuple of pairs, default (('learning_rate', 0.01),)
        force_init : bool, default False

        Raises
        ------
        StateError
            Before bind and init_params.
        """
        self._require("init_optimizer", params=True)
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring.")
            return
        for module in self._modules:
            module.init_optimizer(kvstore=kvstore, optimizer=optimizer,
                                  optimizer_params=optimizer_params, force_init=force_init)
        self.optimizer_initialized = True

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        """Forward through the chain: after each module, its outputs become the batch's
        data for the next (on a shallow copy of ``data_batch``, which keeps its label,
        pad, bucket_key, ...).

        Parameters
        ----------
        data_batch : DataBatch
        is_train : bool, optional
            Default None: each module's ``for_training``.
        """
        self._require("forward", params=True)
        data_batch = copy.copy(data_batch)
        last = len(self._modules) - 1
        for i, module in enumerate(self._modules):
            module.forward(data_batch, is_train=is_train)
            if i == last:
                break
            data_batch.data = module.get_outputs()
            if hasattr(data_batch, "provide_data"):
                # named as the next module expects them (it may reshape from these)
                data_batch.provide_data = [(name, tuple(x.shape)) for name, x in
                                           zip(self._wire_names[i + 1], data_batch.data)]

    def backward(self, out_grads=None):
        """Backward from the last module to the first; each module before the last gets
        the next one's input gradients as ``out_grads``."""
        self._require("backward", params=True)
        for i in range(len(self._modules) - 1, -1, -1):
            module = self._modules[i]
            module.backward(out_grads=out_grads)
            if i == 0:
                break
            out_grads = module.get_input_grads()

    def update(self):
        """Update the parameters of every module."""
        self._require("update", params=True, optimizer=True)
        for module in self._modules:
            module.update()

    def get_outputs(self, merge_multi_context=True):
        """The last module's outputs of the previous forward."""
        self._require("get_outputs", params=True)
        return self._modules[-1].get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        """The first module's input gradients (bind with ``inputs_need_grad=True``).

        Raises
        ------
        StateError
            Before bind/init_params, or when bound without ``inputs_need_grad``.
        """
        self._require("get_input_grads", params=True)
        if not self.inputs_need_grad:
            raise StateError("get_input_grads: bind the SequentialModule with "
                             "inputs_need_grad=True first")
        return self._modules[0].get_input_grads(merge_multi_context=merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Update ``eval_metric`` with the outputs of every module added with
        ``take_labels=True`` (and none other)."""
        self._require("update_metric", params=True)
        for i, module in enumerate(self._modules):
            if self._takes_labels(i):
                module.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        """Install ``mon`` on every module of the chain."""
        self._require("install_monitor")
        for module in self._modules:
            module.install_monitor(mon)


def _name_of(desc):
    return desc.name if hasattr(desc, "name") else desc[0]


def _shape_of(desc):
    return tuple(desc.shape) if hasattr(desc, "shape") else tuple(desc[1])


def _renamed(desc, name):
    """``desc`` under another name (a DataDesc keeps its dtype and layout)."""
    if isinstance(desc, DataDesc):
        return DataDesc(name, desc.shape, desc.dtype, desc.layout)
    return (name, _shape_of(desc))


def _pairs(shapes):
    return [(_name_of(d), _shape_of(d)) for d in shapes]


def _param_names_of(module):
    """``(arg_names, aux_names)`` of a bound module as sets, or None when they cannot be
    known before its init_params (a user-defined module type)."""
    from .module import Module
    from .bucketing_module import BucketingModule
    from .python_module import PythonModule
    if module.params_initialized and module.binded:
        arg, aux = module.get_params()
        return set(arg), set(aux)
    if isinstance(module, Module):
        return set(module._param_names), set(module._aux_names)
    if isinstance(module, BucketingModule) and module._curr_module is not None:
        return _param_names_of(module._curr_module)
    if isinstance(module, SequentialModule):
        parts = [_param_names_of(m) for m in module._modules]
        if any(p is None for p in parts):
            return None
        return (set().union(*(p[0] for p in parts)), set().union(*(p[1] for p in parts)))
    if isinstance(module, PythonModule) and type(module).get_params is PythonModule.get_params:
        return set(), set()
    return None
