"""CSVLogger: a header and one row per epoch; continued, not duplicated, on resume."""
import csv
import logging
import re

import pytest

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_rows_match_the_log_lines(toy, h, tmp_path, caplog):
    train, val, _, _ = toy
    path = tmp_path / "log.csv"
    with caplog.at_level(logging.INFO):
        h.make_module().fit(train, eval_data=val, num_epoch=3,
                            optimizer_params={"learning_rate": 0.25},
                            eval_end_callback=mx.callback.CSVLogger(path))
    rows = _rows(path)
    assert rows[0] == ["epoch", "Train-accuracy", "Validation-accuracy", "time",
                       "learning_rate"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    logged = {}
    for r in caplog.records:
        m = re.match(r"Epoch\[(\d)\] (Train-accuracy|Validation-accuracy|Time cost)=([0-9.]+)",
                     r.getMessage())
        if m:
            logged[(m[1], m[2])] = float(m[3])
    for r in rows[1:]:
        assert float(r[1]) == pytest.approx(logged[(r[0], "Train-accuracy")], abs=1e-6)
        assert float(r[2]) == pytest.approx(logged[(r[0], "Validation-accuracy")], abs=1e-6)
        assert float(r[3]) == pytest.approx(logged[(r[0], "Time cost")], abs=1e-3)
        assert float(r[4]) == 0.25


def test_epoch_end_slot_and_separator(toy, h, tmp_path):
    train, _, _, _ = toy
    path = tmp_path / "log.tsv"
    h.make_module().fit(train, num_epoch=2, eval_metric=["acc", "ce"],
                        epoch_end_callback=mx.callback.CSVLogger(path, separator="\t"))
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch\tTrain-accuracy\tTrain-cross-entropy\ttime\tlearning_rate"
    assert len(lines) == 3 and lines[2].startswith("1\t")


def test_resume_continues_the_file(toy, h, tmp_path):
    train, val, _, _ = toy
    path, prefix = tmp_path / "log.csv", str(tmp_path / "snap")
    h.make_module().fit(train, eval_data=val, num_epoch=2, resume=prefix,
                        eval_end_callback=mx.callback.CSVLogger(path))
    h.make_module().fit(train, eval_data=val, num_epoch=4, resume=prefix,
                        eval_end_callback=mx.callback.CSVLogger(path))
    assert [r[0] for r in _rows(path)] == ["epoch", "0", "1", "2", "3"]


def test_rows_of_redone_epochs_are_dropped(toy, h, tmp_path):
    # a run that crashed after logging epoch 2 but before its snapshot: epoch 2 is redone
    train, _, _, _ = toy
    path = tmp_path / "log.csv"
    header = "epoch,Train-accuracy,time,learning_rate\n"
    path.write_text(header + "0,0.5,1.0,0.01\n1,0.6,1.0,0.01\n2,0.7,1.0,0.01\n")
    h.make_module().fit(train, num_epoch=4, begin_epoch=2,
                        epoch_end_callback=mx.callback.CSVLogger(path))
    rows = _rows(path)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2", "3"]
    assert rows[2] == ["1", "0.6", "1.0", "0.01"] and rows[3][1] != "0.7"
    # append=True keeps every row; append=False and a fresh fit start over
    h.make_module().fit(train, num_epoch=1, epoch_end_callback=mx.callback.CSVLogger(
        path, append=True))
    assert [r[0] for r in _rows(path)] == ["epoch", "0", "1", "2", "3", "0"]
    h.make_module().fit(train, num_epoch=1, epoch_end_callback=mx.callback.CSVLogger(path))
    assert [r[0] for r in _rows(path)] == ["epoch", "0"]


def test_header_mismatch_and_bad_arguments(toy, h, tmp_path):
    train, _, _, _ = toy
    path = tmp_path / "log.csv"
    path.write_text("epoch,Train-mse\n0,1.0\n")
    with pytest.raises(MXNetValueError, match="cannot continue .*give another filename or "
                       "append=False"):
        h.make_module().fit(train, num_epoch=1, epoch_end_callback=mx.callback.CSVLogger(
            path, append=True))
    assert path.read_text() == "epoch,Train-mse\n0,1.0\n"
    with pytest.raises(MXNetTypeError, match="separator must be one character"):
        mx.callback.CSVLogger(path, separator=";;")
    with pytest.raises(MXNetTypeError, match="append must be None, True or False"):
        mx.callback.CSVLogger(path, append="yes")
    with pytest.raises(MXNetValueError, match="one slot only"):
        cb = mx.callback.CSVLogger(path)
        h.make_module().fit(train, num_epoch=1, epoch_end_callback=cb, eval_end_callback=cb,
                            eval_data=toy[1])
