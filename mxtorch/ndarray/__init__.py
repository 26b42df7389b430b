"""``mx.nd``: NDArray, creation functions, imperative ops, save/load and random."""
from .ndarray import (NDArray, array, zeros, ones, full, empty, arange, concat, concatenate,
                      waitall, from_torch, from_numpy, zeros_like, ones_like)
from .ops import *  # noqa: F401,F403
from . import ops
from .serialize import save, load, load_frombuffer
from . import random
