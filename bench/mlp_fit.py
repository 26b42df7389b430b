"""Module.fit throughput on the seed's MLP 784-128-64-10 (batch 100, SGD momentum 0.9, CPU),
as ratios against peers measured in the same run: a hand-written PyTorch loop and, when the
reference install exists, real MXNet 1.9.1's Module.fit.

Usage: ``python bench/mlp_fit.py [--epochs N] [--batches N] [--threads N]``.
Each peer runs bench/fit_worker.py in its own process on the same synthetic data
(uniform pixels, random labels); one warm-up epoch, then the median of N timed epochs.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKER = os.path.join(HERE, "fit_worker.py")
MXNET_PYTHON = os.path.join(REPO, ".mxnet-ref", "bin", "python")
LABELS = {"mxtorch": "mxtorch Module.fit", "torch": "PyTorch loop", "mxnet": "MXNet 1.9.1 Module.fit"}


def run_worker(python, framework, args):
    """Run one peer; returns its JSON result, or ``{"error": text}``."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(args.threads)
    env["MKL_NUM_THREADS"] = str(args.threads)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [python, WORKER, "--framework", framework, "--batches", str(args.batches),
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
           "--threads", str(args.threads)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=5, help="timed epochs after the warm-up (default 5)")
    p.add_argument("--batches", type=int, default=200, help="batches per epoch (default 200)")
    p.add_argument("--batch-size", type=int, default=100, help="batch size (default 100)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="CPU threads for every peer (default: all CPUs available)")
    args = p.parse_args(argv)
    if min(args.epochs, args.batches, args.batch_size, args.threads) < 1:
        p.error("--epochs, --batches, --batch-size and --threads must all be >= 1")

    print(f"MLP 784-128-64-10, batch {args.batch_size}, SGD lr 0.01 momentum 0.9, CPU; "
          f"{args.batches} batches per epoch, median of {args.epochs} epochs after 1 warm-up; "
          f"threads={args.threads}")
    results = {"mxtorch": run_worker(sys.executable, "mxtorch", args),
               "torch": run_worker(sys.executable, "torch", args)}
    if os.path.exists(MXNET_PYTHON):
        results["mxnet"] = run_worker(MXNET_PYTHON, "mxnet", args)

    ours = results["mxtorch"].get("samples_per_sec")
    print(f"{'peer':<26}{'samples/s':>12}{'mxtorch/peer':>14}  version")
    for key, res in results.items():
        if "error" in res:
            print(f"{LABELS[key]:<26}{'failed':>12}{'':>14}  {res['error']}")
            continue
        sps = res["samples_per_sec"]
        ratio = "" if key == "mxtorch" else (f"{ours / sps:.2f}" if ours else "n/a")
        print(f"{LABELS[key]:<26}{sps:>12.0f}{ratio:>14}  {res['version']}")
    if "mxnet" not in results:
        print("MXNet: not installed (python3 -m venv .mxnet-ref && "
              ".mxnet-ref/bin/pip install mxnet==1.9.1 numpy==1.23.5)")
    return 0 if ours else 1


if __name__ == "__main__":
    sys.exit(main())
