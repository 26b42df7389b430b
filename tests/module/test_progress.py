"""Progress bars of fit/score/predict: drawn under a pseudo-terminal (they appear, update
and close), absent otherwise, and reading the metric only when they are redrawn."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetTypeError
from mxtorch.callbacks import OptionalDependencyError, progress as progress_mod

pytest.importorskip("tqdm")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = r"""
import logging, sys, time
import numpy as np
import mxtorch as mx
logging.basicConfig(level=logging.INFO, format="%(message)s")
rng = np.random.RandomState(0)
x = rng.randn(240, 10).astype("float32")
y = (x[:, 0] > 0).astype("float32")
train = mx.io.NDArrayIter(x[:200], y[:200], batch_size=20)
val = mx.io.NDArrayIter(x[200:], y[200:], batch_size=20)
net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2,
                                                 name="fc"), name="softmax")
mod = mx.mod.Module(net)
mod.fit(train, eval_data=val, num_epoch=2, batch_end_callback=lambda p: time.sleep(0.045))
mod.score(val, "acc")
mod.predict(val)
print("CHILD DONE", file=sys.stderr)
"""


def _run_in_pty(script, timeout=60):
    """Run ``script`` with stdin/stdout/stderr on a 30x120 pseudo-terminal; its output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True, env=env, cwd=REPO)
    os.close(slave)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:        # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == 0, out.decode(errors="replace")
    return out.decode(errors="replace")


def _renders(out, desc):
    """Every redraw of the bar labelled ``desc``: its text, in order."""
    return [seg.strip() for seg in re.split(r"[\r\n]", out) if seg.startswith(desc + ":")]


def test_bars_appear_update_and_close_under_a_terminal():
    out = _run_in_pty(CHILD)
    assert "CHILD DONE" in out
    for epoch in (0, 1):
        renders = _renders(out, f"Epoch[{epoch}]")
        counts = [int(re.search(r"\| *(\d+)/10 ", r)[1]) for r in renders]
        assert counts[0] == 0 and counts[-1] == 10 and counts == sorted(counts)
        assert any(0 < c < 10 for c in counts), renders        # it updated mid-epoch
        middle = next(r for r, c in zip(renders, counts) if 0 < c < 10)
        assert re.search(r"\d+\.\d samples/s, accuracy=0\.\d+", middle), middle
        assert re.search(r"accuracy=0\.\d+, val_accuracy=0\.\d+\]$", renders[-1]), renders[-1]
        # closed: the final render ends its line before anything else is drawn
        last = out.rindex(renders[-1])
        assert out[last + len(renders[-1]):].startswith("\r\n")
    # MXNet's lines are printed on their own lines, above the bar
    lines = re.split(r"[\r\n]+", out)
    for text in ("Epoch[0] Train-accuracy=", "Epoch[0] Time cost=",
                 "Epoch[1] Validation-accuracy="):
        assert any(line.startswith(text) for line in lines), text
    assert re.search(r"score: 100%.*2/2 .*accuracy=0\.\d+\]", out)
    assert re.search(r"predict: 100%.*2/2 ", out)


def _data():
    rng = np.random.RandomState(1)
    x = rng.randn(60, 6).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    return mx.io.NDArrayIter(x, y, batch_size=10)


def _module():
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2, name="fc")
    return mx.mod.Module(mx.sym.SoftmaxOutput(net, name="softmax"))


class _CountingAccuracy(mx.metric.Accuracy):
    reads = 0

    def get(self):
        self.reads += 1
        return super().get()

    def get_global(self):
        self.reads += 1
        return super().get_global()


def _reads(progress, monkeypatch, refresh):
    monkeypatch.setattr(progress_mod, "REFRESH_SECONDS", refresh)
    metric = _CountingAccuracy()
    _module().fit(_data(), num_epoch=2, eval_metric=metric, progress=progress)
    return metric.reads


def test_metric_is_read_only_when_the_bar_is_redrawn(monkeypatch, capsys):
    plain = _reads(False, monkeypatch, 0.25)
    assert _reads(True, monkeypatch, 1e9) == plain      # the bar adds no read (no sync)
    assert _reads(True, monkeypatch, 0.0) >= plain + 2 * 6 - 2   # one per redrawn batch


def test_no_bar_when_stderr_is_not_a_terminal(capsys, caplog):
    import logging
    with caplog.at_level(logging.INFO):
        _module().fit(_data(), num_epoch=1)
    assert "Epoch[0]:" not in capsys.readouterr().err
    assert any(r.getMessage().startswith("Epoch[0] Train-accuracy=") for r in caplog.records)


def test_progress_true_draws_on_any_stderr(capsys):
    mod = _module()
    mod.fit(_data(), num_epoch=1, progress=True)
    err = capsys.readouterr().err
    assert re.search(r"Epoch\[0\]: 100%.*6/6 .*samples/s, accuracy=", err), err
    mod.predict(_data(), progress=True)
    assert "predict: 100%" in capsys.readouterr().err


def test_progress_argument_checked(monkeypatch):
    mod = _module()
    with pytest.raises(MXNetTypeError, match="progress must be None .*True or False, got 'yes'"):
        mod.fit(_data(), num_epoch=1, progress="yes")
    assert not mod.binded
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(OptionalDependencyError, match="pip install tqdm"):
        mod.fit(_data(), num_epoch=1, progress=True)
    assert not mod.binded
