"""mx.callback log lines against MXNet 1.9.1 (fixtures from tools/gen_io_init_fixtures.py,
recorded with the same fixed clock and fake metric)."""
import json
import logging
import os
import types

import pytest

import mxtorch as mx
import mxtorch.callback as cb
import mxtorch.model
from mxtorch.base import MXNetValueError

FIX = os.path.join(os.path.dirname(__file__), "..", "compat", "fixtures", "callback",
                   "callback.json")


@pytest.fixture(scope="module")
def fx():
    with open(FIX) as f:
        return json.load(f)


class _FakeMetric:
    def __init__(self, pairs):
        self.pairs = pairs
        self.resets = 0
        self.reads = 0

    def get_name_value(self):
        self.reads += 1
        return list(self.pairs)

    def reset_local(self):
        self.resets += 1


CALLS = [(0, i) for i in range(7)] + [(1, i) for i in range(5)]
PAIRS = [("accuracy", 0.25), ("ce", 1.5)]


def _run(callback, calls, metric, caplog, monkeypatch, clock=True):
    if clock:
        ticks = iter([100.0 + 0.5 * k for k in range(40)])
        monkeypatch.setattr(cb, "time", types.SimpleNamespace(time=lambda: next(ticks)))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for epoch, nbatch in calls:
            callback(cb.BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=metric,
                                      locals=None))
    lines = [r.getMessage() for r in caplog.records]
    return [lines, metric.resets if metric is not None else None]


def test_speedometer_auto_reset(fx, caplog, monkeypatch):
    m = _FakeMetric(PAIRS)
    assert _run(cb.Speedometer(4, 2), CALLS, m, caplog, monkeypatch) == fx["speedometer_reset"]
    assert m.reads == len(fx["speedometer_reset"][0])  # read only when a line is logged


def test_speedometer_no_reset(fx, caplog, monkeypatch):
    m = _FakeMetric(PAIRS[:1])
    got = _run(cb.Speedometer(4, 3, auto_reset=False), CALLS, m, caplog, monkeypatch)
    assert got == fx["speedometer_noreset"]


def test_speedometer_without_metric(fx, caplog, monkeypatch):
    got = _run(cb.Speedometer(8, 2), CALLS, None, caplog, monkeypatch)
    assert got == fx["speedometer_nometric"]
    with pytest.raises(MXNetValueError, match="frequent"):
        cb.Speedometer(8, 0)


def test_log_train_metric(fx, caplog, monkeypatch):
    got = _run(cb.log_train_metric(3, auto_reset=True), CALLS, _FakeMetric(PAIRS), caplog,
               monkeypatch, clock=False)
    assert got == fx["log_train_metric"]


def test_progress_bar(fx, caplog, monkeypatch):
    got = _run(cb.ProgressBar(7, length=10), CALLS[:7], None, caplog, monkeypatch, clock=False)
    assert got == fx["progressbar"]


def test_validation_logger(fx, caplog, monkeypatch):
    got = _run(cb.LogValidationMetricsCallback(), [(3, 0)], _FakeMetric(PAIRS), caplog,
               monkeypatch, clock=False)
    assert got == fx["validation"]
    caplog.clear()
    cb.LogValidationMetricsCallback()(cb.BatchEndParam(0, 0, None, None))
    assert caplog.records == []


def test_batch_end_param_type(fx):
    p = cb.BatchEndParam(1, 2, 3, 4)
    assert [type(p).__name__, list(cb.BatchEndParam._fields)] == fx["batch_end_param"]
    assert (p.epoch, p.nbatch, p.eval_metric, p.locals) == (1, 2, 3, 4)


def test_do_checkpoint_calls_model_save_checkpoint(monkeypatch):
    saved = []
    monkeypatch.setattr(mxtorch.model, "save_checkpoint",
                        lambda prefix, epoch, sym, arg, aux: saved.append((prefix, epoch, sym)))
    f = cb.do_checkpoint("pre", period=2)
    for epoch in range(5):
        f(epoch, "SYM", {}, {})
    assert saved == [("pre", 2, "SYM"), ("pre", 4, "SYM")]
    saved.clear()
    g = cb.do_checkpoint("p", period=0)  # period clamps to 1
    g(0, None, {}, {})
    assert saved == [("p", 1, None)]


def test_do_checkpoint_writes_files(tmp_path):
    if not hasattr(mx.nd, "save"):
        pytest.skip("mx.nd.save is not available yet")
    x = mx.nd.array([[1.0, 2.0]])
    prefix = str(tmp_path / "m")
    cb.do_checkpoint(prefix)(0, None, {"w": x}, {})
    loaded = mx.nd.load(prefix + "-0001.params")
    assert list(loaded) == ["arg:w"] and loaded["arg:w"].asnumpy().tolist() == [[1.0, 2.0]]


def test_module_checkpoint():
    class FakeMod:
        def __init__(self):
            self.calls = []

        def save_checkpoint(self, prefix, epoch, save_optimizer_states=False):
            self.calls.append((prefix, epoch, save_optimizer_states))
    mod = FakeMod()
    f = cb.module_checkpoint(mod, "x", period=3, save_optimizer_states=True)
    for epoch in range(7):
        f(epoch)
    assert mod.calls == [("x", 3, True), ("x", 6, True)]
