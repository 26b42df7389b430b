"""``mx.init`` / ``mx.initializer``: weight initializers with MXNet 1.9.1 semantics."""
from .base import InitDesc, Initializer, register, alias, create
from .builtin import (Load, Mixed, Zero, One, Constant, Uniform, Normal, Orthogonal, Xavier,
                      MSRAPrelu, Bilinear, LSTMBias)
from .fused_rnn import FusedRNN

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "Load", "Mixed", "Zero",
           "One", "Constant", "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu",
           "Bilinear", "LSTMBias", "FusedRNN"]
