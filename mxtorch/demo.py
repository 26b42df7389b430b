"""``python -m mxtorch.demo``: the Module API end to end on the shipped digits data.

Trains the seed's MLP with ``Module.fit``, saves a checkpoint, loads it back with
``Module.load``, scores it for inference and checks that the reloaded model gives the
same validation accuracy. The code is plain MXNet 1.x user code on ``import mxtorch as mx``.
"""
import argparse
import logging
import os
import sys
import tempfile

import numpy as np

import mxtorch as mx
from mxtorch.datasets import load_digits

NUM_VAL = 300  # 1797 digits -> 1497 train / 300 validation
MIN_ACCURACY = 0.95


def split_digits(X, y, num_val=NUM_VAL, seed=0):
    """A fixed, seeded split of the digits into ``(X_train, y_train, X_val, y_val)``."""
    perm = np.random.RandomState(seed).permutation(len(X))
    val, train = perm[:num_val], perm[num_val:]
    return X[train], y[train], X[val], y[val]


def mlp_symbol(mx):
    """The seed's MLP: fc1 128 relu, fc2 64 relu, fc3 10, SoftmaxOutput 'softmax'.

    ``mx`` is passed in so the same graph can be built with MXNet itself.
    """
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(act1, name="fc2", num_hidden=64)
    act2 = mx.sym.Activation(fc2, name="relu2", act_type="relu")
    fc3 = mx.sym.FullyConnected(act2, name="fc3", num_hidden=10)
    return mx.sym.SoftmaxOutput(fc3, name="softmax")


def train(mx, X_train, y_train, X_val, y_val, epochs, batch_size, lr, speedometer_every):
    """Fit the MLP with SGD + momentum and Xavier init; returns ``(module, val_iter)``."""
    train_iter = mx.io.NDArrayIter(X_train, y_train, batch_size, shuffle=True)
    val_iter = mx.io.NDArrayIter(X_val, y_val, batch_size)
    mod = mx.mod.Module(mlp_symbol(mx), context=mx.cpu())
    mod.fit(train_iter,
            eval_data=val_iter,
            eval_metric="acc",
            optimizer="sgd",
            optimizer_params={"learning_rate": lr, "momentum": 0.9},
            initializer=mx.init.Xavier(),
            batch_end_callback=mx.callback.Speedometer(batch_size, speedometer_every),
            num_epoch=epochs)
    return mod, val_iter


def reload_and_score(mx, prefix, epoch, val_iter, y_val):
    """Load a checkpoint into a fresh Module bound for inference.

    Returns ``(score_accuracy, predict_accuracy)``: the first from ``Module.score``,
    the second from the arg-max of ``Module.predict`` computed here with numpy.
    """
    mod = mx.mod.Module.load(prefix, epoch)
    mod.bind(data_shapes=val_iter.provide_data, label_shapes=val_iter.provide_label,
             for_training=False)
    score_acc = dict(mod.score(val_iter, "acc"))["accuracy"]
    probs = mod.predict(val_iter).asnumpy()
    predict_acc = float(np.mean(probs.argmax(axis=1) == y_val.astype(np.int64)))
    return score_acc, predict_acc


def _parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m mxtorch.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    p.add_argument("--batch-size", type=int, default=30,
                   help="batch size (default 30: the 300 validation digits fill 10 batches, "
                        "so no padded rows enter the score)")
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (default 0.05)")
    p.add_argument("--seed", type=int, default=42, help="seed of the split, shuffling and init")
    p.add_argument("--min-accuracy", type=float, default=MIN_ACCURACY,
                   help="fail (exit 1) below this validation accuracy (default 0.95)")
    p.add_argument("--out-dir", default=None,
                   help="keep the checkpoint here (default: a temporary directory, removed)")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        p.error(f"--epochs and --batch-size must be >= 1, got {args.epochs} and {args.batch_size}")
    return args


def run(args, out_dir):
    """The demo proper; returns the process exit code."""
    np.random.seed(args.seed)   # NDArrayIter shuffles with numpy's global RNG
    mx.random.seed(args.seed)   # initializer draws
    X, y = load_digits()
    X_train, y_train, X_val, y_val = split_digits(X, y, seed=args.seed)
    logging.info("digits: %d train / %d validation images of %d pixels",
                 len(X_train), len(X_val), X.shape[1])

    mod, val_iter = train(mx, X_train, y_train, X_val, y_val, args.epochs,
                          args.batch_size, args.lr, speedometer_every=25)
    trained_acc = dict(mod.score(val_iter, "acc"))["accuracy"]

    prefix = os.path.join(out_dir, "digits-mlp")
    mod.save_checkpoint(prefix, args.epochs)
    loaded_acc, predict_acc = reload_and_score(mx, prefix, args.epochs, val_iter, y_val)

    print(f"validation accuracy: trained {trained_acc:.4f}, reloaded {loaded_acc:.4f} "
          f"(score), {predict_acc:.4f} (predict)")
    print(f"checkpoint: {prefix}-symbol.json, {prefix}-{args.epochs:04d}.params")
    if abs(loaded_acc - trained_acc) > 1e-9 or abs(predict_acc - trained_acc) > 1e-9:
        print("FAIL: the reloaded checkpoint does not reproduce the trained accuracy",
              file=sys.stderr)
        return 1
    if trained_acc < args.min_accuracy:
        print(f"FAIL: validation accuracy {trained_acc:.4f} < {args.min_accuracy}",
              file=sys.stderr)
        return 1
    print("OK")
    return 0


def main(argv=None):
    """Entry point of ``python -m mxtorch.demo``; returns the exit code."""
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.out_dir is not None:
        os.makedirs(args.out_dir, exist_ok=True)
        return run(args, args.out_dir)
    with tempfile.TemporaryDirectory(prefix="mxtorch-demo-") as tmp:
        return run(args, tmp)


if __name__ == "__main__":
    sys.exit(main())
