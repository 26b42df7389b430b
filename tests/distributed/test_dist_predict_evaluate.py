"""Inference across workers (issue 7): ``predict(gather=...)`` and BigDL's
``evaluate(..., distributed=...)`` on two worker processes started with torchrun (gloo,
loopback), against one-process runs over the whole data; and the errors raised, before
any work, when no distributed store is at hand."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetRuntimeError, MXNetTypeError, MXNetValueError, StateError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(HERE, "dist_worker.py")
_spec = importlib.util.spec_from_file_location("dist_worker", WORKER)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist_inference")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           WORKER, str(out), "predict", "bigdl"]
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return lambda name, rank: np.load(out / f"{name}-rank{rank}.npz")


def _single_predict(n):
    mod, it = worker.predict_module(n)
    return mod.predict(it).asnumpy()


def test_predict_gather_equals_one_process_on_every_worker(two_workers):
    whole10, whole11 = _single_predict(10), _single_predict(11)
    assert whole10.shape == (10, 4) and whole11.shape == (11, 4)
    for rank in (0, 1):
        got = two_workers("predict", rank)
        # without gather: only this worker's 5 rows
        np.testing.assert_allclose(got["local10"], whole10[5 * rank:5 * rank + 5], rtol=1e-6)
        np.testing.assert_allclose(got["even10"], whole10, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(got["uneven11"], whole11, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(got["listed11"], [1, 11, 4])
        np.testing.assert_array_equal(got["empty_part"], np.arange(6).reshape(2, 3))
    for key in ("even10", "uneven11"):
        np.testing.assert_array_equal(two_workers("predict", 0)[key],
                                      two_workers("predict", 1)[key])


def test_bigdl_evaluate_distributed_equals_one_process(two_workers):
    x, y = worker.bigdl_data()
    model = worker.bigdl_classifier()
    single = worker.bigdl_results(model.evaluate((x, y), worker.bigdl_methods(), batch_size=5))
    # the oracle for the counts: numpy on the model's own outputs
    logp = model.predict(x).numpy()
    assert single["Top1Accuracy"][2] == (logp.argmax(1) + 1 == y).sum()
    assert single["Top1Accuracy"][1] == 23
    locals_ = [two_workers("bigdl", r)["local_Top1Accuracy"][1] for r in (0, 1)]
    assert locals_ == [11, 12]
    for rank in (0, 1):
        got = two_workers("bigdl", rank)
        for how in ("default_group", "store"):
            for method in ("Top1Accuracy", "Top5Accuracy"):
                np.testing.assert_array_equal(got[f"{how}_{method}"], single[method])
            np.testing.assert_allclose(got[f"{how}_Loss"], single["Loss"], rtol=1e-6)


def test_predict_gather_without_a_distributed_store_raises_before_any_work():
    mod, it = worker.predict_module(10)
    mod.init_optimizer(kvstore="local")

    def untouched(*args, **kwargs):
        raise AssertionError("predict reset the data or ran a forward before raising")

    mod.forward = it.reset = untouched
    with pytest.raises(StateError, match="kvstore='dist_sync'"):
        mod.predict(it, gather=True)
    with pytest.raises(StateError, match="kvstore='dist_sync'"):
        mod.predict(np.zeros((3, 6), "f"), gather=True)
    with pytest.raises(MXNetValueError, match="not distributed"):
        mod.predict(it, gather=mx.kv.create("local"))
    with pytest.raises(MXNetValueError, match="merge_batches=True"):
        mod.predict(it, gather=True, merge_batches=False)
    with pytest.raises(MXNetTypeError, match="gather must be"):
        mod.predict(it, gather="dist_sync")


def test_bigdl_evaluate_distributed_without_a_process_group_raises_before_any_work(
        monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    model = worker.bigdl_classifier()
    x, y = worker.bigdl_data()
    with pytest.raises(MXNetRuntimeError, match="torchrun"):
        model.evaluate((x, y), worker.bigdl_methods(), distributed=True)
    with pytest.raises(MXNetValueError, match="not distributed"):
        model.evaluate((x, y), worker.bigdl_methods(), distributed=mx.kv.create("local"))
    with pytest.raises(MXNetTypeError, match="distributed must be"):
        model.evaluate((x, y), worker.bigdl_methods(), distributed="yes")
    assert model.is_training()      # evaluate never started: the module is still training
