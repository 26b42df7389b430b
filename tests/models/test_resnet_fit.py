"""ResNet-18 in its small-image form ('3,32,32': 3x3 stem, no pooling) trains with
Module.fit on the shipped digits, upscaled from 8x8 to 32x32: the cross-entropy on the
training batches falls over a few short epochs."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError
from mxtorch.datasets import load_digits, DIGITS_SHAPE
from mxtorch.models import resnet


def _digits_32(n):
    """The first ``n`` digits as (n, 1, 32, 32) images (each pixel repeated 4x4)."""
    X, y = load_digits()
    img = X[:n].reshape((n, 1) + DIGITS_SHAPE)
    return np.kron(img, np.ones((1, 1, 4, 4), dtype=np.float32)), y[:n]


class _EpochLoss(mx.metric.CrossEntropy):
    """CrossEntropy that keeps each epoch's value (read at the epoch-end reset)."""

    def __init__(self):
        super().__init__()
        self.history = []

    def reset(self):
        if self.num_inst:
            self.history.append(self.get()[1])
        super().reset()


def test_resnet18_small_image_loss_falls():
    try:
        with mx.name.NameManager():
            sym = resnet.get_symbol(10, 18, "1,32,32")
    except MXNetNotImplementedError as e:
        pytest.skip(str(e))
    assert sym.infer_shape(data=(2, 1, 32, 32))[1] == [(2, 10)]
    X, y = _digits_32(8)
    train = mx.io.NDArrayIter(X, y, batch_size=4, shuffle=False)
    mx.random.seed(0)
    mod = mx.mod.Module(sym, context=mx.cpu())
    metric = _EpochLoss()
    mod.fit(train, eval_metric=metric, num_epoch=2, optimizer="sgd",
            optimizer_params={"learning_rate": 0.05, "momentum": 0.9},
            initializer=mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2))
    metric.reset()
    losses = metric.history
    assert len(losses) == 2
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.7 * losses[0], losses
