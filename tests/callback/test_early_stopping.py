"""EarlyStopping: patience, min_delta, modes, restore_best, and its checks at fit's start."""
import math

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetValueError
from mxtorch.history import History


class _FakeModule:
    def __init__(self, train_names=("loss",)):
        self.history = History(train_names=list(train_names))
        self.params = None

    def get_params(self):
        return {"w": mx.nd.array([float(len(self.history))])}, {}

    def set_params(self, arg, aux):
        self.params = arg["w"].asnumpy()[0]


def _run(es, values, name="loss"):
    """Feed training values epoch by epoch; the epoch at which it stopped, or None."""
    mod = _FakeModule([name])
    es.attach(mod, "epoch_end")
    for epoch, v in enumerate(values):
        mod.history.record_train(epoch, [(name, v)], 1.0, 0.1)
        try:
            es.on_epoch_end(epoch, None, {}, {})
        except mx.callback.StopTraining as stop:
            return epoch, str(stop), mod
    es.detach(mod)
    return None, None, mod


@pytest.mark.parametrize("values,kwargs,stopped", [
    ([1.0, 0.9, 0.95, 0.91, 0.8], dict(patience=2), 3),
    ([1.0, 0.9, 0.95, 0.91, 0.8], dict(patience=3), None),
    ([1.0, 0.9, 0.95], dict(patience=0), 2),
    ([1.0, 0.9, 0.95], dict(patience=1), 2),
    ([1.0, 0.97, 0.96, 0.9], dict(patience=2, min_delta=0.05), 2),
    ([1.0, 0.9, 0.8], dict(mode="max", patience=1), 1),
    ([1.0, math.nan, 0.5], dict(patience=2), None),
    ([1.0, math.nan, math.nan], dict(patience=2), 2),
])
def test_patience_min_delta_mode(values, kwargs, stopped):
    assert _run(mx.callback.EarlyStopping(monitor="loss", **kwargs), values)[0] == stopped


def test_auto_mode_maximizes_accuracy_and_message():
    epoch, msg, _ = _run(mx.callback.EarlyStopping(patience=1), [0.5, 0.7, 0.6], "accuracy")
    assert epoch == 2
    assert msg == "EarlyStopping: accuracy did not improve on 0.7 (epoch 1) for 1 epoch(s)"


def test_restore_best_on_stop_and_at_the_end():
    es = mx.callback.EarlyStopping(patience=2, restore_best=True)
    epoch, _, mod = _run(es, [1.0, 0.5, 0.7, 0.8])
    assert epoch == 3 and mod.params == 2.0       # get_params of epoch 1 (2 records then)
    es = mx.callback.EarlyStopping(patience=5, restore_best=True)
    epoch, _, mod = _run(es, [1.0, 0.5, 0.7])
    assert epoch is None and mod.params == 2.0    # restored when fit ended
    es = mx.callback.EarlyStopping(patience=5, restore_best=True)
    _, _, mod = _run(es, [1.0, 0.5, 0.4])
    assert mod.params is None                     # the last epoch is the best: nothing to do


def test_in_fit_on_validation_with_restore(toy, h):
    train, val, _, _ = toy
    params = {}
    mod = h.make_module()
    es = mx.callback.EarlyStopping(monitor="score", mode="max", patience=2,
                                   restore_best=True)
    hist = mod.fit(train, eval_data=val, num_epoch=10,
                   validation_metric=h.ScriptedMetric([0.3, 0.6, 0.5, 0.55, 0.9]),
                   epoch_end_callback=h.snapshot_params(params), eval_end_callback=es)
    assert hist.epochs == [0, 1, 2, 3] and hist.stopped_epoch == 3
    assert es.best == 0.6 and es.best_epoch == 1 and es.stopped_epoch == 3
    arg, _ = mod.get_params()
    for k, v in params[1].items():
        np.testing.assert_array_equal(arg[k].asnumpy(), v)
    assert not np.array_equal(params[3]["fc_weight"], params[1]["fc_weight"])


def test_checks_at_fit_start(toy, h):
    train, val, _, _ = toy
    mod = h.make_module()
    with pytest.raises(MXNetValueError, match=r"monitor='loss' is not reported by the "
                       r"validation metric, which reports \['accuracy'\]"):
        mod.fit(train, eval_data=val, num_epoch=1,
                eval_end_callback=mx.callback.EarlyStopping(monitor="loss"))
    with pytest.raises(MXNetValueError, match="fit has no eval_data"):
        mod.fit(train, num_epoch=1, eval_end_callback=mx.callback.EarlyStopping())
    with pytest.raises(MXNetValueError, match="pass it as eval_end_callback or "
                       "epoch_end_callback"):
        mod.fit(train, num_epoch=1, batch_end_callback=mx.callback.EarlyStopping())
    assert not mod.binded
    with pytest.raises(MXNetValueError, match="invalid patience -1"):
        mx.callback.EarlyStopping(patience=-1)
    with pytest.raises(MXNetValueError, match="invalid mode 'up'"):
        mx.callback.EarlyStopping(mode="up")
    with pytest.raises(MXNetValueError, match="invalid min_delta -0.1"):
        mx.callback.EarlyStopping(min_delta=-0.1)
