"""Write mxtorch/data/digits.npz from scikit-learn's handwritten digits (8x8, 1797 images).

Run once with any Python that has scikit-learn: ``.venv/bin/python tools/make_digits.py``.
The file holds ``pixels`` (uint8, (1797, 64), values 0..16) and ``labels`` (uint8, (1797,)).
"""
import os

import numpy as np
from sklearn.datasets import load_digits

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mxtorch", "data", "digits.npz")


def main():
    bunch = load_digits()
    pixels = bunch.data.astype(np.uint8)
    labels = bunch.target.astype(np.uint8)
    assert pixels.shape == (1797, 64) and pixels.max() == 16, pixels.shape
    np.savez_compressed(OUT, pixels=pixels, labels=labels)
    print("wrote %s (%d bytes)" % (os.path.normpath(OUT), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
