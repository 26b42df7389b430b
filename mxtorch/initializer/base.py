"""InitDesc, the Initializer base (name-suffix rules, ``__init__`` attributes, ``dumps``)
and the register/alias/create registry, with MXNet 1.9.1 semantics.

Arrays are filled in place on their wrapped tensor; the built-in initializers live in
builtin.py.
"""
import json
import logging
import math
import warnings

import numpy as np
import torch

from ..base import MXNetError, MXNetTypeError, MXNetValueError, string_types

__all__ = ["InitDesc", "Initializer", "register", "alias", "create"]


class InitDesc(str):
    """Descriptor of a variable to initialize: its name plus attributes.

    Parameters
    ----------
    name : str
        Name of the variable.
    attrs : dict of str to str, optional
        Attributes of the variable (``Symbol.attr_dict()[name]``); a non-empty
        ``'__init__'`` entry (an initializer's JSON) decides how it is initialized.
    global_init : Initializer, optional
        The initializer to fall back to; set to the caller when missing.
    """

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super().__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


def _tensor(arr):
    """The tensor behind an NDArray (or the tensor itself)."""
    if isinstance(arr, torch.Tensor):
        return arr
    data = getattr(arr, "_data", None)
    if isinstance(data, torch.Tensor):
        return data
    raise MXNetTypeError(f"initializer: the array to fill must be an NDArray, got "
                         f"{type(arr).__name__}")


def _fill_uniform(t, low, high):
    if t.is_floating_point():
        t.uniform_(low, high)
    else:
        t.copy_(torch.empty(t.shape, device=t.device).uniform_(low, high))


def _fill_normal(t, mean, std):
    if t.is_floating_point():
        t.normal_(mean, std)
    else:
        t.copy_(torch.empty(t.shape, device=t.device).normal_(mean, std))


def _fill_value(t, value):
    """Copy a scalar, NDArray, tensor or array-like into ``t`` (broadcasting)."""
    if isinstance(value, (int, float, bool, np.generic)):
        t.fill_(float(value) if not isinstance(value, bool) else value)
        return
    if not isinstance(value, torch.Tensor):
        data = getattr(value, "_data", None)
        value = data if isinstance(data, torch.Tensor) else torch.as_tensor(np.asarray(value))
    t.copy_(value.to(device=t.device, dtype=t.dtype).expand_as(t))


