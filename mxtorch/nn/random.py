"""nnabla's global random state (``nn.random``): the numpy RandomState that parameter
initializers draw from, seeded 313 at import as nnabla does."""
import numpy as np

__all__ = ["prng", "seed"]

prng = np.random.RandomState(313)


def seed(seed_value):
    """Replace the global RandomState by ``numpy.random.RandomState(seed_value)``."""
    global prng
    prng = np.random.RandomState(seed_value)
