"""``mx.random``: seeding torch's generators (CPU and CUDA) and the sampling functions of
``mx.nd.random``."""
import torch

from .base import MXNetValueError, integer_types
from .context import Context
from .ndarray.random import *  # noqa: F401,F403
from .ndarray.random import __all__ as _sampling_names

__all__ = ["seed"] + list(_sampling_names)


def seed(seed_state, ctx="all"):
    """Seed the random number generators so that runs are reproducible.

    Parameters
    ----------
    seed_state : int
        The seed.
    ctx : Context or 'all', default 'all'
        ``'all'`` seeds the CPU generator and every CUDA device's generator; a Context
        seeds only that device's generator (any CPU context seeds the one CPU generator).

    Raises
    ------
    MXNetValueError
        If ``seed_state`` is not an int.

    Notes
    -----
    Draws come from torch's generators, so a seed gives the same numbers as
    ``torch.manual_seed(seed_state)`` would, not the numbers MXNet gives for that seed.
    """
    if not isinstance(seed_state, integer_types) or isinstance(seed_state, bool):
        raise MXNetValueError(f"seed_state must be int, got {type(seed_state).__name__} "
                              f"{seed_state!r}")
    seed_state = int(seed_state)
    if isinstance(ctx, str) and ctx == "all":
        torch.manual_seed(seed_state)     # CPU and all CUDA devices
        return
    ctx = Context(ctx)
    if ctx.device_type == "gpu":
        if torch.cuda.is_available():
            with torch.cuda.device(ctx.device_id):
                torch.cuda.manual_seed(seed_state)
    else:
        torch.default_generator.manual_seed(seed_state)
