"""Soak: memory stays flat over long runs (issue 9). Not a timed test: it prints figures.

1. MLP 784-128-64-10 (batch 100, SGD momentum) for ``--steps`` training steps through the
   intermediate API (forward_backward, update, update_metric), RSS sampled 20 times.
2. A BucketingModule (LSTM LM, 3 buckets) switched ``--switches`` times, one training step
   per switch, RSS sampled 10 times.

"Flat" is judged after warm-up (the first tenth of the samples): the growth from the first
sample after warm-up to the last must stay under ``--tolerance-mb`` (default 20 MB).
On CUDA (``--gpu``) torch.cuda.memory_allocated is reported as well.

Usage: ``python bench/soak.py [--steps 20000] [--switches 2000] [--gpu]``; exit status 1
when memory grows.
"""
import argparse
import os
import resource
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import mxtorch as mx  # noqa: E402


def rss_mb():
    """Current resident set size in MB (Linux /proc; else the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gpu_mb():
    import torch
    return torch.cuda.memory_allocated() / 2 ** 20 if torch.cuda.is_available() else 0.0


def soak_mlp(steps, ctx):
    every = max(1, steps // 20)
    data = mx.sym.var("data")
    net = mx.sym.FullyConnected(data, num_hidden=128, name="fc1")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.FullyConnected(net, num_hidden=64, name="fc2")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(net, num_hidden=10, name="fc3"),
                               name="softmax")
    rng = np.random.RandomState(0)
    it = mx.io.NDArrayIter(rng.rand(2000, 784).astype("f"),
                           rng.randint(0, 10, 2000).astype("f"), batch_size=100, shuffle=True)
    mod = mx.mod.Module(net, context=ctx)
    mod.bind(it.provide_data, it.provide_label)
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer_params={"learning_rate": 0.01, "momentum": 0.9})
    metric = mx.metric.Accuracy()
    samples, step = [], 0
    while step < steps:
        it.reset()
        metric.reset()
        for batch in it:
            mod.forward_backward(batch)
            mod.update()
            mod.update_metric(metric, batch.label)
            step += 1
            if step % every == 0:
                metric.get()      # a host sync, as a logging callback would do
                samples.append((step, rss_mb(), gpu_mb()))
            if step == steps:
                break
    return samples


def soak_bucketing(switches, ctx):
    every = max(1, switches // 10)
    vocab, hidden, batch = 50, 32, 8
    buckets = [5, 10, 20]

    def sym_gen(seq_len):
        data, label = mx.sym.var("data"), mx.sym.var("softmax_label")
        embed = mx.sym.Embedding(data, input_dim=vocab, output_dim=hidden, name="embed")
        cell = mx.rnn.LSTMCell(hidden, prefix="lstm_")
        outputs, _ = cell.unroll(seq_len, embed, merge_outputs=True)
        pred = mx.sym.FullyConnected(mx.sym.reshape(outputs, shape=(-1, hidden)),
                                     num_hidden=vocab, name="pred")
        out = mx.sym.SoftmaxOutput(pred, mx.sym.reshape(label, shape=(-1,)), name="softmax")
        return out, ("data",), ("softmax_label",)

    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=max(buckets), context=ctx)
    mod.bind(data_shapes=[("data", (batch, max(buckets)))],
             label_shapes=[("softmax_label", (batch, max(buckets)))])
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer_params={"learning_rate": 0.01})
    rng = np.random.RandomState(1)
    samples = []
    for i in range(1, switches + 1):
        key = buckets[i % len(buckets)]
        x = mx.nd.array(rng.randint(0, vocab, (batch, key)))
        b = mx.io.DataBatch([x], [x], bucket_key=key,
                            provide_data=[mx.io.DataDesc("data", (batch, key))],
                            provide_label=[mx.io.DataDesc("softmax_label", (batch, key))])
        mod.forward_backward(b)
        mod.update()
        if i % every == 0:
            mod.get_outputs()[0].wait_to_read()
            samples.append((i, rss_mb(), gpu_mb()))
    return samples


def report(name, unit, samples, tolerance):
    warm = samples[len(samples) // 10]
    last = samples[-1]
    growth = last[1] - warm[1]
    print(f"{name}: RSS {warm[1]:.1f} MB after {warm[0]} {unit} -> {last[1]:.1f} MB after "
          f"{last[0]} {unit} (growth {growth:+.1f} MB)"
          + (f"; CUDA allocated {warm[2]:.1f} -> {last[2]:.1f} MB" if last[2] else ""))
    return growth <= tolerance and (last[2] - warm[2]) <= tolerance


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--switches", type=int, default=2000)
    p.add_argument("--tolerance-mb", type=float, default=20.0)
    p.add_argument("--gpu", action="store_true")
    args = p.parse_args(argv)
    ctx = mx.gpu(0) if args.gpu else mx.cpu()
    t0 = time.time()
    ok = report("MLP training", "steps", soak_mlp(args.steps, ctx), args.tolerance_mb)
    t1 = time.time()
    ok &= report("Bucket switches", "switches", soak_bucketing(args.switches, ctx),
                 args.tolerance_mb)
    print(f"time: MLP {t1 - t0:.0f} s, bucketing {time.time() - t1:.0f} s; "
          f"{'flat' if ok else 'MEMORY GROWS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
