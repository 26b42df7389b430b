"""MXNet's 2-bit gradient compression with error feedback
(``kv.set_gradient_compression({'type': '2bit', 'threshold': t})``).

Each sender keeps a residual per key. A gradient is added to the residual; every element
whose residual reaches ``+t`` is sent as ``+t`` (and ``t`` taken off the residual), every
element at or below ``-t`` as ``-t`` (``t`` added back), the rest as 0 and stays in the
residual for later steps. What is lost in one step is sent in a later one, so the sum of
everything sent tracks the sum of the gradients. On the wire a value is 2 bits: four to a
byte (codes 0 = 0, 1 = +t, 2 = -t), 16 times less than float32.
"""
import torch

from ..base import MXNetValueError

__all__ = ["TwoBitCompression", "create_compression"]


def create_compression(params):
    """A compressor from MXNet's ``compression_params`` dict (None for ``type: 'none'``).

    Raises
    ------
    MXNetValueError
        For another type, a missing or non-positive threshold, or unknown keys.
    """
    if not isinstance(params, dict) or "type" not in params:
        raise MXNetValueError(f"gradient compression params must be a dict with a 'type', "
                              f"e.g. {{'type': '2bit', 'threshold': 0.5}}; got {params!r}")
    unknown = sorted(set(params) - {"type", "threshold"})
    if unknown:
        raise MXNetValueError(f"gradient compression: unknown keys {unknown}; known: 'type', "
                              "'threshold'")
    kind = str(params["type"]).lower()
    if kind == "none":
        return None
    if kind != "2bit":
        raise MXNetValueError(f"gradient compression type {params['type']!r} is not supported; "
                              "use '2bit' (or 'none')")
    threshold = float(params.get("threshold", 0.5))
    if not threshold > 0:
        raise MXNetValueError(f"2bit compression needs a positive threshold, got {threshold}")
    return TwoBitCompression(threshold)


class TwoBitCompression:
    """2-bit quantization with a residual per (key, sender slot)."""

    def __init__(self, threshold):
        self.threshold = threshold
        self._residuals = {}

    def __repr__(self):
        return f"TwoBitCompression(threshold={self.threshold})"

    def quantize(self, slot, grad):
        """Codes (int8 tensor of 0/1/2, ``grad``'s shape) for ``grad`` plus the residual of
        ``slot``, updating the residual."""
        t = self.threshold
        res = self._residuals.get(slot)
        if res is None or res.shape != grad.shape or res.device != grad.device:
            res = self._residuals[slot] = torch.zeros_like(grad, dtype=torch.float32)
        with torch.no_grad():
            res.add_(grad.to(torch.float32))
            pos, neg = res >= t, res <= -t
            res.sub_(pos.to(res.dtype) * t).add_(neg.to(res.dtype) * t)
            return pos.to(torch.int8) + 2 * neg.to(torch.int8)

    def dequantize(self, codes, dtype=torch.float32):
        """Values ``+t`` / ``-t`` / 0 of the codes."""
        t = self.threshold
        return ((codes == 1).to(dtype) - (codes == 2).to(dtype)) * t

    def roundtrip(self, slot, grad):
        """What the receiver sees of ``grad``: dequantize(quantize(...)), in grad's dtype."""
        return self.dequantize(self.quantize(slot, grad), grad.dtype)

    @staticmethod
    def pack(codes):
        """Flat uint8 bytes, four 2-bit codes each (zero-padded to a multiple of four)."""
        flat = codes.reshape(-1).to(torch.uint8)
        pad = (-flat.numel()) % 4
        if pad:
            flat = torch.cat([flat, flat.new_zeros(pad)])
        q = flat.reshape(-1, 4)
        return q[:, 0] | (q[:, 1] << 2) | (q[:, 2] << 4) | (q[:, 3] << 6)

    @staticmethod
    def unpack(packed, numel):
        """The first ``numel`` codes of :meth:`pack`'s bytes (int8)."""
        parts = [(packed >> s) & 3 for s in (0, 2, 4, 6)]
        return torch.stack(parts, dim=1).reshape(-1)[:numel].to(torch.int8)
