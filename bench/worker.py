"""One peer in its own process: ``python -m bench.worker '<json list of jobs>'``.

Each job is ``{"workload", "peer", "device", "threads", "warmup", ...sizes}``; for each the
worker prints one line ``BENCH_RESULT {json}`` with ``metrics``, ``memory``, ``raw`` and
``version``, or ``error`` (the exception, one line) when the job failed. Frameworks are
imported only for the peer asked for, so the MXNet interpreter never imports torch.
"""
import json
import sys
import traceback

from .measure import MemoryMeter
from .workloads import WORKLOADS

MARK = "BENCH_RESULT "


def _module_peer(peer, device, threads):
    """``(mx, ctx, sync, version)`` for the mxtorch or MXNet Module peer."""
    if peer == "mxnet":
        import mxnet as mx

        def sync(out=None):
            mx.nd.waitall()
        return mx, mx.cpu(), sync, mx.__version__
    import torch
    torch.set_num_threads(threads)
    import mxtorch as mx
    if device == "cuda":
        def sync(out=None):
            torch.cuda.synchronize()
        ctx = mx.gpu(0)
    else:
        def sync(out=None):
            return None
        ctx = mx.cpu()
    return mx, ctx, sync, f"{mx.__version__} (torch {torch.__version__})"


def run_job(job):
    kind = WORKLOADS[job["workload"]]["kind"]
    job = dict(job, model=WORKLOADS[job["workload"]]["model"])
    peer, device = job["peer"], job["device"]
    meter = MemoryMeter(device)
    extra = {}
    if peer in ("mxtorch", "mxnet"):
        from . import peer_module
        mx, ctx, sync, version = _module_peer(peer, device, job["threads"])
        metrics, raw = getattr(peer_module, kind)(mx, ctx, sync, job, meter)
        if peer == "mxtorch":
            import torch
            extra["torch_threads"] = torch.get_num_threads()
            if device == "cuda":
                extra["device_name"] = torch.cuda.get_device_name(0)
    else:
        import torch
        torch.set_num_threads(job["threads"])
        dev = "cuda:0" if device == "cuda" else "cpu"
        if peer == "torch":
            from . import peer_torch
            version = torch.__version__
            metrics, raw = getattr(peer_torch, kind)(dev, job, meter)
        else:
            from . import peer_lightning
            version = peer_lightning.version()
            metrics, raw = peer_lightning.fit(dev, job, meter)
        if device == "cuda":
            extra["device_name"] = torch.cuda.get_device_name(0)
        extra["torch_threads"] = torch.get_num_threads()
    return {"workload": job["workload"], "peer": peer, "version": version, "metrics": metrics,
            "memory": meter.stop(), "raw": raw, **extra}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m bench.worker '<json list of jobs>'", file=sys.stderr)
        return 2
    status = 0
    for job in json.loads(argv[0]):
        try:
            result = run_job(job)
        except Exception as exc:  # reported in the table, the next job still runs
            traceback.print_exc()
            status = 1
            result = {"workload": job["workload"], "peer": job["peer"],
                      "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
        print(MARK + json.dumps(result), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
