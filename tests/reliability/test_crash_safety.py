"""A crash never corrupts a checkpoint (issue 9): a process saving checkpoints and
snapshots is killed with SIGKILL at random moments, many times; afterwards every file
under its final name reads back whole and the newest complete checkpoint is found."""
import glob
import os
import random
import signal
import time

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.model import load_params_file

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _module():
    data = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=512, name="fc"),
                               name="softmax")
    mod = mx.mod.Module(net)
    mod.bind(data_shapes=[("data", (4, 2048))], label_shapes=[("softmax_label", (4,))])
    mod.init_params()
    mod.init_optimizer(optimizer_params={"momentum": 0.9})   # 4 MB weight + 4 MB momentum
    return mod


def _writer(mod, prefix, first_epoch):
    """Child: write checkpoints and snapshots for ever (until killed)."""
    epoch = first_epoch
    while True:
        mod.save_checkpoint(prefix, epoch, save_optimizer_states=True)
        mx.snapshot.save_snapshot(mod, prefix + "-snap", epoch)
        epoch += 1


def test_sigkill_during_saves_never_leaves_a_broken_file(tmp_path):
    mod = _module()
    prefix = str(tmp_path / "ck")
    rng = random.Random(0)
    next_epoch, interrupted = 1, 0
    for _ in range(25):
        pid = os.fork()
        if pid == 0:      # pragma: no cover  (child)
            try:
                _writer(mod, prefix, next_epoch)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.005, 0.25))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        temps = glob.glob(str(tmp_path / ".*.tmp"))
        interrupted += bool(temps)
        for t in temps:   # what a crash leaves is only ever a temporary name
            os.remove(t)
        found = [int(p[-11:-7]) for p in glob.glob(prefix + "-[0-9]*.params")]
        next_epoch = max(found, default=0) + 1

    params = sorted(glob.glob(prefix + "-[0-9]*.params"))
    assert params, "the writer never finished a checkpoint; give it more time"
    for path in params + sorted(glob.glob(prefix + "-snap-[0-9]*.params")):
        args, _ = load_params_file(path)       # every surviving file is whole
        assert args["fc_weight"].shape == (512, 2048)
    for path in glob.glob(str(tmp_path / "*.states")):
        with open(path, "rb") as f:
            mx.optimizer.Updater(mx.optimizer.create("sgd")).set_states(f.read())
    newest = max(int(p[-11:-7]) for p in params)
    assert mx.snapshot.latest_checkpoint(prefix) == newest
    snap = mx.snapshot.latest_snapshot(prefix + "-snap")
    resumes = glob.glob(prefix + "-snap-[0-9]*.resume")
    assert snap == max(int(p[-11:-7]) for p in resumes)
    mx.snapshot.load_snapshot(_module(), prefix + "-snap", snap)
    # the kills must have landed inside writes, or the test proves nothing
    assert interrupted >= 3, f"only {interrupted} of 25 kills interrupted a write"


def test_truncated_checkpoint_is_skipped_for_an_older_one(tmp_path):
    mod = _module()
    prefix = str(tmp_path / "ck")
    for epoch in (1, 2):
        mod.save_checkpoint(prefix, epoch)
    size = os.path.getsize(prefix + "-0002.params")
    with open(prefix + "-0002.params", "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(mx.base.FormatError):
        load_params_file(prefix + "-0002.params")
    assert mx.snapshot.latest_checkpoint(prefix) == 1
    os.remove(prefix + "-symbol.json")
    assert mx.snapshot.latest_checkpoint(prefix) is None
    np.testing.assert_array_equal(mx.nd.load(prefix + "-0001.params")["arg:fc_bias"].asnumpy(),
                                  mod.get_params()[0]["fc_bias"].asnumpy())
