"""Module.to_torch(): a plain torch.nn.Module (SymbolNet) holding the trained weights that
computes what the Module computes: predict in eval mode, the training forward (BatchNorm
batch statistics and moving-average updates) in train mode, and gradients through autograd
equal to the executor's."""
import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.base import MXNetKeyError, MXNetTypeError, MXNetValueError, StateError
from mxtorch.export import SymbolNet


def cnn():
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, pad=(1, 1), name="conv")
    net = mx.sym.BatchNorm(net, fix_gamma=False, name="bn")
    net = mx.sym.Activation(net, act_type="relu", name="relu")
    net = mx.sym.Pooling(net, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool")
    net = mx.sym.Dropout(net, p=0.5, name="drop")
    net = mx.sym.FullyConnected(mx.sym.Flatten(net), num_hidden=5, name="fc")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def bound_module(batch=6):
    mx.random.seed(3)
    mod = mx.mod.Module(cnn())
    mod.bind([("data", (batch, 2, 6, 6))], [("softmax_label", (batch,))])
    mod.init_params(mx.init.Xavier(magnitude=2.0))
    arg, aux = mod.get_params()
    rng = np.random.RandomState(0)
    aux["bn_moving_mean"][:] = rng.rand(4).astype(np.float32)
    aux["bn_moving_var"][:] = (rng.rand(4) + 0.5).astype(np.float32)
    arg["bn_gamma"][:] = (rng.rand(4) + 0.5).astype(np.float32)
    mod.set_params(arg, aux)
    return mod


def batch(n=6):
    rng = np.random.RandomState(1)
    x = rng.rand(n, 2, 6, 6).astype(np.float32)
    y = rng.randint(0, 5, n).astype(np.float32)
    return x, y


def test_holds_the_weights_as_parameters_and_buffers():
    mod = bound_module()
    net = mod.to_torch()
    arg, aux = mod.get_params()
    assert isinstance(net, torch.nn.Module) and not net.training
    assert sorted(n for n, _ in net.named_parameters()) == sorted(arg)
    assert sorted(n for n, _ in net.named_buffers()) == sorted(aux)
    state = net.state_dict()
    for name, value in list(arg.items()) + list(aux.items()):
        np.testing.assert_array_equal(state[name].numpy(), value.asnumpy())
    assert net.input_names == ["data"] and net.label_names == ["softmax_label"]


def test_eval_mode_is_predict():
    mod = bound_module()
    x, _ = batch()
    expected = mod.predict(mx.io.NDArrayIter(x, batch_size=6)).asnumpy()
    out = mod.to_torch()(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    # another batch size than the bound one
    out3 = mod.to_torch()(data=torch.from_numpy(x[:3]))
    np.testing.assert_allclose(out3.detach().numpy(), expected[:3], rtol=1e-5, atol=1e-6)


def test_train_mode_is_the_training_forward_and_backward():
    """Same outputs, BatchNorm moving statistics and parameter gradients as the executor
    (Dropout is random, so p is compared on a copy of the net without it)."""
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv")
    net = mx.sym.BatchNorm(net, fix_gamma=False, name="bn")
    net = mx.sym.FullyConnected(mx.sym.Flatten(net), num_hidden=5, name="fc")
    sym = mx.sym.SoftmaxOutput(net, name="softmax")
    mx.random.seed(5)
    mod = mx.mod.Module(sym)
    mod.bind([("data", (6, 2, 6, 6))], [("softmax_label", (6,))])
    mod.init_params(mx.init.Xavier())
    tnet = mod.to_torch().train()
    x, y = batch()
    mod.forward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]), is_train=True)
    mod.backward()
    out = tnet(torch.from_numpy(x), softmax_label=torch.from_numpy(y))
    np.testing.assert_allclose(out.detach().numpy(), mod.get_outputs()[0].asnumpy(),
                               rtol=1e-5, atol=1e-6)
    out.backward(torch.ones_like(out))  # loss head: MXNet's gradient whatever comes in
    ex = mod._exec_group.execs[0]
    for name, p in tnet.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ex.grad_dict[name].asnumpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)
    for name, b in tnet.named_buffers():
        np.testing.assert_allclose(b.numpy(), ex.aux_dict[name].asnumpy(), rtol=1e-5,
                                   atol=1e-7, err_msg=name)
    # the moving mean moved away from its initial zeros, so the check above means something
    assert np.abs(tnet.bn_moving_mean.numpy()).max() > 1e-4


def test_to_torch_is_a_copy():
    mod = bound_module()
    net = mod.to_torch()
    with torch.no_grad():
        net.fc_weight.zero_()
    assert np.abs(mod.get_params()[0]["fc_weight"].asnumpy()).max() > 0


def test_to_torch_before_init_params_is_refused():
    mod = mx.mod.Module(cnn())
    with pytest.raises(StateError, match="to_torch: parameters are not initialized"):
        mod.to_torch()


def test_several_outputs_come_back_as_a_tuple():
    data = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    sym = mx.sym.Group([fc, mx.sym.Activation(fc, act_type="tanh", name="act")])
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    net = SymbolNet(sym, {"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.zeros(3)})
    x = np.ones((2, 4), np.float32)
    a, b = net(torch.from_numpy(x))
    np.testing.assert_allclose(a.detach().numpy(), x @ w.T, rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), np.tanh(x @ w.T), rtol=1e-6)


def test_bad_construction_and_calls_are_named():
    sym = cnn()
    mod = bound_module()
    arg, aux = mod.get_params()
    with pytest.raises(MXNetTypeError, match="symbol must be an mx.sym.Symbol"):
        SymbolNet("net.json", arg, aux)
    partial = {k: v for k, v in arg.items() if k != "fc_bias"}
    with pytest.raises(MXNetValueError, match=r"no value for the parameters \['fc_bias'\]"):
        SymbolNet(sym, partial, aux, input_names=["data"])
    # without input_names, an argument with no value is an input (as mx.onnx decides)
    assert SymbolNet(sym, partial, aux).input_names == ["data", "fc_bias"]
    with pytest.raises(MXNetValueError, match=r"\['extra'\] are not parameters"):
        SymbolNet(sym, dict(arg, extra=mx.nd.zeros(1)), aux)
    with pytest.raises(MXNetValueError, match="input 'nope' is not an argument"):
        SymbolNet(sym, arg, aux, input_names=["nope"])
    net = SymbolNet(sym, arg, aux)
    x = torch.zeros(2, 2, 6, 6)
    with pytest.raises(MXNetValueError, match="2 positional inputs given"):
        net(x, x)
    with pytest.raises(MXNetKeyError, match="unknown input 'label'"):
        net(x, label=x)
    with pytest.raises(MXNetValueError, match=r"missing inputs \['data'\]"):
        net()


def test_dotted_names_and_fixed_parameters():
    data = mx.sym.Variable("data")
    sym = mx.sym.FullyConnected(data, weight=mx.sym.Variable("dense.weight"),
                                bias=mx.sym.Variable("dense.bias"), num_hidden=2, name="fc")
    mod = mx.mod.Module(sym, label_names=None, fixed_param_names=["dense.bias"])
    mod.bind([("data", (1, 3))], for_training=False)
    mod.init_params(arg_params={"dense.weight": mx.nd.ones((2, 3)),
                                "dense.bias": mx.nd.array([0.5, -1.0])})
    net = mod.to_torch()
    grads = {n: p.requires_grad for n, p in net.named_parameters()}
    assert grads == {"dense__weight": True, "dense__bias": False}
    out = net(torch.ones(1, 3))
    np.testing.assert_allclose(out.detach().numpy(), [[3.5, 2.0]])
