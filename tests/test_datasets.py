"""mxtorch.datasets: the shipped digits file loads as the scikit-learn digits, scaled."""
import numpy as np
import pytest

from mxtorch.datasets import load_digits

# Facts of scikit-learn's digits (sklearn.datasets.load_digits, 1.x), copied from it.
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
FIRST_IMAGE = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0,
               0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0,
               0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0]
RAW_PIXEL_SUM = 561718
FIRST_LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_shapes_dtypes_and_range():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0


def test_values_are_the_sklearn_digits_over_16():
    X, y = load_digits()
    raw = X * 16
    np.testing.assert_array_equal(raw, np.round(raw))      # exact multiples of 1/16
    np.testing.assert_array_equal(raw[0], np.array(FIRST_IMAGE, dtype=np.float32))
    assert int(raw.astype(np.int64).sum()) == RAW_PIXEL_SUM
    assert y[:20].tolist() == FIRST_LABELS
    assert np.bincount(y.astype(np.int64)).tolist() == CLASS_COUNTS


def test_each_call_returns_fresh_arrays():
    X1, y1 = load_digits()
    X1[:] = -1
    y1[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0.0 and y2.min() == 0.0


def test_matches_scikit_learn_when_installed():
    sk = pytest.importorskip("sklearn.datasets")
    bunch = sk.load_digits()
    X, y = load_digits()
    np.testing.assert_array_equal(X, (bunch.data / 16.0).astype(np.float32))
    np.testing.assert_array_equal(y, bunch.target.astype(np.float32))
