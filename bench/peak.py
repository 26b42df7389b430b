"""Each side's fastest training step, side by side (issue 5's GPU goal): the hand-written
PyTorch step and mxtorch's ``Module`` on (a) the MLP and (c) ResNet-18 32x32, default and
fastest, with the data already on the device.

- torch default: eager fp32 step (``torch.optim.SGD(foreach=True)``).
- mxtorch default: ``forward_backward`` + ``update`` of a bound Module.
- torch fastest: bf16 autocast, channels_last for the convnet, and on GPU the whole step
  (forward, backward, optimizer) captured in one CUDA graph (PyTorch's whole-network
  capture recipe), replayed after copying each batch into its static input.
- mxtorch fastest: ``Module(autocast='bf16', channels_last=..., cuda_graphs=True on GPU)``.

Each variant runs alone (built, warmed up, timed, freed) so its peak GPU memory
(``max_memory_allocated`` over its run, above what was allocated before it) is its own.
Prints steps/s, samples/s, peak MiB and the ratios mxtorch/torch of the default pair and
of the fastest pair. Usage: ``python bench/peak.py [--device cuda|cpu] [--models mlp,resnet18]
[--batch-size N] [--steps N] [--rounds N]``; on CPU there is no CUDA graph and no memory
column (a check of the harness more than a measure).
"""
import argparse
import gc
import os
import sys
import time

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import mxtorch as mx  # noqa: E402
from bench import data, symbols, twins  # noqa: E402
from bench.measure import median  # noqa: E402
from bench.peer_module import _sgd_params  # noqa: E402

MODELS = {"mlp": ((784,), lambda: symbols.mlp(mx), twins.mlp, 100),
          "resnet18": ((3, 32, 32), lambda: symbols.resnet(mx, 18, 32),
                       lambda: twins.resnet(18, 32), 128)}


def _batches(shape, bs, device, n=4):
    X, y = data.images(n * bs, shape)
    X, y = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    return [(X[i:i + bs], y[i:i + bs]) for i in range(0, n * bs, bs)]


def torch_step(model, shape, batches, fast, device):
    """The hand-written step: ``step(i)`` trains on batch ``i``."""
    net = model().to(device)
    conv = len(shape) == 3
    if fast and conv:
        net = net.to(memory_format=torch.channels_last)
    p = _sgd_params("mlp" if not conv else "resnet18")
    opt = torch.optim.SGD(net.parameters(), lr=p["learning_rate"], momentum=p["momentum"],
                          weight_decay=p.get("wd", 0.0), foreach=True)
    batches = [(x.contiguous(memory_format=torch.channels_last) if fast and conv else x,
                y.long()) for x, y in batches]

    def once(x, y):
        with torch.autocast(device.type, torch.bfloat16, enabled=fast):
            loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    def eager(i):
        opt.zero_grad(set_to_none=True)
        once(*batches[i % len(batches)])
    if not (fast and device.type == "cuda"):
        return eager
    static_x, static_y = (t.clone() for t in batches[0])
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for i in range(3):
            eager(i)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        once(static_x, static_y)

    def replay(i):
        x, y = batches[i % len(batches)]
        static_x.copy_(x)
        static_y.copy_(y)
        graph.replay()
    return replay


def mxtorch_step(sym, shape, batches, fast, device):
    ctx = mx.gpu(device.index or 0) if device.type == "cuda" else mx.cpu()
    accel = {}
    if fast:
        accel = {"autocast": "bf16", "channels_last": len(shape) == 3,
                 "cuda_graphs": device.type == "cuda"}
    mod = mx.mod.Module(sym(), context=ctx, **accel)
    bs = batches[0][0].shape[0]
    mod.bind([("data", (bs,) + shape)], [("softmax_label", (bs,))])
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer="sgd",
                       optimizer_params=_sgd_params("mlp" if len(shape) == 1 else "resnet18"))
    dbs = [mx.io.DataBatch([mx.nd.NDArray(x, ctx)], [mx.nd.NDArray(y, ctx)]) for x, y in batches]

    def step(i):
        mod.forward_backward(dbs[i % len(dbs)])
        mod.update()
    return step


def measure(make, device, steps, rounds):
    """(median steps/s, peak MiB above the start or None on CPU) of one variant alone."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    step = make()
    for i in range(5):     # warm-up (and, for cuda_graphs, capture)
        step(i)
    rates = []
    for _ in range(rounds):
        sync()
        t = time.perf_counter()
        for i in range(steps):
            step(i)
        sync()
        rates.append(steps / (time.perf_counter() - t))
    peak = None
    if device.type == "cuda":
        peak = (torch.cuda.max_memory_allocated(device) - base) / 2**20
    del step
    return median(rates), peak


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=("cpu", "cuda"),
                   default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--models", default="mlp,resnet18")
    p.add_argument("--batch-size", type=int, default=None, help="default: 100 MLP, 128 ResNet")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__}, {name}; {args.steps} steps x {args.rounds} rounds, "
          "median; data on the device")
    print(f"{'model':9s} {'variant':16s} {'steps/s':>9s} {'samples/s':>10s} {'peak MiB':>9s}")
    for key in args.models.split(","):
        shape, sym, model, bs = MODELS[key]
        bs = args.batch_size or bs
        batches = _batches(shape, bs, device)
        res = {}
        for side, fast in (("torch", False), ("mxtorch", False), ("torch", True),
                           ("mxtorch", True)):
            make = ((lambda: torch_step(model, shape, batches, fast, device)) if side == "torch"
                    else (lambda: mxtorch_step(sym, shape, batches, fast, device)))
            rate, peak = measure(make, device, args.steps, args.rounds)
            label = f"{side} {'fastest' if fast else 'default'}"
            res[label] = (rate, peak)
            print(f"{key:9s} {label:16s} {rate:9.1f} {rate * bs:10.0f} "
                  f"{'-' if peak is None else f'{peak:.0f}':>9s}", flush=True)
        for kind in ("default", "fastest"):
            (m, mp), (t, tp) = res[f"mxtorch {kind}"], res[f"torch {kind}"]
            mem = f", memory {mp / tp:.2f}x" if mp is not None and tp else ""
            print(f"{key:9s} {kind}: mxtorch/torch speed {m / t:.2f}x{mem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
