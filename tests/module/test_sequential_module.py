"""SequentialModule: a split network equals the same network as one Module (outputs,
input gradients, parameters after SGD-momentum steps, to 1e-5), fit with callbacks,
parameter handling, wiring and the error cases; examples/sequential_mlp.py in short."""
import importlib.util
import logging
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetRuntimeError, MXNetTypeError, MXNetValueError, StateError
from mxtorch.datasets import load_digits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATCH = 32


def _digits(n=128):
    X, y = load_digits()
    return X[:n], y[:n]


def _part1(ctx=None):
    data = mx.sym.Variable("data")
    net = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc1", num_hidden=128),
                            name="relu1", act_type="relu")
    return mx.mod.Module(net, label_names=[], context=ctx or mx.cpu())


def _head(data):
    net = mx.sym.FullyConnected(data, name="fc2", num_hidden=64)
    net = mx.sym.Activation(net, name="relu2", act_type="relu")
    net = mx.sym.FullyConnected(net, name="fc3", num_hidden=10)
    return mx.sym.SoftmaxOutput(net, name="softmax")


def _part2():
    return mx.mod.Module(_head(mx.sym.Variable("data")))


def _whole():
    data = mx.sym.Variable("data")
    net = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc1", num_hidden=128),
                            name="relu1", act_type="relu")
    return mx.mod.Module(_head(net))


def _seq(ctx=None):
    return mx.mod.SequentialModule().add(_part1(ctx)).add(_part2(), take_labels=True,
                                                           auto_wiring=True)


def _fixed_params(shapes, seed=0):
    rng = np.random.RandomState(seed)
    return {k: mx.nd.array(rng.uniform(-0.2, 0.2, shapes[k]).astype(np.float32))
            for k in sorted(shapes)}


def _bound_pair(ctx=None):
    X, y = _digits()
    seq, whole = _seq(ctx), _whole()
    for mod in (seq, whole):
        mod.bind([("data", (BATCH, 64))], [("softmax_label", (BATCH,))], inputs_need_grad=True)
    shapes = dict(zip(whole.symbol.list_arguments(),
                      whole.symbol.infer_shape(data=(BATCH, 64))[0]))
    params = _fixed_params({k: v for k, v in shapes.items()
                            if k not in ("data", "softmax_label")})
    return seq, whole, params, X, y


