"""BestCheckpoint: files only for improving epochs, loadable, written atomically."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError


def _fit(h, toy, values, cb, store, num_epoch):
    train, val, _, _ = toy
    mod = h.make_module()
    mod.fit(train, eval_data=val, num_epoch=num_epoch,
            validation_metric=h.ScriptedMetric(values),
            epoch_end_callback=h.snapshot_params(store), eval_end_callback=cb)
    return mod


def test_epoch_naming_saves_improving_epochs_only(toy, h, tmp_path):
    prefix = str(tmp_path / "net")
    params = {}
    cb = mx.callback.BestCheckpoint(prefix, monitor="score", mode="max", naming="epoch")
    _fit(h, toy, [0.5, 0.7, 0.6, 0.8], cb, params, 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "net-0001.params", "net-0002.params", "net-0004.params", "net-symbol.json"]
    assert cb.best == 0.8 and cb.best_epoch == 3 and cb.last_saved == prefix + "-0004.params"
    sym, arg, aux = mx.model.load_checkpoint(prefix, 2)
    assert sym.list_arguments() == ["data", "fc_weight", "fc_bias", "softmax_label"]
    for k, v in params[1].items():
        np.testing.assert_array_equal(arg[k].asnumpy(), v)


def test_best_naming_keeps_one_file_with_the_best(toy, h, tmp_path):
    prefix = str(tmp_path / "net")
    params = {}
    cb = mx.callback.BestCheckpoint(prefix, monitor="score", mode="min",
                                    save_optimizer_states=True)
    _fit(h, toy, [0.5, 0.2, 0.3, 0.25], cb, params, 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "net-best.params", "net-best.states", "net-symbol.json"]
    arg, _ = mx.model.load_params_file(prefix + "-best.params")
    for k, v in params[1].items():
        np.testing.assert_array_equal(arg[k].asnumpy(), v)
    mod = h.make_module()
    mod.bind(toy[0].provide_data, toy[0].provide_label)
    mod.init_params()
    mod.init_optimizer()
    mod.load_optimizer_states(prefix + "-best.states")


def test_a_failed_write_keeps_the_previous_best(toy, h, tmp_path, monkeypatch):
    prefix = str(tmp_path / "net")
    params = {}
    cb = mx.callback.BestCheckpoint(prefix, monitor="score", mode="max")
    train, val, _, _ = toy
    mod = h.make_module()
    mod.fit(train, eval_data=val, num_epoch=1, validation_metric=h.ScriptedMetric([0.5]),
            epoch_end_callback=h.snapshot_params(params), eval_end_callback=cb)

    def _broken(fname, data):     # dies half-way through an atomic write
        with mx.util.atomic.atomic_open(fname) as f:
            f.write(b"partial")
            raise OSError("disk full")
    monkeypatch.setattr(mx.nd, "save", _broken)
    with pytest.raises(OSError, match="disk full"):
        mod.fit(train, eval_data=val, num_epoch=1, force_init=True,
                validation_metric=h.ScriptedMetric([0.9]), eval_end_callback=cb)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net-best.params",
                                                          "net-symbol.json"]
    monkeypatch.undo()
    arg, _ = mx.model.load_params_file(prefix + "-best.params")
    np.testing.assert_array_equal(arg["fc_weight"].asnumpy(), params[0]["fc_weight"])


def test_arguments_checked(toy, h, tmp_path):
    with pytest.raises(MXNetValueError, match="invalid naming 'last'"):
        mx.callback.BestCheckpoint("p", naming="last")
    with pytest.raises(MXNetTypeError, match="prefix must be a non-empty str"):
        mx.callback.BestCheckpoint(None)
    train, _, _, _ = toy
    mod = h.make_module()
    with pytest.raises(MXNetValueError, match=r"monitor='f1' is not reported by the training "
                       r"metric, which reports \['accuracy'\]"):
        mod.fit(train, num_epoch=1, epoch_end_callback=mx.callback.BestCheckpoint(
            str(tmp_path / "p"), monitor="f1"))
    assert not mod.binded and not list(tmp_path.iterdir())
