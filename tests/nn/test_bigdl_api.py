"""BigDL's AbstractModule API on the mixin: forward/backward against torch autograd on
the same functions, gradient accumulation and scales, freeze, parameter tables, extra
parameters, modes, names, copies, shapes, reset, printing; on BigDL layers, on a plain
torch module with the mixin and on an nnabla-style mxtorch.nn.Module."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError, StateError
from mxtorch.nn.bigdl_api import BigDLAPI
from mxtorch.nn.bigdl_layers import (Linear, LogSoftMax, ReLU, Sequential,
                                     SpatialBatchNormalization, SpatialConvolution, Tanh)


def _mlp():
    torch.manual_seed(0)
    return Sequential(Linear(4, 5).set_name("fc1"), Tanh(), Linear(5, 3).set_name("fc2"))


def _reference(model, x):
    """Output and gradients of the MLP computed by torch functional calls on copies."""
    w1, b1 = model.layers[0].weight.detach().clone(), model.layers[0].bias.detach().clone()
    w2, b2 = model.layers[2].weight.detach().clone(), model.layers[2].bias.detach().clone()
    params = [w1.requires_grad_(), b1.requires_grad_(), w2.requires_grad_(),
              b2.requires_grad_()]
    xr = torch.as_tensor(x).clone().requires_grad_()
    out = tF.linear(torch.tanh(tF.linear(xr, w1, b1)), w2, b2)
    return out, xr, params


def test_forward_backward_match_autograd():
    model = _mlp()
    x = np.random.RandomState(1).randn(6, 4).astype(np.float32)
    g = np.random.RandomState(2).randn(6, 3).astype(np.float32)
    out = model.forward(x)
    grad_in = model.backward(x, g)
    ref, xr, params = _reference(model, x)
    ref.backward(torch.as_tensor(g))
    assert torch.allclose(out, ref, atol=1e-6)
    assert torch.allclose(grad_in, xr.grad, atol=1e-6)
    weights, grads = model.parameters()
    assert [tuple(w.shape) for w in weights] == [(5, 4), (5,), (3, 5), (3,)]
    for got, p in zip(grads, params):
        assert torch.allclose(got, p.grad, atol=1e-6)
    # cached activities
    assert model.output is out and model.grad_input is grad_in
    assert torch.equal(model.layers[1].output, torch.tanh(model.layers[0].output))


def test_gradients_accumulate_and_zero():
    model = _mlp()
    x, g = torch.randn(3, 4), torch.randn(3, 3)
    model.forward(x)
    model.backward(x, g)
    once = [t.clone() for t in model.parameters()[1]]
    model.backward(x, g)
    for a, b in zip(once, model.parameters()[1]):
        assert torch.allclose(2 * a, b, atol=1e-6)
    model.zero_grad_parameters()
    assert all(float(t.abs().sum()) == 0 for t in model.parameters()[1])


def test_update_grad_input_and_acc_grad_parameters_separately():
    model = _mlp()
    x, g = torch.randn(3, 4), torch.randn(3, 3)
    model.forward(x)
    gi = model.update_grad_input(x, g)
    assert all(float(t.abs().sum()) == 0 for t in model.parameters()[1])
    model.acc_grad_parameters(x, g)
    ref, xr, params = _reference(model, x)
    ref.backward(g)
    assert torch.allclose(gi, xr.grad, atol=1e-6)
    for got, p in zip(model.parameters()[1], params):
        assert torch.allclose(got, p.grad, atol=1e-6)


def test_update_parameters_is_sgd():
    model = _mlp()
    x, g = torch.randn(3, 4), torch.randn(3, 3)
    model.zero_grad_parameters()
    model.forward(x)
    model.backward(x, g)
    before = [w.detach().clone() for w in model.parameters()[0]]
    grads = [t.clone() for t in model.parameters()[1]]
    model.update_parameters(0.5)
    for w, b, gr in zip(model.parameters()[0], before, grads):
        assert torch.allclose(w, b - 0.5 * gr, atol=1e-7)


def test_scales_and_freeze():
    model = _mlp()
    x, g = torch.randn(3, 4), torch.randn(3, 3)
    model.forward(x)
    model.backward(x, g)
    raw = [t.clone() for t in model.parameters()[1]]
    model.zero_grad_parameters()
    model.set_scale_w(2.0).set_scale_b(0.5)
    assert model.layers[0].get_scale_w() == 2.0 and model.layers[2].get_scale_b() == 0.5
    model.forward(x)
    model.backward(x, g)
    got = model.parameters()[1]
    for i, (a, b) in enumerate(zip(raw, got)):
        assert torch.allclose(b, a * (0.5 if i % 2 else 2.0), atol=1e-6)
    model.set_scale_w(1.0).set_scale_b(1.0).zero_grad_parameters()
    model.freeze(["fc1"])
    model.forward(x)
    gi = model.backward(x, g)
    got = model.parameters()[1]
    assert float(got[0].abs().sum()) == 0 and float(got[1].abs().sum()) == 0
    assert torch.allclose(got[2], raw[2], atol=1e-6)
    assert float(gi.abs().sum()) > 0            # gradInput still computed
    model.freeze(["fc1"])                       # twice is safe: the cache keeps 1.0
    model.unfreeze(["fc1"])
    assert model.layers[0].get_scale_w() == 1.0
    with pytest.raises(MXNetValueError, match="cannot match module named nope"):
        model.freeze(["nope"])
    model.freeze()
    assert all(layer.get_scale_w() == 0 for layer in model.layers)
    model.unfreeze()
    assert all(layer.get_scale_w() == 1.0 for layer in model.layers)


def test_unfreeze_without_freeze_restores_one():
    layer = Linear(2, 2)
    layer.set_scale_w(3.0)
    layer.unfreeze()
    assert layer.get_scale_w() == 1.0 and layer.get_scale_b() == 1.0


def test_parameters_table_naming():
    model = _mlp()
    table = model.get_parameters_table()
    assert set(table) == {"fc1", "fc2"}
    assert set(table["fc1"]) == {"weight", "bias", "gradWeight", "gradBias"}
    assert table["fc1"]["weight"] is model.layers[0].weight     # live tensors
    assert set(Linear(3, 2, with_bias=False).get_parameters_table().popitem()[1]) == \
        {"weight", "gradWeight"}
    bn = SpatialBatchNormalization(3).set_name("bn")
    assert set(bn.get_parameters_table()["bn"]) == {"weight", "bias", "gradWeight", "gradBias",
                                                    "runningMean", "runningVar"}
    assert ReLU().get_parameters_table() is None
    assert ReLU().parameters() is None


class ThreeParams(BigDLAPI, torch.nn.Module):
    """A plain torch module under the mixin with three parameters and its own forward."""

    def __init__(self):
        torch.nn.Module.__init__(self)
        self.a = torch.nn.Parameter(torch.ones(2))
        self.b = torch.nn.Parameter(torch.full((2,), 2.0))
        self.c = torch.nn.Parameter(torch.full((2,), 3.0))

    def forward(self, x):
        return x * self.a + self.b * self.c


def test_mixin_on_plain_torch_module():
    m = ThreeParams()
    assert set(m.get_parameters_table()["ThreeParams@" + m.get_name().split("@")[1]]) == {
        "weight0", "weight1", "weight2", "gradient0", "gradient1", "gradient2"}
    x = torch.tensor([[1.0, 2.0]])
    y = m(x)                       # torch's __call__ goes through BigDL's forward
    assert torch.equal(y, torch.tensor([[7.0, 8.0]])) and m.output is y
    gi = m.backward(x, torch.ones(1, 2))
    assert torch.equal(gi, torch.ones(1, 2))
    w, g = m.parameters()
    assert [t.tolist() for t in g] == [[1.0, 2.0], [3.0, 3.0], [2.0, 2.0]]
    # torch's iterator stays available with its argument
    assert len(list(m.parameters(recurse=True))) == 3
    m.zero_grad()
    assert m.a.grad is None


def test_extra_parameters():
    bn = SpatialBatchNormalization(3)
    mean, var = bn.get_extra_parameter()
    assert torch.equal(mean, torch.zeros(3)) and torch.equal(var, torch.ones(3))
    bn.set_extra_parameter([np.arange(3, dtype=np.float32), np.full(3, 2.0, np.float32)])
    assert bn.running_mean.tolist() == [0, 1, 2] and bn.running_var.tolist() == [2, 2, 2]
    with pytest.raises(MXNetValueError, match="has 2 tensors, 1 were given"):
        bn.set_extra_parameter([np.zeros(3)])
    with pytest.raises(MXNetValueError, match="shape"):
        bn.set_extra_parameter([np.zeros(4), np.zeros(3)])
    assert bn.running_mean.tolist() == [0, 1, 2]            # nothing changed
    assert Linear(2, 2).get_extra_parameter() is None
    seq = Sequential(SpatialConvolution(1, 3, 1, 1), SpatialBatchNormalization(3))
    assert len(seq.get_extra_parameter()) == 2


def test_training_and_evaluation_mode():
    model = Sequential(Linear(2, 2), SpatialBatchNormalization(2))
    assert model.is_training()
    assert model.evaluate() is model
    assert not model.is_training() and not model.layers[1].is_training()
    assert model.set_training() is model and model.layers[1].training
    model.set_training(False)
    assert not model.layers[0].is_training()


def test_names():
    a, b = Linear(2, 2), Linear(2, 2)
    assert re.fullmatch(r"Linear@[0-9a-f]+", a.get_name())
    assert a.get_name() == a.get_name() and a.get_name() != b.get_name()
    assert not a.has_name()
    assert a.set_name("fc") is a and a.get_name() == "fc" and a.has_name()
    with pytest.raises(MXNetTypeError):
        a.set_name("")


def test_times_sum_to_total():
    model = _mlp()
    x, g = torch.randn(3, 4), torch.randn(3, 3)
    for _ in range(3):
        model.forward(x)
        model.backward(x, g)
    times = model.get_times()
    assert [t[0] for t in times] == model.layers + [model]
    st = model.__dict__["_bigdl_state"]
    assert sum(t[1] for t in times) == st.forward_ns
    assert sum(t[2] for t in times) == st.backward_ns
    assert all(t[1] > 0 and t[2] > 0 for t in times[:-1])
    grouped = model.get_times_group_by_module_type()
    assert {name for name, _, _ in grouped} == {"mxtorch.nn.bigdl_layers.Linear",
                                                "mxtorch.nn.bigdl_layers.Tanh",
                                                "mxtorch.nn.bigdl_layers.Sequential"}
    totals = [f + b for _, f, b in grouped]
    assert totals == sorted(totals, reverse=True)
    model.reset_times()
    assert all(t[1] == 0 and t[2] == 0 for t in model.get_times())


def test_clone_deep_and_shallow():
    model = _mlp()
    x = torch.randn(2, 4)
    model.forward(x)
    deep, shallow = model.clone_module(), model.clone_module(deep=False)
    assert deep.output is None and model.output is not None
    assert deep.layers[0].get_name() == "fc1"
    with torch.no_grad():
        model.layers[0].weight.add_(1.0)
    assert torch.equal(shallow.layers[0].weight, model.layers[0].weight)
    assert not torch.equal(deep.layers[0].weight, model.layers[0].weight)
    assert shallow.layers[0].weight is not model.layers[0].weight


def test_clear_state_release_and_backward_errors():
    model = _mlp()
    x = torch.randn(2, 4)
    with pytest.raises(StateError, match="call forward"):
        model.layers[0].backward(x, torch.ones(2, 5))
    model.forward(x)
    with pytest.raises(MXNetValueError, match="grad_output of shape"):
        model.layers[2].backward(x, torch.ones(2, 4))
    assert model.clear_state() is model and model.output is None
    with pytest.raises(StateError):
        model.layers[0].backward(x, torch.ones(2, 5))
    assert model.release() is model


def test_shapes_and_numeric_type():
    model = _mlp()
    with pytest.raises(StateError, match="not run forward"):
        model.get_input_shape()
    model.forward(torch.randn(7, 4))
    assert model.get_input_shape() == (7, 4) and model.get_output_shape() == (7, 3)
    assert model.get_numeric_type() == "float"
    assert Linear(2, 2).double().get_numeric_type() == "double"


def test_reset_default_and_with_initializer():
    layer = Linear(16, 8)
    with torch.no_grad():
        layer.weight.fill_(5.0)
    layer.reset()
    bound = 1 / np.sqrt(16)
    assert float(layer.weight.detach().abs().max()) <= bound
    assert float(layer.weight.detach().std()) > 0
    assert float(layer.bias.detach().abs().max()) <= bound
    layer.reset(mx.init.Constant(0.25))      # 'weight' -> the initializer, bias -> 0
    assert float(layer.weight.detach().min()) == 0.25 == float(layer.weight.detach().max())
    assert float(layer.bias.detach().abs().sum()) == 0
    bn = SpatialBatchNormalization(2)
    bn.running_mean.fill_(3.0)
    bn.reset("xavier")
    assert bn.weight.tolist() == [1.0, 1.0] and bn.running_mean.tolist() == [0.0, 0.0]
    with pytest.raises(MXNetTypeError):
        layer.reset(3)


def test_to_string_with_line():
    model = Sequential(Linear(2, 2).set_name("a"), ReLU().set_name("r")).set_name("net")
    text = model.to_string()
    assert text.splitlines()[0] == "Sequential[net]{"
    assert "  [input -> (1) -> (2) -> output]" in text
    assert "  (1): Linear[a](in_features=2, out_features=2, bias=True)" in text
    assert str(model) == text
    model.set_line(" | ")
    assert model.to_string().startswith("Sequential[net]{ |   [input -> (1) -> (2) -> output]")


def test_log_softmax_and_table_input():
    class Add(BigDLAPI, torch.nn.Module):
        def __init__(self):
            torch.nn.Module.__init__(self)

        def update_output(self, input):
            return input[0] * input[1]
    m = Add()
    a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])
    assert torch.equal(m.forward([a, b]), torch.tensor([[3.0, 8.0]]))
    ga, gb = m.backward([a, b], torch.ones(1, 2))
    assert torch.equal(ga, b) and torch.equal(gb, a)
    assert m.get_input_shape() == [(1, 2), (1, 2)]
    out = LogSoftMax().forward(torch.tensor([[0.0, 0.0]]))
    assert torch.allclose(out, torch.log(torch.tensor([[0.5, 0.5]])))


def test_forward_error_names_module():
    layer = Linear(3, 2).set_name("fc")
    with pytest.raises(mx.base.MXNetRuntimeError, match="fc.forward"):
        layer.forward(torch.zeros(2, 5))


def test_nnabla_module_under_the_mixin():
    import mxtorch.nn as nn
    import mxtorch.nn.functions as F
    import mxtorch.nn.parametric_functions as PF

    class Net(nn.Module):
        def call(self, x):
            return PF.affine(F.tanh(PF.affine(x, 5, name="fc1")), 3, name="fc2")

    net = Net()
    x, g = torch.randn(4, 6), torch.randn(4, 3)
    y = net.forward(x)
    gi = net.backward(x, g)
    params = net.get_parameters()
    assert list(params) == ["fc1/affine/W", "fc1/affine/b", "fc2/affine/W", "fc2/affine/b"]
    w1, b1, w2, b2 = [p.data.tensor.clone().requires_grad_() for p in params.values()]
    xr = x.clone().requires_grad_()
    ref = torch.tanh(xr @ w1 + b1) @ w2 + b2       # nnabla's affine W is (in, out)
    ref.backward(g)
    assert torch.allclose(y, ref, atol=1e-5) and torch.allclose(gi, xr.grad, atol=1e-5)
    for p, r in zip(params.values(), (w1, b1, w2, b2)):
        assert np.allclose(p.g, r.grad.numpy(), atol=1e-5)
    net.freeze().zero_grad_parameters()
    net.forward(x)
    net.backward(x, g)
    assert all(float(np.abs(p.g).sum()) == 0 for p in params.values())
    assert len(net.parameters()[0]) == 4


def test_weights_find_module_and_unported_savers():
    model = _mlp()
    weights = model.get_weights()
    assert [tuple(w.shape) for w in weights] == [(5, 4), (5,), (3, 5), (3,)]
    new = [np.full(tuple(w.shape), float(i), np.float32) for i, w in enumerate(weights)]
    assert model.set_weights(new) is model
    assert float(model.layers[2].weight.detach()[0, 0]) == 2.0
    with pytest.raises(MXNetValueError, match="4 tensors, 3 were given"):
        model.set_weights(new[:3])
    with pytest.raises(MXNetValueError, match="shape"):
        model.set_weights(new[::-1])
    assert float(model.layers[0].bias.detach()[0]) == 1.0      # unchanged by the failures
    assert ReLU().get_weights() is None
    assert model.find_module("fc2") is model.layers[2] and model.find_module("x") is None
    Linear(2, 2).set_name("dup")
    twice = Sequential(Linear(2, 2).set_name("dup"), Linear(2, 2).set_name("dup"))
    with pytest.raises(MXNetValueError, match="2 modules are named 'dup'"):
        twice.find_module("dup")
    for call in (model.save_caffe, model.save_tf, model.save_torch):
        with pytest.raises(mx.base.MXNetNotImplementedError, match="issue 6"):
            call("/tmp/never")


def test_sequential_to_graph_shares_layers():
    model = _mlp()
    graph = model.to_graph()
    x = torch.randn(2, 4)
    assert torch.equal(graph.forward(x), model.forward(x))
    assert graph.node("fc1") is model.layers[0]
