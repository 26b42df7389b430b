"""TensorBoardLogger: event files read back with tensorboard's EventAccumulator."""
import sys

import pytest

import mxtorch as mx
from mxtorch.base import MXNetValueError
from mxtorch.callbacks import OptionalDependencyError

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")


def _load(logdir):
    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    return acc


def test_scalars_and_histograms_read_back(toy, h, tmp_path):
    train, val, _, _ = toy
    grads = {}

    def _last_grad(param):      # each epoch's last gradient, read from the executor
        if param.nbatch == 3:
            exe = param.locals["self"]._exec_group.execs[0]
            grads[param.epoch] = exe.grad_dict["fc_weight"].asnumpy().copy()
    tb = mx.callback.TensorBoardLogger(tmp_path, frequent=2, histograms=True)
    mod = h.make_module()
    hist = mod.fit(train, eval_data=val, num_epoch=2, optimizer_params={"learning_rate": 0.1},
                   batch_end_callback=[tb, _last_grad], eval_end_callback=tb)
    assert tb.writer is None        # closed when fit ended
    acc = _load(tmp_path)
    tags = acc.Tags()
    assert set(tags["scalars"]) == {"batch/Train-accuracy", "batch/learning_rate",
                                    "epoch/Train-accuracy", "epoch/Validation-accuracy",
                                    "epoch/time", "epoch/learning_rate"}
    # batches 0 and 2 of each epoch, at the optimizer's update count
    assert [e.step for e in acc.Scalars("batch/Train-accuracy")] == [1, 3, 5, 7]
    assert [e.value for e in acc.Scalars("batch/learning_rate")] == pytest.approx([0.1] * 4)
    val_events = acc.Scalars("epoch/Validation-accuracy")
    assert [e.step for e in val_events] == [0, 1]
    assert [e.value for e in val_events] == pytest.approx(hist.validation("accuracy"))
    assert set(tags["histograms"]) == {"param/fc_weight", "param/fc_bias", "grad/fc_weight",
                                       "grad/fc_bias"}
    arg, _ = mod.get_params()
    w = acc.Histograms("param/fc_weight")[-1]
    assert w.step == 1 and w.histogram_value.num == 20
    assert w.histogram_value.min == pytest.approx(arg["fc_weight"].asnumpy().min())
    assert w.histogram_value.max == pytest.approx(arg["fc_weight"].asnumpy().max())
    g = acc.Histograms("grad/fc_weight")
    assert [e.step for e in g] == [0, 1]
    assert g[0].histogram_value.min == pytest.approx(grads[0].min())
    assert g[1].histogram_value.sum == pytest.approx(grads[1].sum(), abs=1e-5)


def test_epoch_slot_only_and_histogram_freq(toy, h, tmp_path):
    train, _, _, _ = toy
    tb = mx.callback.TensorBoardLogger(tmp_path, histograms=True, histogram_freq=2)
    h.make_module().fit(train, num_epoch=4, epoch_end_callback=tb)
    acc = _load(tmp_path)
    assert set(acc.Tags()["scalars"]) == {"epoch/Train-accuracy", "epoch/time",
                                          "epoch/learning_rate"}
    assert [e.step for e in acc.Histograms("param/fc_bias")] == [1, 3]


def test_errors(tmp_path, monkeypatch):
    with pytest.raises(MXNetValueError, match="frequent must be an int >= 1, got 0"):
        mx.callback.TensorBoardLogger(tmp_path, frequent=0)
    with pytest.raises(MXNetValueError, match="cannot be passed as eval_batch_end_callback"):
        mx.callback.TensorBoardLogger(tmp_path).attach(None, "eval_batch_end")
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(OptionalDependencyError, match="pip install tensorboard"):
        mx.callback.TensorBoardLogger(tmp_path)
