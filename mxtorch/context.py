"""Devices: ``Context`` names where arrays live and maps to a ``torch.device``.

``cpu(i)`` ids are labels only (all CPU contexts share host memory), so several
CPU contexts give real, separate executors for data parallelism without GPUs.
"""
import threading

import torch

from .base import MXNetValueError, MXNetRuntimeError

__all__ = ["Context", "cpu", "gpu", "cpu_pinned", "current_context", "num_gpus"]


class Context:
    """A device: ``Context('cpu', 0)``, ``Context('gpu', 1)`` or ``Context(other_ctx)``.

    Usable as a ``with`` block to change ``current_context()``.
    """
    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
    devstr2type = {v: k for k, v in devtype2str.items()}
    _local = threading.local()

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            self.device_typeid, self.device_id = device_type.device_typeid, device_type.device_id
        else:
            if device_type not in self.devstr2type:
                raise MXNetValueError(f"unknown device type {device_type!r}: use 'cpu' or 'gpu'")
            self.device_typeid, self.device_id = self.devstr2type[device_type], int(device_id)
        self._old_ctx = None

    @property
    def device_type(self):
        return self.devtype2str[self.device_typeid]

    @property
    def torch_device(self):
        """The ``torch.device`` this context computes on."""
        if self.device_typeid == 2:
            return torch.device("cuda", self.device_id)
        return torch.device("cpu")

    def __hash__(self):
        return hash((self.device_typeid, self.device_id))

    def __eq__(self, other):
        return isinstance(other, Context) and (self.device_typeid, self.device_id) == (
            other.device_typeid, other.device_id)

    def __repr__(self):
        return f"{self.device_type}({self.device_id})"

    __str__ = __repr__

    def __enter__(self):
        self._old_ctx = current_context()
        Context._local.value = self
        return self

    def __exit__(self, *exc):
        Context._local.value = self._old_ctx

    def empty_cache(self):
        if self.device_typeid == 2:
            torch.cuda.empty_cache()

    @staticmethod
    def from_torch(device):
        """The Context of a ``torch.device``."""
        device = torch.device(device)
        if device.type == "cuda":
            return Context("gpu", device.index or 0)
        return Context("cpu", 0)


def cpu(device_id=0):
    """A CPU context; the id is a label (all CPU contexts share host memory)."""
    return Context("cpu", device_id)


def cpu_pinned(device_id=0):
    """A pinned-host-memory context (computes on the CPU)."""
    return Context("cpu_pinned", device_id)


def gpu(device_id=0):
    """A CUDA device. Raises MXNetRuntimeError when CUDA or that device is absent."""
    n = num_gpus()
    if n == 0:
        raise MXNetRuntimeError(f"gpu({device_id}) requested but CUDA is not available on this "
                                "machine (torch.cuda.is_available() is False); use mx.cpu()")
    if device_id >= n:
        raise MXNetRuntimeError(f"gpu({device_id}) requested but only {n} GPU(s) are visible; "
                                f"use an id below {n}")
    return Context("gpu", device_id)


def num_gpus():
    """Number of visible CUDA devices."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def current_context():
    """The default context (``cpu(0)`` unless changed with ``with ctx:``)."""
    return getattr(Context._local, "value", None) or Context("cpu", 0)
