"""The benchmark suite: ``python -m bench`` (or ``python bench/run.py``).

Runs each workload (bench/workloads.py) under each peer -- mxtorch ``Module.fit``, a
hand-written PyTorch loop, PyTorch Lightning ``Trainer.fit`` and, on CPU, real MXNet 1.9.1
``Module.fit`` -- every peer in its own process (bench/worker.py) with the same thread
count, and prints one table: samples/s (or ms) and peak memory per peer, and the ratios
mxtorch/peer, all measured in this run. Each figure is the median of ``repeat``
repetitions after ``warmup`` (default 1) warm-up repetitions.

Options: ``--quick`` (a few batches per workload, one process per peer: proves the harness,
the numbers mean nothing), ``--workloads a,b,...``, ``--device cpu|cuda``, ``--repeat N``,
``--threads N``, ``--json out.json``; see ``--help``.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.worker import MARK  # noqa: E402
from bench.workloads import (ABSENT, PEER_LABELS, PEERS, WORKLOADS, metrics,  # noqa: E402
                             peers_for, sizes_for, title)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MXNET_PYTHON = os.path.join(REPO, ".mxnet-ref", "bin", "python")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and one process per peer (harness check, not a measure)")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated workload keys (default: all, %(default)s)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed repetitions per figure (default: per workload, 3-5)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up repetitions (default 1)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="CPU threads for every peer (default: all CPUs available, %(default)s)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help="comma-separated peers to run (default: %(default)s)")
    p.add_argument("--size", action="append", default=[], metavar="NAME=N",
                   help="set a size (batches, batch_size, batches_per_bucket, calls, ...) in "
                        "every selected workload that has it; repeatable")
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes at a time (default 1; more disturbs the timings, "
                        "meant for --quick)")
    p.add_argument("--json", metavar="PATH", help="also write every result to this JSON file")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds before a worker process is stopped (default 900)")
    p.add_argument("--mxnet-python", default=MXNET_PYTHON,
                   help="interpreter with mxnet==1.9.1 (default .mxnet-ref/bin/python)")
    args = p.parse_args(argv)
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [w for w in args.workloads if w not in WORKLOADS]
    if bad or not args.workloads:
        p.error(f"--workloads: unknown {bad}; choose from {','.join(WORKLOADS)}")
    args.peers = [x.strip() for x in args.peers.split(",") if x.strip()]
    bad = [x for x in args.peers if x not in PEERS]
    if bad or not args.peers:
        p.error(f"--peers: unknown {bad}; choose from {','.join(PEERS)}")
    if (args.repeat is not None and args.repeat < 1) or min(args.threads, args.jobs) < 1 \
            or args.warmup < 0:
        p.error("--repeat, --threads and --jobs must be >= 1 and --warmup >= 0")
    sizes = {}
    for item in args.size:
        name, _, value = item.partition("=")
        if not value.isdigit() or int(value) < 1:
            p.error(f"--size expects NAME=N with N >= 1, got {item!r}")
        sizes[name.strip()] = int(value)
    known = {n for k in args.workloads for n in sizes_for(k, args.device, args.quick)}
    unknown = sorted(set(sizes) - known)
    if unknown:
        p.error(f"--size: no selected workload has {unknown}; they have {sorted(known)}")
    args.size = sizes
    return args


def plan(args):
    """``{peer: [job, ...]}`` in workload order."""
    jobs = {}
    for key in args.workloads:
        for peer in peers_for(key, args.device):
            if peer not in args.peers:
                continue
            job = {"workload": key, "peer": peer, "device": args.device,
                   "threads": args.threads, "warmup": args.warmup,
                   **sizes_for(key, args.device, args.quick, args.repeat, args.size)}
            jobs.setdefault(peer, []).append(job)
    return jobs


def run_process(python, jobs, args):
    """Run ``jobs`` in one worker process; ``{(workload, peer): result}``, where a job
    without a result line gets ``{"error": ...}``."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(args.threads)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [python, "-m", "bench.worker", json.dumps(jobs)]
    out, err, code = "", "", None
    try:
        proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True,
                              timeout=args.timeout)
        out, err, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = f"timed out after {args.timeout:.0f} s"
    results = {}
    for line in out.splitlines():
        if line.startswith(MARK):
            res = json.loads(line[len(MARK):])
            results[(res["workload"], res["peer"])] = res
    for job in jobs:
        key = (job["workload"], job["peer"])
        if key not in results:
            tail = " | ".join((err or out).strip().splitlines()[-3:])
            results[key] = {"workload": key[0], "peer": key[1],
                            "error": f"no result (exit {code}): {tail}"[:300]}
    return results


