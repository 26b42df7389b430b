"""PythonModule and PythonLossModule: names and shapes, the loss gradient (checked against
numpy), use inside SequentialModule (a hinge-loss chain's update equals numpy's; a
Python module in the middle of a chain equals the same network as one Module), the
errors; examples/python_loss.py in short."""
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError, StateError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_example():
    spec = importlib.util.spec_from_file_location(
        "python_loss", os.path.join(ROOT, "examples", "python_loss.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _hinge_loop(scores, labels):
    """MXNet's example/module/python_loss.py gradient, row by row in numpy."""
    grad = np.zeros_like(scores)
    for i in range(scores.shape[0]):
        lab = int(labels[i])
        score = 1 + scores[i] - scores[i, lab]
        score[lab] = 0
        grad[i, lab] -= 1
        grad[i, score.argmax()] += 1
    return grad


def _batch(n=6, k=4, seed=0):
    rng = np.random.RandomState(seed)
    s = rng.randn(n, k).astype(np.float32)
    y = rng.randint(0, k, n).astype(np.float32)
    return s, y


def test_loss_module_names_shapes_and_passthrough():
    loss = mx.mod.PythonLossModule(name="hinge", grad_func=lambda s, y: s * 0)
    assert loss.data_names == ["data"] and loss.output_names == ["hinge_output"]
    assert mx.mod.PythonLossModule().output_names == ["pyloss_output"]
    loss.bind([("data", (6, 4))], [("softmax_label", (6,))])
    assert loss.output_shapes == [("hinge_output", (6, 4))]
    assert loss.label_shapes == [("softmax_label", (6,))]
    assert loss.get_params() == ({}, {})
    s, y = _batch()
    scores = mx.nd.array(s)
    loss.forward(mx.io.DataBatch([scores], [mx.nd.array(y)]))
    assert loss.get_outputs()[0] is scores  # a reference, as in MXNet


def test_loss_backward_numpy_grad_converted():
    seen = {}

    def grad_func(scores, labels):
        seen["args"] = (scores, labels)
        return _hinge_loop(scores.asnumpy(), labels.asnumpy()).astype(np.float64)

    loss = mx.mod.PythonLossModule(grad_func=grad_func)
    loss.bind([("data", (6, 4))], [("softmax_label", (6,))])
    s, y = _batch()
    batch = mx.io.DataBatch([mx.nd.array(s)], [mx.nd.array(y)])
    loss.forward(batch, is_train=True)
    loss.backward()
    assert seen["args"][0] is batch.data[0] and seen["args"][1] is batch.label[0]
    grad = loss.get_input_grads()[0]
    assert isinstance(grad, mx.nd.NDArray) and grad.dtype == np.float32
    np.testing.assert_array_equal(grad.asnumpy(), _hinge_loop(s, y))
    # each row: -1 at the label, +1 at the most violating class, sums to 0
    np.testing.assert_array_equal(grad.asnumpy().sum(axis=1), 0)


def test_example_hinge_grad_on_device_equals_loop():
    ex = _load_example()
    for seed in range(3):
        s, y = _batch(n=50, k=10, seed=seed)
        got = ex.mc_hinge_grad(mx.nd.array(s), mx.nd.array(y))
        np.testing.assert_array_equal(got.asnumpy(), _hinge_loop(s, y))


def test_hinge_chain_update_equals_numpy():
    """Module(FC) + PythonLossModule(hinge): one SGD step moves the weights by
    -lr * (G^T X) / batch, with G the hinge gradient at the scores (numpy)."""
    rng = np.random.RandomState(3)
    x = rng.randn(8, 5).astype(np.float32)
    y = rng.randint(0, 4, 8).astype(np.float32)
    w = rng.randn(4, 5).astype(np.float32) * 0.5
    b = rng.randn(4).astype(np.float32) * 0.1
    fc = mx.mod.Module(mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc",
                                             num_hidden=4), label_names=[])
    loss = mx.mod.PythonLossModule(grad_func=lambda s, l: _hinge_loop(s.asnumpy(),
                                                                      l.asnumpy()))
    seq = mx.mod.SequentialModule().add(fc).add(loss, take_labels=True, auto_wiring=True)
    seq.bind([("data", (8, 5))], [("softmax_label", (8,))])
    seq.init_params(arg_params={"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.array(b)})
    seq.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    seq.forward_backward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]))
    scores = x @ w.T + b
    np.testing.assert_allclose(seq.get_outputs()[0].asnumpy(), scores, rtol=1e-5, atol=1e-6)
    seq.update()
    g = _hinge_loop(scores, y)
    args = seq.get_params()[0]
    np.testing.assert_allclose(args["fc_weight"].asnumpy(), w - 0.1 * g.T @ x / 8,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(args["fc_bias"].asnumpy(), b - 0.1 * g.sum(0) / 8,
                               rtol=1e-5, atol=1e-6)
    metric = mx.metric.Accuracy()
    seq.update_metric(metric, [mx.nd.array(y)])
    assert metric.get()[1] == pytest.approx(np.mean(scores.argmax(1) == y))


class Scale(mx.mod.PythonModule):
    """A parameter-free Python module in the middle of a chain: ``out = factor * data``."""

    def __init__(self, factor, data_name, out_name):
        super().__init__([data_name], None, [out_name])
        self.factor = factor
        self._out = self._grad = None

    def _compute_output_shapes(self):
        return [(self._output_names[0], self._data_shapes[0][1])]

    def forward(self, data_batch, is_train=None):
        self._out = data_batch.data[0] * self.factor

    def get_outputs(self, merge_multi_context=True):
        return [self._out]

    def backward(self, out_grads=None):
        self._grad = out_grads[0] * self.factor

    def get_input_grads(self, merge_multi_context=True):
        return [self._grad]


def test_python_module_inside_chain_equals_one_module():
    rng = np.random.RandomState(0)
    x = rng.rand(10, 6).astype(np.float32)
    y = rng.randint(0, 3, 10).astype(np.float32)
    params = {"fc1_weight": rng.randn(8, 6) * 0.3, "fc1_bias": rng.randn(8) * 0.1,
              "fc2_weight": rng.randn(3, 8) * 0.3, "fc2_bias": rng.randn(3) * 0.1}
    params = {k: mx.nd.array(v.astype(np.float32)) for k, v in params.items()}
    data = mx.sym.Variable("data")
    relu = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc1", num_hidden=8),
                             act_type="relu", name="relu1")

    def head(d):
        return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(d, name="fc2", num_hidden=3),
                                    name="softmax")
    whole = mx.mod.Module(head(relu * 2.5))
    seq = (mx.mod.SequentialModule()
           .add(mx.mod.Module(relu, label_names=[]))
           .add(Scale(2.5, "relu1_output", "scaled"))
           .add(mx.mod.Module(head(mx.sym.Variable("data"))), take_labels=True,
                auto_wiring=True))
    batch = mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)])
    for mod in (seq, whole):
        mod.bind([("data", (10, 6))], [("softmax_label", (10,))], inputs_need_grad=True)
        mod.init_params(arg_params=params)
        mod.init_optimizer(optimizer_params={"learning_rate": 0.5, "momentum": 0.9})
    for _ in range(3):
        for mod in (seq, whole):
            mod.forward_backward(batch)
            mod.update()
        np.testing.assert_allclose(seq.get_outputs()[0].asnumpy(),
                                   whole.get_outputs()[0].asnumpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(seq.get_input_grads()[0].asnumpy(),
                                   whole.get_input_grads()[0].asnumpy(), rtol=1e-5, atol=1e-8)
    for k, v in whole.get_params()[0].items():
        np.testing.assert_allclose(seq.get_params()[0][k].asnumpy(), v.asnumpy(), rtol=1e-5,
                                   atol=1e-7, err_msg=k)


def test_update_metric_rules():
    loss = mx.mod.PythonLossModule(grad_func=lambda s, y: s)
    loss.bind([("data", (6, 4))], None, for_training=False)
    s, y = _batch()
    loss.forward(mx.io.DataBatch([mx.nd.array(s)], None))
    metric = mx.metric.Accuracy()
    loss.update_metric(metric, [mx.nd.array(y)])  # bound without labels: nothing
    assert metric.num_inst == 0
    loss.bind([("data", (6, 4))], [("softmax_label", (6,))], force_rebind=True)
    loss.forward(mx.io.DataBatch([mx.nd.array(s)], [mx.nd.array(y)]))
    loss.update_metric(metric, [mx.nd.array(y)])
    assert metric.num_inst == 6
    assert metric.get()[1] == pytest.approx(np.mean(s.argmax(1) == y))
    with pytest.raises(RuntimeError, match="presliced"):
        loss.update_metric(metric, [[mx.nd.array(y)]], pre_sliced=True)


def test_loss_module_errors():
    with pytest.raises(MXNetValueError, match="exactly one"):
        mx.mod.PythonLossModule(data_names=("a", "b"))
    with pytest.raises(MXNetTypeError, match="callable"):
        mx.mod.PythonLossModule(grad_func=3)
    loss = mx.mod.PythonLossModule()
    with pytest.raises(StateError, match="bind"):
        loss.forward(mx.io.DataBatch([mx.nd.zeros((2, 3))], [mx.nd.zeros((2,))]))
    with pytest.raises(MXNetValueError, match="grad_req='write'"):
        loss.bind([("data", (2, 3))], [("softmax_label", (2,))], grad_req="add")
    with pytest.raises(MXNetValueError, match=r"named \['x'\].*\['data'\]"):
        loss.bind([("x", (2, 3))], [("softmax_label", (2,))])
    with pytest.raises(MXNetValueError, match="label_shapes"):
        loss.bind([("data", (2, 3))], [("label", (2,))])
    assert not loss.binded
    loss.bind([("data", (2, 3))], [("softmax_label", (2,))])
    with pytest.raises(StateError, match="forward"):
        loss.backward()
    loss.forward(mx.io.DataBatch([mx.nd.zeros((2, 3))], [mx.nd.zeros((2,))]))
    with pytest.raises(MXNetNotImplementedError, match="grad_func"):
        loss.backward()
    with pytest.raises(MXNetValueError, match="out_grads"):
        loss.backward(out_grads=[mx.nd.zeros((2, 3))])
    with pytest.raises(MXNetValueError, match="merge_multi_context"):
        loss.get_outputs(merge_multi_context=False)
    with pytest.raises(MXNetValueError, match="merge_multi_context"):
        loss.get_input_grads(merge_multi_context=False)
    bad = mx.mod.PythonLossModule(grad_func=lambda s, y: np.zeros((5,)))
    bad.bind([("data", (2, 3))], [("softmax_label", (2,))])
    bad.forward(mx.io.DataBatch([mx.nd.zeros((2, 3))], [mx.nd.zeros((2,))]))
    with pytest.raises(MXNetValueError, match=r"shape \(5,\) for scores of shape \(2, 3\)"):
        bad.backward()
    predict_only = mx.mod.PythonLossModule(grad_func=lambda s, y: s)
    predict_only.bind([("data", (2, 3))], None, for_training=False)
    predict_only.forward(mx.io.DataBatch([mx.nd.zeros((2, 3))], None))
    with pytest.raises(StateError, match="for_training"):
        predict_only.backward()


def test_python_module_base():
    mod = mx.mod.PythonModule(["data"], None, ["out"])
    assert mod.get_params() == ({}, {})
    with pytest.raises(MXNetNotImplementedError, match="_compute_output_shapes"):
        mod.bind([("data", (2, 3))])
    with pytest.raises(MXNetTypeError, match="list of str"):
        mx.mod.PythonModule("data", None, ["out"])


def test_python_loss_example_short(capsys):
    rc = _load_example().main(["--epochs", "3", "--min-acc", "0.85"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "validation accuracy" in out
