"""A BigDL-style LeNet on the shipped 8x8 digits, trained two ways:

1. BigDL's imperative loop: ``zero_grad_parameters``, ``forward``, a criterion's
   ``forward``/``backward``, ``backward``, ``update_parameters(lr)``; then
   ``evaluate(dataset, [Top1Accuracy(), Top5Accuracy(), Loss()])`` and per-module times
   from ``get_times_group_by_module_type``.
2. The same network through ``mx.mod.TorchModule`` and MXNet's ``fit``.

    python examples/bigdl_lenet.py [--epochs 15] [--way both|bigdl|fit]

Labels are 1-based in the BigDL API (BigDL's convention) and 0-based through the
MXNet bridge. Exits 1 unless each way reaches ``--min-acc`` validation accuracy.
"""
import argparse
import logging
import sys

import numpy as np
import torch

import mxtorch as mx
from mxtorch.datasets import load_digits
from mxtorch.module.torch_module import TorchModule
from mxtorch.nn.bigdl_criterion import ClassNLLCriterion
from mxtorch.nn.bigdl_layers import (Linear, LogSoftMax, ReLU, Reshape, Sequential,
                                     SpatialConvolution, SpatialMaxPooling)
from mxtorch.nn.bigdl_validation import Loss, Top1Accuracy, Top5Accuracy


def lenet():
    """LeNet for 1x8x8 images: two conv/ReLU/pool stages, two Linear layers, LogSoftMax."""
    return (Sequential()
            .add(SpatialConvolution(1, 16, 3, 3, pad_w=1, pad_h=1).set_name("conv1"))
            .add(ReLU())
            .add(SpatialMaxPooling(2, 2, 2, 2))
            .add(SpatialConvolution(16, 32, 3, 3, pad_w=1, pad_h=1).set_name("conv2"))
            .add(ReLU())
            .add(SpatialMaxPooling(2, 2, 2, 2))
            .add(Reshape([128], batch_mode=True))
            .add(Linear(128, 64).set_name("fc1"))
            .add(ReLU())
            .add(Linear(64, 10).set_name("fc2"))
            .add(LogSoftMax()))


def data(seed=0, n_train=1400):
    """``(X_train, y_train, X_val, y_val)``: NCHW float32 images, 0-based labels."""
    X, y = load_digits()
    X = X.reshape(-1, 1, 8, 8)
    order = np.random.RandomState(seed).permutation(len(X))
    X, y = X[order], y[order]
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def train_bigdl(model, X, y, epochs, batch_size, lr, seed=0):
    """BigDL's loop with forward/backward/update_parameters; ``y`` 1-based."""
    criterion = ClassNLLCriterion()
    model.set_training()
    for epoch in range(epochs):
        order = np.random.RandomState(seed + epoch).permutation(len(X))
        for i in range(0, len(X), batch_size):
            xb, yb = X[order[i:i + batch_size]], y[order[i:i + batch_size]]
            model.zero_grad_parameters()
            out = model.forward(xb)
            criterion.forward(out, yb)
            model.backward(xb, criterion.backward(out, yb))
            model.update_parameters(lr)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--way", choices=("both", "bigdl", "fit"), default="both")
    p.add_argument("--min-acc", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    Xtr, ytr, Xva, yva = data(args.seed)
    ok = True
    if args.way in ("both", "bigdl"):
        torch.manual_seed(args.seed)
        model = train_bigdl(lenet(), Xtr, ytr + 1, args.epochs, args.batch_size, args.lr,
                            args.seed)
        results = model.evaluate((Xva, yva + 1), [Top1Accuracy(), Top5Accuracy(), Loss()])
        for result, method in results:
            print(f"bigdl {method.format()}: {result}")
        acc = results[0][0].result()[0]
        for name, fwd, bwd in model.get_times_group_by_module_type()[:3]:
            print(f"bigdl time {name.rsplit('.', 1)[-1]}: forward {fwd / 1e6:.1f} ms, "
                  f"backward {bwd / 1e6:.1f} ms")
        ok &= acc >= args.min_acc
    if args.way in ("both", "fit"):
        torch.manual_seed(args.seed)
        train = mx.io.NDArrayIter(Xtr, ytr, args.batch_size, shuffle=True)
        val = mx.io.NDArrayIter(Xva, yva, args.batch_size)
        mod = TorchModule(lenet(), loss="nll")
        mod.fit(train, eval_data=val, num_epoch=args.epochs, initializer=mx.init.Xavier(),
                optimizer="sgd", optimizer_params={"learning_rate": 0.05, "momentum": 0.9})
        acc = dict(mod.score(val, "acc"))["accuracy"]
        print(f"fit validation accuracy: {acc:.4f}")
        ok &= acc >= args.min_acc
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