class Initializer:
    """The base class of an initializer.

    Calling ``init(desc, arr)`` fills the NDArray ``arr`` in place. For an
    :class:`InitDesc`, a non-empty ``desc.attrs['__init__']`` wins; otherwise the
    name's suffix decides: ``weight`` -> ``_init_weight``, ``bias`` -> 0, ``gamma`` -> 1,
    ``beta`` -> 0, ``min`` -> 0, ``max`` -> 1, ``weight_quantize``, ``bias_quantize``;
    any other name raises MXNetValueError. A plain ``str`` takes MXNet's deprecated
    legacy rules (with a DeprecationWarning).

    Subclasses override ``_init_weight(name, arr)`` (and optionally ``_init_bias``,
    ``_init_gamma``, ``_init_beta``) and pass their constructor arguments to
    ``super().__init__(**kwargs)`` so that ``dumps`` can describe them.
    """

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    def set_verbosity(self, verbose=False, print_func=None):
        """Switch logging of each initialized array on or off.

        Parameters
        ----------
        verbose : bool, default False
        print_func : callable, optional
            Maps the NDArray to a str; defaults to ``norm(x)/sqrt(x.size)``.
            It runs (and syncs the device) only while verbose.

        Returns
        -------
        Initializer
            self
        """
        self._verbose = verbose
        if print_func is None:
            def print_func(x):
                t = _tensor(x).detach().double()
                return str(float(t.norm() / math.sqrt(max(t.numel(), 1))))
        self._print_func = print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self):
        """The JSON string ``[lowercase class name, kwargs]`` that ``create`` reads back.

        Examples
        --------
        >>> mx.init.Normal(0.5).dumps()
        '["normal", {"sigma": 0.5}]'
        """
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def __call__(self, desc, arr):
        """Initialize ``arr`` (an NDArray) in place according to ``desc``.

        Parameters
        ----------
        desc : InitDesc or str
            The variable's descriptor; a plain str takes the legacy rules.
        arr : NDArray
            The array to fill.

        Raises
        ------
        MXNetValueError
            The name matches no rule (give the variable an explicit ``init=``).
        """
        if getattr(arr, "stype", "default") != "default":
            # a sparse array: fill a dense copy, store its nonzero rows (as MXNet's arr[:] =)
            dense = arr.tostype("default")
            self(desc, dense)
            arr[:] = dense
            return
        with torch.no_grad():
            if not isinstance(desc, InitDesc):
                self._legacy_init(desc, arr)
                return
            if desc.global_init is None:
                desc.global_init = self
            init = desc.attrs.get("__init__", "")
            if init:
                create(init)._init_weight(desc, arr)
                self._verbose_print(desc, init, arr)
                return
            for suffix, method in _SUFFIX_RULES:
                if desc.endswith(suffix):
                    getattr(self, method)(desc, arr)
                    self._verbose_print(desc, suffix, arr)
                    return
            self._init_default(desc, arr)

    def _legacy_init(self, name, arr):
        """MXNet's pre-InitDesc name rules (deprecated)."""
        warnings.warn("Calling initializer with init(str, NDArray) has been deprecated. "
                      "Please use init(mx.init.InitDesc(...), NDArray) instead.",
                      DeprecationWarning, stacklevel=3)
        if not isinstance(name, string_types):
            raise MXNetTypeError(f"initializer: name must be a str, got {type(name).__name__}")
        if not hasattr(arr, "_data"):
            raise MXNetTypeError(f"initializer: arr must be an NDArray, got "
                                 f"{type(arr).__name__}")
        if name.startswith("upsampling"):
            self._init_bilinear(name, arr)
        elif name.startswith("stn_loc") and name.endswith("weight"):
            self._init_zero(name, arr)
        elif name.startswith("stn_loc") and name.endswith("bias"):
            self._init_loc_bias(name, arr)
        else:
            for suffix, method in _LEGACY_RULES:
                if name.endswith(suffix):
                    getattr(self, method)(name, arr)
                    return
            self._init_default(name, arr)

    # ---- fixed patterns ---------------------------------------------------
    def _init_bilinear(self, _, arr):
        t = _tensor(arr)
        t.copy_(_bilinear_kernel(t.shape).to(device=t.device, dtype=t.dtype))

    def _init_loc_bias(self, name, arr):
        t = _tensor(arr)
        if t.shape[0] != 6:
            raise MXNetValueError(f"initializer: {name} (an stn_loc bias) must have 6 entries, "
                                  f"got shape {tuple(t.shape)}")
        t.copy_(torch.tensor([1.0, 0, 0, 0, 1.0, 0], dtype=t.dtype, device=t.device))

    def _init_zero(self, _, arr):
        _tensor(arr).fill_(0)

    def _init_one(self, _, arr):
        _tensor(arr).fill_(1)

    def _init_bias(self, _, arr):
        _tensor(arr).fill_(0)

    def _init_quantized_bias(self, _, arr):
        _tensor(arr).fill_(0)

    def _init_gamma(self, _, arr):
        _tensor(arr).fill_(1)

    def _init_beta(self, _, arr):
        _tensor(arr).fill_(0)

    def _init_weight(self, name, arr):
        raise MXNetError(f"{type(self).__name__} does not define _init_weight, so it cannot "
                         f"initialize {name}; override _init_weight(name, arr) in the subclass")

    def _init_quantized_weight(self, _, arr):
        # MXNet draws ONE int in [-127, 127) and broadcasts it (random.randint without shape)
        t = _tensor(arr)
        t.fill_(int(torch.randint(-127, 127, (1,), device=t.device)[0]))

    def _init_default(self, name, _):
        raise MXNetValueError(
            f"Unknown initialization pattern for {name}. Default initialization is limited to "
            'names ending in "weight", "bias", "gamma" (1.0), "beta" (0.0), "min" (0.0) and '
            f'"max" (1.0). Give it an explicit initializer: mx.sym.Variable("{name}", '
            "init=mx.init.Zero()) (or any mx.init.*), or use mx.init.Mixed")

    def __eq__(self, other):
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self._kwargs == other._kwargs

    __hash__ = None  # as in MXNet: equality by value makes initializers unhashable

    def __repr__(self):
        return f"{type(self).__name__}({self._kwargs})"


_SUFFIX_RULES = (("weight", "_init_weight"), ("bias", "_init_bias"), ("gamma", "_init_gamma"),
                 ("beta", "_init_beta"), ("min", "_init_zero"), ("max", "_init_one"),
                 ("weight_quantize", "_init_quantized_weight"),
                 ("bias_quantize", "_init_quantized_bias"))
