"""Module behaviour, ported from MXNet 1.9.1's tests/python/unittest/test_module.py and
the seed's examples; expected values come from MXNet's tests and the reference."""
import logging
import os
from collections import namedtuple

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetError


def _mlp(num_hidden=10):
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(act1, name="fc2", num_hidden=num_hidden)
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def _toy_iter(n=40, dim=8, classes=3, batch=10, seed=0, **kw):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, dim).astype(np.float32)
    y = (x[:, :classes].argmax(axis=1)).astype(np.float32)
    return mx.io.NDArrayIter(x, y, batch_size=batch, **kw), x, y


def test_overview_example_runs():
    it, x, y = _toy_iter()
    mod = mx.mod.Module(_mlp(3))
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params()
    mod.fit(it, num_epoch=2)
    out = mod.predict(it)
    assert out.shape == (40, 3)
    np.testing.assert_allclose(out.asnumpy().sum(axis=1), 1.0, rtol=1e-5)
    it.reset()
    batch = next(iter(it))
    mod.forward(batch)
    mod.backward()
    mod.update()


def test_bind_with_ndarray_shape_is_type_error():
    sym = mx.sym.Activation(mx.sym.Variable("data"), act_type="relu")
    mod = mx.mod.Module(sym, label_names=None, context=[mx.cpu(0), mx.cpu(1)])
    with pytest.raises(TypeError):
        mod.bind(data_shapes=[("data", mx.nd.array([10, 10]))])
    assert mod.binded is False
    mod.bind(data_shapes=[("data", (10, 10))])
    assert mod.binded


def test_input_grads_order_and_values():
    a = mx.sym.Variable("a", __layout__="NC")
    b = mx.sym.Variable("b", __layout__="NC")
    c = mx.sym.Variable("c", __layout__="NC")
    c = a + 2 * b + 3 * c
    net = mx.mod.Module(c, data_names=["b", "c", "a"], label_names=None,
                        context=[mx.cpu(0), mx.cpu(1)])
    net.bind(data_shapes=[["b", (5, 5)], ["c", (5, 5)], ["a", (5, 5)]],
             label_shapes=None, inputs_need_grad=True)
    net.init_params()
    net.forward(data_batch=mx.io.DataBatch(data=[mx.nd.ones((5, 5))] * 3))
    net.backward(out_grads=[mx.nd.ones((5, 5))])
    b_grad, c_grad, a_grad = [g.asnumpy() for g in net.get_input_grads()]
    assert np.all(a_grad == 1) and np.all(b_grad == 2) and np.all(c_grad == 3)


def test_module_layout_slices_on_axis_1():
    sym = mx.sym.Variable("data")
    sym = mx.sym.Activation(data=sym, act_type="relu", __layout__="TNC")
    dshape = (3, 8, 7)
    mod = mx.mod.Module(sym, ("data",), None, context=[mx.cpu(0), mx.cpu(1)])
    mod.bind(data_shapes=[mx.io.DataDesc("data", dshape, layout="TNC")])
    mod.init_params()
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones(dshape)], label=None))
    mod.backward([mx.nd.ones(dshape)])
    assert mod.get_outputs()[0].shape == dshape
    for x in mod.get_outputs(merge_multi_context=False)[0]:
        assert x.shape == (3, 4, 7)


def test_save_load_roundtrip(tmp_path):
    prefix = str(tmp_path / "test")
    sym = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=100)
    mod = mx.mod.Module(sym, ("data",))
    mod.bind(data_shapes=[("data", (10, 10))])
    mod.init_params()
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    mod.update()
    mod.save_checkpoint(prefix, 0, save_optimizer_states=True)
    mod2 = mx.mod.Module.load(prefix, 0, load_optimizer_states=True, data_names=("data",))
    mod2.bind(data_shapes=[("data", (10, 10))])
    mod2.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    assert mod._symbol.tojson() == mod2._symbol.tojson()
    p1, p2 = mod.get_params()[0], mod2.get_params()[0]
    assert sorted(p1) == sorted(p2)
    for k in p1:
        np.testing.assert_array_equal(p1[k].asnumpy(), p2[k].asnumpy())
    s1, s2 = mod._updater.states, mod2._updater.states
    assert sorted(s1) == sorted(s2)
    for k in s1:
        np.testing.assert_array_equal(s1[k].asnumpy(), s2[k].asnumpy())


