"""Shared pieces of the callback tests: a small separable problem, a module factory and
a validation metric whose values are scripted per evaluation."""
import numpy as np
import pytest

import mxtorch as mx


class ScriptedMetric(mx.metric.EvalMetric):
    """Reports ``values[k]`` at its k-th evaluation (each score resets it once)."""

    def __init__(self, values, name="score"):
        self.values = list(values)
        self.resets = -1
        super().__init__(name)

    def reset(self):
        self.resets += 1
        super().reset()

    def update(self, labels, preds):
        pass

    def get(self):
        return (self.name, self.values[self.resets - 1])


def make_data(n_train=80, n_val=40, batch_size=20, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n_train + n_val, 10).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    train = mx.io.NDArrayIter(x[:n_train], y[:n_train], batch_size=batch_size)
    val = mx.io.NDArrayIter(x[n_train:], y[n_train:], batch_size=batch_size)
    return train, val, x, y


def make_module():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
    return mx.mod.Module(mx.sym.SoftmaxOutput(net, name="softmax"))


def snapshot_params(store):
    """An epoch-end callback that keeps a numpy copy of the parameters per epoch."""
    def _cb(epoch, sym, arg, aux):
        store[epoch] = {k: v.asnumpy().copy() for k, v in arg.items()}
    return _cb


@pytest.fixture
def toy():
    return make_data()


@pytest.fixture
def h():
    """The helpers above, for the test files (conftest is not importable by name)."""
    import types
    return types.SimpleNamespace(ScriptedMetric=ScriptedMetric, make_data=make_data,
                                 make_module=make_module, snapshot_params=snapshot_params)
