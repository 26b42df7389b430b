"""mx.mod.TorchModule: define-by-run networks (BigDL layers, plain torch modules, nnabla
modules) as MXNet modules. One training step equals the symbolic Module's on the same
network (FullyConnected + SoftmaxOutput, itself checked against MXNet 1.9.1); a chain
mixing a symbolic Module and a TorchModule equals the single symbolic Module; MXNet
names, initializers, .params checkpoints, fit to >= 95% on the digits, and errors."""
import importlib.util
import os

import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.base import (MXNetNotImplementedError, MXNetRuntimeError, MXNetTypeError,
                          MXNetValueError, StateError)
from mxtorch.datasets import load_digits
from mxtorch.module.torch_module import TorchModule
from mxtorch.nn.bigdl_layers import BatchNormalization, Linear, ReLU, Sequential

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _batch(n=8, d=6, classes=4, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, d).astype(np.float32)
    y = rng.randint(0, classes, size=n).astype(np.float32)
    return mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]), x, y


def _symbolic(hidden=None, classes=4):
    data = mx.sym.Variable("data")
    h = data
    if hidden:
        h = mx.sym.Activation(mx.sym.FullyConnected(h, num_hidden=hidden, name="fc1"),
                              act_type="relu")
    out = mx.sym.FullyConnected(h, num_hidden=classes, name="fc2")
    return mx.mod.Module(mx.sym.SoftmaxOutput(out, name="softmax"))


def _step(mod, batch, init_args):
    mod.bind(data_shapes=[("data", batch.data[0].shape)],
             label_shapes=[("softmax_label", batch.label[0].shape)])
    mod.init_params(initializer=None, arg_params=init_args, allow_missing=False)
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.5,
                                                          "momentum": 0.9})
    for _ in range(2):
        mod.forward(batch, is_train=True)
        mod.backward()
        mod.update()
    return mod.get_params()[0]


def test_one_step_equals_symbolic_module():
    batch, _, _ = _batch()
    torch.manual_seed(0)
    net = Linear(6, 4).set_name("fc2")
    init = {"fc2_weight": mx.nd.array(np.random.RandomState(1).randn(4, 6) * 0.1),
            "fc2_bias": mx.nd.array(np.random.RandomState(2).randn(4) * 0.1)}
    got = _step(TorchModule(net, loss="softmax_ce"), batch, init)
    ref = _step(_symbolic(), batch, init)
    assert set(got) == set(ref) == {"fc2_weight", "fc2_bias"}
    for k in ref:
        assert np.allclose(got[k].asnumpy(), ref[k].asnumpy(), atol=1e-6), k


@pytest.mark.parametrize("torch_first", [False, True])
def test_sequential_chain_mixing_symbolic_and_torch(torch_first):
    batch, _, _ = _batch(seed=3)
    rng = np.random.RandomState(4)
    init = {"fc1_weight": mx.nd.array(rng.randn(5, 6) * 0.3), "fc1_bias": mx.nd.zeros((5,)),
            "fc2_weight": mx.nd.array(rng.randn(4, 5) * 0.3), "fc2_bias": mx.nd.zeros((4,))}
    ref = _step(_symbolic(hidden=5), batch, init)
    seq = mx.mod.SequentialModule()
    if torch_first:
        first = TorchModule(Sequential(Linear(6, 5).set_name("fc1"), ReLU()), label_names=None)
        head = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=4, name="fc2")
        seq.add(first).add(mx.mod.Module(mx.sym.SoftmaxOutput(head, name="softmax")),
                           take_labels=True, auto_wiring=True)
    else:
        body = mx.sym.Activation(mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=5,
                                                       name="fc1"), act_type="relu")
        seq.add(mx.mod.Module(body, label_names=[]))
        seq.add(TorchModule(Linear(5, 4).set_name("fc2"), loss="softmax_ce"),
                take_labels=True, auto_wiring=True)
    got = _step(seq, batch, init)
    for k in ref:
        assert np.allclose(got[k].asnumpy(), ref[k].asnumpy(), atol=1e-5), k