def test_module_reshape_keeps_rescale_grad():
    data = mx.sym.Variable("data")
    sym = mx.sym.FullyConnected(data, num_hidden=20, name="fc")
    dshape = (7, 20)
    mod = mx.mod.Module(sym, ("data",), None, context=[mx.cpu(0), mx.cpu(1)])
    mod.bind(data_shapes=[("data", dshape)])
    mod.init_params()
    mod.init_optimizer(optimizer_params={"learning_rate": 1})
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones(dshape)], label=None))
    mod.backward([mx.nd.ones((7, 20))])
    mod.update()
    assert mod.get_outputs()[0].shape == dshape
    assert np.all(mod.get_params()[0]["fc_bias"].asnumpy() == -1)
    dshape = (14, 20)
    mod.reshape(data_shapes=[("data", dshape)])
    mod.forward(mx.io.DataBatch(data=[mx.nd.ones(dshape)], label=None))
    mod.backward([mx.nd.ones(dshape)])
    mod.update()
    assert mod.get_outputs()[0].shape == dshape
    assert np.all(mod.get_params()[0]["fc_bias"].asnumpy() == -3)


def _set_params_mod():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, name="fc_0", num_hidden=2)
    net = mx.sym.Activation(net, name="act_0", act_type="sigmoid")
    net = mx.sym.FullyConnected(net, name="fc_1", num_hidden=2)
    net = mx.sym.Activation(net, name="act_1", act_type="sigmoid")
    net = mx.sym.LinearRegressionOutput(net, name="softmax", grad_scale=2)
    mod = mx.mod.Module(net, label_names=["softmax_label"])
    mod.bind(data_shapes=[("data", (1, 2))], label_shapes=[("softmax_label", (1, 2))])
    return mod


def test_set_params_missing_and_extra():
    mod = _set_params_mod()
    arg = {"fc_0_weight": mx.nd.array([[.15, .20], [.25, .30]]),
           "fc_0_bias": mx.nd.array([.35, .35]),
           "fc_1_weight": mx.nd.array([[.40, .45], [.50, .55]]),
           "fc_1_bias": mx.nd.array([.60, .60])}
    arg1 = dict(arg, fc_2_weight=mx.nd.array([.60, .60]))
    arg2 = {k: v for k, v in arg.items() if k != "fc_0_weight"}
    arg3 = dict(arg2, fc_2_weight=mx.nd.array([.60, .60]))
    mod.set_params(arg_params=arg, aux_params={})
    mod.set_params(arg_params=arg1, aux_params={}, allow_extra=True)
    with pytest.raises(ValueError):
        mod.set_params(arg_params=arg1, aux_params={}, allow_extra=False)
    with pytest.raises(RuntimeError) as e:
        mod.set_params(arg_params=arg2, aux_params={}, allow_missing=False)
    assert "fc_0_weight" in str(e.value) and "allow_missing" in str(e.value)
    with pytest.raises(RuntimeError):
        mod.set_params(arg_params=arg3, aux_params={}, allow_missing=False)
    with pytest.raises(ValueError):
        mod.set_params(arg_params=arg3, aux_params={}, allow_missing=True, allow_extra=False)
    # failed calls leave the parameters as they were
    np.testing.assert_allclose(mod.get_params()[0]["fc_0_weight"].asnumpy(),
                               [[.15, .20], [.25, .30]], rtol=1e-6)


