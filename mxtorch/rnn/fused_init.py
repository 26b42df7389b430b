"""The per-gate views of a fused RNN parameter vector and the ``FusedRNN`` initializer,
as ``mx.rnn`` code imports them; they live in :mod:`mxtorch.initializer.fused_rnn`."""
from ..initializer.fused_rnn import FusedRNN, slice_fused_weights

__all__ = ["FusedRNN", "slice_fused_weights"]
