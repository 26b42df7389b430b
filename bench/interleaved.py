"""mxtorch against the hand-written PyTorch peer in one process, alternating them:
``python bench/interleaved.py [--workloads a,b,e] [--rounds N] [--threads T]``.

On a shared machine the suite's separate processes (bench/run.py) see different
background load; here both sides run in turns (in a shuffled order each round) in the
same process, so load changes hit both. Each round times one epoch of (a)/(b) per side,
or for (e) one block of ``calls`` batch-1 calls per side; the ratio is mxtorch/peer of
the medians (samples/s: above 1 means mxtorch is faster; latency: below 1).
The same code as the suite: ``peer_module`` (Module.fit / Module.predict) and
``peer_torch`` (its Task, loop and twin), at the suite's CPU sizes.
"""
import argparse
import logging
import os
import random
import statistics
import sys
import time
import warnings

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _fit_pair(mx, key, sizes):
    from bench import data, peer_torch, symbols
    from bench.peer_module import IMAGE_SHAPES, _sgd_params
    model = {"a": "mlp", "b": "lenet"}[key]
    cfg = dict(sizes, model=model)
    bs = cfg["batch_size"]
    X, y = data.images(cfg["batches"] * bs, IMAGE_SHAPES[model])
    train = mx.io.NDArrayIter(X, y, bs, shuffle=False)
    mod = mx.mod.Module(symbols.mlp(mx) if model == "mlp" else symbols.lenet(mx),
                        context=mx.cpu())

    def mxtorch_epoch():
        mod.fit(train, eval_metric="acc", optimizer="sgd",
                optimizer_params=_sgd_params(model), initializer=mx.init.Xavier(),
                num_epoch=1)

    class _NoMeter:
        def start(self):
            pass
    task = peer_torch.Task(cfg)
    net = task.setup(_NoMeter(), "cpu")
    opt = task.optimizer(net.parameters())
    net.train()

    def torch_epoch():
        for xb, yb in task:
            loss = task.loss(net(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        task.epoch_metric()
    return mxtorch_epoch, torch_epoch


def _predict_pair(mx, sizes):
    import torch
    from bench import data, symbols, twins
    from bench.peer_module import IMAGE_SHAPES
    X, _ = data.images(256, IMAGE_SHAPES["lenet"])
    mod = mx.mod.Module(symbols.lenet(mx), context=mx.cpu())
    mod.bind(data_shapes=[("data", (1,) + IMAGE_SHAPES["lenet"])], for_training=False)
    mod.init_params(initializer=mx.init.Xavier())
    one = mx.io.NDArrayIter(X[:1], batch_size=1)
    net = twins.lenet().eval()
    x1 = torch.from_numpy(X)[:1]
    calls = sizes["calls"]

    def mxtorch_block():
        for _ in range(calls):
            mod.predict(one)

    def torch_block():
        with torch.inference_mode():
            for _ in range(calls):
                net(x1.to("cpu", non_blocking=True))
    return mxtorch_block, torch_block


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default="a,b,e")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    import mxtorch as mx
    from bench.workloads import sizes_for
    warnings.simplefilter("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    rng = random.Random(0)
    for key in [k.strip() for k in args.workloads.split(",") if k.strip()]:
        if key not in ("a", "b", "e"):
            p.error(f"--workloads: {key!r} is not one of a, b, e")
        sizes = sizes_for(key, "cpu", False)
        pair = _predict_pair(mx, sizes) if key == "e" else _fit_pair(mx, key, sizes)
        sides = dict(zip(("mxtorch", "torch"), pair))
        count, what = (sizes["calls"], "b1 latency") if key == "e" else \
            (sizes["batches"] * sizes["batch_size"], "samples/s")
        for run in sides.values():   # warm-up
            run()
        times = {name: [] for name in sides}
        for _ in range(args.rounds):
            order = list(sides)
            rng.shuffle(order)
            for name in order:
                t0 = time.perf_counter()
                sides[name]()
                times[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(v) for name, v in times.items()}
        if key == "e":
            figures = {n: f"{1e3 * m / count:.3f} ms" for n, m in med.items()}
            ratio = med["mxtorch"] / med["torch"]
        else:
            figures = {n: f"{count / m:.0f} samples/s" for n, m in med.items()}
            ratio = med["torch"] / med["mxtorch"]
        print(f"({key}) {what}: mxtorch {figures['mxtorch']}, torch loop {figures['torch']}, "
              f"mxtorch/torch loop {ratio:.3f} (median of {args.rounds} interleaved rounds, "
              f"{args.threads} threads)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
