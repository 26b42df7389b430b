"""BigDL's AbstractModule API (snake_case) as a mixin: imperative forward/backward with
cached ``output``/``grad_input``, gradient accumulation scaled by scale_w/scale_b,
freeze, training/evaluation mode, per-module times, names, cloning and resetting.

Who owns what: this file owns computation, gradients, parameters, freezing and modes;
bigdl_bookkeeping.py the per-module state, times, names, printing, copies and reset;
bigdl_activity.py tensors and Tables; bigdl_tree.py the view of a module tree (children,
parameters, names); bigdl_persist.py saving and loading; bigdl_inference.py
predict/evaluate/quantize/ONNX; bigdl_graph.py ``inputs()``/``Model``; bigdl_layers.py
the layers and containers.

The mixin works on any class that also is a ``torch.nn.Module``
(``class Net(BigDLAPI, torch.nn.Module)``) and on :class:`mxtorch.nn.Module`, which
provides the hooks of bigdl_tree.py plus:

``_bigdl_apply(*inputs)``
    The computation: torch tensors in, a tensor (or tuple of tensors) out, recorded by
    autograd. Default: the ``forward`` of the next torch class in the MRO; a subclass
    that defines ``forward`` itself has it moved here (so ``net(x)`` and BigDL's
    ``forward`` both time and cache).
``_bigdl_set_training(mode)``
    Switch train/eval mode of the whole subtree. Default: ``torch.nn.Module.train``,
    else ``self.training = mode``.

Name clashes, resolved so: nnabla's ``training`` is a property, so BigDL's
``training()`` is :meth:`set_training`; ``parameters()`` with no argument is BigDL's
``(weights, grads)``, with torch's ``recurse=`` argument torch's iterator (use
``named_parameters()`` or ``parameters(recurse=True)`` for a torch optimizer);
``evaluate()`` with no argument switches to eval mode, with a dataset it evaluates.
"""
import contextlib
import contextvars
import time

import torch

from ..base import (MXNetError, MXNetNotImplementedError, MXNetRuntimeError, MXNetTypeError,
                    MXNetValueError, StateError)
from . import bigdl_tree as tree
from .bigdl_activity import as_tensor, convert, flatten, nnabla_apply, pack, shape_of
from .bigdl_bookkeeping import BigDLBookkeeping, state

__all__ = ["BigDLAPI", "plain_mode"]

# True while a leaf's computation runs: modules called inside it then run plainly (their
# graph is part of the leaf's), instead of detaching their input and recording their own
_INSIDE_LEAF = contextvars.ContextVar("mxtorch_bigdl_inside_leaf", default=False)


@contextlib.contextmanager
def plain_mode():
    """Inside it, BigDL modules compute in the caller's autograd graph (no detached
    inputs, no recorded graphs of their own; times and cached outputs are kept): for
    wrapping a BigDL module in torch code (the MXNet bridge, ONNX export)."""
    token = _INSIDE_LEAF.set(True)
    try:
        yield
    finally:
        _INSIDE_LEAF.reset(token)


