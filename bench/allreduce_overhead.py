"""All-reduce overhead of ``kvstore='dist_sync'`` per training step, as a share of the step
time (issue 7), on the ResNet-18 workload (32x32 images, SGD momentum).

    python bench/allreduce_overhead.py [--workers 2] [--batch-size 32] [--steps 6]

Starts ``--workers`` processes with torchrun (gloo on CPU, loopback). Each worker trains on
its own batch of ``--batch-size`` images; every step's time is split into the time spent
inside the store's collectives (timed around each all-reduce) and the rest. Prints, per
worker, the median step time, the median time in collectives and their share, and the
size of what one push sends. On 2 cores two workers also compete for the CPU, so the
share is an upper bound of what a machine with a core per worker would see.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def worker(args):
    import numpy as np
    import torch
    sys.path.insert(0, REPO)
    import mxtorch as mx
    from mxtorch.kvstore import dist as kvdist
    from bench import symbols

    torch.set_num_threads(1)
    kv = mx.kv.create("dist_sync")
    spent = []
    original = kvdist.DistKVStore._collective

    def timed(self, what, fn, *a, **k):
        t0 = time.perf_counter()
        try:
            return original(self, what, fn, *a, **k)
        finally:
            spent.append(time.perf_counter() - t0)

    kvdist.DistKVStore._collective = timed
    rng = np.random.RandomState(kv.rank)
    bs = args.batch_size
    batch = mx.io.DataBatch([mx.nd.array(rng.rand(bs, 3, 32, 32))],
                            [mx.nd.array(rng.randint(0, 10, bs))])
    mod = mx.mod.Module(symbols.resnet(mx, 18, 32))
    mod.bind(data_shapes=[("data", (bs, 3, 32, 32))], label_shapes=[("softmax_label", (bs,))])
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(kvstore=kv, optimizer_params={"learning_rate": 0.01, "momentum": 0.9})
    steps, comm = [], []
    for step in range(args.steps + 1):
        del spent[:]
        t0 = time.perf_counter()
        mod.forward_backward(batch)
        mod.update()
        mod.get_outputs()[0].wait_to_read()
        if step:                                      # the first step warms up
            steps.append(time.perf_counter() - t0)
            comm.append(sum(spent))
    nbytes = sum(v.size * 4 for v in mod.get_params()[0].values())
    result = {"rank": kv.rank, "step_ms": 1e3 * float(np.median(steps)),
              "comm_ms": 1e3 * float(np.median(comm)), "push_mb": nbytes / 2 ** 20}
    with open(os.path.join(args.out, f"rank{kv.rank}.json"), "w") as f:
        json.dump(result, f)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    out = tempfile.mkdtemp(prefix="allreduce-")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={args.workers}", os.path.abspath(__file__), "--worker",
           "--batch-size", str(args.batch_size), "--steps", str(args.steps), "--out", out]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    results = []
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name)) as f:
            results.append(json.load(f))
    if proc.returncode != 0 or len(results) != args.workers:
        print(proc.stdout[-2000:], proc.stderr[-3000:], file=sys.stderr)
        return 1
    print(f"ResNet-18 32x32, batch {args.batch_size} per worker, {args.workers} workers "
          f"(gloo, CPU), median of {args.steps} steps")
    for r in sorted(results, key=lambda r: r["rank"]):
        print(f"rank {r['rank']}: step {r['step_ms']:.0f} ms, in all-reduce "
              f"{r['comm_ms']:.0f} ms ({100 * r['comm_ms'] / r['step_ms']:.1f}%), "
              f"push {r['push_mb']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