def test_names_initializers_and_params():
    torch.manual_seed(0)
    net = Sequential(Linear(3, 4).set_name("fc"), BatchNormalization(4).set_name("bn"))
    mod = TorchModule(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)),
                      label_names=None)
    mod.bind([("data", (5, 3))], for_training=False)
    mod.init_params(mx.init.Constant(0.5))
    args, auxs = mod.get_params()
    assert sorted(args) == ["0_bias", "0_weight", "1_beta", "1_gamma"]
    assert sorted(auxs) == ["1_moving_mean", "1_moving_var"]
    assert args["0_weight"].asnumpy().tolist() == [[0.5] * 3] * 4
    assert args["0_bias"].asnumpy().sum() == 0 and args["1_gamma"].asnumpy().tolist() == [1] * 4
    assert auxs["1_moving_var"].asnumpy().tolist() == [1] * 4
    args["0_weight"][:] = 2.0                         # copies: the net is untouched
    assert float(mod.net[0].weight.detach()[0, 0]) == 0.5
    mod.set_params({"0_weight": mx.nd.ones((4, 3)), "0_bias": mx.nd.zeros((4,)),
                    "1_gamma": mx.nd.ones((4,)), "1_beta": mx.nd.zeros((4,))},
                   {"1_moving_mean": mx.nd.zeros((4,)), "1_moving_var": mx.nd.ones((4,))})
    out = mod.predict(mx.nd.ones((5, 3)))
    assert np.allclose(out.asnumpy(), 3 / np.sqrt(1 + 1e-5), atol=1e-5)
    assert mod.output_shapes == [("output", (5, 4))]
    with pytest.raises(MXNetRuntimeError, match="0_bias is not presented"):
        mod.set_params({"0_weight": mx.nd.ones((4, 3))}, {})
    with pytest.raises(MXNetValueError, match="shape"):
        mod.set_params({"0_weight": mx.nd.ones((3, 3))}, {}, allow_missing=True)
    named = TorchModule(net, label_names=None)
    named.bind([("data", (2, 3))])
    named.init_params()
    assert sorted(named.get_params()[0]) == ["bn_beta", "bn_gamma", "fc_bias", "fc_weight"]


def test_fixed_params_grad_req_add_and_input_grads():
    batch, x, y = _batch()
    torch.manual_seed(0)
    net = Sequential(Linear(6, 5).set_name("fc1"), ReLU(), Linear(5, 4).set_name("fc2"))
    mod = TorchModule(net, loss="softmax_ce", fixed_param_names=["fc1_weight"])
    mod.bind([("data", (8, 6))], [("softmax_label", (8,))], inputs_need_grad=True,
             grad_req="add")
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 1.0})
    fixed = net.layers[0].weight.detach().clone()
    mod.forward(batch)
    mod.backward()
    first = net.layers[2].weight.grad.clone()
    mod.forward(batch)
    mod.backward()
    assert torch.allclose(net.layers[2].weight.grad, 2 * first)
    xr = torch.tensor(x, requires_grad=True)
    w1, b1, w2, b2 = (t.detach() for t in net.parameters()[0])
    logits = torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(xr, w1, b1)),
                                        w2, b2)
    torch.nn.functional.cross_entropy(logits, torch.tensor(y).long(), reduction="sum").backward()
    assert np.allclose(mod.get_input_grads()[0].asnumpy(), xr.grad.numpy(), atol=1e-5)
    mod.update()
    assert torch.equal(net.layers[0].weight, fixed)
    assert not torch.equal(net.layers[2].weight.grad, torch.zeros(4, 5))


