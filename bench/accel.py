"""mxtorch's opt-in accelerators against its default path: training steps/s of LeNet 28x28
and ResNet-18 32x32 (batch 128, SGD momentum) with ``autocast='bf16'``,
``channels_last=True``, both, and ``compile=True``, as ratios to the default measured in
the same run (variants interleaved, median of the rounds).

Usage: ``python bench/accel.py [--models lenet,resnet18] [--variants ...] [--steps N]
[--rounds N] [--device cpu|cuda] [--threads N]``. On CPU, bf16 pays off only where oneDNN
has bf16 kernels (AVX512-BF16/AMX); ``compile`` warms up once per variant (not timed).
"""
import argparse
import os
import sys
import time

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402

import mxtorch as mx  # noqa: E402
from bench import data, symbols  # noqa: E402
from bench.measure import median  # noqa: E402

VARIANTS = {"default": {}, "bf16": {"autocast": "bf16"}, "channels_last": {"channels_last": True},
            "bf16+cl": {"autocast": "bf16", "channels_last": True},
            "compile": {"compile": True}, "fp16": {"autocast": "fp16"}}
MODELS = {"lenet": ((1, 28, 28), lambda: symbols.lenet(mx)),
          "resnet18": ((3, 32, 32), lambda: symbols.resnet(mx, 18, 32))}


def _module(model, ctx, batch_size, accel):
    shape, sym = MODELS[model]
    mod = mx.mod.Module(sym(), context=ctx, **accel)
    mod.bind([("data", (batch_size,) + shape)], [("softmax_label", (batch_size,))])
    mx.random.seed(0)
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.05,
                                                          "momentum": 0.9, "wd": 1e-4})
    X, y = data.images(4 * batch_size, shape)
    batches = [mx.io.DataBatch([mx.nd.array(X[i:i + batch_size], ctx=ctx)],
                               [mx.nd.array(y[i:i + batch_size], ctx=ctx)])
               for i in range(0, len(X), batch_size)]
    return mod, batches


def _steps(mod, batches, n, sync):
    sync()
    t = time.perf_counter()
    for i in range(n):
        mod.forward_backward(batches[i % len(batches)])
        mod.update()
    sync()
    return n / (time.perf_counter() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="lenet,resnet18")
    p.add_argument("--variants", default="default,bf16,channels_last,bf16+cl",
                   help=f"comma-separated, from {','.join(VARIANTS)} (default: %(default)s)")
    p.add_argument("--steps", type=int, default=10, help="steps per round (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    variants = ["default"] + [v for v in args.variants.split(",") if v and v != "default"]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        p.error(f"--variants: unknown {bad}; choose from {','.join(VARIANTS)}")
    ctx = mx.gpu(0) if args.device == "cuda" else mx.cpu()
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    print(f"torch {torch.__version__}, {args.device}, {args.threads} threads, batch "
          f"{args.batch_size}, {args.steps} steps x {args.rounds} rounds")
    print(f"{'model':10s} {'variant':14s} {'steps/s':>9s} {'vs default':>10s}")
    for model in args.models.split(","):
        mods = {v: _module(model, ctx, args.batch_size, VARIANTS[v]) for v in variants}
        for mod, batches in mods.values():        # warm-up (and compile) outside the timing
            _steps(mod, batches, 3, sync)
        rates = {v: [] for v in variants}
        for _ in range(args.rounds):
            for v in variants:
                rates[v].append(_steps(*mods[v], args.steps, sync))
        base = median(rates["default"])
        for v in variants:
            r = median(rates[v])
            print(f"{model:10s} {v:14s} {r:9.2f} {r / base:9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