def run_all(args):
    """Every planned job: one process per (workload, peer), or per peer with ``--quick``;
    ``--jobs`` processes at a time. ``{(workload, peer): result}``."""
    results, batches = {}, []
    for peer, jobs in plan(args).items():
        python = sys.executable
        if peer == "mxnet":
            python = args.mxnet_python
            if not os.path.exists(python):
                for job in jobs:
                    results[(job["workload"], peer)] = {
                        "workload": job["workload"], "peer": peer, "absent":
                        f"not installed ({python} missing; python3 -m venv .mxnet-ref && "
                        ".mxnet-ref/bin/pip install mxnet==1.9.1 numpy==1.23.5)"}
                continue
        batches += [(python, jobs)] if args.quick else [(python, [job]) for job in jobs]

    def one(batch):
        python, jobs = batch
        t0 = time.perf_counter()
        got = run_process(python, jobs, args)
        failed = [k[0] for k, r in got.items() if "error" in r]
        print(f"  ran {PEER_LABELS[jobs[0]['peer']]} on "
              f"{','.join(j['workload'] for j in jobs)} in {time.perf_counter() - t0:.1f} s"
              + (f" (failed: {','.join(failed)})" if failed else ""),
              file=sys.stderr, flush=True)
        return got

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for got in pool.map(one, batches):
            results.update(got)
    for res in results.values():
        if "error" in res and "No module named 'lightning'" in res["error"]:
            res["absent"] = "not installed (.venv/bin/pip install lightning)"
            del res["error"]
    return results


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cpus_available": len(os.sched_getaffinity(0)),
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}