def test_mazur_backprop_one_sgd_step():
    """The reference's verified numbers (MXNet 1.9.1, 'Mazur backprop example')."""
    mod = _set_params_mod()
    mod.init_params(arg_params={
        "fc_0_weight": mx.nd.array([[.15, .20], [.25, .30]]),
        "fc_0_bias": mx.nd.array([.35, .35]),
        "fc_1_weight": mx.nd.array([[.40, .45], [.50, .55]]),
        "fc_1_bias": mx.nd.array([.60, .60])})
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.5})
    batch = mx.io.DataBatch(data=[mx.nd.array([[.05, .10]])], label=[mx.nd.array([[.01, .99]])])
    mod.forward(batch, is_train=True)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), [[0.75136507, 0.77292850]],
                               rtol=1e-6)
    mod.backward()
    mod.update()
    p = mod.get_params()[0]
    np.testing.assert_allclose(p["fc_1_weight"].asnumpy(),
                               [[0.35891649, 0.40866616], [0.51130128, 0.56137013]], rtol=1e-6)
    np.testing.assert_allclose(p["fc_0_weight"].asnumpy(),
                               [[0.14978072, 0.19956143], [0.24975115, 0.29950231]], rtol=1e-6)
    np.testing.assert_allclose(p["fc_0_bias"].asnumpy(), [0.34561431, 0.34502286], rtol=1e-6)
    np.testing.assert_allclose(p["fc_1_bias"].asnumpy(), [0.53075075, 0.61904913], rtol=1e-6)


def test_forward_reshape_and_predict_score():
    d1 = mx.sym.Variable("data1")
    d2 = mx.sym.Variable("data2")
    conv1 = mx.sym.Convolution(data=d1, kernel=(2, 2), num_filter=2, stride=(2, 2))
    conv2 = mx.sym.Convolution(data=d2, kernel=(3, 3), num_filter=3, stride=(1, 1))
    pooling1 = mx.sym.Pooling(data=conv1, kernel=(2, 2), stride=(1, 1), pool_type="avg")
    pooling2 = mx.sym.Pooling(data=conv2, kernel=(2, 2), stride=(1, 1), pool_type="max")
    flatten1 = mx.sym.flatten(data=pooling1)
    flatten2 = mx.sym.flatten(data=pooling2)
    s = mx.sym.sum(data=flatten1, axis=1) + mx.sym.sum(data=flatten2, axis=1)
    fc = mx.sym.FullyConnected(data=s, num_hidden=10)
    sym = mx.sym.SoftmaxOutput(data=fc, name="softmax")
    dshape1, dshape2, lshape = (10, 3, 64, 64), (10, 3, 32, 32), (10,)
    mod = mx.mod.Module(symbol=sym, data_names=["data1", "data2"], label_names=["softmax_label"])
    mod.bind(data_shapes=[("data1", dshape1), ("data2", dshape2)],
             label_shapes=[("softmax_label", lshape)])
    mod.init_params()
    mod.init_optimizer(optimizer_params={"learning_rate": 0.01})
    for dshape1, dshape2, lshape in [((10, 3, 64, 64), (10, 3, 32, 32), (10,)),
                                     ((14, 3, 64, 64), (14, 3, 32, 32), (14,)),
                                     ((20, 3, 64, 64), (20, 3, 32, 32), (20,)),
                                     ((20, 3, 32, 32), (20, 3, 64, 64), (20,))]:
        batch = mx.io.DataBatch(data=[mx.nd.random.uniform(0, 9, dshape1),
                                      mx.nd.random.uniform(5, 15, dshape2)],
                                label=[mx.nd.ones(lshape)])
        mod.forward(batch)
        assert mod.get_outputs()[0].shape == (lshape[0], 10)
        mod.backward()
        mod.update()
    data1 = [mx.nd.ones((3, 3, 64, 64))]
    data2 = [mx.nd.ones((3, 3, 32, 32))]
    it = mx.io.NDArrayIter(data=data1 + data2, label=[mx.nd.ones((3,))], batch_size=3)
    assert len(mod.score(it, "acc")) == 1
    mod.bind(data_shapes=[("data1", (1, 3, 64, 64)), ("data2", (1, 3, 32, 32))],
             for_training=False, force_rebind=True)
    it = mx.io.NDArrayIter(data=[mx.nd.ones((10, 3, 64, 64)), mx.nd.ones((10, 3, 32, 32))],
                           batch_size=1)
    assert mod.predict(it).shape == (10, 10)


