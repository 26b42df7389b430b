"""A factorization machine on sparse data, MXNet's sparse example rebuilt: LibSVM files
read by ``mx.io.LibSVMIter`` into csr batches, row_sparse weights whose gradients hold
only the rows a batch touches, and lazy Adam updates of those rows.

    python examples/sparse_fm.py [--epochs 10] [--features 1000]

The data is drawn from a hidden factorization machine (each example has ``--nnz``
features of ``--features``), written to LibSVM files in a temporary folder, and read
back. Exits 1 unless the validation mean squared error falls below ``--max-rel-mse``
times that of predicting the mean.
"""
import argparse
import logging
import os
import sys
import tempfile

import numpy as np

import mxtorch as mx


def fm_symbol(features, factors):
    """y = b + x.w + 0.5 * sum((x V)^2 - x^2 V^2) with csr x and row_sparse w, V."""
    x = mx.sym.Variable("data", stype="csr")
    v = mx.sym.Variable("v", shape=(features, factors), stype="row_sparse",
                        init=mx.init.Normal(sigma=0.01))
    w = mx.sym.Variable("w_weight", shape=(features, 1), stype="row_sparse",
                        init=mx.init.Zero())
    b = mx.sym.Variable("b", shape=(1,), init=mx.init.Zero())
    linear = mx.sym.broadcast_add(mx.sym.dot(x, w), b)
    pairs = 0.5 * (mx.sym.sum(mx.sym.square(mx.sym.dot(x, v)), axis=1, keepdims=True) -
                   mx.sym.dot(mx.sym.square(x),
                              mx.sym._internal._square_sum(v, axis=1, keepdims=True)))
    return mx.sym.LinearRegressionOutput(linear + pairs, mx.sym.Variable("label"))


def write_libsvm(path, rows, features, nnz, truth, rng):
    """``rows`` examples of the hidden model ``truth`` = (b, w, V) in LibSVM form."""
    b, w, v = truth
    with open(path, "w") as f:
        for _ in range(rows):
            cols = np.sort(rng.choice(features, nnz, replace=False))
            vals = rng.uniform(0.5, 1.5, nnz)
            xv = vals @ v[cols]
            y = (b + vals @ w[cols] + 0.5 * ((xv ** 2).sum() - (vals ** 2) @ (v[cols] ** 2).sum(1))
                 + rng.normal(0, 0.05))
            f.write(f"{y:.6f} " + " ".join(f"{c}:{x:.4f}" for c, x in zip(cols, vals)) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--features", type=int, default=1000)
    p.add_argument("--factors", type=int, default=4)
    p.add_argument("--nnz", type=int, default=10, help="features per example")
    p.add_argument("--train", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--max-rel-mse", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    rng = np.random.RandomState(args.seed)
    truth = (0.5, rng.normal(0, 1, args.features), rng.normal(0, 0.3, (args.features,
                                                                        args.factors)))
    with tempfile.TemporaryDirectory() as tmp:
        train_file, val_file = os.path.join(tmp, "train.libsvm"), os.path.join(tmp, "val.libsvm")
        write_libsvm(train_file, args.train, args.features, args.nnz, truth, rng)
        write_libsvm(val_file, args.train // 10, args.features, args.nnz, truth, rng)
        shape = (args.features,)
        train = mx.io.LibSVMIter(data_libsvm=train_file, data_shape=shape,
                                 batch_size=args.batch_size, label_name="label")
        val = mx.io.LibSVMIter(data_libsvm=val_file, data_shape=shape,
                               batch_size=args.batch_size, label_name="label")
        with open(val_file) as f:
            val_labels = np.array([float(line.split()[0]) for line in f])

    mx.random.seed(args.seed)
    mod = mx.mod.Module(fm_symbol(args.features, args.factors), data_names=["data"],
                        label_names=["label"])
    mod.fit(train, eval_data=val, eval_metric="mse", num_epoch=args.epochs,
            optimizer="adam", optimizer_params={"learning_rate": args.lr})
    grad = mod._exec_group.execs[0].grad_dict["w_weight"]
    print(f"the last gradient of w_weight is {grad.stype} with {len(grad.indices)} of "
          f"{args.features} rows")
    mse = dict(mod.score(val, "mse"))["mse"]
    baseline = float(np.var(val_labels))
    print(f"validation mse {mse:.4f} (predicting the mean: {baseline:.4f})")
    return 0 if mse < args.max_rel_mse * baseline else 1


if __name__ == "__main__":
    sys.exit(main())
