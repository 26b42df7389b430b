"""Module.fit throughput on the seed's MLP 784-128-64-10 (batch 100, SGD momentum 0.9, CPU):
the suite's workload (a) alone, kept under its old command.

Usage: ``python bench/mlp_fit.py [--epochs N] [--batches N] [--batch-size N] [--threads N]``,
the same as ``python -m bench --workloads a --repeat N --size batches=N ...``: every peer
(mxtorch, the PyTorch loop, Lightning, MXNet 1.9.1) in its own process, one warm-up epoch,
then the median of N timed epochs.
"""
import argparse
import os
import sys

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import run  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=5, help="timed epochs after the warm-up (default 5)")
    p.add_argument("--batches", type=int, default=200, help="batches per epoch (default 200)")
    p.add_argument("--batch-size", type=int, default=100, help="batch size (default 100)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="CPU threads for every peer (default: all CPUs available)")
    args = p.parse_args(argv)
    return run.main(["--workloads", "a", "--repeat", str(args.epochs),
                     "--size", f"batches={args.batches}",
                     "--size", f"batch_size={args.batch_size}",
                     "--threads", str(args.threads)])


if __name__ == "__main__":
    sys.exit(main())
