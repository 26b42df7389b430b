"""The built-in initializers (Zero, One, Constant, Uniform, Normal, Orthogonal, Xavier,
MSRAPrelu, Bilinear, LSTMBias) and the composites Load and Mixed.

Random draws use torch's default generator of the array's device (seeded by
``mx.random.seed`` / ``torch.manual_seed``).
"""
import json
import logging
import math
import re

import numpy as np
import torch

from ..base import MXNetTypeError, MXNetValueError, string_types
from .base import (Initializer, register, alias, _tensor, _fill_uniform, _fill_normal,
                   _fill_value)

__all__ = ["Load", "Mixed", "Zero", "One", "Constant", "Uniform", "Normal", "Orthogonal",
           "Xavier", "MSRAPrelu", "Bilinear", "LSTMBias"]


# --------------------------------------------------------------------------- composites
class Load:
    """Initialize from a saved parameter file or dict, else from ``default_init``.

    Names lose an ``arg:``/``aux:`` prefix before matching.

    Parameters
    ----------
    param : str or dict of str to NDArray
        A ``.params`` file name or a dict of arrays.
    default_init : Initializer, optional
        Used for names not in ``param``; without it such a name raises.
    verbose : bool, default False
        Log where each array came from.

    Raises
    ------
    MXNetValueError
        A loaded array's shape differs from the target's, or a name is missing and
        there is no default_init.
    """

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, string_types):
            from ..ndarray import load
            param = load(param)
        if not isinstance(param, dict):
            raise MXNetTypeError(f"Load: param must be a file name or a dict of NDArrays, got "
                                 f"{type(param).__name__}")
        self.param = {}
        for name, arr in param.items():
            if name.startswith("arg:") or name.startswith("aux:"):
                self.param[name[4:]] = arr
            else:
                self.param[name] = arr
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        if name in self.param:
            src = self.param[name]
            if tuple(arr.shape) != tuple(src.shape):
                raise MXNetValueError(
                    f"Parameter {name} cannot be initialized from loading. Shape mismatch, "
                    f"target {tuple(arr.shape)} vs loaded {tuple(src.shape)}")
            with torch.no_grad():
                _fill_value(_tensor(arr), src)
            if self.verbose:
                logging.info("Initialized %s by loading", name)
        else:
            if self.default_init is None:
                raise MXNetValueError(f"Cannot initialize {name}: not found in the loaded params "
                                      "and no default_init was given to mx.init.Load")
            self.default_init(name, arr)
            if self.verbose:
                logging.info("Initialized %s by default", name)


class Mixed:
    """Initialize with the first initializer whose regex matches the name (``re.match``).

    Parameters
    ----------
    patterns : list of str
        Regular expressions, tried in order.
    initializers : list of Initializer
        One per pattern.

    Raises
    ------
    MXNetValueError
        The lists differ in length, or a name matches no pattern (add ``'.*'`` last).
    """

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise MXNetValueError(f"Mixed: got {len(patterns)} patterns but "
                                  f"{len(initializers)} initializers; give one per pattern")
        self.map = list(zip([re.compile(p) for p in patterns], initializers))

    def __call__(self, name, arr):
        for prog, init in self.map:
            if prog.match(name):
                init(name, arr)
                return
        raise MXNetValueError(f"Parameter name {name} did not match any pattern. Consider "
                              'adding a ".*" pattern at the end with a default Initializer.')


# --------------------------------------------------------------------------- built-ins
@register
@alias("zeros")
class Zero(Initializer):
    """Initialize weights to 0."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        _tensor(arr).fill_(0)


@register
@alias("ones")
class One(Initializer):
    """Initialize weights to 1."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        _tensor(arr).fill_(1)


@register
class Constant(Initializer):
    """Initialize weights to ``value`` (a scalar, or an array broadcastable to the weight).

    Parameters
    ----------
    value : float or NDArray or numpy.ndarray
    """

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, _, arr):
        _fill_value(_tensor(arr), self.value)

    def dumps(self):
        val = self._kwargs["value"]
        if not np.isscalar(val):
            if isinstance(val, np.ndarray):
                val = val.tolist()
            elif isinstance(val, torch.Tensor):
                val = val.tolist()
            else:
                val = val.asnumpy().tolist()
            self._kwargs["value"] = val
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])


@register
class Uniform(Initializer):
    """Initialize weights from U(-scale, scale).

    Parameters
    ----------
    scale : float, default 0.07
    """

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale

    def _init_weight(self, _, arr):
        _fill_uniform(_tensor(arr), -self.scale, self.scale)


