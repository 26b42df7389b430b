"""Matrix products and linear algebra: dot, batch_dot, khatri_rao and MXNet's ``_linalg_*``
ops (gemm, gemm2, potrf, potri, trmm, trsm, syrk, sumlogdiag, extractdiag, makediag,
extracttrian, maketrian, inverse, det, slogdet).

``dot`` of N-d arrays contracts the last axis of ``lhs`` with the first axis of ``rhs``;
``transpose_a`` views ``lhs`` as the 2-D matrix ``(shape[0], rest)`` transposed (so it
contracts the first axis), ``transpose_b`` views ``rhs`` as ``(rest, shape[-1])``
transposed, exactly as MXNet reshapes before its GEMM (this is not a full reversal of the
axes). ``dot`` of two vectors has shape (1,). Gradients come from autograd.
The functions at the end are the ``mx.sym.linalg`` namespace (``linalg.gemm2`` ...).
"""
import torch

from ...base import MXNetValueError
from ..registry import OpDef, Param, register

_STYPE = Param("any", None)


class _CsrDot(torch.autograd.Function):
    """``csr @ w`` with the gradient of ``w`` computed as a scatter-add of the stored
    values (torch's own goes through a slow transposed csr product). For a variable
    (``sparse_grad``) the gradient is row_sparse: only the rows of ``w`` that the csr
    operand touches (its column ids), as MXNet's dot backward gives."""

    @staticmethod
    def forward(ctx, csr, w, sparse_grad):
        ctx.save_for_backward(csr)
        ctx.sparse_grad = sparse_grad
        return csr @ w

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return None, None, None
        (csr,) = ctx.saved_tensors
        crow, cols, values = csr.crow_indices(), csr.col_indices(), csr.values()
        src_rows = torch.repeat_interleave(torch.arange(len(crow) - 1, device=crow.device),
                                           crow[1:] - crow[:-1])
        dense = grad.new_zeros((csr.shape[1], grad.shape[1]))
        dense.index_add_(0, cols, values.unsqueeze(1) * grad.index_select(0, src_rows))
        if not ctx.sparse_grad:
            return None, dense, None
        touched = torch.zeros(csr.shape[1], dtype=torch.bool, device=cols.device)
        touched[cols] = True
        rows = touched.nonzero().reshape(-1)
        return None, torch.sparse_coo_tensor(rows.reshape(1, -1), dense.index_select(0, rows),
                                             size=dense.shape, is_coalesced=True,
                                             check_invariants=False), None


def sparse_dot(lhs, rhs, transpose_a=False, transpose_b=False):
    """``dot`` of 2-D operands of which one is sparse, as a dense tensor. ``dot(csr, w)``
    of a variable ``w`` gives it a row_sparse gradient (:class:`_CsrDot`); the other
    cases have dense gradients, and row_sparse operands and a csr ``rhs`` are computed
    densely."""
    if lhs.dim() != 2 or rhs.dim() != 2:
        raise MXNetValueError(f"dot with sparse storage needs 2-D operands, got shapes "
                              f"{tuple(lhs.shape)} and {tuple(rhs.shape)}")
    if lhs.layout is not torch.sparse_csr:
        lhs = lhs.to_dense() if lhs.layout is not torch.strided else lhs
        a = lhs.t() if transpose_a else lhs
        b = rhs.to_dense() if rhs.layout is not torch.strided else rhs
        return a @ (b.t() if transpose_b else b)
    if rhs.layout is not torch.strided:
        rhs = rhs.to_dense()
    k = lhs.shape[0] if transpose_a else lhs.shape[1]
    kb = rhs.shape[1] if transpose_b else rhs.shape[0]
    if k != kb:
        raise MXNetValueError(f"dot: shapes {tuple(lhs.shape)} and {tuple(rhs.shape)} "
                              f"(transpose_a={transpose_a}, transpose_b={transpose_b}) "
                              f"contract axes of sizes {k} and {kb}; they must be equal")
    if transpose_a or transpose_b or rhs.dim() != 2:
        # dense gradients here, as MXNet's (csr.T, a transposed operand)
        return (lhs.t() if transpose_a else lhs) @ (rhs.t() if transpose_b else rhs)
    return _CsrDot.apply(lhs, rhs, rhs.is_leaf)   # a computed operand: dense gradient


def _dot_forward(p, is_train, lhs, rhs):
    if lhs.layout is not torch.strided or rhs.layout is not torch.strided:
        return sparse_dot(lhs, rhs, p.transpose_a, p.transpose_b)
    if lhs.dim() == 1 and rhs.dim() == 1:
        if lhs.shape[0] != rhs.shape[0]:
            raise MXNetValueError(f"dot: vectors of lengths {lhs.shape[0]} and {rhs.shape[0]}")
        return torch.dot(lhs, rhs).reshape(1)
    if p.transpose_a:
        k, left = lhs.shape[0], lhs.shape[1:]
        a = lhs.reshape(k, -1).t()
    else:
        k, left = lhs.shape[-1], lhs.shape[:-1]
        a = lhs.reshape(-1, k)
    if p.transpose_b:
        kb, right = rhs.shape[-1], rhs.shape[:-1]
        b = rhs.reshape(-1, kb).t()
    else:
        kb, right = rhs.shape[0], rhs.shape[1:]
        b = rhs.reshape(kb, -1)
    if k != kb:
        raise MXNetValueError(f"dot: shapes {tuple(lhs.shape)} and {tuple(rhs.shape)} "
                              f"(transpose_a={p.transpose_a}, transpose_b={p.transpose_b}) "
                              f"contract axes of sizes {k} and {kb}; they must be equal")
    out = (a @ b).reshape(tuple(left) + tuple(right))
    return out if out.dim() else out.reshape(1)


