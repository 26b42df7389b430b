"""EvalMetric base class, its device-side running totals, the metric registry and
``create``. The concrete metrics live in classification.py, regression.py and
composite.py; this file owns only the shared machinery.
"""
import json
import warnings

import numpy
import torch

from ..base import (MXNetValueError, MXNetTypeError, MXNetKeyError,
                    MXNetNotImplementedError, string_types)
from ..ndarray.ndarray import NDArray

__all__ = ["EvalMetric", "check_label_shapes", "register", "alias", "create", "get_registry"]


# ----------------------------------------------------------------------------- inputs
def _tensor(x):
    """The (detached) torch.Tensor behind an NDArray, tensor, numpy array or scalar."""
    if isinstance(x, NDArray):
        x = x._data
    if isinstance(x, torch.Tensor):
        return x.detach() if x.requires_grad else x
    if isinstance(x, numpy.ndarray):
        return torch.from_numpy(numpy.ascontiguousarray(x))
    return torch.as_tensor(numpy.asarray(x))


def _numpy(x):
    """A numpy array from an NDArray, tensor or array-like (synchronizes)."""
    if isinstance(x, NDArray):
        return x.asnumpy()
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.cpu().numpy()
    return numpy.asarray(x)


def _is_array(x):
    return isinstance(x, (NDArray, torch.Tensor, numpy.ndarray))


def _len(x):
    if _is_array(x):
        shape = tuple(x.shape)
        if not shape:
            raise MXNetTypeError("check_label_shapes: got a 0-d array where a list of arrays "
                                 "or an array with a batch axis was expected; pass [array]")
        return shape[0]
    return len(x)


