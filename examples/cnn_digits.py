"""LeNet (mxtorch.models.lenet, MXNet's example/image-classification symbol) trained with
Module.fit on the shipped digits, scaled from 8x8 to 28x28 pixels.

    python examples/cnn_digits.py [--epochs 8] [--batch-size 64] [--lr 0.05]

Logs MXNet's epoch lines (or a progress bar on a terminal), prints the layer table and
the validation accuracy, and exits 1 unless it reaches ``--min-acc``.
"""
import argparse
import logging
import sys

import numpy as np

import mxtorch as mx
from mxtorch.datasets import load_digits
from mxtorch.demo import split_digits
from mxtorch.models import lenet


def to_28x28(x):
    """(n, 64) pixels in [0, 1] -> (n, 1, 28, 28): each pixel 3x3, then a 2-pixel border."""
    img = x.reshape(-1, 8, 8).repeat(3, axis=1).repeat(3, axis=2)
    return np.pad(img, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--min-acc", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    np.random.seed(args.seed)
    mx.random.seed(args.seed)
    x, y = load_digits()
    x_train, y_train, x_val, y_val = split_digits(x, y, seed=args.seed)
    train = mx.io.NDArrayIter(to_28x28(x_train), y_train, args.batch_size, shuffle=True)
    val = mx.io.NDArrayIter(to_28x28(x_val), y_val, args.batch_size)
    net = lenet.get_symbol(num_classes=10)
    mx.viz.print_summary(net, shape={"data": (1, 1, 28, 28)})
    mod = mx.mod.Module(net)
    mod.fit(train, eval_data=val, num_epoch=args.epochs, initializer=mx.init.Xavier(),
            optimizer="sgd", optimizer_params={"learning_rate": args.lr, "momentum": 0.9})
    acc = dict(mod.score(val, "acc"))["accuracy"]
    print(f"validation accuracy {acc:.4f}")
    return 0 if acc >= args.min_acc else 1


if __name__ == "__main__":
    sys.exit(main())
