"""FitParams (from MXNet's Scala API): the training arguments of ``BaseModule.fit`` as one
object, built with keywords or chained setters, and passed as ``fit(..., fit_params=)``.

Only the arguments that were set override ``fit``'s own; the training loop stays in
base_module.py.
"""
from ..base import MXNetTypeError, MXNetValueError

__all__ = ["FitParams"]

# fit keyword -> default (BaseModule.fit's defaults; the Scala FitParams fields plus the
# Python-only optimizer_params, sparse_row_id_fn and num_epoch)
_FIELDS = ("eval_metric", "epoch_end_callback", "batch_end_callback", "kvstore", "optimizer",
           "optimizer_params", "eval_end_callback", "eval_batch_end_callback", "initializer",
           "arg_params", "aux_params", "allow_missing", "force_rebind", "force_init",
           "begin_epoch", "num_epoch", "validation_metric", "monitor", "sparse_row_id_fn",
           "resume", "check_nan", "progress")


class FitParams:
    """Arguments for :meth:`BaseModule.fit`, set by keyword or by chained setters.

    Every field has the name of a ``fit`` keyword (``eval_metric``, ``kvstore``,
    ``optimizer``, ``optimizer_params``, ``initializer``, ``arg_params``, ``aux_params``,
    ``allow_missing``, ``force_rebind``, ``force_init``, ``begin_epoch``, ``num_epoch``,
    ``validation_metric``, ``monitor``, the four callbacks and ``sparse_row_id_fn``) and a
    setter ``set_<field>(value)`` returning the FitParams (the Scala names, snake_case).
    Fields never set keep ``fit``'s own argument.

    Parameters
    ----------
    **kwargs
        Initial fields.

    Raises
    ------
    MXNetTypeError
        For a name that is not a ``fit`` keyword.
    MXNetValueError
        For a negative ``begin_epoch`` or a non-positive ``num_epoch``, or a None
        ``eval_metric``, ``kvstore``, ``optimizer`` or ``initializer`` (as Scala's
        setters require).

    Examples
    --------
    >>> fp = FitParams(optimizer="sgd").set_optimizer_params({"learning_rate": 0.1})
    >>> mod.fit(train_iter, num_epoch=3, fit_params=fp)
    """

    __slots__ = ("_values",)

    def __init__(self, **kwargs):
        self._values = {}
        for name, value in kwargs.items():
            self.set(name, value)

    def set(self, name, value):
        """Set the field ``name`` (a ``fit`` keyword); returns self."""
        if name not in _FIELDS:
            raise MXNetTypeError(f"FitParams: {name!r} is not an argument of fit; fields are "
                                 f"{list(_FIELDS)}")
        if value is None and name in ("eval_metric", "kvstore", "optimizer", "initializer"):
            raise MXNetValueError(f"FitParams: {name} cannot be None (Undefined {name})")
        if name == "begin_epoch" and (not isinstance(value, int) or value < 0):
            raise MXNetValueError(f"FitParams: invalid begin_epoch {value!r}; it must be an "
                                  "int >= 0")
        if name == "num_epoch" and (not isinstance(value, int) or value < 1):
            raise MXNetValueError(f"FitParams: invalid num_epoch {value!r}; it must be an "
                                  "int >= 1")
        self._values[name] = value
        return self

    def __getattr__(self, name):
        if name in _FIELDS:
            return self._values.get(name)
        if name.startswith("set_") and name[4:] in _FIELDS:
            field = name[4:]
            return lambda value: self.set(field, value)
        raise AttributeError(f"FitParams has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name == "_values":
            object.__setattr__(self, name, value)
        else:
            self.set(name, value)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(_FIELDS) |
                      {"set_" + f for f in _FIELDS})

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"FitParams({inner})"

    def to_dict(self):
        """The fields that were set, as ``{fit keyword: value}``."""
        return dict(self._values)

    def merged(self, fit_kwargs):
        """``fit_kwargs`` with this object's set fields written over them (a new dict)."""
        out = dict(fit_kwargs)
        out.update(self._values)
        return out
