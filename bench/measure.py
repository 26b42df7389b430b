"""Clocks and peak memory for a worker process (numpy only; torch is imported only on CUDA).

Peak memory is taken over the measured phase, which starts after the imports and the data:
on CPU the resident set size (Linux: the kernel's high-water mark ``VmHWM``, reset through
``/proc/self/clear_refs``), reported as the peak and as its rise over the RSS at the start;
on CUDA ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``.
"""
import resource
import time

import numpy as np

__all__ = ["MemoryMeter", "Stopwatch", "median"]


def median(values):
    return float(np.median(values))


def _status_kib(field):
    """A ``/proc/self/status`` field in KiB, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class MemoryMeter:
    """Peak memory of the phase between ``start()`` and ``stop()``.

    ``stop()`` returns ``{"peak_mib", "rise_mib", "kind"}``: the kind is ``'rss'`` (CPU) or
    ``'cuda_allocated'``; ``rise_mib`` is the peak less the figure at ``start()``.
    """

    def __init__(self, device):
        self.device = device
        self.base = None
        self.hwm_reset = False

    def start(self):
        if self.device == "cuda":
            import torch
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
            return
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        rss = _status_kib("VmRSS")
        self.base = rss * 1024 if rss is not None else None

    def stop(self):
        mib = 1024.0 * 1024.0
        if self.device == "cuda":
            import torch
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
            return {"kind": "cuda_allocated", "peak_mib": peak / mib,
                    "rise_mib": (peak - self.base) / mib}
        hwm = _status_kib("VmHWM") if self.hwm_reset else None
        if hwm is None:  # no /proc: the lifetime peak, and no rise
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return {"kind": "rss_lifetime", "peak_mib": peak / mib, "rise_mib": None}
        peak = hwm * 1024
        return {"kind": "rss", "peak_mib": peak / mib,
                "rise_mib": (peak - self.base) / mib if self.base is not None else None}


class Stopwatch:
    """Timestamps at the ends of epochs (or calls); ``durations()`` gives the gaps, the first
    one measured from ``start()``. ``sync`` (e.g. torch.cuda.synchronize) runs before every
    stamp so queued device work is counted where it belongs."""

    def __init__(self, sync=None):
        self.sync = sync
        self.stamps = []

    def start(self):
        if self.sync is not None:
            self.sync()
        self.stamps = [time.perf_counter()]

    def stamp(self, *_):
        if self.sync is not None:
            self.sync()
        self.stamps.append(time.perf_counter())

    def durations(self):
        return [b - a for a, b in zip(self.stamps, self.stamps[1:])]
