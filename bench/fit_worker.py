"""One timed run for bench/mlp_fit.py, in its own process: ``Module.fit`` under mxtorch or
MXNet 1.9.1 (the same code, only the ``mx`` module differs), or a hand-written PyTorch loop.

Prints one JSON line: per-epoch seconds (the first is the warm-up) and the median samples/s.
"""
import argparse
import json
import sys
import time

import numpy as np

NUM_FEATURES = 784
NUM_CLASSES = 10
LR, MOMENTUM = 0.01, 0.9


def make_data(num_rows, seed=0):
    """The benchmark's data, identical in every process: uniform [0,1) pixels, random labels."""
    rs = np.random.RandomState(seed)
    X = rs.random_sample((num_rows, NUM_FEATURES)).astype(np.float32)
    y = rs.randint(0, NUM_CLASSES, size=num_rows).astype(np.float32)
    return X, y


def mlp_symbol(mx):
    """The seed's MLP 784-128-64-10 with SoftmaxOutput, as in example/module/mnist_mlp.py."""
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(act1, name="fc2", num_hidden=64)
    act2 = mx.sym.Activation(fc2, name="relu2", act_type="relu")
    fc3 = mx.sym.FullyConnected(act2, name="fc3", num_hidden=NUM_CLASSES)
    return mx.sym.SoftmaxOutput(fc3, name="softmax")


def time_module_fit(mx, X, y, batch_size, epochs):
    """Seconds per epoch of ``Module.fit``, measured between epoch-end callbacks."""
    stamps = []
    train_iter = mx.io.NDArrayIter(X, y, batch_size, shuffle=False)
    mod = mx.mod.Module(mlp_symbol(mx), context=mx.cpu())
    start = time.perf_counter()
    mod.fit(train_iter, eval_metric="acc", optimizer="sgd",
            optimizer_params={"learning_rate": LR, "momentum": MOMENTUM},
            initializer=mx.init.Xavier(),
            epoch_end_callback=lambda *_: stamps.append(time.perf_counter()),
            num_epoch=epochs)
    edges = [start] + stamps
    return [b - a for a, b in zip(edges, edges[1:])]


def time_torch_loop(X, y, batch_size, epochs):
    """Seconds per epoch of an idiomatic PyTorch loop over pre-made tensors.

    Accuracy accumulates on the device and is read once per epoch, as fit's metric is.
    """
    import torch
    model = torch.nn.Sequential(
        torch.nn.Linear(NUM_FEATURES, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, NUM_CLASSES))
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, foreach=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).long()
    num_batches = len(X) // batch_size
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        correct = torch.zeros((), dtype=torch.long)
        model.train()
        for i in range(num_batches):
            xb, yb = Xt[i * batch_size:(i + 1) * batch_size], yt[i * batch_size:(i + 1) * batch_size]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                correct += (out.argmax(dim=1) == yb).sum()
        _ = correct.item() / (num_batches * batch_size)
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--framework", choices=("mxtorch", "mxnet", "torch"), required=True)
    p.add_argument("--batches", type=int, required=True, help="batches per timed epoch")
    p.add_argument("--epochs", type=int, required=True, help="timed epochs (after 1 warm-up)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--threads", type=int, required=True)
    args = p.parse_args(argv)

    X, y = make_data(args.batches * args.batch_size)
    epochs = args.epochs + 1
    if args.framework == "mxnet":
        import mxnet as mx
        version = mx.__version__
        times = time_module_fit(mx, X, y, args.batch_size, epochs)
    else:
        import torch
        torch.set_num_threads(args.threads)
        version = torch.__version__
        if args.framework == "mxtorch":
            import mxtorch as mx
            version = f"{mx.__version__} (torch {torch.__version__})"
            times = time_module_fit(mx, X, y, args.batch_size, epochs)
        else:
            times = time_torch_loop(X, y, args.batch_size, epochs)
    timed = times[1:]
    samples = args.batches * args.batch_size
    print(json.dumps({"framework": args.framework, "version": version, "threads": args.threads,
                      "epoch_seconds": times, "samples_per_sec": samples / float(np.median(timed))}))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
