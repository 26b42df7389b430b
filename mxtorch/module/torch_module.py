"""TorchModule: a define-by-run network (an ``mxtorch.nn.Module``, a BigDL layer, or any
``torch.nn.Module``) as a BaseModule, so that bind, init_params, fit, score, predict,
checkpoints and SequentialModule chains work on it.

Who owns what: the network owns its parameters (the live tensors: nothing is copied per
batch) and computes with autograd; this file owns the MXNet names of those tensors
(``conv1_weight``, ``bn1_gamma``, aux ``bn1_moving_mean``, from
``mxtorch.nn.bigdl_init``), the loss, the optimizer/updater and the module states. The
loop is BaseModule's.
"""
import logging
import warnings

import torch

from ..base import (MXNetNotImplementedError, MXNetRuntimeError, MXNetTypeError,
                    MXNetValueError, StateError, torch_dtype)
from ..context import Context, cpu
from ..initializer import Uniform
from ..io import DataDesc
from ..ndarray.ndarray import NDArray, from_torch
from .. import optimizer as opt
from ..model import load_params, save_params_file
from ..nn import bigdl_tree as tree
from ..nn.bigdl_activity import as_tensor
from ..nn.bigdl_api import plain_mode
from ..nn.bigdl_init import init_tensor, mxnet_names
from .base_module import BaseModule, check_given_params
from .bound_names import BoundNames

__all__ = ["TorchModule"]

_LOSSES = {
    "softmax_ce": lambda out, label: torch.nn.functional.cross_entropy(
        out, label.long().reshape(-1), reduction="sum"),
    "nll": lambda out, label: torch.nn.functional.nll_loss(
        out, label.long().reshape(-1), reduction="sum"),
    "mse": lambda out, label: 0.5 * ((out - label.reshape(out.shape)) ** 2).sum(),
}


def _descs(shapes, what):
    if shapes is None:
        return None
    if not isinstance(shapes, (list, tuple)):
        raise MXNetTypeError(f"TorchModule.bind: {what} must be a list of (name, shape) or "
                             f"DataDesc, got {type(shapes).__name__}")
    return [d if isinstance(d, DataDesc) else DataDesc(d[0], tuple(d[1])) for d in shapes]


def _loss_fn(loss):
    """``loss(outputs, labels) -> scalar`` summed over the batch, from the many spellings
    of a loss; None stays None (the module then needs out_grads in backward)."""
    if loss is None:
        return None
    if isinstance(loss, str):
        if loss not in _LOSSES:
            raise MXNetValueError(f"TorchModule: unknown loss {loss!r}; use one of "
                                  f"{sorted(_LOSSES)}, a torch loss module or a callable")
        fn = _LOSSES[loss]
        return lambda outs, labels: fn(outs[0], labels[0])
    from ..nn.bigdl_criterion import Criterion
    if isinstance(loss, Criterion):
        # BigDL's labels are 1-based, MXNet's 0-based; its average becomes a sum
        def bigdl(outs, labels):
            value = loss._loss(outs[0], labels[0] + 1)
            return value * outs[0].shape[0] if getattr(loss, "size_average", False) else value
        return bigdl
    if isinstance(loss, torch.nn.Module) and getattr(loss, "reduction", None) == "mean":
        return lambda outs, labels: loss(*outs, *labels) * outs[0].shape[0]
    if callable(loss):
        return lambda outs, labels: loss(*outs, *labels)
    raise MXNetTypeError(f"TorchModule: loss must be a name, a callable or None, got "
                         f"{type(loss).__name__}")