@pytest.mark.parametrize("ctx", [None, [mx.cpu(0), mx.cpu(1)]], ids=["one_ctx", "two_ctx"])
def test_split_network_equals_one_module(ctx):
    """Done-when: FC128-relu | FC64-relu-FC10-SoftmaxOutput as a chain gives the outputs,
    input gradients and SGD-momentum updates of the same network as one Module."""
    seq, whole, params, X, y = _bound_pair(ctx)
    for mod in (seq, whole):
        mod.init_params(arg_params=params, aux_params={})
        mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1,
                                                              "momentum": 0.9, "wd": 1e-4})
    start = {k: v.asnumpy().copy() for k, v in seq.get_params()[0].items()}
    for step in range(4):
        sl = slice(step * BATCH, (step + 1) * BATCH)
        batch = mx.io.DataBatch([mx.nd.array(X[sl])], [mx.nd.array(y[sl])])
        for mod in (seq, whole):
            mod.forward(batch, is_train=True)
            mod.backward()
        np.testing.assert_allclose(seq.get_outputs()[0].asnumpy(),
                                   whole.get_outputs()[0].asnumpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(seq.get_input_grads()[0].asnumpy(),
                                   whole.get_input_grads()[0].asnumpy(), rtol=1e-5, atol=1e-7)
        for mod in (seq, whole):
            mod.update()
        seq_args, whole_args = seq.get_params()[0], whole.get_params()[0]
        assert sorted(seq_args) == sorted(whole_args)
        for k in whole_args:
            np.testing.assert_allclose(seq_args[k].asnumpy(), whole_args[k].asnumpy(),
                                       rtol=1e-5, atol=1e-6, err_msg=k)
    # the steps really moved every parameter
    for k, v in seq.get_params()[0].items():
        assert np.abs(v.asnumpy() - start[k]).max() > 1e-4, k


def test_input_grads_come_from_first_module():
    seq, _, params, X, y = _bound_pair()
    seq.init_params(arg_params=params)
    seq.forward_backward(mx.io.DataBatch([mx.nd.array(X[:BATCH])], [mx.nd.array(y[:BATCH])]))
    first = seq._modules[0].get_input_grads()[0].asnumpy()
    np.testing.assert_array_equal(seq.get_input_grads()[0].asnumpy(), first)
    assert np.abs(first).max() > 0
    assert seq._modules[0].inputs_need_grad and seq._modules[1].inputs_need_grad


def test_bind_wires_shapes_and_flags():
    seq = _seq()
    seq.bind([("data", (BATCH, 64))], [("softmax_label", (BATCH,))])
    assert seq.binded and seq.for_training and not seq.inputs_need_grad
    mod1, mod2 = seq._modules
    assert [tuple(d) for d in mod2.data_shapes] == [("data", (BATCH, 128))]
    assert mod1.label_shapes is None and [tuple(d) for d in mod2.label_shapes] == \
        [("softmax_label", (BATCH,))]
    assert not mod1.inputs_need_grad and mod2.inputs_need_grad
    assert seq.data_names == ["data"] and seq.output_names == ["softmax_output"]
    assert [tuple(d) for d in seq.data_shapes] == [("data", (BATCH, 64))]
    assert [tuple(d) for d in seq.output_shapes] == [("softmax_output", (BATCH, 10))]
    assert [tuple(d) for d in seq.label_shapes] == [("softmax_label", (BATCH,))]


def test_label_shapes_none_when_no_module_takes_labels():
    seq = mx.mod.SequentialModule().add(_part1())
    seq.bind([("data", (BATCH, 64))], [("softmax_label", (BATCH,))], for_training=False)
    assert seq.label_shapes is None and not seq.for_training


def test_named_wiring_without_auto_wiring():
    mod2 = mx.mod.Module(_head(mx.sym.Variable("relu1_output")), data_names=["relu1_output"])
    seq = mx.mod.SequentialModule().add(_part1()).add(mod2, take_labels=True)
    seq.bind([("data", (BATCH, 64))], [("softmax_label", (BATCH,))])
    assert [tuple(d) for d in mod2.data_shapes] == [("relu1_output", (BATCH, 128))]


def test_fit_with_speedometer_learns(caplog):
    X, y = load_digits()
    train = mx.io.NDArrayIter(X[:600], y[:600], batch_size=50, shuffle=False)
    val = mx.io.NDArrayIter(X[600:900], y[600:900], batch_size=50)
    seq = _seq()
    mx.random.seed(1)
    with caplog.at_level(logging.INFO):
        seq.fit(train, eval_data=val, num_epoch=4, initializer=mx.init.Xavier(),
                optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
                batch_end_callback=mx.callback.Speedometer(50, frequent=4))
    text = caplog.text
    assert "Epoch[0] Batch [0-4]\tSpeed:" in text and "Epoch[3] Batch [4-8]\tSpeed:" in text
    # 12 batches per epoch: logged at nbatch 4 and 8
    assert sum("samples/sec" in r.getMessage() for r in caplog.records) == 4 * 2
    assert "Epoch[3] Train-accuracy=" in text and "Epoch[3] Validation-accuracy=" in text
    # a held-out score far above chance (10 classes): the chain learned
    assert seq.score(val, "acc")[0][1] > 0.7
    pred = seq.predict(val)
    assert pred.shape == (300, 10)
    np.testing.assert_allclose(pred.asnumpy().sum(axis=1), 1.0, rtol=1e-5)


def test_get_params_merged_and_save_load(tmp_path):
    bn = mx.sym.BatchNorm(mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc1",
                                                num_hidden=8), name="bn1")
    mod1 = mx.mod.Module(bn, label_names=[])
    seq = mx.mod.SequentialModule().add(mod1).add(
        mx.mod.Module(_head(mx.sym.Variable("data"))), take_labels=True, auto_wiring=True)
    seq.bind([("data", (4, 64))], [("softmax_label", (4,))])
    seq.init_params(mx.init.Uniform(0.1))
    args, auxs = seq.get_params()
    assert sorted(args) == ["bn1_beta", "bn1_gamma", "fc1_bias", "fc1_weight", "fc2_bias",
                            "fc2_weight", "fc3_bias", "fc3_weight"]
    assert sorted(auxs) == ["bn1_moving_mean", "bn1_moving_var"]
    saved = {k: v.asnumpy().copy() for k, v in args.items()}
    fname = str(tmp_path / "seq.params")
    seq.save_params(fname)
    loaded = mx.nd.load(fname)
    assert sorted(loaded) == sorted(["arg:" + k for k in args] + ["aux:" + k for k in auxs])
    seq.set_params({k: mx.nd.zeros(v.shape) for k, v in args.items()}, auxs)
    assert np.abs(seq.get_params()[0]["fc3_weight"].asnumpy()).max() == 0
    seq.load_params(fname)
    for k, v in seq.get_params()[0].items():
        np.testing.assert_array_equal(v.asnumpy(), saved[k])
    # the modules' executors got the values too
    np.testing.assert_array_equal(
        seq._modules[1]._exec_group.execs[0].arg_dict["fc3_weight"].asnumpy(),
        saved["fc3_weight"])


