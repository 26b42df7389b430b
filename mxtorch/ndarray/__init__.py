"""``mx.nd``: NDArray, creation functions, imperative ops, save/load and random."""
from .ndarray import (NDArray, array, zeros, ones, full, empty, arange, concat, concatenate,
                      waitall, from_torch, from_numpy, zeros_like, ones_like)
from .ops import *  # noqa: F401,F403
from . import ops
from .serialize import save, load, load_frombuffer
from . import random
from . import sparse
from .sparse import CSRNDArray, RowSparseNDArray, cast_storage


class _Internal:
    """``mx.nd._internal.<op>``: every registered operator by its own name."""

    def __getattr__(self, name):
        from ..symbol.registry import list_ops
        if name in list_ops():
            from .op_call import make_nd_function
            fn = make_nd_function(name)
            setattr(self, name, fn)
            return fn
        raise AttributeError(f"mx.nd._internal has no operator {name!r}")


_internal = _Internal()


def __getattr__(name):
    """``mx.nd.<Op>`` for every registered operator not defined above (created on first
    use, see :mod:`mxtorch.ndarray.op_call`); an MXNet function mxtorch lacks raises
    MXNetNotImplementedError naming it, any other name AttributeError."""
    from ..symbol.registry import list_ops, missing_attribute
    from ..symbol import mxnet_op_names
    if name in list_ops():
        from .op_call import make_nd_function
        fn = globals()[name] = make_nd_function(name)
        return fn
    raise missing_attribute("mx.nd", name, mxnet_op_names.NDARRAY_NAMES)
