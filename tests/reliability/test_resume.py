"""Exact resume (issue 9): fit stopped after epoch k and resumed with fit(resume=prefix)
ends with the parameters of an uninterrupted run, bit for bit on CPU, with shuffling,
dropout, momentum and an lr schedule all in play; also across processes."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import FormatError, MXNetNotImplementedError, MXNetTypeError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent("""
    import numpy as np
    import mxtorch as mx

    def net():
        data = mx.sym.var("data")
        h = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=16, name="fc1"),
                              act_type="relu")
        h = mx.sym.Dropout(h, p=0.3)
        return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=3, name="fc2"),
                                    name="softmax")

    def run(num_epoch, prefix=None, seed=True):
        rng = np.random.RandomState(0)
        x, y = rng.rand(60, 5).astype("f"), rng.randint(0, 3, 60).astype("f")
        if seed:
            mx.random.seed(7)
            np.random.seed(7)
        it = mx.io.NDArrayIter(x, y, batch_size=10, shuffle=True)
        mod = mx.mod.Module(net())
        sched = mx.lr_scheduler.FactorScheduler(step=4, factor=0.8, base_lr=0.1)
        mod.fit(it, num_epoch=num_epoch, initializer=mx.init.Xavier(), resume=prefix,
                optimizer_params={"learning_rate": 0.1, "momentum": 0.9,
                                  "lr_scheduler": sched})
        return mod, {k: v.asnumpy() for k, v in mod.get_params()[0].items()}
""")
ns = {}
exec(SCRIPT, ns)  # noqa: S102  (the same code runs in the child process below)
run = ns["run"]


def _assert_identical(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), f"{k} differs by {np.abs(a[k] - b[k]).max()}"


def test_resume_in_process_is_bit_identical(tmp_path):
    _, reference = run(5)
    prefix = str(tmp_path / "snap")
    run(2, prefix)
    assert mx.snapshot.latest_snapshot(prefix) == 2
    np.random.seed(123)     # the resumed run must not depend on the generators' state
    mx.random.seed(99)
    mod, resumed = run(5, prefix, seed=False)
    _assert_identical(reference, resumed)
    assert mx.snapshot.latest_snapshot(prefix) == 5
    assert mod._optimizer.num_update == 30     # 6 batches x 5 epochs, counted across the stop


def test_resume_across_processes_is_bit_identical(tmp_path):
    prefix = str(tmp_path / "snap")
    child = SCRIPT + f"\nrun(3, {prefix!r})\n"
    subprocess.run([sys.executable, "-c", child], check=True, cwd=ROOT, timeout=120,
                   env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert mx.snapshot.latest_snapshot(prefix) == 3
    _, reference = run(5)
    _, resumed = run(5, prefix, seed=False)
    _assert_identical(reference, resumed)


def test_finished_run_resumes_to_nothing(tmp_path):
    prefix = str(tmp_path / "snap")
    _, first = run(2, prefix)
    _, again = run(2, prefix, seed=False)
    _assert_identical(first, again)


def test_damaged_newest_snapshot_falls_back(tmp_path):
    prefix = str(tmp_path / "snap")
    run(3, prefix)
    with open(prefix + "-0003.params", "r+b") as f:
        f.truncate(100)
    assert mx.snapshot.latest_snapshot(prefix) == 2
    assert mx.snapshot.latest_checkpoint(prefix) == 2
    os.remove(prefix + "-0002.resume")      # an unfinished snapshot: no marker
    assert mx.snapshot.latest_snapshot(prefix) == 1


def test_load_snapshot_refuses_damage_before_changing_the_module(tmp_path):
    prefix = str(tmp_path / "snap")
    mod, params = run(1, prefix)
    with open(prefix + "-0001.states", "wb") as f:
        f.write(b"not states")
    with pytest.raises(FormatError):
        mx.snapshot.load_snapshot(mod, prefix, 1)
    _assert_identical(params, {k: v.asnumpy() for k, v in mod.get_params()[0].items()})


def test_resume_argument_errors(tmp_path):
    it = mx.io.NDArrayIter(np.zeros((4, 5), "f"), np.zeros(4, "f"), batch_size=2)
    mod = mx.mod.Module(ns["net"]())
    with pytest.raises(MXNetTypeError, match="resume must be a file prefix"):
        mod.fit(it, num_epoch=1, resume=3)
    assert not mod.binded
    seq = mx.mod.SequentialModule().add(mx.mod.Module(ns["net"]()))
    with pytest.raises(MXNetNotImplementedError, match="issue 9"):
        seq.fit(it, num_epoch=1, resume=str(tmp_path / "p"))


def test_rng_state_roundtrip():
    state = mx.snapshot.get_rng_state()
    a = (np.random.rand(3), __import__("random").random(), mx.nd.random.uniform(shape=(3,))
         .asnumpy())
    mx.snapshot.set_rng_state(state)
    b = (np.random.rand(3), __import__("random").random(), mx.nd.random.uniform(shape=(3,))
         .asnumpy())
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])
    bad = dict(state)
    del bad["numpy"]
    with pytest.raises(FormatError, match="numpy"):
        mx.snapshot.set_rng_state(bad)


def test_ndarray_iter_state_roundtrip():
    x = np.arange(20, dtype="f").reshape(10, 2)
    np.random.seed(0)
    it = mx.io.NDArrayIter(x, batch_size=5, shuffle=True)
    it.reset()
    state = it.get_state()
    order_after = [b.data[0].asnumpy().copy() for b in it]
    it2 = mx.io.NDArrayIter(x, batch_size=5, shuffle=True)   # another order
    it2.set_state(state)
    np.testing.assert_array_equal(np.concatenate(order_after),
                                  np.concatenate([b.data[0].asnumpy() for b in it2]))
    with pytest.raises(ValueError, match="10 examples, this iterator has 4"):
        mx.io.NDArrayIter(x[:4], batch_size=2).set_state(state)
