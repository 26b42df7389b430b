"""History: what fit returns and keeps as module.history, and its PNG training curve."""
import logging
import re
import struct
import sys

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetValueError
from mxtorch.callbacks import OptionalDependencyError
from mxtorch.history import History


def _factor_lr(base_lr, step, factor, num_update):
    """MXNet's FactorScheduler, written out (the oracle)."""
    lr, count = base_lr, 0
    while num_update > count + step:
        count += step
        lr *= factor
    return lr


def test_fit_records_train_validation_time_and_lr(toy, h, caplog):
    train, val, x, y = toy
    mod = h.make_module()
    sched = mx.lr_scheduler.FactorScheduler(step=3, factor=0.5)
    with caplog.at_level(logging.INFO):
        hist = mod.fit(train, eval_data=val, num_epoch=3, optimizer="sgd",
                       optimizer_params={"learning_rate": 0.4, "lr_scheduler": sched})
    assert mod.history is hist and len(hist) == 3 and hist.epochs == [0, 1, 2]
    assert hist.train_names == ["accuracy"] and hist.validation_names == ["accuracy"]
    logged = {}
    for r in caplog.records:
        m = re.match(r"Epoch\[(\d)\] (Train|Validation)-accuracy=([0-9.]+)", r.getMessage())
        if m:
            logged[(int(m[1]), m[2])] = float(m[3])
    for rec in hist:
        assert rec.train["accuracy"] == pytest.approx(logged[(rec.epoch, "Train")], abs=1e-6)
        assert rec.validation["accuracy"] == pytest.approx(logged[(rec.epoch, "Validation")],
                                                           abs=1e-6)
        assert 0 < rec.time < 30
    # 4 batches per epoch: the lr in effect after 4, 8, 12 updates
    assert hist.learning_rates == [_factor_lr(0.4, 3, 0.5, n) for n in (4, 8, 12)]
    # the last validation value against numpy on the predictions
    pred = mod.predict(mx.io.NDArrayIter(x[80:], batch_size=20)).asnumpy()
    assert hist.validation("accuracy")[-1] == pytest.approx(np.mean(pred.argmax(1) == y[80:]))
    d = hist.to_dict()
    assert list(d) == ["epoch", "Train-accuracy", "Validation-accuracy", "time",
                       "learning_rate"]
    assert d["epoch"] == [0, 1, 2] and d["Validation-accuracy"] == hist.validation("accuracy")


def test_fit_without_validation(toy, h):
    train, _, _, _ = toy
    hist = h.make_module().fit(train, num_epoch=2, eval_metric=["acc", "ce"])
    assert not hist.has_validation and hist.validation_names is None
    assert list(hist[0].train) == ["accuracy", "cross-entropy"]
    assert hist[0].validation == {} and np.isnan(hist.validation("accuracy")).all()


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_plot_writes_a_png_with_one_panel_per_metric(toy, h, tmp_path):
    pytest.importorskip("matplotlib")
    train, val, _, _ = toy
    hist = h.make_module().fit(train, eval_data=val, num_epoch=2, eval_metric=["acc", "ce"])
    out = hist.plot(tmp_path / "curve.png", dpi=50)
    assert _png_size(out) == (3 * 5 * 50, int(3.6 * 50))    # accuracy, ce, learning rate
    out = hist.plot(tmp_path / "acc.png", metrics=["accuracy"], learning_rate=False, dpi=50)
    assert _png_size(out) == (5 * 50, int(3.6 * 50))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acc.png", "curve.png"]


def test_plot_errors(tmp_path, monkeypatch):
    hist = History()
    with pytest.raises(MXNetValueError, match="no epoch recorded"):
        hist.plot(tmp_path / "a.png")
    hist.record_train(0, [("accuracy", 0.5)], 1.0, 0.1)
    with pytest.raises(MXNetValueError, match=r"\['loss'\] were never recorded"):
        hist.plot(tmp_path / "a.png", metrics=["loss"])
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(OptionalDependencyError, match="pip install matplotlib"):
        hist.plot(tmp_path / "a.png")
    assert not list(tmp_path.iterdir())


def test_record_validation_needs_the_epoch():
    hist = History()
    with pytest.raises(MXNetValueError, match="epoch 3 has no training record"):
        hist.record_validation(3, [("accuracy", 1.0)])
