"""The README's demo (python -m mxtorch.demo) in a short form: it trains to real accuracy,
logs as MXNet does, writes a checkpoint that reloads to the same accuracy, and fails
(exit 1) when the accuracy bar is not met."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.datasets import load_digits
from mxtorch.demo import split_digits

EPOCHS = 8
SEED = 42


def _run_demo(*args):
    return subprocess.run([sys.executable, "-m", "mxtorch.demo", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def short_demo(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("demo")
    proc = _run_demo("--epochs", str(EPOCHS), "--min-accuracy", "0.9", "--seed", str(SEED),
                     "--out-dir", str(out_dir))
    return proc, out_dir


def _accuracies(stdout):
    m = re.search(r"validation accuracy: trained ([0-9.]+), reloaded ([0-9.]+) \(score\), "
                  r"([0-9.]+) \(predict\)", stdout)
    assert m, stdout
    return [float(v) for v in m.groups()]


def test_short_demo_trains_and_reloads(short_demo):
    proc, _ = short_demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trained, reloaded, predicted = _accuracies(proc.stdout)
    assert trained >= 0.9
    assert reloaded == trained and predicted == trained
    assert proc.stdout.rstrip().endswith("OK")


def test_short_demo_logs_like_mxnet(short_demo):
    proc, out_dir = short_demo
    log = proc.stderr
    for epoch in range(EPOCHS):
        assert re.search(rf"Epoch\[{epoch}\] Train-accuracy=[0-9.]+\n", log), log
        assert re.search(rf"Epoch\[{epoch}\] Time cost=[0-9.]+\n", log), log
        assert re.search(rf"Epoch\[{epoch}\] Validation-accuracy=[0-9.]+\n", log), log
    assert re.search(r"Epoch\[0\] Batch \[0-25\]\tSpeed: [0-9.]+ samples/sec\taccuracy=[0-9.]+", log), log
    params = os.path.join(str(out_dir), "digits-mlp-%04d.params" % EPOCHS)
    assert f'Saved checkpoint to "{params}"' in log


def test_checkpoint_scores_the_reported_accuracy_in_numpy(short_demo):
    """Recompute the validation accuracy from the saved weights with a numpy forward pass."""
    proc, out_dir = short_demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    prefix = os.path.join(str(out_dir), "digits-mlp")
    assert os.path.exists(prefix + "-symbol.json")
    params = {k: v.asnumpy().astype(np.float64)
              for k, v in mx.nd.load("%s-%04d.params" % (prefix, EPOCHS)).items()}
    assert sorted(params) == sorted(f"arg:fc{i}_{p}" for i in (1, 2, 3) for p in ("weight", "bias"))
    assert params["arg:fc1_weight"].shape == (128, 64)
    assert params["arg:fc3_weight"].shape == (10, 64)
    X, y = load_digits()
    _, _, X_val, y_val = split_digits(X, y, seed=SEED)
    h = X_val.astype(np.float64)
    for i in (1, 2, 3):
        h = h @ params[f"arg:fc{i}_weight"].T + params[f"arg:fc{i}_bias"]
        if i < 3:
            h = np.maximum(h, 0.0)
    numpy_acc = float(np.mean(h.argmax(axis=1) == y_val))
    trained, _, _ = _accuracies(proc.stdout)
    assert abs(numpy_acc - trained) < 0.5 / len(y_val)   # the same count of correct digits


def test_demo_fails_below_the_accuracy_bar(tmp_path):
    proc = _run_demo("--epochs", "1", "--min-accuracy", "1.01", "--out-dir", str(tmp_path))
    assert proc.returncode == 1
    assert "FAIL: validation accuracy" in proc.stderr
