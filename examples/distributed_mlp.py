"""The digits MLP trained by several processes with kvstore='dist_sync' (torch.distributed,
gloo on CPU): each worker reads its own shard, gradients are summed over workers, and the
parameters stay identical everywhere.

    torchrun --standalone --nproc_per_node=2 examples/distributed_mlp.py [--epochs 10]

Rank 0 prints the validation accuracy and writes the checkpoint (``--prefix``); every
rank checks that its parameters equal rank 0's. Exits 1 unless the accuracy reaches
``--min-acc``.
"""
import argparse
import logging
import sys

import numpy as np
import torch.distributed as dist

import mxtorch as mx
from mxtorch.datasets import load_digits
from mxtorch.demo import mlp_symbol, split_digits


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32, help="per worker")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--min-acc", type=float, default=0.95)
    p.add_argument("--prefix", default=None, help="checkpoint prefix (rank 0 writes it)")
    args = p.parse_args(argv)
    kv = mx.kv.create("dist_sync")
    logging.basicConfig(level=logging.INFO if kv.rank == 0 else logging.WARNING,
                        format=f"[rank {kv.rank}] %(message)s")
    np.random.seed(kv.rank)              # different shuffles; the same initial weights
    mx.random.seed(0)                    # come from rank 0 through the store anyway
    x, y = load_digits()
    x_train, y_train, x_val, y_val = split_digits(x, y)
    train = mx.io.NDArrayIter(x_train, y_train, args.batch_size, shuffle=True,
                              **mx.kv.data_shard(kv))
    mod = mx.mod.Module(mlp_symbol(mx))
    mod.fit(train, num_epoch=args.epochs, kvstore=kv, initializer=mx.init.Xavier(),
            optimizer="sgd", optimizer_params={"learning_rate": args.lr, "momentum": 0.9})
    acc = dict(mod.score(mx.io.NDArrayIter(x_val, y_val, 50), "acc"))["accuracy"]
    weights = mod.get_params()[0]["fc1_weight"].torch.clone()
    reference = weights.clone()
    dist.broadcast(reference, src=0)
    same = bool((weights == reference).all())
    if kv.rank == 0:
        print(f"workers {kv.num_workers}: validation accuracy {acc:.4f}")
        if args.prefix:
            mod.save_checkpoint(args.prefix, args.epochs)
    if not same:
        print(f"rank {kv.rank}: parameters differ from rank 0's", file=sys.stderr)
    return 0 if same and acc >= args.min_acc else 1


if __name__ == "__main__":
    sys.exit(main())