class TorchModule(BoundNames, BaseModule):
    """A define-by-run network as an MXNet module.

    Parameters
    ----------
    net : mxtorch.nn.Module, BigDL layer or torch.nn.Module
        Called with the data arrays (torch tensors) in ``data_names`` order.
    data_names : list of str, default ('data',)
    label_names : list of str or None, default ('softmax_label',)
        Labels passed to ``loss`` (MXNet's 0-based class labels).
    loss : str, callable, torch loss module, BigDL Criterion or None
        'softmax_ce' (cross entropy of scores), 'nll' (of log-probabilities), 'mse', or
        ``loss(*outputs, *labels) -> scalar`` returning the **sum** over the batch (the
        optimizer's rescale_grad of 1/batch size averages, as with MXNet's loss heads);
        torch loss modules and BigDL criteria that average are multiplied by the batch
        size. None: backward needs ``out_grads`` (the module sits before a loss in a
        SequentialModule).
    output_names : list of str, optional
        Default ``['<name>_output']`` per output (``output`` with one output).
    logger : Logger, default logging
    context : Context, default cpu()
        One context: the network is moved to its device.
    fixed_param_names : list of str, optional
        Parameters (MXNet names) that are never updated.

    Notes
    -----
    ``get_params`` returns copies; ``set_params``/``init_params`` write into the
    network's tensors. Initializers see MXNet names, so ``mx.init.Xavier()`` fills
    weights, biases get 0, normalization gamma 1 and beta 0; running statistics start at
    mean 0 and variance 1. ``init_params(initializer=None)`` keeps the network's own
    initialization.
    """

    def __init__(self, net, data_names=("data",), label_names=("softmax_label",), loss=None,
                 output_names=None, logger=logging, context=cpu(), fixed_param_names=None):
        super().__init__(logger=logger)
        if not (isinstance(net, torch.nn.Module) or tree.is_bigdl(net)):
            raise MXNetTypeError(f"TorchModule: net must be an mxtorch.nn.Module or a "
                                 f"torch.nn.Module, got {type(net).__name__}")
        if isinstance(context, (list, tuple)):
            if len(context) != 1:
                raise MXNetNotImplementedError(
                    f"TorchModule runs on one context, got {len(context)} (data parallelism "
                    "over several devices is not available for TorchModule yet, issue 6)")
            context = context[0]
        if not isinstance(context, Context):
            raise MXNetTypeError(f"TorchModule: context must be a Context, got "
                                 f"{type(context).__name__}")
        for what, names in (("data_names", data_names), ("label_names", label_names),
                            ("output_names", output_names)):
            if isinstance(names, str):
                raise MXNetTypeError(f"TorchModule: {what} must be a list of str, got the str "
                                     f"{names!r}; write [{names!r}]")
        self._net = net
        self._context = context
        self._data_names = list(data_names)
        self._label_names = list(label_names) if label_names is not None else []
        self._given_output_names = list(output_names) if output_names is not None else None
        self._output_names = self._given_output_names or ["output"]
        self._loss = _loss_fn(loss)
        self._fixed = set(fixed_param_names or ())
        self._data_shapes = self._label_shapes = self._output_shapes = None
        self._grad_req = "write"
        self._names = None          # [(mx name, tensor, kind)] after bind
        self._slots = None          # {mx name: Slot} of the trainable parameters
        self._optimizer = self._updater = None
        self._inputs = self._outputs = self._labels = None
        self._input_grads = None
        self._preload = None

    # ------------------------------------------------------------------ properties
    @property
    def net(self):
        """The wrapped network."""
        return self._net

    @property
    def output_shapes(self):
        self._require("output_shapes")
        return self._output_shapes

    # ------------------------------------------------------------------ running the net
    def _set_mode(self, train):
        net = self._net
        if tree.is_bigdl(net):
            net.set_training(train)
        elif isinstance(net, torch.nn.Module):
            net.train(train)

    def _run(self, inputs):
        """The network's outputs (a list of tensors) for ``inputs``, recorded by autograd
        when gradients are enabled."""
        net = self._net
        with plain_mode():               # BigDL modules run in one autograd graph
            if tree.is_bigdl(net):
                out = net.forward(inputs if len(inputs) > 1 else inputs[0])
            else:
                out = net(*inputs)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    # ------------------------------------------------------------------ binding
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Move the network to the context and run it once on zeros of ``data_shapes``
        (in eval mode, without gradients) to learn the outputs and create lazily built
        parameters.

        Raises
        ------
        MXNetValueError
            Names that differ from data_names, inputs_need_grad without for_training, a
            grad_req other than 'write'/'add'/'null', a shared_module, or output_names
            that do not count the outputs.
        MXNetRuntimeError
            The network fails on inputs of these shapes (the message says why).
        """
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if inputs_need_grad and not for_training:
            raise MXNetValueError("TorchModule.bind: inputs_need_grad=True requires "
                                  "for_training=True")
        if shared_module is not None:
            raise MXNetValueError("TorchModule.bind: shared_module is not supported")
        if grad_req not in ("write", "add", "null"):
            raise MXNetValueError(f"TorchModule.bind: grad_req must be 'write', 'add' or "
                                  f"'null' (one for all parameters), got {grad_req!r}")
        data = _descs(data_shapes, "data_shapes")
        labels = _descs(label_shapes, "label_shapes")
        if [d.name for d in data] != self._data_names:
            raise MXNetValueError(f"TorchModule.bind: data_shapes are named "
                                  f"{[d.name for d in data]}, the module's data_names are "
                                  f"{self._data_names} (same names, same order)")
        device = self._context.torch_device
        if isinstance(self._net, torch.nn.Module):
            self._net.to(device)
        zeros = [torch.zeros(d.shape, dtype=torch_dtype(d.dtype), device=device) for d in data]
        was_training = self._net.training if hasattr(self._net, "training") else True
        self._set_mode(False)
        try:
            with torch.no_grad():
                outs = self._run(zeros)
        except Exception as e:
            raise MXNetRuntimeError(f"TorchModule.bind: the network fails on data of shapes "
                                    f"{[tuple(d.shape) for d in data]}: {e}") from e
        finally:
            self._set_mode(bool(was_training))
        names = self._given_output_names
        if names is None:
            names = ["output"] if len(outs) == 1 else [f"output{i}" for i in range(len(outs))]
        elif len(names) != len(outs):
            raise MXNetValueError(f"TorchModule.bind: output_names {names} for a network with "
                                  f"{len(outs)} outputs")
        self._output_names = names
        self._output_shapes = [(n, tuple(o.shape)) for n, o in zip(names, outs)]
        self._names = mxnet_names(self._net)
        unknown = self._fixed - {n for n, _, kind in self._names if kind == "arg"}
        if unknown:
            raise MXNetValueError(f"TorchModule.bind: fixed_param_names {sorted(unknown)} are "
                                  f"not parameters; the parameters are "
                                  f"{[n for n, _, k in self._names if k == 'arg']}")
        slots = {id(s.weight): s for s in tree.slots(self._net)}
        self._slots = {n: slots[id(t)] for n, t, kind in self._names
                       if kind == "arg" and n not in self._fixed and id(t) in slots}
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        self._data_shapes, self._label_shapes = data, labels
        self.binded = True

    # ------------------------------------------------------------------ parameters
    def _arg_aux(self):
        return ({n: t for n, t, kind in self._names if kind == "arg"},
                {n: t for n, t, kind in self._names if kind == "aux"})

    def get_params(self):
        """``(arg_params, aux_params)``: CPU copies of the parameters and running
        statistics, by MXNet names."""
        self._require("get_params", params=True)
        args, auxs = self._arg_aux()
        return ({n: NDArray(t.detach().cpu().clone(), cpu()) for n, t in args.items()},
                {n: NDArray(t.detach().cpu().clone(), cpu()) for n, t in auxs.items()})

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Fill the parameters from ``arg_params``/``aux_params`` (by MXNet name), the
        rest with ``initializer`` (None keeps the network's values).

        Raises
        ------
        StateError
            Before bind.
        MXNetRuntimeError
            A parameter missing from a given dict without allow_missing.
        MXNetValueError
            An unknown name without allow_extra, or a shape that differs.
        """
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "init_params call ignored.", stacklevel=2)
            return
        self._require("init_params")
        if arg_params is None and aux_params is None and self._preload is not None:
            arg_params, aux_params = self._preload
        args, auxs = self._arg_aux()
        check_given_params(arg_params, aux_params, args, auxs, allow_missing, allow_extra)
        for given, mine, what in ((arg_params, args, "arg_params"), (aux_params, auxs,
                                                                     "aux_params")):
            if given is None:
                continue
            for n, v in given.items():
                if n in mine and tuple(v.shape) != tuple(mine[n].shape):
                    raise MXNetValueError(f"{what}[{n!r}] has shape {tuple(v.shape)}, the "
                                          f"network's is {tuple(mine[n].shape)}")
        with torch.no_grad():
            for name, t, kind in self._names:
                given = arg_params if kind == "arg" else aux_params
                if given is not None and name in given:
                    t.copy_(as_tensor(given[name], t))
                elif initializer is not None:
                    init_tensor(initializer, name, t, kind)
        self._preload = None
        self.params_initialized = True

    # ------------------------------------------------------------------ optimizer
    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Install an optimizer (name or Optimizer) with rescale_grad = 1/batch size; the
        updater updates every parameter in one call.

        Raises
        ------
        StateError
            Before bind and init_params.
        MXNetNotImplementedError
            For a distributed kvstore.
        """
        self._require("init_optimizer", params=True)
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        kv_type = getattr(kvstore, "type", kvstore)
        if isinstance(kv_type, str) and "dist" in kv_type:
            raise MXNetNotImplementedError(f"TorchModule: kvstore {kv_type!r} is not available "
                                           "yet (issue 6); use 'local'")
        batch_size = self._data_shapes[0].shape[0]
        names = list(self._slots)
        idx2name = dict(enumerate(names))
        params = dict(optimizer_params)
        if isinstance(optimizer, str):
            params.setdefault("rescale_grad", 1.0 / batch_size)
            optimizer = opt.create(optimizer, param_idx2name=idx2name, **params)
        elif isinstance(optimizer, opt.Optimizer):
            if optimizer.rescale_grad != 1.0 / batch_size:
                warnings.warn("Optimizer created manually outside Module but rescale_grad is "
                              f"not normalized to 1.0/batch_size ({optimizer.rescale_grad} vs. "
                              f"{1.0 / batch_size}). Is this intended?", stacklevel=2)
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        else:
            raise MXNetTypeError(f"optimizer must be a name or an Optimizer, got "
                                 f"{type(optimizer).__name__}")
        self._optimizer = optimizer
        self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True

    def save_optimizer_states(self, fname):
        """Write the updater's states to ``fname`` (atomically)."""
        from ..util.atomic import atomic_write
        self._require("save_optimizer_states", optimizer=True)
        atomic_write(fname, self._updater.get_states())

    def load_optimizer_states(self, fname):
        """Load states written by :meth:`save_optimizer_states`."""
        self._require("load_optimizer_states", optimizer=True)
        with open(fname, "rb") as f:
            self._updater.set_states(f.read())

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        """Run the network on ``data_batch.data`` (recorded for backward when training).

        Raises
        ------
        StateError
            Before bind and init_params.
        MXNetValueError
            A batch whose number of data arrays differs from data_names.
        """
        self._require("forward", params=True)
        if is_train is None:
            is_train = self.for_training
        data = data_batch.data
        if len(data) != len(self._data_names):
            raise MXNetValueError(f"TorchModule.forward: the batch has {len(data)} data arrays, "
                                  f"the module expects {len(self._data_names)} "
                                  f"({self._data_names})")
        device = self._context.torch_device
        inputs = [as_tensor(x).to(device) for x in data]
        train = bool(is_train and self.for_training)
        if train and self.inputs_need_grad:
            inputs = [x.detach().requires_grad_(x.is_floating_point()) for x in inputs]
        self._set_mode(bool(is_train))
        with torch.set_grad_enabled(train):
            outputs = self._run(inputs)
        self._inputs, self._outputs = inputs, outputs
        label = getattr(data_batch, "label", None)
        self._labels = [as_tensor(y).to(device) for y in label] if (train and label) else None
        self._input_grads = None

    def backward(self, out_grads=None):
        """Gradients of the loss (or of the outputs with ``out_grads``) into the
        parameters ('write' replaces, 'add' accumulates) and, when bound with
        inputs_need_grad, the inputs.

        Raises
        ------
        StateError
            Not bound for training, or no forward(is_train=True) before.
        MXNetValueError
            Neither a loss nor out_grads, or out_grads that do not match the outputs.
        """
        self._require("backward", params=True)
        if not self.for_training:
            raise StateError("TorchModule.backward: bind with for_training=True first")
        outputs = self._outputs
        if outputs is None or not any(o.requires_grad for o in outputs):
            raise StateError("TorchModule.backward: call forward(data_batch, is_train=True) "
                             "first")
        if out_grads is not None:
            out_grads = out_grads if isinstance(out_grads, (list, tuple)) else [out_grads]
            if len(out_grads) != len(outputs):
                raise MXNetValueError(f"TorchModule.backward: {len(out_grads)} out_grads for "
                                      f"{len(outputs)} outputs")
            heads = list(outputs)
            seeds = [as_tensor(g, o) for g, o in zip(out_grads, outputs)]
        elif self._loss is not None:
            if self._labels is None:
                raise StateError("TorchModule.backward: the loss needs the batch's labels; "
                                 "the last forward had none")
            heads, seeds = [self._loss(outputs, self._labels)], [None]
        else:
            raise MXNetValueError("TorchModule.backward: the module has no loss; give "
                                  "out_grads, or construct it with loss=...")
        pairs = [(h, s) for h, s in zip(heads, seeds) if h.requires_grad]
        slots = list(self._slots.values()) if self._grad_req != "null" else []
        targets = [(s, s.target) for s in slots]
        targets = [(s, t) for s, t in targets if t.requires_grad]
        want_in = [x for x in self._inputs if x.requires_grad] if self.inputs_need_grad else []
        wanted = want_in + [t for _, t in targets]
        results = [None] * len(wanted)
        if pairs and wanted:
            results = torch.autograd.grad([h for h, _ in pairs], wanted,
                                          [s for _, s in pairs], allow_unused=True)
        write = self._grad_req == "write"
        for (slot, t), g in zip(targets, results[len(want_in):]):
            if write:
                slot.zero()
            if g is not None:
                slot.add(g)
        if self.inputs_need_grad:
            it = iter(results[:len(want_in)])
            grads = [next(it) if x.requires_grad else None for x in self._inputs]
            self._input_grads = [torch.zeros_like(x) if g is None else g
                                 for g, x in zip(grads, self._inputs)]

    def update(self):
        """Apply the optimizer to every trainable parameter (one updater call)."""
        self._require("update", params=True, optimizer=True)
        names = list(self._slots)
        if not names:
            return
        slots = [self._slots[n] for n in names]
        self._updater(list(range(len(names))), [from_torch(s.grad) for s in slots],
                      [from_torch(s.weight.data) for s in slots])

    def get_outputs(self, merge_multi_context=True):
        """The outputs of the last forward, as NDArrays (no copy)."""
        self._require("get_outputs", params=True)
        if self._outputs is None:
            raise StateError("TorchModule.get_outputs: call forward first")
        return [from_torch(o.detach()) for o in self._outputs]

    def get_input_grads(self, merge_multi_context=True):
        """The gradients of the data inputs of the last backward (bind with
        inputs_need_grad=True)."""
        self._require("get_input_grads", params=True)
        if not self.inputs_need_grad:
            raise StateError("get_input_grads: bind with inputs_need_grad=True first")
        if self._input_grads is None:
            raise StateError("TorchModule.get_input_grads: call backward first")
        return [from_torch(g) for g in self._input_grads]

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """``eval_metric.update(labels, outputs)``."""
        if pre_sliced:
            raise MXNetNotImplementedError("TorchModule runs on one context: "
                                           "update_metric(pre_sliced=True) is not supported")
        eval_metric.update(labels, self.get_outputs())

    def install_monitor(self, mon):
        """Monitors read executor arrays, which a torch network does not have."""
        raise MXNetNotImplementedError("TorchModule.install_monitor: monitors are not "
                                       "available for define-by-run networks yet (issue 6)")

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False):
        """Write ``prefix-%04d.params`` (MXNet's format, ``arg:``/``aux:`` by MXNet names)
        and optionally ``prefix-%04d.states``. There is no symbol file: the network is
        code."""
        arg_params, aux_params = self.get_params()
        save_params_file("%s-%04d.params" % (prefix, epoch), arg_params, aux_params)
        if save_optimizer_states:
            self.save_optimizer_states("%s-%04d.states" % (prefix, epoch))

    @staticmethod
    def load(prefix, epoch, net, **kwargs):
        """A TorchModule of ``net`` whose init_params takes the values of
        ``prefix-%04d.params`` (kwargs go to the constructor)."""
        mod = TorchModule(net, **kwargs)
        mod._preload = load_params(prefix, epoch)
        return mod
