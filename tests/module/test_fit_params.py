"""FitParams (MXNet Scala's fit argument object): fields, chained setters, validation,
and fit(..., fit_params=) training exactly as the same keywords do."""
import logging

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError
from mxtorch.module.fit_params import FitParams

def test_fields_setters_and_merge():
    metric = mx.metric.create("acc")
    fp = FitParams(kvstore="device").set_optimizer("adam").set_eval_metric(metric) \
        .set_begin_epoch(2)
    assert fp.kvstore == "device" and fp.optimizer == "adam" and fp.eval_metric is metric
    assert fp.begin_epoch == 2
    assert fp.monitor is None  # unset fields read as None and do not override fit's
    fp.force_init = True
    assert fp.to_dict() == {"kvstore": "device", "optimizer": "adam", "eval_metric": metric,
                            "begin_epoch": 2, "force_init": True}
    merged = fp.merged({"kvstore": "local", "optimizer": "sgd", "num_epoch": 3,
                        "monitor": None})
    assert merged == {"kvstore": "device", "optimizer": "adam", "num_epoch": 3,
                      "monitor": None, "eval_metric": metric, "begin_epoch": 2,
                      "force_init": True}
    assert "set_batch_end_callback" in dir(fp)
    assert repr(FitParams(num_epoch=2)) == "FitParams(num_epoch=2)"


def test_validation_like_the_scala_setters():
    with pytest.raises(MXNetTypeError, match="not an argument of fit"):
        FitParams(learning_rate=0.1)
    with pytest.raises(AttributeError):
        FitParams().set_learning_rate
    for name in ("eval_metric", "kvstore", "optimizer", "initializer"):
        with pytest.raises(MXNetValueError, match="cannot be None"):
            FitParams().set(name, None)
    with pytest.raises(MXNetValueError, match="begin_epoch"):
        FitParams(begin_epoch=-1)
    with pytest.raises(MXNetValueError, match="num_epoch"):
        FitParams().set_num_epoch(0)


def _data():
    rng = np.random.RandomState(0)
    x = rng.randn(40, 6).astype(np.float32)
    y = (x[:, :3].argmax(axis=1)).astype(np.float32)
    return x, y


def _net():
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def _train(**fit_kwargs):
    x, y = _data()
    mod = mx.mod.Module(_net())
    mx.random.seed(3)
    mod.fit(mx.io.NDArrayIter(x, y, batch_size=10), **fit_kwargs)
    return {k: v.asnumpy() for k, v in mod.get_params()[0].items()}


def test_fit_with_fit_params_equals_keywords():
    init = mx.init.Xavier()
    kw = dict(optimizer="sgd", optimizer_params={"learning_rate": 0.2, "momentum": 0.9},
              initializer=init)
    ref = _train(num_epoch=2, **kw)
    got = _train(num_epoch=1, fit_params=FitParams(num_epoch=2, **kw))  # set fields win
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k])
    with pytest.raises(MXNetTypeError, match="FitParams"):
        _train(num_epoch=1, fit_params={"num_epoch": 1})


def test_fit_params_callbacks_and_metric(caplog):
    seen = []
    fp = FitParams().set_batch_end_callback(lambda p: seen.append(p.nbatch)) \
        .set_eval_metric(mx.metric.create("ce")).set_num_epoch(1)
    with caplog.at_level(logging.INFO):
        _train(fit_params=fp)
    assert seen == [0, 1, 2, 3]
    assert any("Epoch[0] Train-cross-entropy=" in r.getMessage() for r in caplog.records)