def test_forward_types_and_seed_reshape_example():
    Batch = namedtuple("Batch", ["data"])
    data = mx.sym.Variable("data")
    out = data * 2
    mod = mx.mod.Module(symbol=out, label_names=None)
    mod.bind(data_shapes=[("data", (1, 10))])
    mod.init_params()
    mod.forward(Batch([mx.nd.ones((1, 10))]))
    np.testing.assert_array_equal(mod.get_outputs()[0].asnumpy(), 2 * np.ones((1, 10)))
    mod.forward(Batch([mx.nd.ones((3, 5))]))
    np.testing.assert_array_equal(mod.get_outputs()[0].asnumpy(), 2 * np.ones((3, 5)))
    assert mod.predict(mx.nd.ones((2, 5))).shape == (2, 5)
    assert mod.predict(np.ones((4, 5), dtype=np.float32)).shape == (4, 5)


def test_update_without_params():
    data = mx.sym.Variable("data")
    out = mx.sym.Dropout(data, 0.5)
    mod = mx.mod.Module(out)
    mod.bind(data_shapes=[("data", (32, 10))])
    mod.init_params()
    mod.init_optimizer()
    mod.forward_backward(mx.io.DataBatch(data=[mx.nd.ones((32, 10))], label=None))
    mod.update()


def test_init_optimizer_idx2name():
    sym = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=4, name="fc")
    for optimizer in ("sgd", mx.optimizer.SGD()):
        mod = mx.mod.Module(sym, label_names=None)
        mod.bind(data_shapes=[("data", (2, 3))])
        mod.init_params()
        mod.init_optimizer(optimizer=optimizer)
        assert mod._optimizer.idx2name == dict(enumerate(mod._exec_group.param_names))


def test_fit_reads_label_before_next_batch():
    """fit must call update_metric on the current batch before fetching the next."""
    class MockIter(mx.io.DataIter):
        def __init__(self):
            super().__init__(batch_size=1)
            self.current = None
            self.i = 0

        def reset(self):
            self.i = 0

        def __next__(self):
            if self.i == 3:
                raise StopIteration
            self.i += 1
            batch = mx.io.DataBatch(data=[mx.nd.ones((1, 1))], label=[mx.nd.ones((1,))])
            batch.idx = self.i
            self.current = self.i
            return batch

        @property
        def provide_data(self):
            return [("data", (1, 1))]

        @property
        def provide_label(self):
            return [("softmax_label", (1,))]

    seen = []
    it = MockIter()
    mod = mx.mod.BaseModule()
    for name in ("bind", "init_params", "init_optimizer", "forward_backward", "update",
                 "prepare", "set_params"):
        setattr(mod, name, lambda *a, **k: None)
    mod.get_params = lambda: ({}, {})
    mod.update_metric = lambda metric, labels, pre_sliced=False: seen.append(it.current)
    mod.fit(it, num_epoch=1)
    assert seen == [1, 2, 3]


def test_fit_log_lines_and_checkpoint(tmp_path, caplog):
    it, x, y = _toy_iter(n=40, batch=10)
    val, _, _ = _toy_iter(n=20, batch=10, seed=1)
    mod = mx.mod.Module(_mlp(3))
    prefix = str(tmp_path / "ck")
    with caplog.at_level(logging.INFO):
        mod.fit(it, eval_data=val, num_epoch=2,
                epoch_end_callback=mx.callback.do_checkpoint(prefix),
                optimizer_params={"learning_rate": 0.1})
    msgs = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Epoch[0] Train-accuracy=") for m in msgs)
    assert any(m.startswith("Epoch[1] Time cost=") for m in msgs)
    saved = msgs.index(f'Saved checkpoint to "{prefix}-0001.params"')
    valid = [i for i, m in enumerate(msgs) if m.startswith("Epoch[0] Validation-accuracy=")]
    assert valid and saved < valid[0]
    assert os.path.exists(prefix + "-symbol.json") and os.path.exists(prefix + "-0002.params")
    sym, arg, aux = mx.model.load_checkpoint(prefix, 2)
    assert sym.tojson() == mod.symbol.tojson()
    for k, v in mod.get_params()[0].items():
        np.testing.assert_array_equal(arg[k].asnumpy(), v.asnumpy())


