"""``mx.sym`` / ``mx.symbol``: the Symbol graph and one creation function per
registered operator (``mx.sym.FullyConnected``, ``mx.sym.flatten``, ...)."""
from . import ops as _ops  # noqa: F401  (registers the operators)
from .registry import list_ops, get_op
from .symbol import Symbol, Variable, var, Group, load, load_json, make_op_function
from .ops.array import zeros, ones, full

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "list_ops", "zeros",
           "ones", "full"]


def _install():
    g = globals()
    for opname in list_ops():
        if opname not in g:
            g[opname] = make_op_function(opname, hint=opname.lower())
            __all__.append(opname)


_install()


def __getattr__(name):
    """``mx.sym.Foo`` for a name that is not here: an MXNet op mxtorch lacks raises
    MXNetNotImplementedError naming it; any other name AttributeError with suggestions."""
    from .registry import missing_attribute
    from . import mxnet_op_names
    raise missing_attribute("mx.sym", name, mxnet_op_names.SYMBOL_NAMES)
