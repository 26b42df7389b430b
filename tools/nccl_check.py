"""Issue 7's NCCL check, for a machine with GPUs: ``torchrun --standalone
--nproc_per_node=N tools/nccl_check.py`` (N at most the number of GPUs: NCCL takes one
process per GPU). Part of tools/gpu_check.sh.

Each worker: ``mx.kv.create('dist_device_sync')`` must pick NCCL; push/pull/pushpull sums
over the workers are exact; ``Module.fit`` on ``mx.gpu(local_rank)`` with that store, each
worker on its shard with batch B/N, ends with the same parameters on every worker and, for
N = 1, the parameters of a fit with ``kvstore='device'`` in the same process (to 1e-5).
Prints one line per check and exits non-zero on the first failure. ``--cpu`` runs the
same checks on CPU contexts over gloo (a check of this script without a GPU).
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import mxtorch as mx  # noqa: E402

B = 32


def _net():
    data = mx.sym.var("data")
    h = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=32, name="fc1"),
                          act_type="relu")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=4, name="fc2"),
                                name="softmax")


def _fit(kvstore, ctx, rank, workers):
    rng = np.random.RandomState(3)
    x, y = rng.rand(256, 8).astype("f"), rng.randint(0, 4, 256).astype("f")
    n = len(x) // workers
    it = mx.io.NDArrayIter(x[rank * n:(rank + 1) * n], y[rank * n:(rank + 1) * n],
                           batch_size=B // workers)
    init = np.random.RandomState(5)
    shapes = {"fc1_weight": (32, 8), "fc1_bias": (32,), "fc2_weight": (4, 32), "fc2_bias": (4,)}
    params = {k: mx.nd.array(init.uniform(-0.5, 0.5, s)) for k, s in shapes.items()}
    mod = mx.mod.Module(_net(), context=ctx)
    mod.fit(it, num_epoch=3, kvstore=kvstore, arg_params=params, optimizer="sgd",
            optimizer_params={"learning_rate": 0.5, "momentum": 0.9})
    return {k: v.asnumpy() for k, v in mod.get_params()[0].items()}


def main():
    t0 = time.time()
    cpu = "--cpu" in sys.argv[1:]
    kv = mx.kv.create("dist_sync" if cpu else "dist_device_sync")
    rank, workers = kv.rank, kv.num_workers
    ctx = mx.cpu() if cpu else mx.gpu(int(os.environ.get("LOCAL_RANK", 0)))
    backend = "gloo" if cpu else "nccl"

    def check(ok, what):
        print(f"rank {rank}/{workers}: {'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            sys.exit(1)

    check(kv._backend == backend, f"backend is {kv._backend!r} (want {backend!r})")
    expected = sum(range(1, workers + 1))
    kv.init(3, mx.nd.zeros((5, 7), ctx=ctx))
    kv.push(3, mx.nd.ones((5, 7), ctx=ctx) * (rank + 1))
    out = mx.nd.zeros((5, 7), ctx=ctx)
    kv.pull(3, out=out)
    check(np.array_equal(out.asnumpy(), np.full((5, 7), expected, "f")), "push/pull sum exact")
    kv.init("pp", mx.nd.zeros((3,), ctx=ctx))
    res = mx.nd.zeros((3,), ctx=ctx)
    kv.pushpull("pp", mx.nd.ones((3,), ctx=ctx) * (rank + 1), out=res)
    check(np.array_equal(res.asnumpy(), np.full(3, expected, "f")), "pushpull sum exact")
    got = _fit(kv, ctx, rank, workers)
    gathered = kv.all_gather_rows(mx.nd.array(np.concatenate(
        [got[k].ravel() for k in sorted(got)])[None], ctx=ctx)._data)
    rows = gathered.cpu().numpy()
    check(all(np.array_equal(rows[0], r) for r in rows), "every worker ends with the same "
          "parameters")
    if workers == 1:
        local = "local" if cpu else "device"
        ref = _fit(local, ctx, 0, 1)
        diff = max(float(np.abs(got[k] - ref[k]).max()) for k in ref)
        check(diff < 1e-5, f"fit equals kvstore={local!r} (max diff {diff:.2e})")
    kv.barrier()
    print(f"rank {rank}: {backend} check passed in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