def test_predict_merge_and_pad():
    it, x, _ = _toy_iter(n=10, batch=4)
    mod = mx.mod.Module(_mlp(2))
    mod.bind(it.provide_data, it.provide_label, for_training=False)
    mod.init_params()
    assert mod.predict(it).shape == (10, 2)
    unmerged = mod.predict(it, merge_batches=False)
    assert [[o.shape for o in b] for b in unmerged] == [[(4, 2)], [(4, 2)], [(2, 2)]]
    assert isinstance(mod.predict(it, always_output_list=True), list)
    with pytest.raises(ValueError):
        mod.predict([1, 2, 3])


def test_state_machine_errors_name_the_fix():
    mod = mx.mod.Module(_mlp(3))
    batch = mx.io.DataBatch(data=[mx.nd.ones((2, 8))], label=[mx.nd.ones((2,))])
    with pytest.raises(MXNetError, match="bind"):
        mod.forward(batch)
    with pytest.raises(MXNetError, match="init_params"):
        mod.get_params()
    mod.bind(data_shapes=[("data", (2, 8))], label_shapes=[("softmax_label", (2,))])
    with pytest.raises(MXNetError, match="init_params"):
        mod.forward(batch)
    mod.init_params()
    with pytest.raises(MXNetError, match="init_optimizer"):
        mod.update()
    with pytest.raises(ValueError, match="data_names"):
        mx.mod.Module(_mlp(3)).bind(data_shapes=[("x", (2, 8))])
    with pytest.raises(ValueError, match="not found"):
        mx.mod.Module(_mlp(3), data_names=["nope"])
    with pytest.raises(ValueError):
        mod.init_optimizer(optimizer="no_such_optimizer")
    assert not mod.optimizer_initialized
    with pytest.raises(ValueError):
        mx.metric.create("no_such_metric")


def test_fixed_params_not_updated():
    it, _, _ = _toy_iter()
    mod = mx.mod.Module(_mlp(3), fixed_param_names=["fc1_weight"])
    mod.bind(it.provide_data, it.provide_label)
    mod.init_params()
    before = mod.get_params()[0]["fc1_weight"].asnumpy().copy()
    mod.init_optimizer(optimizer_params={"learning_rate": 1.0})
    mod.forward_backward(next(iter(it)))
    mod.update()
    after = mod.get_params()[0]
    np.testing.assert_array_equal(after["fc1_weight"].asnumpy(), before)
    assert mod._exec_group.execs[0].grad_dict["fc1_weight"] is None


def test_grad_req_add_accumulates():
    data = mx.sym.Variable("data")
    a = mx.sym.Variable("a", shape=(1, 3), init=mx.init.One())
    net = mx.sym.make_loss(mx.sym.broadcast_mul(data, a))
    mod = mx.mod.Module(net, label_names=None)
    mod.bind(data_shapes=[("data", (4, 3))], grad_req="add")
    mod.init_params()
    batch = mx.io.DataBatch(data=[mx.nd.ones((4, 3))])
    mod.forward_backward(batch)
    g = mod._exec_group.execs[0].grad_dict["a"]
    np.testing.assert_array_equal(g.asnumpy(), 4 * np.ones((1, 3)))
    mod.forward_backward(batch)
    np.testing.assert_array_equal(g.asnumpy(), 8 * np.ones((1, 3)))