_PARAMS = {"transpose_a": Param("bool", False), "transpose_b": Param("bool", False),
           "forward_stype": _STYPE}
register(OpDef("dot", _dot_forward, params=_PARAMS, inputs=("lhs", "rhs")))


def _batch_dot_forward(p, is_train, lhs, rhs):
    if lhs.dim() < 3 or lhs.dim() != rhs.dim() or lhs.shape[:-2] != rhs.shape[:-2]:
        raise MXNetValueError(f"batch_dot: inputs need equal batch dims and rank >= 3, got "
                              f"{tuple(lhs.shape)} and {tuple(rhs.shape)}")
    a = lhs.transpose(-1, -2) if p.transpose_a else lhs
    b = rhs.transpose(-1, -2) if p.transpose_b else rhs
    return torch.matmul(a, b)


register(OpDef("batch_dot", _batch_dot_forward, params=dict(_PARAMS), inputs=("lhs", "rhs")))


def _gemm_product(p, a, b):
    """``alpha * op(A) op(B)`` with the matrix rows on ``p.axis`` and columns last."""
    a, b = a.movedim(p.axis, -2), b.movedim(p.axis, -2)
    a = a.transpose(-1, -2) if p.transpose_a else a
    b = b.transpose(-1, -2) if p.transpose_b else b
    return p.alpha * torch.matmul(a, b)


def _gemm2_forward(p, is_train, a, b):
    return _gemm_product(p, a, b).movedim(-2, p.axis)


def _gemm_forward(p, is_train, a, b, c):
    return (_gemm_product(p, a, b) + p.beta * c.movedim(p.axis, -2)).movedim(-2, p.axis)


_GEMM = {"transpose_a": Param("bool", False), "transpose_b": Param("bool", False),
         "alpha": Param("float", 1.0), "axis": Param("int", -2)}
register(OpDef("_linalg_gemm2", _gemm2_forward, params=_GEMM, inputs=("A", "B")),
         aliases=["linalg_gemm2"])
register(OpDef("_linalg_gemm", _gemm_forward, params=dict(_GEMM, beta=Param("float", 1.0)),
               inputs=("A", "B", "C")),
         aliases=["linalg_gemm"])


# ------------------------------------------------------------------ factorizations, solves
def _triangle(a, lower):
    return torch.tril(a) if lower else torch.triu(a)


def _trmm_forward(p, is_train, a, b):
    t = _triangle(a, p.lower)
    t = t.transpose(-1, -2) if p.transpose else t
    return p.alpha * (torch.matmul(b, t) if p.rightside else torch.matmul(t, b))


def _trsm_forward(p, is_train, a, b):
    """Solve op(A) X = alpha B (X op(A) = alpha B with rightside), A triangular."""
    upper = not p.lower
    if p.transpose:
        a, upper = a.transpose(-1, -2), p.lower
    return torch.linalg.solve_triangular(a, p.alpha * b, upper=upper, left=not p.rightside)


def _syrk_forward(p, is_train, a):
    at = a.transpose(-1, -2)
    return p.alpha * (torch.matmul(at, a) if p.transpose else torch.matmul(a, at))


def _scalar_per_matrix(x):
    """MXNet gives shape (1,) where a single matrix reduces to a scalar."""
    return x if x.dim() else x.reshape(1)


def _det_forward(p, is_train, a):
    lu, pivots = torch.linalg.lu_factor(a.detach())  # MXNet's hidden LU outputs
    return _scalar_per_matrix(torch.linalg.det(a)), lu, pivots.to(a.dtype)


def _slogdet_forward(p, is_train, a):
    lu, pivots = torch.linalg.lu_factor(a.detach())
    sign, logabsdet = torch.linalg.slogdet(a)
    return (_scalar_per_matrix(sign.detach()), _scalar_per_matrix(logabsdet), lu,
            pivots.to(a.dtype))


_TRI = {"transpose": Param("bool", False), "rightside": Param("bool", False),
        "lower": Param("bool", True), "alpha": Param("float", 1.0)}
