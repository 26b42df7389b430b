"""``mx.rnn``: MXNet's legacy RNN cells that build symbols (for bucketing models), the
text iterator and encoder, and checkpoint helpers."""
from . import rnn_cell, io, rnn
from .rnn_cell import *  # noqa: F401,F403
from .io import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403

__all__ = rnn_cell.__all__ + io.__all__ + rnn.__all__