_LEGACY_RULES = (("bias", "_init_bias"), ("gamma", "_init_gamma"), ("beta", "_init_beta"),
                 ("weight", "_init_weight"), ("moving_mean", "_init_zero"),
                 ("moving_var", "_init_one"), ("moving_inv_var", "_init_zero"),
                 ("moving_avg", "_init_zero"), ("min", "_init_zero"), ("max", "_init_one"))


def _bilinear_kernel(shape):
    """The upsampling kernel of MXNet's Bilinear (f is taken from the width for both axes)."""
    if len(shape) != 4:
        raise MXNetValueError(f"Bilinear initializer needs a 4-D (out, in, H, W) weight, got "
                              f"shape {tuple(shape)}")
    f = math.ceil(shape[3] / 2.0)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    x = torch.arange(shape[3], dtype=torch.float64)
    y = torch.arange(shape[2], dtype=torch.float64)
    k = torch.outer(1 - (y / f - c).abs(), 1 - (x / f - c).abs()).to(torch.float32)
    return k.expand(tuple(shape))


# --------------------------------------------------------------------------- registry
_REGISTRY = {}


def register(klass, name=None):
    """Register an Initializer subclass under its lowercase class name (or ``name``).

    Use as a decorator; registering a name again replaces it with a UserWarning.

    Raises
    ------
    MXNetTypeError
        ``klass`` is not an Initializer subclass.
    """
    if not (isinstance(klass, type) and issubclass(klass, Initializer)):
        raise MXNetTypeError(f"register: can only register subclasses of Initializer, got "
                             f"{klass!r}")
    name = (name or klass.__name__).lower()
    if name in _REGISTRY and _REGISTRY[name] is not klass:
        warnings.warn(f"New initializer {klass.__module__}.{klass.__name__} registered with name "
                      f"{name} is overriding existing initializer "
                      f"{_REGISTRY[name].__module__}.{_REGISTRY[name].__name__}",
                      UserWarning, stacklevel=2)
    _REGISTRY[name] = klass
    return klass


def alias(*aliases):
    """Decorator registering a class under extra names, e.g. ``@alias('zeros')``."""
    def reg(klass):
        for name in aliases:
            register(klass, name)
        return klass
    return reg


def create(*args, **kwargs):
    """Create an initializer from a description.

    Parameters
    ----------
    initializer : Initializer, str or dict
        An instance (returned as is), a registered name (case insensitive) with
        constructor arguments in ``*args``/``**kwargs``, a JSON list string
        ``'["name", {kwargs}]'`` (what ``dumps`` writes), a JSON dict string
        ``'{"initializer": "name", ...}'`` or such a dict.

    Raises
    ------
    MXNetValueError
        Unknown name, or extra arguments next to an instance or JSON string.
    MXNetTypeError
        A description of another type.
    """
    if args:
        name, args = args[0], args[1:]
    elif "initializer" in kwargs:
        name = kwargs.pop("initializer")
    else:
        raise MXNetValueError("create: no initializer given; pass a name such as 'xavier', a "
                              "JSON string or an Initializer instance")
    if isinstance(name, Initializer):
        if args or kwargs:
            raise MXNetValueError(f"create: {name!r} is already an instance; additional "
                                  "arguments are invalid")
        return name
    if isinstance(name, dict):
        return create(**name)
    if not isinstance(name, string_types):
        raise MXNetTypeError(f"create: initializer must be a str, dict or Initializer, got "
                             f"{type(name).__name__}")
    text = name.strip()
    if text.startswith("[") or text.startswith("{"):
        if args or kwargs:
            raise MXNetValueError("create: no extra arguments are allowed with a JSON string")
        try:
            spec = json.loads(text)
        except ValueError as e:
            raise MXNetValueError(f"create: invalid initializer JSON {name!r}: {e}") from None
        if isinstance(spec, list):
            if len(spec) != 2 or not isinstance(spec[1], dict):
                raise MXNetValueError(f"create: a JSON list must be [name, {{kwargs}}], got "
                                      f"{name!r}")
            return create(spec[0], **spec[1])
        return create(**spec)
    key = name.lower()
    if key not in _REGISTRY:
        raise MXNetValueError(f"create: initializer {name!r} is not registered (known: "
                              f"{sorted(_REGISTRY)}); register it with mx.init.register first")
    return _REGISTRY[key](*args, **kwargs)
