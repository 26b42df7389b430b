"""Parameter initializers (``nnabla.initializer``): callables ``init(shape) -> numpy
array`` and the bound helpers PF uses for its defaults."""
import numpy as np

from ..base import MXNetValueError
from . import random as _random

__all__ = ["BaseInitializer", "UniformInitializer", "ConstantInitializer", "NormalInitializer",
           "calc_uniform_lim_glorot", "calc_normal_std_he_forward",
           "calc_normal_std_glorot"]


class BaseInitializer:
    """Base of the initializers: ``__call__(shape)`` returns a float32 numpy array."""

    def __call__(self, shape):
        raise NotImplementedError

    def _rng(self):
        return self.rng if self.rng is not None else _random.prng


class UniformInitializer(BaseInitializer):
    """Values drawn uniformly from ``lim`` = (low, high), default (-1, 1).

    Parameters
    ----------
    lim : tuple of float, default (-1, 1)
    rng : numpy.random.RandomState, optional
        Default: ``nn.random.prng`` at call time.
    """

    def __init__(self, lim=(-1, 1), rng=None):
        if lim[0] > lim[1]:
            raise MXNetValueError(f"UniformInitializer: lim {lim} must be (low, high) with "
                                  "low <= high")
        self.lim, self.rng = lim, rng

    def __call__(self, shape):
        return self._rng().uniform(self.lim[0], self.lim[1], size=shape).astype(np.float32)

    def __repr__(self):
        return f"UniformInitializer(lim={self.lim})"


class NormalInitializer(BaseInitializer):
    """Values drawn from N(0, sigma^2).

    Parameters
    ----------
    sigma : float, default 1.0
    rng : numpy.random.RandomState, optional
    """

    def __init__(self, sigma=1.0, rng=None):
        if sigma < 0:
            raise MXNetValueError(f"NormalInitializer: sigma must be >= 0, got {sigma}")
        self.sigma, self.rng = sigma, rng

    def __call__(self, shape):
        return (self._rng().randn(*shape) * self.sigma).astype(np.float32)

    def __repr__(self):
        return f"NormalInitializer(sigma={self.sigma})"


class ConstantInitializer(BaseInitializer):
    """Every value equal to ``value`` (default 0)."""

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape):
        return np.full(shape, self.value, dtype=np.float32)

    def __repr__(self):
        return f"ConstantInitializer(value={self.value})"


def calc_uniform_lim_glorot(inmaps, outmaps, kernel=(1, 1)):
    """Glorot's uniform bound d = sqrt(6 / (prod(kernel) * (inmaps + outmaps)));
    returns (-d, d)."""
    d = np.sqrt(6.0 / (np.prod(kernel) * (inmaps + outmaps)))
    return -d, d


def calc_normal_std_glorot(inmaps, outmaps, kernel=(1, 1)):
    """Glorot's normal std sqrt(2 / (prod(kernel) * (inmaps + outmaps)))."""
    return np.sqrt(2.0 / (np.prod(kernel) * (inmaps + outmaps)))


def calc_normal_std_he_forward(inmaps, outmaps, kernel=(1, 1)):
    """He's normal std sqrt(2 / (prod(kernel) * inmaps))."""
    return np.sqrt(2.0 / (np.prod(kernel) * inmaps))
