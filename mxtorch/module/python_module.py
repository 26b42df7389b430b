"""PythonModule and PythonLossModule: modules written in Python, with no symbol and no
parameters, e.g. a loss whose gradient a Python function computes (MXNet 1.9.1's
``mx.mod.PythonModule`` / ``mx.mod.PythonLossModule``).

Owns the names and shapes of such a module and the loss module's scores, labels and
gradient; chaining (typically after a Module) is SequentialModule's.
"""
import logging

from ..base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError, StateError
from ..initializer import Uniform
from .. import ndarray as nd
from ..ndarray.ndarray import NDArray
from .base_module import BaseModule

__all__ = ["PythonModule", "PythonLossModule"]


def _names(names, what):
    if names is None:
        return None
    if isinstance(names, str):
        raise MXNetTypeError(f"{what} must be a list of str, got the str {names!r}; "
                             f"write [{names!r}]")
    return list(names)


def _pairs(shapes):
    return [(d.name, tuple(d.shape)) if hasattr(d, "name") else (d[0], tuple(d[1]))
            for d in shapes]


class PythonModule(BaseModule):
    """A module implemented in Python: most of the module API does nothing.

    Subclasses implement ``_compute_output_shapes`` and ``forward``, ``backward``,
    ``get_outputs``, ``get_input_grads`` (and, if they have parameters, ``get_params``,
    ``init_params``, ``update``).

    Parameters
    ----------
    data_names : list of str
        Names of the data the module expects.
    label_names : list of str or None
        Names of the labels it expects; None if it takes no labels.
    output_names : list of str
        Names of its outputs.
    logger : Logger, default logging
    """

    def __init__(self, data_names, label_names, output_names, logger=logging):
        super().__init__(logger=logger)
        self._data_names = _names(data_names, "data_names")
        self._label_names = _names(label_names, "label_names")
        self._output_names = _names(output_names, "output_names")
        self._data_shapes = None
        self._label_shapes = None
        self._output_shapes = None

    # ------------------------------------------------------------------ names and shapes
    @property
    def data_names(self):
        """Names of the data inputs."""
        return self._data_names

    @property
    def output_names(self):
        """Names of the outputs."""
        return self._output_names

    @property
    def data_shapes(self):
        """``(name, shape)`` of each data input (None before bind)."""
        return self._data_shapes

    @property
    def label_shapes(self):
        """``(name, shape)`` of each label, or None when bound without labels."""
        return self._label_shapes

    @property
    def output_shapes(self):
        """``(name, shape)`` of each output (None before bind)."""
        return self._output_shapes

    # ------------------------------------------------------------------ parameters
    def get_params(self):
        """No parameters: ``({}, {})``. Override in a subclass that has some."""
        return {}, {}

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Nothing to initialize (override in a subclass with parameters); marks the
        module as initialized. The arguments are those of Module.init_params."""
        self.params_initialized = True

    def update(self):
        """Nothing to update (override in a subclass with parameters)."""

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """``eval_metric.update(labels, self.get_outputs())``; nothing when the module was
        bound without labels.

        Raises
        ------
        MXNetNotImplementedError
            For ``pre_sliced=True`` (a PythonModule runs on one context).
        """
        if self._label_shapes is None:
            return
        if pre_sliced:
            raise MXNetNotImplementedError("PythonModule does not support presliced labels "
                                           "(update_metric(..., pre_sliced=True))")
        eval_metric.update(labels, self.get_outputs())

    # ------------------------------------------------------------------ setup
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Record the input shapes and compute the output shapes.

        Parameters
        ----------
        data_shapes : list of (str, tuple) or DataDesc
            Named exactly ``data_names``, in order.
        label_shapes : list of (str, tuple) or DataDesc, optional
            Named exactly ``label_names``, in order.
        for_training : bool, default True
        inputs_need_grad : bool, default False
        force_rebind : bool, default False
        shared_module : ignored
        grad_req : str, default 'write'
            Only 'write' is supported.

        Raises
        ------
        MXNetValueError
            For another grad_req, or names that differ from data_names/label_names.
        """
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if grad_req != "write":
            raise MXNetValueError(f"{type(self).__name__}.bind: a Python module only supports "
                                  f"grad_req='write', got {grad_req!r}")
        data = _pairs(data_shapes)
        if [n for n, _ in data] != self._data_names:
            raise MXNetValueError(f"{type(self).__name__}.bind: data_shapes are named "
                                  f"{[n for n, _ in data]}, the module's data_names are "
                                  f"{self._data_names} (same names, same order)")
        labels = None
        if label_shapes is not None:
            labels = _pairs(label_shapes)
            if self._label_names is None or [n for n, _ in labels] != self._label_names:
                raise MXNetValueError(f"{type(self).__name__}.bind: label_shapes are named "
                                      f"{[n for n, _ in labels]}, the module's label_names "
                                      f"are {self._label_names}")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._data_shapes = data
        self._label_shapes = labels
        self._output_shapes = self._compute_output_shapes()
        self.binded = True

    def _compute_output_shapes(self):
        """The ``(name, shape)`` of each output, from ``self._data_shapes`` and
        ``self._label_shapes``: subclasses implement it."""
        raise MXNetNotImplementedError(f"{type(self).__name__} must implement "
                                       "_compute_output_shapes()")

    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Nothing to optimize (override in a subclass with parameters); marks the
        optimizer as initialized. The arguments are those of Module.init_optimizer."""
        self.optimizer_initialized = True

    def install_monitor(self, mon):
        """Nothing to monitor: a Python module has no executor (MXNet raises
        NotImplementedError here; a chain with a monitor works instead)."""


class PythonLossModule(PythonModule):
    """A loss written in Python: its output is its input (the scores) and its backward
    calls ``grad_func(scores, labels)``.

    Parameters
    ----------
    name : str, default 'pyloss'
        The output is named ``name + '_output'``.
    data_names : list of str, default ('data',)
        Exactly one name.
    label_names : list of str, default ('softmax_label',)
        Exactly one name.
    logger : Logger, default logging
    grad_func : callable, optional
        ``grad_func(scores, labels) -> gradient`` of the loss with respect to the scores
        (both arguments NDArrays; the result an NDArray or a numpy array of the scores'
        shape). It is used as is: the optimizer of the module before this one averages
        over the batch with its rescale_grad (1/batch size).

    Raises
    ------
    MXNetValueError
        When data_names or label_names does not hold exactly one name.
    MXNetTypeError
        When grad_func is given and not callable.
    """

    def __init__(self, name="pyloss", data_names=("data",), label_names=("softmax_label",),
                 logger=logging, grad_func=None):
        data_names = _names(data_names, "data_names")
        label_names = _names(label_names, "label_names")
        if len(data_names) != 1 or label_names is None or len(label_names) != 1:
            raise MXNetValueError(f"PythonLossModule takes exactly one data and one label name, "
                                  f"got data_names={data_names}, label_names={label_names}")
        if grad_func is not None and not callable(grad_func):
            raise MXNetTypeError(f"PythonLossModule: grad_func must be callable, got "
                                 f"{type(grad_func).__name__}")
        super().__init__(data_names, label_names, [name + "_output"], logger=logger)
        self._name = name
        self._scores = None
        self._labels = None
        self._scores_grad = None
        self._grad_func = grad_func

    def _compute_output_shapes(self):
        return [(self._name + "_output", self._data_shapes[0][1])]

    def forward(self, data_batch, is_train=None):
        """Keep a reference to the scores (``data_batch.data[0]``) and, when training,
        the labels (``data_batch.label[0]``).

        Parameters
        ----------
        data_batch : DataBatch
        is_train : bool, optional
            Default None: ``for_training`` of the binding.

        Raises
        ------
        StateError
            Before bind.
        MXNetValueError
            When training and the batch has no label.
        """
        self._require("forward")
        if is_train is None:
            is_train = self.for_training
        label = getattr(data_batch, "label", None)
        if is_train and not label:
            raise MXNetValueError("PythonLossModule.forward: training needs the batch's label "
                                  f"({self._label_names[0]}); the batch has none")
        self._scores = data_batch.data[0]
        if is_train:
            self._labels = label[0]

    def get_outputs(self, merge_multi_context=True):
        """``[scores]``: the input of the last forward.

        Raises
        ------
        MXNetValueError
            For ``merge_multi_context=False`` (one context only).
        """
        if merge_multi_context is not True:
            raise MXNetValueError("PythonLossModule.get_outputs: merge_multi_context must be "
                                  "True (a Python module runs on one context)")
        return [self._scores]

    def backward(self, out_grads=None):
        """Compute the gradient of the scores with ``grad_func(scores, labels)``.

        Raises
        ------
        MXNetValueError
            When ``out_grads`` is given (a loss is a head).
        StateError
            When not bound for training or before forward with is_train.
        MXNetNotImplementedError
            Without grad_func (give one, or override ``_backward_impl``).
        """
        if out_grads is not None:
            raise MXNetValueError("PythonLossModule.backward: for a loss module, out_grads "
                                  "should be None")
        if not self.for_training:
            raise StateError("PythonLossModule.backward: bind with for_training=True first")
        if self._scores is None or self._labels is None:
            raise StateError("PythonLossModule.backward: call forward(data_batch, "
                             "is_train=True) first")
        self._backward_impl()

    def _backward_impl(self):
        """Set ``self._scores_grad`` (an NDArray) from ``self._scores`` and
        ``self._labels``; by default with ``grad_func``."""
        if self._grad_func is None:
            raise MXNetNotImplementedError("PythonLossModule: no grad_func was given; pass "
                                           "grad_func=f(scores, labels) or override "
                                           "_backward_impl()")
        grad = self._grad_func(self._scores, self._labels)
        scores = self._scores
        if not isinstance(grad, NDArray):
            grad = nd.array(grad, ctx=getattr(scores, "context", None),
                            dtype=getattr(scores, "dtype", None))
        if tuple(grad.shape) != tuple(scores.shape):
            raise MXNetValueError(f"PythonLossModule: grad_func returned a gradient of shape "
                                  f"{tuple(grad.shape)} for scores of shape "
                                  f"{tuple(scores.shape)}")
        self._scores_grad = grad

    def get_input_grads(self, merge_multi_context=True):
        """``[gradient of the scores]`` from the last backward.

        Raises
        ------
        MXNetValueError
            For ``merge_multi_context=False``.
        """
        if merge_multi_context is not True:
            raise MXNetValueError("PythonLossModule.get_input_grads: merge_multi_context must "
                                  "be True (a Python module runs on one context)")
        return [self._scores_grad]
