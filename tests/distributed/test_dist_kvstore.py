"""dist_sync on torch.distributed (issue 7): two worker processes started with torchrun
(gloo, loopback) against one-process runs: exact push/pull sums, Module, BucketingModule
and SequentialModule with two workers at batch B/2 equal to one worker at batch B (1e-5),
and a dead worker ending the other's run with a clear error in bounded time."""
import importlib.util
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(HERE, "dist_worker.py")
_spec = importlib.util.spec_from_file_location("dist_worker", WORKER)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


def _torchrun(outdir, *args, timeout=180, env=None):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           WORKER, str(outdir), *args]
    full_env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def _one_worker_on_global_batches(dataset, fit):
    """``fit('local', B)`` on one process, its data (``worker.<dataset>``) in the order
    the two workers' shards take it batch by batch."""
    orig = getattr(worker, dataset)
    x, y = orig()
    setattr(worker, dataset, lambda: (worker.interleaved(x, 2), worker.interleaved(y, 2)))
    try:
        return fit("local", worker.B)
    finally:
        setattr(worker, dataset, orig)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    proc = _torchrun(out, "kv", "module", "bucketing", "sequential", "sparse")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return lambda name, rank: np.load(out / f"{name}-rank{rank}.npz")


def test_push_pull_pushpull_sums_are_exact(two_workers):
    for rank in (0, 1):
        r = two_workers("kv", rank)
        assert int(r["rank"]) == rank and int(r["num_workers"]) == 2
        np.testing.assert_array_equal(r["init"], np.full((3, 4), 10.0))
        np.testing.assert_array_equal(r["push_sum"], np.arange(12).reshape(3, 4) * 3.0)
        np.testing.assert_array_equal(r["pushpull_b0"], np.full(5, 1.0 + 2.0 + 0.5 + 0.5))
        np.testing.assert_array_equal(r["pushpull_c"], np.full((2, 2), 3.0))
        # sgd on the store: w - lr * (sum of the two workers' ones)
        np.testing.assert_allclose(r["updated"], np.arange(12).reshape(3, 4) * 3.0 - 0.2,
                                   rtol=1e-6)


def test_module_two_workers_equal_one_worker_with_the_global_batch(two_workers):
    single = _one_worker_on_global_batches("dataset", worker.fit_module)
    for rank in (0, 1):
        got = two_workers("module", rank)
        for k, v in single.items():     # parameters, and the metrics counted over workers
            np.testing.assert_allclose(got[k], v, rtol=1e-5, atol=1e-6, err_msg=k)


def test_bucketing_two_workers_equal_one_worker(two_workers):
    single = worker.fit_bucketing("local")
    for rank in (0, 1):
        got = two_workers("bucketing", rank)
        for k, v in single.items():
            np.testing.assert_allclose(got[k], v, rtol=1e-5, atol=1e-6, err_msg=k)


def test_sequential_two_workers_equal_one_worker_with_the_global_batch(two_workers):
    single = _one_worker_on_global_batches("dataset", worker.fit_sequential)
    assert set(single) >= {"fc1_weight", "fc2_weight"}
    for rank in (0, 1):
        got = two_workers("sequential", rank)
        assert sorted(got.files) == sorted(single)
        for k, v in single.items():     # parameters, and the metrics counted over workers
            np.testing.assert_allclose(got[k], v, rtol=1e-5, atol=1e-6, err_msg=k)


def test_row_sparse_gradients_two_workers_equal_one_worker(two_workers):
    """Each worker's row_sparse gradient covers the rows of its half batch; the all-reduce
    keeps the union, so the lazy update moves the rows of the global batch (issue 4)."""
    single = _one_worker_on_global_batches("sparse_dataset", worker.fit_sparse)
    for rank in (0, 1):
        got = two_workers("sparse", rank)
        np.testing.assert_allclose(got["lin_weight"], single["lin_weight"], rtol=1e-5,
                                   atol=1e-6)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dead_worker_ends_the_other_with_a_clear_error(tmp_path):
    """Two workers started without torchrun's agent (which would tear rank 0 down itself):
    rank 1 exits abruptly, rank 0 must stop with the store's error, not hang."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MXTORCH_KVSTORE_TIMEOUT="20", WORLD_SIZE="2",
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()))
    start = time.time()
    procs = [subprocess.Popen([sys.executable, WORKER, str(tmp_path), "die"], cwd=ROOT,
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in (0, 1)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    elapsed = time.time() - start
    assert procs[1].returncode == 3 and procs[0].returncode != 0, outs
    assert elapsed < 60, f"took {elapsed:.0f} s"
    assert "across 2 workers failed on rank 0" in outs[0], outs[0][-3000:]


def test_two_bit_compression_converges_like_uncompressed(tmp_path):
    proc = _torchrun(tmp_path, "digits", timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = np.load(tmp_path / "digits-rank0.npz")
    plain, compressed = float(r["plain"]), float(r["2bit"])
    assert plain > 0.9, plain
    assert compressed >= plain - 0.01, (plain, compressed)
    np.testing.assert_array_equal(np.load(tmp_path / "digits-rank1.npz")["2bit"], r["2bit"])


def test_resume_on_two_workers_is_bit_identical(tmp_path):
    """Rank 0 writes the shared snapshot, each worker its generator and shuffle state; a
    stopped 2-worker run resumed from it ends as the uninterrupted run."""
    def run(outdir, epochs, prefix):
        outdir.mkdir()
        proc = _torchrun(outdir, "resume", env={"RESUME_EPOCHS": str(epochs),
                                                "RESUME_PREFIX": prefix})
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return [np.load(outdir / f"resume-rank{r}.npz") for r in (0, 1)]

    reference = run(tmp_path / "straight", 4, "")
    prefix = str(tmp_path / "snap")
    first = run(tmp_path / "first", 2, prefix)
    assert sorted(p.name for p in tmp_path.glob("snap-0002.resume*")) == [
        "snap-0002.resume", "snap-0002.resume.rank1"]
    # do_checkpoint wrote on rank 0 only, once per epoch: no second writer raced on the files
    assert first[0]["checkpoint_writes"].tolist() == [1, 2]
    assert first[1]["checkpoint_writes"].tolist() == []
    assert sorted(p.name for p in tmp_path.glob("snap-ck-*.params")) == [
        "snap-ck-0001.params", "snap-ck-0002.params"]
    resumed = run(tmp_path / "second", 4, prefix)
    for rank in (0, 1):
        for k in reference[0].files:
            if k != "checkpoint_writes":
                np.testing.assert_array_equal(resumed[rank][k], reference[rank][k], err_msg=k)
