"""Sparse storage in graphs: the ops made for it (``_square_sum``, ``cast_storage``,
``_sparse_retain``, ``_contrib_SparseEmbedding``) and the dispatch that runs every other
op on sparse inputs.

A bound graph with csr inputs is compiled with :func:`sparse_aware` around each op
forward (see ``mxtorch.executor.codegen``): ops listed in :data:`SPARSE_FORWARD` keep
sparse storage (a 0-preserving elementwise op on a csr array gives csr), ``dot`` handles
its csr operand itself (``mxtorch.symbol.ops.linalg.sparse_dot``: the gradient of its
dense operand is row_sparse), and every other op gets dense copies of its sparse inputs
(MXNet's storage fallback). Graphs without csr inputs are compiled without any of this.
"""
import torch
import torch.nn.functional as F

from ...ndarray.sparse import is_sparse, map_values, to_dense, to_stype
from ..registry import OpDef, Param, register
from .nn import _embedding_shape, _embedding_type
from .reduce import _PARAMS as _REDUCE_PARAMS, _axes, _reduce_shape

__all__ = ["sparse_aware", "var_stypes", "rsp_grad_names", "SPARSE_FORWARD"]

_STYPE_CODES = {"1": "row_sparse", "2": "csr"}


def _zero_preserving(fn):
    def forward(p, is_train, data):
        return map_values(data, fn) if is_sparse(data) else fn(data)
    return forward


#: op name -> forward that keeps sparse storage (MXNet's FComputeEx for csr/row_sparse)
SPARSE_FORWARD = {name: _zero_preserving(fn) for name, fn in {
    "square": torch.square, "sqrt": torch.sqrt, "abs": torch.abs, "sign": torch.sign,
    "negative": torch.neg, "relu": torch.relu, "sin": torch.sin, "tanh": torch.tanh,
    "arcsin": torch.asin, "arctan": torch.atan, "sinh": torch.sinh, "arcsinh": torch.asinh,
    "arctanh": torch.atanh, "expm1": torch.expm1, "log1p": torch.log1p, "trunc": torch.trunc,
    "fix": torch.trunc, "floor": torch.floor, "ceil": torch.ceil, "rint": torch.round,
    "round": torch.round, "degrees": torch.rad2deg, "radians": torch.deg2rad,
}.items()}


def var_stypes(symbol):
    """``{variable name: 'csr' or 'row_sparse'}`` from the variables' ``stype``."""
    out = {}
    for n in symbol._topo():
        if n.op is None:
            stype = _STYPE_CODES.get(str(n.attrs.get("__storage_type__", "0")))
            if stype is not None:
                out[n.name] = stype
    return out


def rsp_grad_names(symbol):
    """Names of the variables whose gradient is row_sparse: row_sparse variables and the
    weights of ``Embedding(sparse_grad=True)`` / ``contrib.SparseEmbedding``."""
    names = {k for k, v in var_stypes(symbol).items() if v == "row_sparse"}
    for n in symbol._topo():
        if n.op is not None and (n.op.name == "_contrib_SparseEmbedding" or (
                n.op.name == "Embedding" and n.params.sparse_grad)):
            src = n.inputs[1][0]
            if src.op is None:
                names.add(src.name)
    return names


def sparse_aware(op):
    """``op``'s forward for a graph that may carry sparse tensors (see the module doc)."""
    sparse_fwd = SPARSE_FORWARD.get(op.name)
    if sparse_fwd is not None or op.name in ("dot", "_square_sum", "cast_storage",
                                              "_sparse_retain"):
        return sparse_fwd or op.forward
    dense_fwd = op.forward

    def forward(p, is_train, *inputs):
        return dense_fwd(p, is_train, *[to_dense(t) for t in inputs])
    return forward


# ------------------------------------------------------------------ _square_sum
def _square_sum_forward(p, is_train, data):
    axes = _axes(p, data.dim())
    dense = to_dense(data)
    out = (dense * dense).sum(dim=axes, keepdim=p.keepdims) if axes else dense * dense
    out = out if out.dim() else out.reshape(1)
    if is_sparse(data) and axes == (1,) and p.keepdims:     # rows stay rows (MXNet)
        return to_stype(out, "row_sparse")
    return out


register(OpDef("_square_sum", _square_sum_forward, params=_REDUCE_PARAMS,
               infer_shape=_reduce_shape))


# ------------------------------------------------------------------ cast_storage
def _cast_storage_forward(p, is_train, data):
    return to_stype(data, p.stype)


register(OpDef("cast_storage", _cast_storage_forward,
               params={"stype": Param("str", choices={"default", "row_sparse", "csr"})},
               infer_shape=lambda p, ins, outs: (ins, [ins[0]])))


# ------------------------------------------------------------------ _sparse_retain
def _retain_forward(p, is_train, data, indices):
    """The rows of ``data`` listed in ``indices``; the others are zero."""
    dense = to_dense(data)
    keep = torch.zeros(dense.shape[0], dtype=torch.bool, device=dense.device)
    keep[indices.long()] = True
    out = dense * keep.reshape((-1,) + (1,) * (dense.dim() - 1)).to(dense.dtype)
    return to_stype(out, "row_sparse") if is_sparse(data) else out


register(OpDef("_sparse_retain", _retain_forward, inputs=("data", "indices"),
               infer_shape=lambda p, ins, outs: (ins, [ins[0]])))


# ------------------------------------------------------------------ SparseEmbedding
def _sparse_embedding_forward(p, is_train, data, weight):
    idx = data.long().clamp_(0, p.input_dim - 1) if data.device.type != "meta" else data.long()
    return F.embedding(idx, weight, sparse=True)


register(OpDef(
    "_contrib_SparseEmbedding", _sparse_embedding_forward,
    params={"input_dim": Param("int"), "output_dim": Param("int"),
            "dtype": Param("dtype", "float32"), "deterministic": Param("bool", False)},
    inputs=("data", "weight"), infer_shape=_embedding_shape, infer_type=_embedding_type,
    hint="sparseembedding"))
