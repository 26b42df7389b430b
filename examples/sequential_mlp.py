"""MXNet's example/module/sequential_module.py on the shipped digits: an MLP split into
two modules chained by SequentialModule, trained with fit.

    python examples/sequential_mlp.py [--epochs 10] [--contexts 2]

Module 1 is FullyConnected(128) + relu (no labels); module 2 is FullyConnected(64) +
relu + FullyConnected(10) + SoftmaxOutput, added with ``take_labels=True,
auto_wiring=True`` so that it reads module 1's output as its ``data``. ``--contexts N``
runs module 1 data-parallel on N CPU contexts, as the MXNet example does on GPUs.
Exits 1 unless the validation accuracy reaches ``--min-acc``.
"""
import argparse
import logging
import sys

import numpy as np

import mxtorch as mx
from mxtorch.datasets import load_digits


def build(contexts):
    """The two-module chain (mod1 on ``contexts``)."""
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    mod1 = mx.mod.Module(act1, label_names=[], context=contexts)

    data = mx.sym.Variable("data")
    fc2 = mx.sym.FullyConnected(data, name="fc2", num_hidden=64)
    act2 = mx.sym.Activation(fc2, name="relu2", act_type="relu")
    fc3 = mx.sym.FullyConnected(act2, name="fc3", num_hidden=10)
    softmax = mx.sym.SoftmaxOutput(fc3, name="softmax")
    mod2 = mx.mod.Module(softmax)

    mod_seq = mx.mod.SequentialModule()
    mod_seq.add(mod1).add(mod2, take_labels=True, auto_wiring=True)
    return mod_seq


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--contexts", type=int, default=1, help="CPU contexts for module 1")
    p.add_argument("--min-acc", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    X, y = load_digits()
    rng = np.random.RandomState(args.seed)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    n_train = 1500
    train = mx.io.NDArrayIter(X[:n_train], y[:n_train], args.batch_size, shuffle=True)
    val = mx.io.NDArrayIter(X[n_train:], y[n_train:], args.batch_size)

    mx.random.seed(args.seed)
    mod_seq = build([mx.cpu(i) for i in range(args.contexts)])
    mod_seq.fit(train, eval_data=val, optimizer_params={"learning_rate": args.lr,
                                                        "momentum": 0.9},
                initializer=mx.init.Xavier(), num_epoch=args.epochs,
                batch_end_callback=mx.callback.Speedometer(args.batch_size, 10))
    acc = mod_seq.score(val, "acc")[0][1]
    print(f"validation accuracy {acc:.4f}")
    return 0 if acc >= args.min_acc else 1


if __name__ == "__main__":
    sys.exit(main())