class BigDLAPI(BigDLBookkeeping):
    """BigDL's AbstractModule calls (see the module docstring for the hooks).

    Inputs may be torch tensors, NDArrays or numpy arrays; a list is BigDL's Table
    (several inputs or outputs). Outputs and gradients are torch tensors (lists for
    Tables). Labels in this API are 1-based, as in BigDL (``predict_class``,
    ``Top1Accuracy``, ``ClassNLLCriterion``).
    """

    _bigdl_api = True
    #: a container's forward/backward chain its children's (per-child times, graphs)
    _bigdl_container = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        body = cls.__dict__
        if "forward" in body and body["forward"] is not BigDLAPI.forward:
            cls._bigdl_apply = body["forward"]
            cls.forward = BigDLAPI.forward
        if "__init__" in body:
            cls.__init__ = _recording_init(body["__init__"])

    # ------------------------------------------------------------------ computation
    def _bigdl_apply(self, *inputs):
        if tree.is_nnabla(self):
            return nnabla_apply(self, inputs)
        for klass in type(self).__mro__[type(self).__mro__.index(BigDLAPI) + 1:]:
            fwd = klass.__dict__.get("forward")
            if fwd is not None and klass is not torch.nn.Module:
                return fwd(self, *inputs)
        raise MXNetTypeError(f"{type(self).__name__}: no computation to run; define "
                             "update_output(input) (or forward(x) on a torch module)")

    def update_output(self, input):
        """Compute the output for ``input`` (BigDL's updateOutput). Override it in a layer
        (or define torch's ``forward``); call :meth:`forward` to time, cache and record.

        Parameters
        ----------
        input : tensor or list of tensors

        Returns
        -------
        tensor or list of tensors
        """
        out = self._bigdl_apply(*input) if isinstance(input, (list, tuple)) else \
            self._bigdl_apply(input)
        return list(out) if isinstance(out, tuple) else out

    def forward(self, input):
        """Compute the output of ``input``, timed, cached as ``output`` and recorded for
        :meth:`backward` (BigDL's forward).

        Parameters
        ----------
        input : tensor, NDArray, numpy array, or a list of them (a Table)

        Returns
        -------
        tensor or list of tensors
            ``self.output``.

        Raises
        ------
        MXNetRuntimeError
            When the computation fails (the message names this module).
        """
        st = state(self)
        start = time.perf_counter_ns()
        like = self._bigdl_like()
        activity = convert(input, like)
        try:
            if self._bigdl_container or _INSIDE_LEAF.get() or not torch.is_grad_enabled():
                out = self.update_output(activity)
                st.graph = None
            else:
                flat = [t.detach().requires_grad_(t.is_floating_point() or t.is_complex())
                        for t in flatten(activity)]
                with plain_mode():
                    out = self.update_output(pack(activity, flat))
                outs = flatten(out)
                st.graph = (activity, flat, outs)
                out = pack(out, [o.detach() for o in outs])
        except MXNetError:
            raise
        except Exception as e:
            raise MXNetRuntimeError(f"{self.get_name()}.forward: {type(e).__name__}: {e}") from e
        st.output = out
        st.input_shape = shape_of(activity)
        st.output_shape = shape_of(out)
        st.forward_ns += time.perf_counter_ns() - start
        return out

    def backward(self, input, grad_output):
        """Back-propagate ``grad_output`` (the gradient of this module's output): compute
        the input gradient (``update_grad_input``) and accumulate the parameter gradients
        (``acc_grad_parameters``), timed. ``forward(input)`` must have just run.

        Parameters
        ----------
        input : the input of the last forward
        grad_output : tensor or list of tensors, shaped like ``output``

        Returns
        -------
        tensor or list of tensors
            ``self.grad_input``: zeros for inputs that take no gradient.

        Raises
        ------
        StateError
            Before forward (or after a forward without gradients / clear_state).
        MXNetValueError
            A grad_output that does not match the output.
        """
        st = state(self)
        start = time.perf_counter_ns()
        grad_input = self._bigdl_backward(input, grad_output)
        st.grad_input = grad_input
        st.backward_ns += time.perf_counter_ns() - start
        return grad_input

    def _bigdl_backward(self, input, grad_output):
        """backward's work, untimed (containers chain their children's backward here)."""
        if (type(self).update_grad_input is BigDLAPI.update_grad_input
                and type(self).acc_grad_parameters is BigDLAPI.acc_grad_parameters):
            return self._leaf_grads(grad_output, want_input=True, want_params=True)
        grad_input = self.update_grad_input(input, grad_output)
        self.acc_grad_parameters(input, grad_output)
        return grad_input

    def update_grad_input(self, input, grad_output):
        """Compute (and cache as ``grad_input``) the gradient with respect to the input of
        the last forward; parameter gradients are not touched (BigDL's updateGradInput)."""
        grad_input = self._leaf_grads(grad_output, want_input=True, want_params=False)
        state(self).grad_input = grad_input
        return grad_input

    def acc_grad_parameters(self, input, grad_output):
        """Accumulate (+=) the parameter gradients of the last forward, scaled by
        scale_w / scale_b; a scale of 0 (frozen) skips the work (BigDL's
        accGradParameters)."""
        self._leaf_grads(grad_output, want_input=False, want_params=True)

    def _leaf_grads(self, grad_output, want_input, want_params):
        st = state(self)
        if st.graph is None:
            raise StateError(f"{self.get_name()}.backward: no recorded forward; call "
                             "forward(input) first, with gradients enabled (not under "
                             "torch.no_grad, not after clear_state)")
        structure, inputs, outputs = st.graph
        grads = [torch.zeros_like(o) if g is None else as_tensor(g, o)
                 for g, o in zip(flatten(grad_output), outputs)]
        if len(grads) != len(outputs):
            raise MXNetValueError(f"{self.get_name()}.backward: grad_output has "
                                  f"{len(flatten(grad_output))} tensors for {len(outputs)} "
                                  "outputs")
        for g, o in zip(grads, outputs):
            if tuple(g.shape) != tuple(o.shape):
                raise MXNetValueError(f"{self.get_name()}.backward: grad_output of shape "
                                      f"{tuple(g.shape)} for an output of shape "
                                      f"{tuple(o.shape)}")
        pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad]
        in_idx = [i for i, x in enumerate(inputs) if x.requires_grad] if want_input else []
        params = []
        if want_params:
            params = [(slot, slot.target) for slot in tree.slots(self) if slot.scale != 0]
            params = [(slot, t) for slot, t in params if t.requires_grad]
        targets = [inputs[i] for i in in_idx] + [t for _, t in params]
        results = [None] * len(targets)
        if pairs and targets:
            results = torch.autograd.grad([o for o, _ in pairs], targets,
                                          [g for _, g in pairs], retain_graph=True,
                                          allow_unused=True)
        for (slot, _), g in zip(params, results[len(in_idx):]):
            if g is not None:
                slot.add(g, slot.scale)
        if not want_input:
            return None
        flat = [torch.zeros_like(x) for x in inputs]
        for i, g in zip(in_idx, results):
            if g is not None:
                flat[i] = g
        return pack(structure, flat)

    @property
    def output(self):
        """The output of the last forward (None before; BigDL's cached ``output``)."""
        return state(self).output

    @property
    def grad_input(self):
        """The input gradient of the last backward (BigDL's cached ``gradInput``)."""
        return state(self).grad_input

    # ------------------------------------------------------------------ parameters
    def parameters(self, recurse=None):
        """BigDL's ``(weights, grads)``: two lists of the live tensors of the subtree, in
        module order, gradients allocated as zeros when missing; None for a module without
        parameters. With torch's ``recurse=True/False``: torch's parameter iterator."""
        if recurse is not None:
            return (p for _, p in self.named_parameters(recurse=recurse))
        slots = tree.slots(self)
        if not slots:
            return None
        return [slot.weight for slot in slots], [slot.grad for slot in slots]

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """torch's ``named_parameters`` (for torch modules), else from the tree's hooks
        (names are paths joined with '.')."""
        if isinstance(self, torch.nn.Module):
            return torch.nn.Module.named_parameters(self, prefix, recurse, remove_duplicate)
        nodes = tree.walk(self, prefix) if recurse else [(prefix, self)]
        return ((f"{path}.{n}" if path else n, p) for path, node in nodes
                for n, p in tree.own_params(node))

    def requires_grad_(self, requires_grad=True):
        """torch's ``requires_grad_`` on every parameter of the subtree; returns self."""
        for p in tree.subtree_params(self):
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """torch's ``zero_grad``: gradients to None (or zeros with ``set_to_none=False``)."""
        for p in tree.subtree_params(self):
            if isinstance(p, torch.nn.Parameter) and p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    def zero_grad_parameters(self):
        """Set every parameter gradient of the subtree to zeros (allocating them)."""
        for slot in tree.slots(self):
            slot.zero()

    def update_parameters(self, learning_rate):
        """Plain SGD step on every parameter: ``w -= learning_rate * grad`` (BigDL's
        updateParameters). Parameters without a gradient are left as they are."""
        pairs = [(slot.weight, slot.grad) for slot in tree.slots(self) if slot.has_grad()]
        if pairs:
            with torch.no_grad():
                torch._foreach_add_([p for p, _ in pairs], [g for _, g in pairs],
                                    alpha=-float(learning_rate))

    def get_weights(self):
        """The weights (and biases) of the subtree in module order, the live tensors, or
        None without parameters (BigDL's getWeightsBias)."""
        weights = tree.subtree_params(self)
        return weights or None

    def set_weights(self, weights):
        """Copy ``weights`` (a list like :meth:`get_weights`'s) into the parameters;
        returns self (BigDL's setWeightsBias).

        Raises
        ------
        MXNetValueError
            When the count or a shape differs (nothing is copied then).
        """
        _copy_into(tree.subtree_params(self), weights, "set_weights", self.get_name())
        return self

    get_weights_bias, set_weights_bias = get_weights, set_weights

    def get_parameters_table(self):
        """``{module name: {'weight', 'bias', 'gradWeight', 'gradBias', ...}}`` of every
        module of the subtree owning parameters or running statistics (the live tensors;
        more than two parameters are 'weightN'/'gradientN'; running statistics
        'runningMean'/'runningVar'). Modules of the same name overwrite each other, as in
        BigDL. None when there is nothing."""
        table = {}
        for path, node in tree.walk(self):
            params, extras = tree._own_vars(node), tree.own_extras(node)
            if not params and not extras:
                continue
            entry = {}
            for (key, gkey), (_, p, var) in zip(tree.param_keys(len(params)), params):
                entry[key], entry[gkey] = p, tree.Slot(p, var, 1.0).grad
            for name, t in extras:
                entry[_EXTRA_KEYS.get(name, name)] = t
            table[tree.node_name(node, path)] = entry
        return table or None

    def get_extra_parameter(self):
        """The running statistics of the subtree (e.g. BN's running mean and var), in
        module order; None when there are none."""
        extras = [t for _, node in tree.walk(self) for _, t in tree.own_extras(node)]
        return extras or None

    def set_extra_parameter(self, extra):
        """Copy ``extra`` (a list like :meth:`get_extra_parameter`'s) into the running
        statistics; returns self.

        Raises
        ------
        MXNetValueError
            When the count or a shape differs (nothing is copied then).
        """
        _copy_into(self.get_extra_parameter() or [], extra, "set_extra_parameter",
                   self.get_name())
        return self

    # ------------------------------------------------------------------ freezing, scales
    def freeze(self, names=None):
        """Stop accumulating gradients (scales to 0) of the whole subtree, or of the
        modules named in ``names``; gradInput is still computed. Returns self.

        Raises
        ------
        MXNetValueError
            "cannot match module named X" for a name not in the subtree (nothing frozen).
        """
        for node in self._bigdl_targets(names, "freeze"):
            for _, n in tree.walk(node):
                for bias, cache in ((False, tree.CACHE_W), (True, tree.CACHE_B)):
                    scale = tree.scale_of(n, bias)
                    if scale != 0:
                        n.__dict__[cache] = scale
                    tree.set_scale(n, bias, 0.0)
        return self

    def unfreeze(self, names=None):
        """Restore the scales saved by :meth:`freeze` (1.0 if never frozen) for the whole
        subtree or the modules named in ``names``; returns self."""
        for node in self._bigdl_targets(names, "unfreeze"):
            for _, n in tree.walk(node):
                tree.set_scale(n, False, n.__dict__.get(tree.CACHE_W, 1.0))
                tree.set_scale(n, True, n.__dict__.get(tree.CACHE_B, 1.0))
        return self

    def find_module(self, name):
        """The module of the subtree named ``name`` (BigDL name or path), or None
        (BigDL's ``apply(name)``; torch's ``apply`` keeps its meaning).

        Raises
        ------
        MXNetValueError
            When several modules have that name.
        """
        return tree.find(self, name)

    def _bigdl_targets(self, names, call):
        if names is None:
            return [self]
        if isinstance(names, str):
            names = [names]
        found = []
        for name in names:
            node = tree.find(self, name)
            if node is None:
                raise MXNetValueError(f"{call}: cannot match module named {name}; the names "
                                      f"are {[tree.node_name(n, p) for p, n in tree.walk(self)]}")
            found.append(node)
        return found

    def set_scale_w(self, w):
        """Scale of the weight gradients of the subtree; returns self."""
        for _, n in tree.walk(self):
            tree.set_scale(n, False, w)
        return self

    def set_scale_b(self, b):
        """Scale of the bias gradients of the subtree; returns self."""
        for _, n in tree.walk(self):
            tree.set_scale(n, True, b)
        return self

    def get_scale_w(self):
        """Scale of this module's weight gradients (1.0 by default)."""
        return tree.scale_of(self, False)

    def get_scale_b(self):
        """Scale of this module's bias gradients (1.0 by default)."""
        return tree.scale_of(self, True)

    # ------------------------------------------------------------------ mode
    def _bigdl_set_training(self, mode):
        if isinstance(self, torch.nn.Module):
            torch.nn.Module.train(self, mode)
        else:
            self.training = mode

    def set_training(self, is_training=True):
        """Training mode for the whole subtree (BigDL's ``training()``; the name
        ``training`` is the mode's property); returns self."""
        self._bigdl_set_training(bool(is_training))
        return self

    def is_training(self):
        """Whether the module is in training mode (the default)."""
        return bool(getattr(self, "training", True))

    def evaluate(self, *args, **kwargs):
        """With no argument: evaluation mode for the whole subtree, returns self. With
        ``(dataset, methods, batch_size=None, distributed=False)``: evaluate (with
        ``distributed``, each worker its part and every worker the global result), see
        :func:`mxtorch.nn.bigdl_inference.evaluate`."""
        if not args and not kwargs:
            self._bigdl_set_training(False)
            return self
        from .bigdl_inference import evaluate
        return evaluate(self, *args, **kwargs)

    # ------------------------------------------------------------------ graphs
    def inputs(self, *nodes):
        """A graph node running this module on the outputs of ``nodes`` (none: a start
        node); ``(node, i)`` takes the i-th (1-based) output of a Table. See
        :class:`mxtorch.nn.bigdl_graph.Model`."""
        from .bigdl_graph import Node
        return Node(self, nodes)

    # ------------------------------------------------------------------ persistence
    def save_module(self, path, weight_path=None, over_write=False):
        """Save definition and weights (no pickle); see bigdl_persist.save_module."""
        from .bigdl_persist import save_module
        return save_module(self, path, weight_path, over_write)

    @staticmethod
    def load_module(path, weight_path=None, allowed_classes=()):
        """Load a module written by :meth:`save_module`; see bigdl_persist.load_module."""
        from .bigdl_persist import load_module
        return load_module(path, weight_path, allowed_classes)

    def save_weights(self, path, over_write=False):
        """Save each layer's weight and bias by layer name; see bigdl_persist."""
        from .bigdl_persist import save_weights
        return save_weights(self, path, over_write)

    def load_weights(self, path, match_all=True):
        """Load weights saved by :meth:`save_weights` by layer name; returns self."""
        from .bigdl_persist import load_weights
        return load_weights(self, path, match_all)

    def load_model_weights(self, other, match_all=True):
        """Copy weight and bias from ``other`` by layer name; returns self."""
        from .bigdl_persist import copy_weights
        copy_weights(self, other.get_parameters_table() or {}, match_all, "load_model_weights")
        return self

    # ------------------------------------------------------------------ inference
    def predict(self, dataset, batch_size=-1):
        """Outputs for every sample; see :func:`mxtorch.nn.bigdl_inference.predict`."""
        from .bigdl_inference import predict
        return predict(self, dataset, batch_size)

    def predict_class(self, dataset, batch_size=-1):
        """1-based class of every sample; see bigdl_inference.predict_class."""
        from .bigdl_inference import predict_class
        return predict_class(self, dataset, batch_size)

    def predict_image(self, images, output_layer=None, share_buffer=False,
                      batch_per_partition=4, predict_key="predict", **kwargs):
        """Predict a list or folder of images; see bigdl_inference.predict_image."""
        from .bigdl_inference import predict_image
        return predict_image(self, images, output_layer, share_buffer, batch_per_partition,
                             predict_key, **kwargs)

    def quantize(self):
        """A new module with int8 dynamically quantized Linear/Conv layers; see
        bigdl_inference.quantize."""
        from .bigdl_inference import quantize
        return quantize(self)

    def save_onnx(self, path, input_shape, input_type="float32", opset_version=None):
        """Export for inference to ONNX through torch.onnx; see bigdl_inference."""
        from .bigdl_inference import save_onnx
        return save_onnx(self, path, input_shape, input_type, opset_version)

    def save_caffe(self, *args, **kwargs):
        """BigDL's saveCaffe: not available (issue 6); export with :meth:`save_onnx`."""
        raise MXNetNotImplementedError("save_caffe is not available (issue 6); use "
                                       "save_onnx(path, input_shape) and ONNX's converters")

    def save_tf(self, *args, **kwargs):
        """BigDL's saveTF: not available (issue 6); export with :meth:`save_onnx`."""
        raise MXNetNotImplementedError("save_tf is not available (issue 6); use "
                                       "save_onnx(path, input_shape) and ONNX's converters")

    def save_torch(self, *args, **kwargs):
        """BigDL's saveTorch (Torch7 files): not available (issue 6); use
        :meth:`save_module`, or ``torch.save(module.state_dict(), path)``."""
        raise MXNetNotImplementedError("save_torch (Torch7 format) is not available (issue "
                                       "6); use save_module or save_onnx")


