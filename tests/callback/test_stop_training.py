"""StopTraining raised from each callback slot ends fit cleanly after the current
step's bookkeeping; fit returns its History."""
import logging

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError


def _stop_at(epoch, nbatch=None):
    def _cb(*args):
        param = args[0] if len(args) == 1 else None
        e = param.epoch if param is not None else args[0]
        if e == epoch and (nbatch is None or param.nbatch == nbatch):
            raise mx.callback.StopTraining(f"stop at {epoch}")
    return _cb


def _recorder(calls, tag):
    def _cb(*args):
        p = args[0] if len(args) == 1 else None
        calls.append((tag, p.epoch if p is not None else args[0],
                      p.nbatch if p is not None else None))
    return _cb


def test_stop_from_batch_end_finishes_the_epoch(toy, h, caplog):
    train, val, _, _ = toy
    calls = []
    mod = h.make_module()
    with caplog.at_level(logging.INFO):
        hist = mod.fit(train, eval_data=val, num_epoch=5,
                       batch_end_callback=[_stop_at(1, 1), _recorder(calls, "batch")],
                       epoch_end_callback=_recorder(calls, "epoch"),
                       eval_end_callback=_recorder(calls, "eval"))
    assert hist is mod.history
    # the other batch callback still saw batch 1; no batch 2 of epoch 1 was run
    assert [c for c in calls if c[1] == 1] == [("batch", 1, 0), ("batch", 1, 1),
                                               ("epoch", 1, None), ("eval", 1, 2)]
    assert hist.epochs == [0, 1] and hist.stopped_epoch == 1
    assert hist.stop_reason == "stop at 1"
    assert "Validation-accuracy" in hist[1].items()[2][0]
    lines = [r.getMessage() for r in caplog.records]
    assert "Epoch[1] Training stopped (batch_end_callback): stop at 1" in lines
    assert not any(line.startswith("Epoch[2]") for line in lines)
    # the iterator was reset: it starts again at its first batch
    first = next(iter(train)).data[0].asnumpy()
    np.testing.assert_array_equal(first, toy[2][:20])


def test_stop_from_epoch_end_still_validates(toy, h):
    train, val, _, _ = toy
    calls = []
    hist = h.make_module().fit(train, eval_data=val, num_epoch=5,
                               epoch_end_callback=[_stop_at(2), _recorder(calls, "epoch")],
                               eval_end_callback=_recorder(calls, "eval"))
    assert hist.epochs == [0, 1, 2] and hist.stopped_epoch == 2
    assert calls[-2:] == [("epoch", 2, None), ("eval", 2, 2)]
    assert set(hist[2].validation) == {"accuracy"}


def test_stop_from_eval_end(toy, h):
    train, val, _, _ = toy
    hist = h.make_module().fit(train, eval_data=val, num_epoch=5,
                               eval_end_callback=_stop_at(0))
    assert hist.epochs == [0] and hist.stop_reason == "stop at 0"


def test_stop_from_eval_batch_end_stops_scoring(toy, h):
    train, val, _, _ = toy
    calls = []
    hist = h.make_module().fit(train, eval_data=val, num_epoch=3,
                               eval_batch_end_callback=_stop_at(1, 0),
                               eval_end_callback=_recorder(calls, "eval"))
    assert hist.epochs == [0, 1]
    assert calls == [("eval", 0, 2), ("eval", 1, 1)]   # scoring of epoch 1 stopped after 1 batch


def test_score_alone_stops_after_the_batch(toy, h):
    train, val, x, y = toy
    mod = h.make_module()
    mod.fit(train, num_epoch=1)
    res = dict(mod.score(val, "acc", batch_end_callback=_stop_at(0, 0)))
    pred = mod.predict(mx.nd.array(x[80:100])).asnumpy()
    assert res["accuracy"] == pytest.approx(np.mean(pred.argmax(1) == y[80:100]))


def test_stop_at_batch_writes_no_snapshot_for_the_cut_epoch(toy, h, tmp_path):
    train, _, _, _ = toy
    prefix = str(tmp_path / "run")
    h.make_module().fit(train, num_epoch=4, resume=prefix,
                        batch_end_callback=_stop_at(1, 2))
    assert mx.snapshot.latest_snapshot(prefix) == 1


def test_bad_callbacks_refused_before_bind(toy, h):
    train, val, _, _ = toy
    mod = h.make_module()
    with pytest.raises(MXNetTypeError, match="batch_end_callback: 3 is not callable"):
        mod.fit(train, num_epoch=1, batch_end_callback=[3])
    with pytest.raises(MXNetValueError, match="CSVLogger cannot be passed as batch_end_callback"):
        mod.fit(train, num_epoch=1, batch_end_callback=mx.callback.CSVLogger("x.csv"))
    assert not mod.binded


def test_callback_object_outside_fit_says_so(toy, h):
    train, val, _, _ = toy
    mod = h.make_module()
    mod.fit(train, num_epoch=1)
    with pytest.raises(mx.base.StateError, match="pass it to module.fit"):
        mx.callback.EarlyStopping().on_eval_end(None)