def test_fit_lenet_on_digits_and_checkpoint(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "bigdl_lenet", os.path.join(ROOT, "examples", "bigdl_lenet.py"))
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    Xtr, ytr, Xva, yva = ex.data(0)
    torch.manual_seed(0)
    train = mx.io.NDArrayIter(Xtr, ytr, 32, shuffle=True)
    val = mx.io.NDArrayIter(Xva, yva, 32)
    mod = TorchModule(ex.lenet(), loss="nll")
    history = mod.fit(train, eval_data=val, num_epoch=8, initializer=mx.init.Xavier(),
                      optimizer="sgd",
                      optimizer_params={"learning_rate": 0.05, "momentum": 0.9})
    acc = dict(mod.score(val, "acc"))["accuracy"]
    assert acc >= 0.95 and history is mod.history
    prefix = str(tmp_path / "lenet")
    mod.save_checkpoint(prefix, 3)
    saved = mx.nd.load(prefix + "-0003.params")
    assert "arg:conv1_weight" in saved and "arg:fc2_bias" in saved
    again = TorchModule.load(prefix, 3, ex.lenet(), loss="nll")
    again.bind(val.provide_data, val.provide_label, for_training=False)
    again.init_params()
    assert np.isclose(dict(again.score(val, "acc"))["accuracy"], acc)
    pred = again.predict(val)
    assert pred.shape == (len(yva), 10)


def test_nnabla_module_through_the_bridge():
    import mxtorch.nn as nn
    import mxtorch.nn.functions as F
    import mxtorch.nn.parametric_functions as PF

    class MLP(nn.Module):
        def call(self, x):
            return PF.affine(F.relu(PF.affine(x, 32, name="fc1")), 10, name="fc2")

    X, y = load_digits()
    torch.manual_seed(0)
    np.random.seed(0)
    train = mx.io.NDArrayIter(X[:1400], y[:1400], 50, shuffle=True)
    val = mx.io.NDArrayIter(X[1400:], y[1400:], 50)
    mod = TorchModule(MLP(), loss="softmax_ce")
    mod.fit(train, num_epoch=5, initializer=mx.init.Xavier(), optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    args = mod.get_params()[0]
    assert sorted(args) == ["fc1_affine_bias", "fc1_affine_weight", "fc2_affine_bias",
                            "fc2_affine_weight"]
    assert args["fc1_affine_weight"].shape == (64, 32)      # nnabla's (in, out)
    assert dict(mod.score(val, "acc"))["accuracy"] >= 0.9


def test_errors():
    with pytest.raises(MXNetTypeError, match="torch.nn.Module"):
        TorchModule(lambda x: x)
    with pytest.raises(MXNetValueError, match="unknown loss"):
        TorchModule(Linear(2, 2), loss="hinge")
    with pytest.raises(MXNetTypeError, match="list of str"):
        TorchModule(Linear(2, 2), data_names="data")
    mod = TorchModule(Linear(2, 2), label_names=None)
    with pytest.raises(StateError, match="bind"):
        mod.forward(mx.io.DataBatch([mx.nd.zeros((1, 2))]))
    with pytest.raises(MXNetValueError, match="data_names"):
        mod.bind([("x", (1, 2))])
    with pytest.raises(MXNetRuntimeError, match="fails on data"):
        mod.bind([("data", (1, 3))])
    mod.bind([("data", (1, 2))])
    mod.init_params()
    mod.forward(mx.io.DataBatch([mx.nd.zeros((1, 2))]))
    with pytest.raises(MXNetValueError, match="no loss"):
        mod.backward()
    mod.backward(out_grads=[mx.nd.ones((1, 2))])
    with pytest.raises(MXNetNotImplementedError, match="issue 6"):
        mod.init_optimizer(kvstore="dist_sync")
    with pytest.raises(MXNetNotImplementedError, match="issue 6"):
        mod.install_monitor(None)
    with pytest.raises(MXNetValueError, match="output_names"):
        TorchModule(Linear(2, 2), output_names=["a", "b"]).bind([("data", (1, 2))])