def _wrap(x):
    """A bare array becomes a one-element list (MXNet wraps NDArrays; tensors too)."""
    if isinstance(x, (NDArray, torch.Tensor)):
        return [x]
    return x


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Check that labels and predictions agree in length (or in shape).

    Parameters
    ----------
    labels, preds : list of NDArray, or NDArray
        The labels and the predictions.
    wrap : bool, default False
        If True, a bare NDArray (or torch.Tensor) is wrapped into a one-element list
        (after the check, as MXNet does).
    shape : bool, default False
        If True compare ``.shape``; otherwise compare ``len()``.

    Returns
    -------
    (labels, preds)

    Raises
    ------
    MXNetValueError
        ``"Shape of labels {} does not match shape of predictions {}"`` on a mismatch.
    """
    if not shape:
        label_shape, pred_shape = _len(labels), _len(preds)
    else:
        label_shape, pred_shape = tuple(labels.shape), tuple(preds.shape)
    if label_shape != pred_shape:
        raise MXNetValueError(
            "Shape of labels {} does not match shape of predictions {}; pass one "
            "prediction per label (same count, and same shape where the metric compares "
            "them element by element)".format(label_shape, pred_shape))
    if wrap:
        labels, preds = _wrap(labels), _wrap(preds)
    return labels, preds


# ----------------------------------------------------------------------------- totals
class _Total:
    """A running total: a python number plus the device tensors added since the last read.

    ``add`` launches no kernel and never synchronizes: it keeps a reference to the tensor
    (tensors of one device, dtype and shape are summed in one kernel every
    ``_FOLD`` additions, so a long epoch holds few of them). ``value`` sums what is
    pending (one sync per group), folds it into the python part and returns the number.
    The local and global totals of a metric keep references to the same tensors, so a
    batch costs no arithmetic at all until a value is read.
    """
    __slots__ = ("host", "dev")
    _FOLD = 1024

    def __init__(self, host=0):
        self.host = host
        self.dev = None

    def add(self, v, key=None):
        """Add a number or a tensor; ``key`` is the tensor's ``(device, dtype, shape)``
        when the caller has it already."""
        if isinstance(v, torch.Tensor):
            if self.dev is None:
                self.dev = {}
            if key is None:
                key = (v.device, v.dtype, v.shape)
            pending = self.dev.get(key)
            if pending is None:
                self.dev[key] = [v]
                return
            pending.append(v)
            if len(pending) >= self._FOLD:
                pending[:] = [torch.stack(pending).sum(0)]
        else:
            self.host = self.host + v

    def set(self, v):
        self.host = 0 if isinstance(v, torch.Tensor) else v
        self.dev = None
        if isinstance(v, torch.Tensor):
            self.add(v)

    def value(self):
        if self.dev:
            for pending in self.dev.values():
                total = pending[0] if len(pending) == 1 else torch.stack(pending).sum(0)
                self.host = self.host + total.item()
            self.dev = None
        return self.host

    def __deepcopy__(self, memo):
        new = _Total(self.host)
        if self.dev:
            new.dev = {k: [t.clone() for t in v] for k, v in self.dev.items()}
        return new


def _total_property(key, zero, doc):
    def fget(self):
        t = self.__dict__.get(key)
        return zero if t is None else t.value()

    def fset(self, v):
        t = self.__dict__.get(key)
        if t is None:
            t = self.__dict__[key] = _Total(zero)
        t.set(v)

    return property(fget, fset, doc=doc)


# ----------------------------------------------------------------------------- base
class EvalMetric:
    """Base class of all evaluation metrics.

    A metric keeps a local pair (``sum_metric``, ``num_inst``), reset by
    ``reset_local``, and a global pair (``global_sum_metric``, ``global_num_inst``),
    reset only by ``reset``. Built-in metrics add device tensors to these totals in
    ``update`` without synchronizing; reading an attribute or calling ``get`` reads the
    device. The four attributes stay settable, so subclasses may do
    ``self.sum_metric += value; self.num_inst += n`` with python numbers.

    Parameters
    ----------
    name : str
        Name of this metric instance for display.
    output_names : list of str, optional
        Predictions used by ``update_dict``; default: all, in order.
    label_names : list of str, optional
        Labels used by ``update_dict``; default: all, in order.
    **kwargs
        ``has_global_stats`` (default False) is taken out; the rest is kept for
        ``get_config``.
    """

    sum_metric = _total_property("_t_sum", 0.0, "Local sum of the metric (reading it syncs).")
    num_inst = _total_property("_t_num", 0, "Local number of instances (reading it syncs).")
    global_sum_metric = _total_property("_t_gsum", 0.0, "Global sum of the metric.")
    global_num_inst = _total_property("_t_gnum", 0, "Global number of instances.")

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        """The metric's configuration, from which ``create(**config)`` rebuilds it.

        Returns
        -------
        dict
            The constructor kwargs plus ``metric`` (the class name), ``name``,
            ``output_names`` and ``label_names``.
        """
        config = self._kwargs.copy()
        config.update({"metric": self.__class__.__name__, "name": self.name,
                       "output_names": self.output_names, "label_names": self.label_names})
        return config

    def update_dict(self, label, pred):
        """Update with name -> array dicts, selected by ``label_names``/``output_names``.

        Raises
        ------
        MXNetKeyError
            When a name in ``output_names``/``label_names`` is missing from the dict.
        """
        pred = self._select(pred, self.output_names, "output_names", "pred")
        label = self._select(label, self.label_names, "label_names", "label")
        self.update(label, pred)

    def _select(self, d, names, what, kind):
        if names is None:
            return list(d.values())
        missing = [n for n in names if n not in d]
        if missing:
            raise MXNetKeyError(
                "{}.update_dict: {} {} not among the {} names {}; fix the metric's {}"
                .format(type(self).__name__, what, missing, kind, list(d.keys()), what))
        return [d[n] for n in names]

    def update(self, labels, preds):
        """Update the internal evaluation result with a batch.

        Parameters
        ----------
        labels : list of NDArray
            The labels of the data.
        preds : list of NDArray
            Predicted values.
        """
        raise MXNetNotImplementedError(
            "{}.update is not implemented; a metric subclass must define update(labels, "
            "preds)".format(type(self).__name__))

    def reset(self):
        """Reset the local and the global results."""
        self.__dict__["_t_sum"] = _Total(0.0)
        self.__dict__["_t_num"] = _Total(0)
        self.__dict__["_t_gsum"] = _Total(0.0)
        self.__dict__["_t_gnum"] = _Total(0)

    def reset_local(self):
        """Reset the local result only (the global one keeps accumulating)."""
        self.__dict__["_t_sum"] = _Total(0.0)
        self.__dict__["_t_num"] = _Total(0)

    def _add(self, value, num):
        """Add ``value`` (a device tensor or number) and ``num`` to both pairs; no sync."""
        d = self.__dict__
        tkey = (value.device, value.dtype, value.shape) if isinstance(value, torch.Tensor) \
            else None
        for key, v, k in (("_t_sum", value, tkey), ("_t_gsum", value, tkey),
                          ("_t_num", num, None), ("_t_gnum", num, None)):
            t = d.get(key)
            if t is None:
                t = d[key] = _Total(0.0 if "sum" in key else 0)
            t.add(v, k)

    def get(self):
        """The current local result.

        Returns
        -------
        (str, float)
            The name and ``sum_metric / num_inst``, or NaN when nothing was counted.
        """
        num = self.num_inst
        if num == 0:
            return (self.name, float("nan"))
        return (self.name, self.sum_metric / num)

    def get_global(self):
        """The current global result (``get()`` for metrics without global stats)."""
        if self._has_global_stats:
            num = self.global_num_inst
            if num == 0:
                return (self.name, float("nan"))
            return (self.name, self.global_sum_metric / num)
        return self.get()

    @staticmethod
    def _zip(name, value):
        if not isinstance(name, list):
            name = [name]
        if not isinstance(value, list):
            value = [value]
        return list(zip(name, value))

    def get_name_value(self):
        """The local result as a list of ``(name, value)`` pairs."""
        return self._zip(*self.get())

    def get_global_name_value(self):
        """The global result as a list of ``(name, value)`` pairs."""
        if self._has_global_stats:
            return self._zip(*self.get_global())
        return self.get_name_value()


# ----------------------------------------------------------------------------- registry
_REGISTRY = {}


def get_registry():
    """A copy of the name -> metric class table (names are lower case)."""
    return dict(_REGISTRY)


def register(klass, name=None):
    """Register an EvalMetric subclass under ``name`` (default: its class name).

    Names are case-insensitive. Re-registering a name warns (UserWarning) and replaces it.

    Raises
    ------
    MXNetTypeError
        When ``klass`` is not an EvalMetric subclass.
    """
    if not (isinstance(klass, type) and issubclass(klass, EvalMetric)):
        raise MXNetTypeError("metric.register: can only register a subclass of EvalMetric, "
                             "got {!r}".format(klass))
    name = (klass.__name__ if name is None else name).lower()
    if name in _REGISTRY and _REGISTRY[name] is not klass:
        warnings.warn("New metric {}.{} registered with name {} is overriding existing metric "
                      "{}.{}".format(klass.__module__, klass.__name__, name,
                                     _REGISTRY[name].__module__, _REGISTRY[name].__name__),
                      UserWarning, stacklevel=2)
    _REGISTRY[name] = klass
    return klass


def alias(*aliases):
    """Decorator registering a metric class under extra names."""
    def reg(klass):
        for name in aliases:
            register(klass, name)
        return klass
    return reg


def _create(*args, **kwargs):
    if args:
        name, args = args[0], args[1:]
    else:
        if "metric" not in kwargs:
            raise MXNetValueError("metric.create: no metric given; pass a name, an EvalMetric, "
                                  "a config dict with a 'metric' key, a list or a function")
        name = kwargs.pop("metric")
    if isinstance(name, EvalMetric):
        if args or kwargs:
            raise MXNetValueError("metric.create: {!r} is already an instance; additional "
                                  "arguments {} {} are invalid".format(name, args, kwargs))
        return name
    if isinstance(name, dict):
        config = dict(name, **kwargs)
        if "metric" not in config:
            raise MXNetValueError("metric.create: a config dict needs a 'metric' key (the "
                                  "metric's name), got keys {}".format(sorted(config)))
        return _create(config.pop("metric"), *args, **config)
    if not isinstance(name, string_types):
        raise MXNetTypeError("metric.create: metric must be a name, an EvalMetric, a dict, a "
                             "list or a function, got {!r}".format(name))
    stripped = name.strip()
    if stripped.startswith("[") or stripped.startswith("{"):
        if args or kwargs:
            raise MXNetValueError("metric.create: a JSON config {!r} takes no further "
                                  "arguments, got {} {}".format(name, args, kwargs))
        loaded = json.loads(stripped)
        if isinstance(loaded, list):
            name, kw = loaded
            return _create(name, **kw)
        return _create(**loaded)
    key = name.lower()
    if key not in _REGISTRY:
        raise MXNetValueError("metric.create: {!r} is not a registered metric; known names: {}. "
                              "Register a new one with mx.metric.register"
                              .format(name, sorted(_REGISTRY)))
    return _REGISTRY[key](*args, **kwargs)


def create(metric, *args, **kwargs):
    """Create an evaluation metric.

    Parameters
    ----------
    metric : str, EvalMetric, dict, list or callable
        - a registered name (case-insensitive; class name or alias such as ``'acc'``);
        - an EvalMetric instance (returned as is; no further arguments allowed);
        - a JSON string: ``'["name", {kwargs}]'`` or ``'{"metric": name, kwargs...}'``
          (what ``json.dumps(m.get_config())`` gives);
        - a dict with a ``'metric'`` key and constructor kwargs;
        - a list of any of these: a CompositeEvalMetric of them;
        - a function ``feval(label, pred)`` on numpy arrays: a CustomMetric;
        - an EvalMetric subclass: an instance of it.
    *args, **kwargs
        Passed to the metric's constructor (and to each child for a list).

    Raises
    ------
    MXNetValueError
        For an unknown name or arguments given with an instance or a JSON config.
    """
    from .composite import CompositeEvalMetric, CustomMetric
    if isinstance(metric, type) and issubclass(metric, EvalMetric):
        return metric(*args, **kwargs)
    if callable(metric) and not isinstance(metric, EvalMetric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    return _create(metric, *args, **kwargs)
