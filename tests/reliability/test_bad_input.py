"""The bad-input catalog (issue 9): each misuse gets a message naming the problem (and
the fix), and the module is unchanged afterwards."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetError, StateError


def _net():
    data = mx.sym.var("data")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"),
                                name="softmax")


def _trained():
    mod = mx.mod.Module(_net())
    mod.bind(data_shapes=[("data", (4, 5))], label_shapes=[("softmax_label", (4,))])
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1})
    return mod


def _params(mod):
    return {k: v.asnumpy().copy() for k, v in mod.get_params()[0].items()}


def _unchanged(before, mod):
    after = _params(mod)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)


def _iter(x=None, y=None, batch_size=4):
    rng = np.random.RandomState(0)
    x = rng.rand(8, 5).astype("f") if x is None else x
    y = rng.randint(0, 3, 8).astype("f") if y is None else y
    return mx.io.NDArrayIter(x, y, batch_size=batch_size)


def test_nan_in_data_names_array_element_and_batch():
    mod = _trained()
    before = _params(mod)
    x = np.random.RandomState(0).rand(8, 5).astype("f")
    x[6, 2] = np.nan
    with pytest.raises(ValueError, match=r"input 'data' holds nan at index \(2, 2\) in batch 1 "
                                         r"of epoch 0.*nan_to_num"):
        mod.fit(_iter(x), num_epoch=1, check_nan=True)
    # batch 0 was clean and trained; batch 1 was refused before its forward
    ref = _trained()
    ref.set_params(*[{k: mx.nd.array(v) for k, v in before.items()}, {}])
    ref.fit(_iter(x[:4], batch_size=4, y=np.random.RandomState(0).randint(0, 3, 8)
                  .astype("f")[:4]), num_epoch=1)
    for k, v in _params(ref).items():
        np.testing.assert_allclose(_params(mod)[k], v, rtol=1e-6)


def test_nan_in_data_passes_silently_without_the_check():
    mod = _trained()
    x = np.full((8, 5), np.nan, dtype="f")
    mod.fit(_iter(x), num_epoch=1)      # MXNet's behaviour: no check, NaN parameters
    assert np.isnan(_params(mod)["fc_weight"]).all()


def test_labels_out_of_range_for_softmax_output():
    mod = _trained()
    before = _params(mod)
    y = np.array([0, 3, 2, 0, 1, 1, 0, 0], dtype="f")
    with pytest.raises(ValueError, match=r"label 'softmax_label' holds 3.0 at index \(1,\) in "
                                         r"batch 0.*3 classes.*\[0, 2\]"):
        mod.fit(_iter(y=y), num_epoch=1, check_nan=True)
    _unchanged(before, mod)


def test_exploding_step_is_refused_before_the_update():
    mod = _trained()
    mod.set_params({"fc_weight": mx.nd.full((3, 5), np.inf), "fc_bias": mx.nd.zeros((3,))}, {})
    before = _params(mod)
    with pytest.raises(ValueError, match=r"output 'softmax_output' holds nan.*update was not "
                                         r"applied.*clip_gradient"):
        mod.fit(_iter(), num_epoch=1, check_nan=True)
    _unchanged(before, mod)


def test_empty_iterator_and_batch_larger_than_data():
    mod = _trained()
    before = _params(mod)
    it = _iter(batch_size=4)
    for _ in it:
        pass
    with pytest.raises(ValueError, match="yielded no batch in epoch 0.*batch_size"):
        mod.fit(it, num_epoch=1)
    _unchanged(before, mod)
    small = mx.io.NDArrayIter(np.zeros((3, 5), "f"), np.zeros(3, "f"), batch_size=4,
                              last_batch_handle="discard")    # MXNet: yields nothing
    with pytest.raises(ValueError, match="yielded no batch"):
        mod.fit(small, num_epoch=1)
    _unchanged(before, mod)


def test_wrong_data_shape_and_dtype_names_the_input():
    mod = _trained()
    before = _params(mod)
    bad = mx.io.DataBatch([mx.nd.zeros((4, 6))], [mx.nd.zeros((4,))])
    with pytest.raises(MXNetError, match=r"batch has data 'data' \(4, 6\) but the module is "
                                         r"bound with 'data' \(4, 5\)"):
        mod.forward(bad)
    _unchanged(before, mod)
    with pytest.raises((TypeError, ValueError), match="data_shapes"):
        mx.mod.Module(_net()).bind(data_shapes=[("data", mx.nd.zeros((4, 5)))])


def test_duplicate_argument_names_in_a_symbol():
    a, b = mx.sym.var("x"), mx.sym.var("x")
    with pytest.raises(MXNetError, match=r"several different variables named \['x'\]"):
        (a + b).simple_bind(mx.cpu(), x=(2, 2), grad_req="write")
    with pytest.raises(MXNetError, match="named"):
        (a + b).bind(mx.cpu(), {"x": mx.nd.zeros((2, 2))})
    x = mx.sym.var("x")
    assert (x + x).simple_bind(mx.cpu(), x=(2, 2)).arg_dict["x"].shape == (2, 2)


def test_state_machine_misuse_names_the_call_to_make():
    mod = mx.mod.Module(_net())
    with pytest.raises(StateError, match="not bound.*bind"):
        mod.forward(mx.io.DataBatch([mx.nd.zeros((4, 5))], [mx.nd.zeros((4,))]))
    mod.bind(data_shapes=[("data", (4, 5))], label_shapes=[("softmax_label", (4,))])
    with pytest.raises(StateError, match="init_params"):
        mod.init_optimizer()
    mod.init_params()
    with pytest.raises(StateError, match="init_optimizer"):
        mod.update()
    assert mod.binded and mod.params_initialized and not mod.optimizer_initialized


def test_cycle_in_an_inputs_graph_is_refused():
    from mxtorch.nn import Input, Model
    from mxtorch.nn.bigdl_layers import Linear, ReLU
    start = Input()
    a = Linear(4, 4).set_name("fc_a").inputs(start)
    b = ReLU().set_name("relu_b").inputs(a)
    a.prev.append((b, None))          # a now depends on itself through b
    with pytest.raises(ValueError, match="cycle through 'relu_b'.*module.inputs"):
        Model(start, b)