_EXTRA_KEYS = {"running_mean": "runningMean", "running_var": "runningVar"}


def _copy_into(targets, values, call, name):
    """Copy ``values`` into the tensors ``targets`` after checking count and shapes."""
    values = list(values) if values is not None else []
    if len(targets) != len(values):
        raise MXNetValueError(f"{call}: {name} has {len(targets)} tensors, {len(values)} were "
                              "given")
    converted = [as_tensor(v, t) for v, t in zip(values, targets)]
    for i, (v, t) in enumerate(zip(converted, targets)):
        if tuple(v.shape) != tuple(t.shape):
            raise MXNetValueError(f"{call}: tensor {i} has shape {tuple(t.shape)}, the value "
                                  f"given {tuple(v.shape)}")
    with torch.no_grad():
        for v, t in zip(converted, targets):
            t.copy_(v)


def _recording_init(init):
    """``init`` that first records the constructor call of the most derived class (for
    save_module) and, once done, the children it made."""
    def __init__(self, *args, **kwargs):
        if "_bigdl_ctor" in self.__dict__:
            init(self, *args, **kwargs)
            return
        self.__dict__["_bigdl_ctor"] = (args, kwargs)
        init(self, *args, **kwargs)
        self.__dict__["_bigdl_ctor_children"] = [n for n, _ in tree.children(self)]
    __init__.__wrapped__ = init
    __init__.__doc__ = init.__doc__
    __init__.__qualname__ = init.__qualname__
    return __init__
