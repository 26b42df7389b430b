"""CompositeEvalMetric (a list of metrics updated together), CustomMetric (a user
function on numpy arrays) and ``np``, the helper that wraps such a function.
"""
from collections import OrderedDict

from ..base import MXNetValueError, MXNetNotImplementedError, numeric_types, string_types
from .base import EvalMetric, check_label_shapes, register, alias, create, _numpy

__all__ = ["CompositeEvalMetric", "CustomMetric", "np"]


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated, reset and reported together.

    Parameters
    ----------
    metrics : list, optional
        Child metrics, or anything ``create`` accepts for each.
    name : str, default 'composite'
    output_names, label_names : list of str, optional
        ``update_dict`` keeps only these entries before passing the dicts on.

    Notes
    -----
    ``get()`` returns ``([names...], [values...])``, the children's results in order.
    """

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        self.metrics = []
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.metrics = [create(m) for m in (metrics or [])]

    def add(self, metric):
        """Add a child metric (an EvalMetric, or anything ``create`` accepts)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The child metric at ``index``.

        Raises
        ------
        MXNetValueError
            When ``index`` is out of range (MXNet returns the error instead of raising).
        """
        try:
            return self.metrics[index]
        except IndexError:
            raise MXNetValueError("Metric index {} is out of range 0 and {}".format(
                index, len(self.metrics))) from None

    def update_dict(self, labels, preds):  # pylint: disable=arguments-renamed
        """Filter the dicts by this metric's names, then update each child with them."""
        if self.label_names is not None:
            labels = OrderedDict([i for i in labels.items() if i[0] in self.label_names])
        if self.output_names is not None:
            preds = OrderedDict([i for i in preds.items() if i[0] in self.output_names])
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        """Update every child with the same labels and predictions."""
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        """Reset every child."""
        for metric in getattr(self, "metrics", ()):
            metric.reset()

    def reset_local(self):
        """Reset the local results of every child."""
        for metric in getattr(self, "metrics", ()):
            metric.reset_local()

    @staticmethod
    def _concat(results):
        names, values = [], []
        for name, value in results:
            if isinstance(name, string_types):
                name = [name]
            if isinstance(value, numeric_types):
                value = [value]
            names.extend(name)
            values.extend(value)
        return (names, values)

    def get(self):
        """``([names...], [values...])`` of the children's local results."""
        return self._concat(m.get() for m in self.metrics)

    def get_global(self):
        """``([names...], [values...])`` of the children's global results."""
        return self._concat(m.get_global() for m in self.metrics)

    def get_config(self):
        """The config, with the children's configs under ``metrics``."""
        config = super().get_config()
        config.update({"metrics": [m.get_config() for m in self.metrics]})
        return config


@register
class CustomMetric(EvalMetric):
    """A metric computed by a user function on numpy arrays.

    Parameters
    ----------
    feval : callable(label, pred)
        Receives one label and one prediction as numpy arrays; returns a value
        (counted as 1 instance) or a ``(sum_metric, num_inst)`` pair.
    name : str, optional
        Defaults to ``feval.__name__``; a lambda gives ``'custom(<lambda>)'``.
    allow_extra_outputs : bool, default False
        If True, predictions may outnumber labels (e.g. RNN states among the outputs);
        the extra ones are ignored.
    output_names, label_names : list of str, optional

    Notes
    -----
    Each update copies the arrays to the host (the function needs numpy).
    """

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None,
                 label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = "custom(%s)" % name
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs,
                         output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        """Call ``feval`` on each (label, pred) pair, as numpy arrays.

        Raises
        ------
        MXNetValueError
            When the numbers differ and ``allow_extra_outputs`` is False.
        """
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            reval = self._feval(_numpy(label), _numpy(pred))
            if isinstance(reval, tuple):
                sum_metric, num_inst = reval
                self._add(sum_metric, num_inst)
            else:
                self._add(reval, 1)

    def get_config(self):
        """Not available: a Python function cannot be serialized.

        Raises
        ------
        MXNetNotImplementedError
            Always.
        """
        raise MXNetNotImplementedError("CustomMetric cannot be serialized; recreate it from "
                                       "its function with mx.metric.create(feval)")


def np(numpy_feval, name=None, allow_extra_outputs=False):  # pylint: disable=invalid-name
    """A CustomMetric from a function taking numpy arrays ``(label, pred)``.

    Parameters
    ----------
    numpy_feval : callable(label, pred)
        Returns the metric of a mini-batch as a float.
    name : str, optional
        Defaults to the function's name.
    allow_extra_outputs : bool, default False
        Whether predictions may include extra outputs (ignored).

    Returns
    -------
    CustomMetric
    """
    def feval(label, pred):
        """Internal eval function."""
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)
