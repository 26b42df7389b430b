"""``mx.sym`` / ``mx.symbol``: the Symbol graph and one creation function per
registered operator (``mx.sym.FullyConnected``, ``mx.sym.flatten``, ...)."""
import types as _types

from . import ops as _ops  # noqa: F401  (registers the operators)
from .registry import list_ops, get_op
from .symbol import Symbol, Variable, var, Group, load, load_json, make_op_function
from .ops.array import zeros, ones, full, arange
from .ops.elemwise import maximum, minimum, pow, power, hypot
from .ops import linalg as _linalg_ops

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "list_ops", "zeros",
           "ones", "full", "arange", "maximum", "minimum", "pow", "power", "hypot", "linalg",
           "contrib", "sparse"]

#: ``mx.sym.linalg.gemm2`` etc. (MXNet's ``_linalg_*`` ops under their short names)
linalg = _types.ModuleType("mxtorch.symbol.linalg", "mx.sym.linalg: MXNet's _linalg_* ops.")
for _short in ("gemm", "gemm2", "potrf", "potri", "trmm", "trsm", "syrk", "sumlogdiag",
               "extractdiag", "makediag", "inverse", "det", "slogdet", "extracttrian",
               "maketrian"):
    setattr(linalg, _short, getattr(_linalg_ops, _short))
#: ``mx.sym._internal.<op>``: every registered op by its own name, as MXNet's _internal
_internal = _types.ModuleType("mxtorch.symbol._internal", "Every op by its registered name.")


#: ``mx.sym.contrib.<Op>``: MXNet's ``_contrib_<Op>`` operators
contrib = _types.ModuleType("mxtorch.symbol.contrib", "mx.sym.contrib: MXNet's _contrib_ ops.")
#: ``mx.sym.sparse.<op>``: the ops MXNet lists for sparse storage
sparse = _types.ModuleType("mxtorch.symbol.sparse", "mx.sym.sparse: ops on sparse storage.")
_SPARSE_NAMES = {"dot": "dot", "cast_storage": "cast_storage", "retain": "_sparse_retain",
                 "square_sum": "_square_sum", "elemwise_add": "elemwise_add",
                 "elemwise_sub": "elemwise_sub", "elemwise_mul": "elemwise_mul",
                 "Embedding": "Embedding", "sum": "sum", "mean": "mean"}


def _install():
    g = globals()
    for opname in list_ops():
        fn = g.get(opname)
        if fn is None:
            fn = g[opname] = make_op_function(opname, hint=opname.lower())
            __all__.append(opname)
        setattr(_internal, opname, fn)
        if opname.startswith("_contrib_"):
            setattr(contrib, opname[len("_contrib_"):], fn)
    for short, opname in _SPARSE_NAMES.items():
        setattr(sparse, short, g[opname])


_install()


def __getattr__(name):
    """``mx.sym.Foo`` for a name that is not here: an MXNet op mxtorch lacks raises
    MXNetNotImplementedError naming it; any other name AttributeError with suggestions."""
    from .registry import missing_attribute
    from . import mxnet_op_names
    raise missing_attribute("mx.sym", name, mxnet_op_names.SYMBOL_NAMES)
