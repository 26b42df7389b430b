"""Small datasets shipped inside the package, for demos, examples and tests that
must run offline. Each loader returns plain numpy arrays; wrap them in
``mx.io.NDArrayIter`` to train."""
from importlib import resources

import numpy as np

__all__ = ["load_digits", "DIGITS_SHAPE", "DIGITS_NUM_CLASSES"]

DIGITS_SHAPE = (8, 8)
DIGITS_NUM_CLASSES = 10
_DIGITS_MAX = 16.0


def load_digits():
    """The scikit-learn handwritten digits: 1797 grey images of 8x8 pixels, 10 classes.

    The images come from the UCI "Optical Recognition of Handwritten Digits" set as
    packaged by ``sklearn.datasets.load_digits``; ``tools/make_digits.py`` wrote the
    shipped copy ``mxtorch/data/digits.npz`` (pixels 0..16 as uint8), so no download
    and no scikit-learn are needed.

    Returns
    -------
    X : numpy.ndarray of float32, shape (1797, 64)
        Pixels scaled to [0, 1] (raw value / 16), one flattened 8x8 image per row.
    y : numpy.ndarray of float32, shape (1797,)
        Class labels 0..9, as float32 like MXNet's label arrays.

    Raises
    ------
    FileNotFoundError
        If the package was installed without its data file (a broken install:
        reinstall with ``pip install -e .``).
    """
    res = resources.files("mxtorch").joinpath("data").joinpath("digits.npz")
    with res.open("rb") as f, np.load(f, allow_pickle=False) as z:
        pixels, labels = z["pixels"], z["labels"]
    X = pixels.astype(np.float32) / np.float32(_DIGITS_MAX)
    y = labels.astype(np.float32)
    return X, y