def test_init_params_missing_extra_allow():
    seq, _, params, _, _ = _bound_pair()
    partial = {k: v for k, v in params.items() if k != "fc3_bias"}
    with pytest.raises(MXNetRuntimeError, match="fc3_bias"):
        seq.init_params(arg_params=partial)
    assert not seq.params_initialized and not seq._modules[0].params_initialized
    extra = dict(params, other_weight=mx.nd.zeros((2,)))
    with pytest.raises(MXNetValueError, match="other_weight"):
        seq.init_params(arg_params=extra)
    assert not seq._modules[0].params_initialized
    seq.init_params(arg_params=extra, allow_extra=True)
    np.testing.assert_array_equal(seq.get_params()[0]["fc1_weight"].asnumpy(),
                                  params["fc1_weight"].asnumpy())
    no_w3 = {k: v for k, v in params.items() if k != "fc3_weight"}
    seq.init_params(mx.init.Constant(0.5), arg_params=no_w3, allow_missing=True,
                    force_init=True)
    np.testing.assert_array_equal(seq.get_params()[0]["fc3_weight"].asnumpy(), 0.5)
    np.testing.assert_array_equal(seq.get_params()[0]["fc3_bias"].asnumpy(),
                                  params["fc3_bias"].asnumpy())


def test_update_metric_only_on_take_labels_modules():
    class Recorder(mx.metric.EvalMetric):
        def __init__(self):
            super().__init__("rec")
            self.calls = []

        def update(self, labels, preds):
            self.calls.append([tuple(p.shape) for p in preds])

    mod1 = mx.mod.Module(mx.sym.SoftmaxOutput(mx.sym.FullyConnected(
        mx.sym.Variable("data"), name="fc0", num_hidden=128), mx.sym.Variable("softmax_label"),
        name="sm0"),
        label_names=["softmax_label"])
    for take_first, expected in ((False, [[(BATCH, 10)]]),
                                 (True, [[(BATCH, 128)], [(BATCH, 10)]])):
        seq = mx.mod.SequentialModule().add(mod1, take_labels=take_first).add(
            _part2(), take_labels=True, auto_wiring=True)
        seq.bind([("data", (BATCH, 64))], [("softmax_label", (BATCH,))], force_rebind=True)
        seq.init_params(force_init=True)
        X, y = _digits(BATCH)
        label = [mx.nd.array(y)]
        seq.forward(mx.io.DataBatch([mx.nd.array(X)], label), is_train=False)
        rec = Recorder()
        seq.update_metric(rec, label)
        assert rec.calls == expected


def test_install_monitor_reaches_every_module():
    seq, _, params, X, y = _bound_pair()
    seq.init_params(arg_params=params)
    mon = mx.mon.Monitor(1, pattern=".*weight")
    seq.install_monitor(mon)
    mon.tic()
    seq.forward(mx.io.DataBatch([mx.nd.array(X[:BATCH])], [mx.nd.array(y[:BATCH])]))
    names = {k for _, k, _ in mon.toc()}
    assert {"fc1_weight", "fc2_weight", "fc3_weight"} <= names