_LINALG = {
    "potrf": (lambda p, t, a: torch.linalg.cholesky(a), {}, ("A",)),
    "potri": (lambda p, t, a: torch.cholesky_inverse(torch.tril(a)), {}, ("A",)),  # reads L
    "trmm": (_trmm_forward, _TRI, ("A", "B")),
    "trsm": (_trsm_forward, _TRI, ("A", "B")),
    "syrk": (_syrk_forward, {"transpose": Param("bool", False), "alpha": Param("float", 1.0)},
             ("A",)),
    "sumlogdiag": (lambda p, t, a: _scalar_per_matrix(
        torch.log(torch.diagonal(a, dim1=-2, dim2=-1)).sum(-1)), {}, ("A",)),
    "extractdiag": (lambda p, t, a: torch.diagonal(a, p.offset, -2, -1),
                    {"offset": Param("int", 0)}, ("A",)),
    "makediag": (lambda p, t, a: torch.diag_embed(a, p.offset), {"offset": Param("int", 0)},
                 ("A",)),
    "inverse": (lambda p, t, a: torch.linalg.inv(a), {}, ("A",)),
}
for _short, (_fn, _params, _inputs) in _LINALG.items():
    register(OpDef("_linalg_" + _short, _fn, params=_params, inputs=_inputs),
             aliases=["linalg_" + _short])
register(OpDef("_linalg_det", _det_forward, inputs=("A",),
               outputs=("output0", "output1", "output2"), num_visible=lambda p: 1),
         aliases=["linalg_det"])
register(OpDef("_linalg_slogdet", _slogdet_forward, inputs=("A",),
               outputs=("output0", "output1", "output2", "output3"), num_visible=lambda p: 2),
         aliases=["linalg_slogdet"])


# ------------------------------------------------------------------ packed triangles
def _tri_layout(p, n):
    """(row, col) indices of MXNet's packed triangle of an n x n matrix, and whether it is
    read from the transpose: the lower triangle (offset <= 0) row by row; the upper one
    (offset > 0, or lower=False) column by column, i.e. the transpose's lower triangle."""
    lower = p.offset < 0 or (p.offset == 0 and p.lower)
    rows, cols = torch.tril_indices(n, n, p.offset if lower else -p.offset)
    return rows, cols, not lower


def _extracttrian_forward(p, is_train, a):
    n = a.shape[-1]
    rows, cols, transposed = _tri_layout(p, n)
    if transposed:
        a = a.transpose(-1, -2)
    return a[..., rows.to(a.device), cols.to(a.device)]


def _maketrian_forward(p, is_train, a):
    m, k = a.shape[-1], 0
    while (k + 1) * (k + 2) // 2 <= m:
        k += 1
    if k * (k + 1) // 2 != m:
        raise MXNetValueError(f"maketrian: {m} values do not fill a triangle (k(k+1)/2)")
    n = k + abs(p.offset)
    rows, cols, transposed = _tri_layout(p, n)
    flat = (rows * n + cols).to(a.device)
    out = torch.zeros(a.shape[:-1] + (n * n,), dtype=a.dtype, device=a.device)
    out = out.index_copy(-1, flat, a).reshape(a.shape[:-1] + (n, n))
    return out.transpose(-1, -2) if transposed else out


_TRIAN = {"offset": Param("int", 0), "lower": Param("bool", True)}
register(OpDef("_linalg_extracttrian", _extracttrian_forward, params=_TRIAN, inputs=("A",)),
         aliases=["linalg_extracttrian"])
register(OpDef("_linalg_maketrian", _maketrian_forward, params=dict(_TRIAN), inputs=("A",)),
         aliases=["linalg_maketrian"])


def _khatri_rao_forward(p, is_train, *args):
    """Column-wise Kronecker product of (n_i, k) matrices: (prod n_i, k). MXNet 1.9.1 has no
    gradient for it (a backward through it fails there); here autograd gives one."""
    out = args[0]
    for b in args[1:]:
        if b.shape[-1] != out.shape[-1]:
            raise MXNetValueError(f"khatri_rao: inputs have {out.shape[-1]} and {b.shape[-1]} "
                                  "columns; they must be equal")
        out = (out.unsqueeze(1) * b.unsqueeze(0)).reshape(-1, out.shape[-1])
    return out


register(OpDef("khatri_rao", _khatri_rao_forward, params={"num_args": Param("int")},
               variadic="num_args"))


# ------------------------------------------------------------------ mx.sym.linalg.*
def _namespaced(opname, short):
    """``mx.sym.linalg.<short>``: the op with MXNet's automatic name ``<short>N``."""
    def create(*args, name=None, attr=None, **kwargs):
        from ..symbol import _create
        return _create(opname, args, kwargs, hint=short, name=name, attr=attr)
    create.__name__ = short
    create.__doc__ = f"``mx.sym.linalg.{short}``: the ``{opname}`` op (see linalg_{short})."
    return create


gemm2 = _namespaced("_linalg_gemm2", "gemm2")
gemm = _namespaced("_linalg_gemm", "gemm")
potrf, potri, trmm, trsm, syrk, sumlogdiag, extractdiag, makediag, inverse, det, slogdet, \
    extracttrian, maketrian = [_namespaced("_linalg_" + n, n) for n in (
        "potrf", "potri", "trmm", "trsm", "syrk", "sumlogdiag", "extractdiag", "makediag",
        "inverse", "det", "slogdet", "extracttrian", "maketrian")]
