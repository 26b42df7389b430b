"""Operator families; importing this package registers every op."""
from . import nn, elemwise, reduce, shape, loss, array, rnn  # noqa: F401
from . import norm, indexing, linalg, vision, sparse  # noqa: F401