def _fmt(value):
    """A figure with 3-4 significant digits."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f}"


def _memory(res, device):
    """``(figure the ratio uses, cell text)`` of a result's memory: on CUDA the peak
    allocated, on CPU the rise of the RSS peak (the text shows peak and rise)."""
    m = res["memory"]
    rise = m.get("rise_mib")
    text = f"{m['peak_mib']:.0f}" + (f" (+{rise:.0f})" if rise is not None else "")
    return (m["peak_mib"] if device == "cuda" else rise), text


def table(results, args, peers):
    """The printed table: a row per metric and a memory row per workload, a column per peer
    and a ratio column mxtorch/peer per other peer; plus the footnotes for the cells that
    hold no figure (``-`` not part of the workload, ``n/i`` not installed, ``failed``)."""
    others = [p for p in peers if p != "mxtorch"]
    head = (f"{'':<4}{'metric':<22}" + "".join(f"{PEER_LABELS[p]:>13}" for p in peers)
            + "".join(f"{'/' + PEER_LABELS[p]:>13}" for p in others))
    lines, notes = [head, "-" * len(head)], []

    def note(text):
        if text not in notes:
            notes.append(text)

    for key in args.workloads:
        sizes = sizes_for(key, args.device, args.quick, args.repeat, args.size)
        rows = [(label, lambda r, m=m: (r["metrics"][m], _fmt(r["metrics"][m])))
                for m, label, _ in metrics(key, sizes)]
        rows.append(("GPU MiB (+rise)" if args.device == "cuda" else "RSS MiB (+rise)",
                     lambda r: _memory(r, args.device)))
        for i, (label, get) in enumerate(rows):
            texts, values = [], {}
            for p in peers:
                res = results.get((key, p))
                if res is None:
                    reason = ABSENT.get((key, p), "not run")
                    texts.append("-")
                    note(f"-: {PEER_LABELS[p]} ({key}): {reason}")
                elif "absent" in res:
                    texts.append("n/i")
                    note(f"n/i: {PEER_LABELS[p]}: {res['absent']}")
                elif "error" in res:
                    texts.append("failed")
                    note(f"failed: {PEER_LABELS[p]} ({key}): {res['error']}")
                else:
                    values[p], text = get(res)
                    texts.append(text)
            ours = values.get("mxtorch")
            ratios = []
            for p in others:
                theirs = values.get(p)
                ok = ours is not None and theirs is not None and ours > 0 and theirs > 0
                ratios.append(f"{ours / theirs:.2f}" if ok else "")
            lines.append(f"{key if i == 0 else '':<4}{label:<22}"
                         + "".join(f"{t:>13}" for t in texts)
                         + "".join(f"{r:>13}" for r in ratios))
    return lines, notes


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    command = " ".join(["python -m bench"] + [shlex.quote(a) for a in argv])
    info = machine()
    sizes = {k: sizes_for(k, args.device, args.quick, args.repeat, args.size)
             for k in args.workloads}
    head = [f"mxtorch benchmark suite, {started:%Y-%m-%d %H:%M} UTC",
            f"command: {command}",
            f"machine: {info['cpu']}, {info['cpus_available']} CPUs available, {info['os']}, "
            f"Python {info['python']}; device {args.device}, {args.threads} threads per peer"]
    if args.quick:
        head.append("--quick: tiny sizes, one process per peer: a harness check, the numbers "
                    "mean nothing")
    for key, s in sizes.items():
        shown = ", ".join(f"{k} {v}" for k, v in s.items() if k not in ("repeat",))
        head.append(f"  ({key}) {title(key, s)}; {shown}; median of {s['repeat']} after "
                    f"{args.warmup} warm-up")
    print("\n".join(head), flush=True)

    t0 = time.perf_counter()
    results = run_all(args)
    elapsed = time.perf_counter() - t0
    peers = [p for p in PEERS if p in args.peers and not (p == "mxnet" and args.device == "cuda")]
    lines, notes = table(results, args, peers)
    lines.append("ratios: mxtorch/peer of the row's figure (samples/s: above 1 means mxtorch is "
                 "faster; ms and memory: below 1 means mxtorch is faster or smaller).")
    lines.append("memory: " + ("torch.cuda.max_memory_allocated over the run (ratio of peaks)"
                               if args.device == "cuda" else
                               "peak RSS of the worker over the run, and its rise over the RSS "
                               "once imports and data were done (ratio of rises)"))
    versions = {}
    for res in results.values():
        if "version" in res:
            versions.setdefault(res["peer"], res["version"])
        if "device_name" in res:
            info["gpu"] = res["device_name"]
    lines.append("versions: " + "; ".join(f"{PEER_LABELS[p]} {versions[p]}"
                                          for p in PEERS if p in versions))
    if "gpu" in info:
        lines.append(f"GPU: {info['gpu']}")
    lines += notes
    lines.append(f"suite time {elapsed:.0f} s")
    print("\n" + "\n".join(lines))
    if args.json:
        doc = {"command": command, "date_utc": started.isoformat(timespec="seconds"),
               "machine": info, "device": args.device, "threads": args.threads,
               "quick": args.quick, "warmup": args.warmup, "elapsed_seconds": elapsed,
               "table": head + [""] + lines,
               "workloads": {k: {"title": title(k, sizes[k]), "sizes": sizes[k],
                                 "peers": {p: results[(k, p)] for p in peers
                                           if (k, p) in results}}
                             for k in args.workloads}}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"results written to {args.json}")
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
