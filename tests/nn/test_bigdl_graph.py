"""Graph building: ``module.inputs(*nodes)``, ``Input()`` and ``Model(inputs, outputs)``;
outputs and gradients checked against torch autograd on the same functions, several
inputs and outputs, Table outputs selected by 1-based index, and the errors."""
import pytest
import torch

from mxtorch.base import MXNetTypeError, MXNetValueError
from mxtorch.nn.bigdl_api import BigDLAPI
from mxtorch.nn.bigdl_graph import Input, Model, Node
from mxtorch.nn.bigdl_layers import Linear, ReLU, Tanh


class Mul(BigDLAPI, torch.nn.Module):
    """Element-wise product of a Table of two tensors."""

    def __init__(self):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return input[0] * input[1]


class Split(BigDLAPI, torch.nn.Module):
    """A Table output: the input and its square."""

    def __init__(self):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return [input, input * input]


def _diamond():
    torch.manual_seed(0)
    x = Input()
    a = Linear(3, 4).set_name("a").inputs(x)
    b = Tanh().inputs(a)
    c = Linear(3, 4).set_name("c").inputs(x)
    m = Mul().inputs(b, c)
    out = ReLU().inputs(m)
    return Model(x, out)


def test_diamond_matches_autograd():
    model = _diamond()
    x, g = torch.randn(5, 3), torch.randn(5, 4)
    y = model.forward(x)
    gi = model.backward(x, g)
    a, c = model.node("a"), model.node("c")
    xr = x.clone().requires_grad_()
    wa, ba, wc, bc = (t.detach().clone().requires_grad_() for t in (a.weight, a.bias,
                                                                   c.weight, c.bias))
    ref = torch.relu(torch.tanh(xr @ wa.T + ba) * (xr @ wc.T + bc))
    ref.backward(g)
    assert torch.allclose(y, ref, atol=1e-6)
    assert torch.allclose(gi, xr.grad, atol=1e-6)     # both branches summed
    assert torch.allclose(a.weight.grad, wa.grad, atol=1e-6)
    assert torch.allclose(c.bias.grad, bc.grad, atol=1e-6)
    assert set(model.get_parameters_table()) == {"a", "c"}
    assert len(model.get_times()) == len(model.layers) + 1


def test_several_inputs_outputs_and_table_index():
    torch.manual_seed(1)
    i1, i2 = Input(), Input()
    s = Split().inputs(i1)
    prod = Mul().inputs((s, 2), i2)          # the square of input 1 times input 2
    ident = Tanh().inputs((s, 1))
    model = Model([i1, i2], [prod, ident])
    x1, x2 = torch.randn(2, 3), torch.randn(2, 3)
    y1, y2 = model.forward([x1, x2])
    assert torch.allclose(y1, x1 * x1 * x2) and torch.allclose(y2, torch.tanh(x1))
    g1, g2 = torch.randn(2, 3), torch.randn(2, 3)
    d1, d2 = model.backward([x1, x2], [g1, g2])
    r1, r2 = x1.clone().requires_grad_(), x2.clone().requires_grad_()
    ((r1 * r1 * r2) * g1 + torch.tanh(r1) * g2).sum().backward()
    assert torch.allclose(d1, r1.grad, atol=1e-6) and torch.allclose(d2, r2.grad, atol=1e-6)


def test_graph_errors():
    x = Input()
    lin = Linear(2, 2)
    with pytest.raises(MXNetValueError, match="used by two nodes"):
        Model(x, ReLU().inputs(lin.inputs(x), lin.inputs(x)))
    stray = Linear(2, 2).inputs()
    with pytest.raises(MXNetValueError, match="not one of the model's inputs"):
        Model(x, Mul().inputs(ReLU().inputs(x), stray))
    with pytest.raises(MXNetTypeError, match="graph nodes"):
        Linear(2, 2).inputs(torch.zeros(2))
    with pytest.raises(MXNetValueError, match="1-based"):
        Node(ReLU(), [(x, 0)])
    model = Model(x, ReLU().set_name("r").inputs(x))
    assert model.node("r").get_name() == "r"
    with pytest.raises(MXNetValueError, match="no module named"):
        model.node("q")
    i1, i2 = Input(), Input()
    two = Model([i1, i2], Mul().inputs(i1, i2))
    with pytest.raises(MXNetValueError, match="2 inputs expected, got 3"):
        two.forward([torch.zeros(1)] * 3)