def test_forward_with_another_batch_size_reshapes():
    seq, whole, params, X, y = _bound_pair()
    for mod in (seq, whole):
        mod.init_params(arg_params=params)
    batch = mx.io.DataBatch([mx.nd.array(X[:7])], [mx.nd.array(y[:7])],
                            provide_data=[mx.io.DataDesc("data", (7, 64))],
                            provide_label=[mx.io.DataDesc("softmax_label", (7,))])
    for mod in (seq, whole):
        mod.forward(batch, is_train=False)
    assert seq.get_outputs()[0].shape == (7, 10)
    np.testing.assert_allclose(seq.get_outputs()[0].asnumpy(),
                               whole.get_outputs()[0].asnumpy(), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------- errors
def test_bind_before_add_raises():
    with pytest.raises(StateError, match="empty"):
        mx.mod.SequentialModule().bind([("data", (4, 64))])


def test_add_returns_self_and_rejects_unknown_meta():
    seq = mx.mod.SequentialModule()
    assert seq.add(_part1()) is seq
    with pytest.raises(MXNetValueError, match='unknown meta "take_label"'):
        seq.add(_part2(), take_label=True)
    assert len(seq._modules) == 1
    with pytest.raises(MXNetTypeError, match="BaseModule"):
        seq.add("not a module")


def test_add_after_bind_resets_flags():
    seq, _, params, X, y = _bound_pair()
    seq.init_params(arg_params=params)
    seq.init_optimizer()
    assert seq.binded and seq.params_initialized and seq.optimizer_initialized
    seq.add(mx.mod.PythonLossModule(data_names=["softmax_output"]))
    assert not (seq.binded or seq.params_initialized or seq.optimizer_initialized)
    with pytest.raises(StateError, match="bind"):
        seq.forward(mx.io.DataBatch([mx.nd.array(X[:BATCH])], [mx.nd.array(y[:BATCH])]))
    # the modules already in the chain keep their state (as in MXNet)
    assert seq._modules[0].binded and seq._modules[0].params_initialized
    seq.bind([("data", (BATCH, 64))], [("softmax_label", (BATCH,))], inputs_need_grad=True)
    with pytest.warns(UserWarning, match="already initialized"):
        seq.init_params()  # the first module keeps its values (MXNet warns the same)
    assert seq.output_names == ["pyloss_output"]
    np.testing.assert_array_equal(seq.get_params()[0]["fc1_weight"].asnumpy(),
                                  params["fc1_weight"].asnumpy())


def test_duplicate_parameter_names_raise_before_any_change():
    a = mx.mod.Module(mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc", num_hidden=3),
                      label_names=[])
    b = mx.mod.Module(mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc", num_hidden=3),
                      label_names=[])
    seq = mx.mod.SequentialModule().add(a).add(b, auto_wiring=True)
    seq.bind([("data", (4, 3))])
    with pytest.raises(MXNetValueError, match='Duplicated parameter names: name "fc_bias" in '
                                              r"layer 1 \(Module\) is already used in layer 0"):
        seq.init_params()
    assert not (seq.params_initialized or a.params_initialized or b.params_initialized)


def test_chain_names_that_do_not_wire_raise():
    c = mx.mod.Module(mx.sym.FullyConnected(mx.sym.Variable("data"), name="c", num_hidden=3),
                      label_names=[])
    d = mx.mod.Module(mx.sym.FullyConnected(mx.sym.Variable("data"), name="d", num_hidden=3),
                      label_names=[])
    seq = mx.mod.SequentialModule().add(c).add(d)
    with pytest.raises(MXNetValueError, match=r"module 1 \(Module\) expects data \['data'\] "
                                              r"but the outputs of module 0 \(Module\) are "
                                              r"named \['c_output'\].*auto_wiring=True"):
        seq.bind([("data", (4, 3))])
    assert not (seq.binded or c.binded or d.binded)


def test_chain_counts_that_do_not_wire_raise():
    two = mx.sym.FullyConnected(mx.sym.Variable("x1") + mx.sym.Variable("x2"), name="e",
                                num_hidden=2)
    e = mx.mod.Module(two, data_names=["x1", "x2"], label_names=[])
    seq = mx.mod.SequentialModule().add(_part1()).add(e, auto_wiring=True)
    with pytest.raises(MXNetValueError, match=r"module 1 \(Module\) has 2 data inputs "
                                              r"\['x1', 'x2'\].*give 1: \['relu1_output'\]"):
        seq.bind([("data", (4, 64))])


def test_chain_shapes_that_do_not_wire_raise():
    # module 1 reshapes its data to (N, 5, 5): 128 features cannot wire into 25
    r = mx.mod.Module(mx.sym.Reshape(mx.sym.Variable("data"), shape=(0, 5, 5), name="r"),
                      label_names=[])
    seq = mx.mod.SequentialModule().add(_part1()).add(r, auto_wiring=True)
    with pytest.raises(MXNetValueError) as info:
        seq.bind([("data", (4, 64))])
    msg = str(info.value)
    assert "module 1 (Module)" in msg and "output_shapes of module 0 (Module)" in msg
    assert "(4, 128)" in msg
    assert not seq.binded


def test_other_bind_errors():
    with pytest.raises(MXNetValueError, match="shared_module"):
        _seq().bind([("data", (4, 64))], shared_module=_whole())
    with pytest.raises(MXNetValueError, match="for_training"):
        _seq().bind([("data", (4, 64))], for_training=False, inputs_need_grad=True)
    seq = _seq()
    seq.bind([("data", (4, 64))], [("softmax_label", (4,))])
    seq.init_params()
    with pytest.raises(StateError, match="inputs_need_grad"):
        seq.get_input_grads()
    with pytest.raises(StateError, match="init_optimizer"):
        seq.update()


def test_calls_before_init_params_raise():
    seq = _seq()
    seq.bind([("data", (4, 64))], [("softmax_label", (4,))])
    batch = mx.io.DataBatch([mx.nd.zeros((4, 64))], [mx.nd.zeros((4,))])
    for call in (lambda: seq.forward(batch), seq.backward, seq.get_outputs, seq.get_params,
                 seq.init_optimizer):
        with pytest.raises(StateError, match="init_params"):
            call()
    with pytest.raises(StateError, match="bind"):
        _seq().init_params()


# ---------------------------------------------------------------------- example
def test_sequential_mlp_example_short(capsys):
    spec = importlib.util.spec_from_file_location(
        "sequential_mlp", os.path.join(ROOT, "examples", "sequential_mlp.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rc = mod.main(["--epochs", "3", "--contexts", "2", "--min-acc", "0.85"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "validation accuracy" in out
