"""LearningRateLogger: the optimizer's learning rate, scheduler applied."""
import logging

import pytest

import mxtorch as mx


def _factor_lr(base_lr, step, factor, num_update):
    """MXNet's FactorScheduler, written out (the oracle)."""
    lr, count = base_lr, 0
    while num_update > count + step:
        count += step
        lr *= factor
    return lr


def test_batch_and_epoch_slots(toy, h, caplog):
    train, _, _, _ = toy
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5)
    per_batch, per_epoch = mx.callback.LearningRateLogger(frequent=1), \
        mx.callback.LearningRateLogger()
    with caplog.at_level(logging.INFO):
        h.make_module().fit(train, num_epoch=2, batch_end_callback=per_batch,
                            epoch_end_callback=per_epoch,
                            optimizer_params={"learning_rate": 1.0, "lr_scheduler": sched})
    assert [v[2] for v in per_batch.values] == [_factor_lr(1.0, 2, 0.5, n)
                                                for n in range(1, 9)]
    assert per_epoch.values == [(0, None, _factor_lr(1.0, 2, 0.5, 4)),
                                (1, None, _factor_lr(1.0, 2, 0.5, 8))]
    lines = [r.getMessage() for r in caplog.records]
    assert "Epoch[0] Batch [3]\tlearning_rate=0.5" in lines
    assert "Epoch[1] learning_rate=0.125" in lines


def test_frequent_checked():
    with pytest.raises(mx.base.MXNetValueError, match="frequent must be an int >= 1"):
        mx.callback.LearningRateLogger(frequent=0)