@register
class Normal(Initializer):
    """Initialize weights from N(0, sigma^2).

    Parameters
    ----------
    sigma : float, default 0.01
        Standard deviation.
    """

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def _init_weight(self, _, arr):
        _fill_normal(_tensor(arr), 0.0, self.sigma)


@register
class Orthogonal(Initializer):
    """Initialize weights as an orthogonal matrix (Saxe et al., 2013), times ``scale``.

    Parameters
    ----------
    scale : float, default 1.414
    rand_type : {'uniform', 'normal'}, default 'uniform'
        Distribution of the random matrix whose SVD gives the weight.
    """

    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type

    def _init_weight(self, name, arr):
        t = _tensor(arr)
        nout = t.shape[0]
        nin = int(np.prod(t.shape[1:]))
        tmp = torch.empty((nout, nin), dtype=torch.float32, device=t.device)
        if self.rand_type == "uniform":
            tmp.uniform_(-1.0, 1.0)
        elif self.rand_type == "normal":
            tmp.normal_(0.0, 1.0)
        else:
            raise MXNetValueError(f"Orthogonal: rand_type must be 'uniform' or 'normal', got "
                                  f"{self.rand_type!r}")
        u, _, vh = torch.linalg.svd(tmp, full_matrices=False)
        res = u if tuple(u.shape) == tuple(tmp.shape) else vh
        t.copy_((self.scale * res).reshape(t.shape))


@register
class Xavier(Initializer):
    """"Xavier" initialization: ``scale = sqrt(magnitude / factor)``.

    With ``hw = prod(shape[2:])``, ``fan_in = shape[1]*hw`` and ``fan_out = shape[0]*hw``,
    factor is ``(fan_in+fan_out)/2`` ('avg'), ``fan_in`` ('in') or ``fan_out`` ('out').
    'uniform' draws U(-scale, scale); 'gaussian' draws N(0, scale^2).

    Parameters
    ----------
    rnd_type : {'uniform', 'gaussian'}, default 'uniform'
    factor_type : {'avg', 'in', 'out'}, default 'avg'
    magnitude : float, default 3

    Raises
    ------
    MXNetValueError
        The weight has fewer than 2 dimensions, or an unknown rnd_type/factor_type.
    """

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    def _init_weight(self, name, arr):
        t = _tensor(arr)
        shape = tuple(t.shape)
        if len(shape) < 2:
            raise MXNetValueError(f"Xavier initializer cannot be applied to vector {name} (shape "
                                  f"{shape}). It requires at least 2D; give {name} another "
                                  "initializer (e.g. init=mx.init.Uniform())")
        hw_scale = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * hw_scale, shape[0] * hw_scale
        if self.factor_type == "avg":
            factor = (fan_in + fan_out) / 2.0
        elif self.factor_type == "in":
            factor = fan_in
        elif self.factor_type == "out":
            factor = fan_out
        else:
            raise MXNetValueError(f"Xavier: incorrect factor_type {self.factor_type!r}; use "
                                  "'avg', 'in' or 'out'")
        scale = math.sqrt(self.magnitude / factor)
        if self.rnd_type == "uniform":
            _fill_uniform(t, -scale, scale)
        elif self.rnd_type == "gaussian":
            _fill_normal(t, 0.0, scale)
        else:
            raise MXNetValueError(f"Xavier: unknown rnd_type {self.rnd_type!r}; use 'uniform' "
                                  "or 'gaussian'")


@register
class MSRAPrelu(Xavier):
    """MSRA (He et al., 2015) initialization: Xavier 'gaussian' with
    ``magnitude = 2 / (1 + slope^2)``.

    Parameters
    ----------
    factor_type : {'avg', 'in', 'out'}, default 'avg'
    slope : float, default 0.25
        Initial slope of the PReLU nonlinearities.
    """

    def __init__(self, factor_type="avg", slope=0.25):
        magnitude = 2.0 / (1 + slope ** 2)
        super().__init__("gaussian", factor_type, magnitude)
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Bilinear(Initializer):
    """Initialize a 4-D (out, in, H, W) weight as a bilinear upsampling kernel."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        self._init_bilinear(_, arr)


@register
class LSTMBias(Initializer):
    """Initialize an LSTM bias to 0 except the forget gate (second quarter).

    Parameters
    ----------
    forget_bias : float, default 1.0
    """

    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, name, arr):
        t = _tensor(arr)
        t.fill_(0)
        num_hidden = int(t.shape[0] / 4)
        t[num_hidden:2 * num_hidden] = self.forget_bias
