"""MXNet's example/module/python_loss.py on the shipped digits: an MLP with no loss
layer, followed by a loss written in Python (the multi-class hinge loss) in a
PythonLossModule, chained by SequentialModule and trained with fit.

    python examples/python_loss.py [--epochs 10]

The hinge gradient is computed with NDArray operations, so it stays on the scores'
device (the MXNet example used numba on host copies). Exits 1 unless the validation
accuracy reaches ``--min-acc``.
"""
import argparse
import logging
import sys

import numpy as np

import mxtorch as mx
from mxtorch.datasets import load_digits


def mc_hinge_grad(scores, labels):
    """Gradient of the multi-class hinge loss with respect to the scores: for each row,
    ``margin = 1 + s - s[label]`` with ``margin[label] = 0``; the gradient is -1 at the
    label and +1 at ``argmax(margin)`` (the first one on ties)."""
    num_classes = scores.shape[1]
    label_1h = mx.nd.one_hot(labels, num_classes)
    margin = (1 + scores - mx.nd.pick(scores, labels, axis=1, keepdims=True)) * (1 - label_1h)
    return mx.nd.one_hot(mx.nd.argmax(margin, axis=1), num_classes) - label_1h


def build(contexts):
    """MLP 64-128-64-10 (no loss) + PythonLossModule(mc_hinge_grad)."""
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(act1, name="fc2", num_hidden=64)
    act2 = mx.sym.Activation(fc2, name="relu2", act_type="relu")
    fc3 = mx.sym.FullyConnected(act2, name="fc3", num_hidden=10)

    mlp = mx.mod.Module(fc3, label_names=[], context=contexts)
    loss = mx.mod.PythonLossModule(grad_func=mc_hinge_grad)
    return mx.mod.SequentialModule().add(mlp).add(loss, take_labels=True, auto_wiring=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--contexts", type=int, default=1, help="CPU contexts for the MLP")
    p.add_argument("--min-acc", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    X, y = load_digits()
    order = np.random.RandomState(args.seed).permutation(len(X))
    X, y = X[order], y[order]
    n_train = 1500
    train = mx.io.NDArrayIter(X[:n_train], y[:n_train], args.batch_size, shuffle=True)
    val = mx.io.NDArrayIter(X[n_train:], y[n_train:], args.batch_size)

    mx.random.seed(args.seed)
    mod = build([mx.cpu(i) for i in range(args.contexts)])
    mod.fit(train, eval_data=val, optimizer_params={"learning_rate": args.lr,
                                                    "momentum": 0.9},
            initializer=mx.init.Xavier(), num_epoch=args.epochs)
    acc = mod.score(val, "acc")[0][1]
    print(f"validation accuracy {acc:.4f}")
    return 0 if acc >= args.min_acc else 1


if __name__ == "__main__":
    sys.exit(main())
