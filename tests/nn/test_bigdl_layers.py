"""BigDL layers: constructor argument order (width before height), default
initialization bounds, Dropout in training and evaluation, Reshape's batch rule,
activations against numpy, containers (add, TorchLayer, flattened_layers)."""
import numpy as np
import pytest
import torch

from mxtorch.base import MXNetTypeError, MXNetValueError
from mxtorch.nn.bigdl_layers import (BatchNormalization, Dropout, Identity, Linear, ReLU,
                                     Reshape, Sequential, Sigmoid, SoftMax,
                                     SpatialConvolution, SpatialMaxPooling, TorchLayer)


def test_width_before_height():
    conv = SpatialConvolution(2, 3, kernel_w=5, kernel_h=1, stride_w=2, stride_h=1, pad_w=2,
                              pad_h=0)
    assert tuple(conv.weight.shape) == (3, 2, 1, 5)
    assert conv.forward(torch.zeros(1, 2, 4, 10)).shape == (1, 3, 4, 5)
    pool = SpatialMaxPooling(kw=2, kh=1)
    x = torch.arange(8.0).reshape(1, 1, 2, 4)
    assert pool.forward(x).tolist() == [[[[1.0, 3.0], [5.0, 7.0]]]]


def test_default_init_bounds():
    torch.manual_seed(0)
    lin = Linear(100, 50)
    bound = 1 / np.sqrt(100)
    for t in (lin.weight, lin.bias):
        t = t.detach()
        assert float(t.abs().max()) <= bound and float(t.abs().max()) > 0.8 * bound
    conv = SpatialConvolution(4, 8, 3, 3, n_group=2)
    cb = 1 / np.sqrt(2 * 9)
    assert float(conv.weight.detach().abs().max()) <= cb
    assert Linear(3, 2, with_bias=False).bias is None


def test_dropout_modes():
    torch.manual_seed(1)
    drop = Dropout(0.5)
    x = torch.ones(1000)
    y = drop.forward(x)
    assert set(y.unique().tolist()) == {0.0, 2.0}
    drop.evaluate()
    assert torch.equal(drop.forward(x), x)
    with pytest.raises(MXNetValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


def test_reshape_batch_rule():
    r = Reshape([2, 3])
    assert r.forward(torch.zeros(6)).shape == (2, 3)            # exactly prod(size)
    assert r.forward(torch.zeros(4, 6)).shape == (4, 2, 3)      # batched
    assert r.forward(torch.zeros(1, 6)).shape == (2, 3)         # BigDL's ambiguity
    assert Reshape([2, 3], batch_mode=True).forward(torch.zeros(1, 6)).shape == (1, 2, 3)
    with pytest.raises(MXNetValueError, match="cannot reshape"):
        Reshape([4], batch_mode=False).forward(torch.zeros(6))


def test_activations_against_numpy():
    z = np.random.RandomState(0).randn(3, 5).astype(np.float32)
    e = np.exp(z - z.max(1, keepdims=True))
    assert np.allclose(SoftMax().forward(z).numpy(), e / e.sum(1, keepdims=True), atol=1e-6)
    assert np.allclose(Sigmoid().forward(z).numpy(), 1 / (1 + np.exp(-z)), atol=1e-6)
    assert np.allclose(ReLU().forward(z).numpy(), np.maximum(z, 0))
    assert np.array_equal(Identity().forward(z).numpy(), z)
    bn = BatchNormalization(5)
    out = bn.forward(z).numpy()
    ref = (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5)
    assert np.allclose(out, ref, atol=1e-5)


def test_containers():
    seq = Sequential().add(Linear(2, 3)).add(torch.nn.Tanh())
    assert isinstance(seq.layers[1], TorchLayer)
    inner = Sequential(Linear(3, 3), ReLU())
    outer = Sequential(seq, inner)
    assert [type(layer).__name__ for layer in outer.flattened_layers()] == \
        ["Linear", "TorchLayer", "Linear", "ReLU"]
    x = torch.randn(4, 2)
    y = outer.forward(x)
    gi = outer.backward(x, torch.ones_like(y))
    assert gi.shape == x.shape and len(outer.get_times()) == 7
    with pytest.raises(MXNetTypeError, match="BigDL layer or a torch.nn.Module"):
        Sequential().add("relu")
    with pytest.raises(MXNetTypeError):
        TorchLayer(3)
