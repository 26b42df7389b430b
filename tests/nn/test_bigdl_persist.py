"""save_module/load_module (definition + weights in safetensors, no pickle, classes only
from mxtorch.nn or an allow-list), save_weights/load_weights and load_model_weights by
layer name, and their errors."""
import json
import os

import numpy as np
import pytest
import torch
from safetensors import safe_open

from mxtorch.base import FormatError, MXNetTypeError, MXNetValueError
from mxtorch.nn.bigdl_api import BigDLAPI
from mxtorch.nn.bigdl_graph import Input, Model
from mxtorch.nn.bigdl_layers import (Linear, ReLU, Reshape, Sequential,
                                     SpatialBatchNormalization, SpatialConvolution, TorchLayer)


def _net():
    torch.manual_seed(0)
    return (Sequential()
            .add(SpatialConvolution(1, 2, 3, 3, pad_w=1, pad_h=1).set_name("conv"))
            .add(SpatialBatchNormalization(2).set_name("bn"))
            .add(ReLU())
            .add(Reshape([32], batch_mode=True))
            .add(Linear(32, 3).set_name("fc")))


class Block(BigDLAPI, torch.nn.Module):
    """A user class building its layers in its constructor (not under mxtorch.nn)."""

    def __init__(self, width, scale=2.0):
        torch.nn.Module.__init__(self)
        self.inner = torch.nn.Linear(4, width)
        self.scale = scale

    def forward(self, x):
        return self.inner(x) * self.scale


def test_save_load_module_round_trip(tmp_path):
    net = _net()
    x = torch.randn(3, 1, 4, 4)
    net.forward(x)                       # moves BN's running statistics
    net.layers[4].freeze()
    net.evaluate()
    path = str(tmp_path / "net.bigdl")
    assert net.save_module(path) is net
    assert net.output is None            # cleared first, as BigDL
    loaded = BigDLAPI.load_module(path)
    assert [layer.get_name() for layer in loaded.layers] == \
        [layer.get_name() for layer in net.layers]
    assert loaded.layers[4].get_scale_w() == 0 and not loaded.is_training()
    assert torch.equal(loaded.layers[1].running_mean, net.layers[1].running_mean)
    assert torch.equal(loaded.forward(x), net.forward(x))
    with safe_open(path, framework="pt") as f:          # a plain safetensors file
        meta = json.loads(f.metadata()["mxtorch.bigdl.module"])
        assert "0.weight" in set(f.keys()) and "1.running_var" in set(f.keys())
    assert meta["root"]["class"] == "mxtorch.nn.bigdl_layers.Sequential"
    with pytest.raises(MXNetValueError, match="already exists"):
        net.save_module(path)
    net.save_module(path, over_write=True)


def test_separate_weight_file_and_graph(tmp_path):
    torch.manual_seed(3)
    x = Input()
    h = Linear(3, 4).set_name("h").inputs(x)
    out = Linear(4, 2).set_name("out").inputs(ReLU().inputs(h))
    model = Model(x, out)
    defn, weights = str(tmp_path / "g.def"), str(tmp_path / "g.weights")
    model.save_module(defn, weight_path=weights)
    with safe_open(defn, framework="pt") as f:
        assert list(f.keys()) == []
    loaded = BigDLAPI.load_module(defn, weight_path=weights)
    inp = torch.randn(5, 3)
    assert isinstance(loaded, Model) and loaded.node("out").get_name() == "out"
    assert torch.equal(loaded.forward(inp), model.forward(inp))


def test_allow_list_and_user_classes(tmp_path):
    torch.manual_seed(4)
    net = Sequential(Block(3, scale=0.5), ReLU())
    path = str(tmp_path / "user.bigdl")
    net.save_module(path)
    with pytest.raises(MXNetValueError, match="not under mxtorch.nn.*allowed_classes"):
        BigDLAPI.load_module(path)
    loaded = BigDLAPI.load_module(path, allowed_classes=[Block])
    x = torch.randn(2, 4)
    assert loaded.layers[0].scale == 0.5
    assert torch.equal(loaded.forward(x), net.forward(x))


def test_unsavable_parts_are_named(tmp_path):
    net = Sequential(TorchLayer(torch.nn.Linear(2, 2)))
    with pytest.raises(MXNetTypeError, match="cannot be saved|constructor arguments"):
        net.save_module(str(tmp_path / "x"))
    assert not os.path.exists(tmp_path / "x")


def test_load_rejects_foreign_files(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(FormatError):
        BigDLAPI.load_module(str(path))
    net = _net()
    net.save_weights(str(tmp_path / "w"))
    with pytest.raises(FormatError, match="no module definition"):
        BigDLAPI.load_module(str(tmp_path / "w"))


def test_save_and_load_weights_by_layer_name(tmp_path):
    src, dst = _net(), _net()
    with torch.no_grad():
        for w in dst.parameters()[0]:
            w.zero_()
    path = str(tmp_path / "w.st")
    src.save_weights(path)
    with safe_open(path, framework="pt") as f:
        assert set(f.keys()) == {"conv/weight", "conv/bias", "bn/weight", "bn/bias",
                                 "fc/weight", "fc/bias"}      # no running statistics
    dst.load_weights(path)
    for a, b in zip(src.parameters()[0], dst.parameters()[0]):
        assert torch.equal(a, b)
    assert float(dst.layers[1].running_var.sum()) == 2.0     # untouched


def test_load_model_weights_match_all():
    src = Sequential(Linear(2, 3).set_name("a"), Linear(3, 1).set_name("b"))
    dst = Sequential(Linear(2, 3).set_name("a"), Linear(3, 1).set_name("c"))
    before = dst.layers[1].weight.detach().clone()
    with pytest.raises(MXNetValueError, match=r"no weights for layers \['c'\]"):
        dst.load_model_weights(src)
    assert not torch.equal(dst.layers[0].weight, src.layers[0].weight)   # nothing copied
    assert dst.load_model_weights(src, match_all=False) is dst
    assert torch.equal(dst.layers[0].weight, src.layers[0].weight)
    assert torch.equal(dst.layers[1].weight, before)
    bad = Sequential(Linear(2, 4).set_name("a"))
    with pytest.raises(MXNetValueError, match="shape"):
        bad.load_model_weights(src, match_all=False)
    assert np.isfinite(bad.layers[0].weight.detach().numpy()).all()


def test_nnabla_module_round_trip(tmp_path):
    import mxtorch.nn as nn
    import mxtorch.nn.functions as F
    import mxtorch.nn.parametric_functions as PF

    class Net(nn.Module):
        def __init__(self, hidden):
            self.hidden = hidden

        def call(self, x):
            h = PF.batch_normalization(PF.affine(x, self.hidden, name="fc1"))
            return PF.affine(F.relu(h), 2, name="fc2")

    net = Net(5)
    x = torch.randn(4, 3)
    net.forward(x)                  # creates the parameters (nnabla makes them lazily)
    net.evaluate()
    path = str(tmp_path / "nnabla.bigdl")
    net.save_module(path)
    loaded = BigDLAPI.load_module(path, allowed_classes=[Net])
    assert loaded.hidden == 5
    assert list(loaded.get_parameters()) == list(net.get_parameters())
    assert [v.need_grad for v in loaded.get_parameters().values()] == \
        [v.need_grad for v in net.get_parameters().values()]
    assert torch.allclose(loaded.forward(x), net.forward(x), atol=1e-6)
