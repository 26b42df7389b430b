"""Finite-difference gradient checks (float64 central differences, MXNet's
check_numeric_gradient) of the tensor ops: elementwise math, broadcasting, scalar forms,
reductions, indexing and sorting, matrix products and shape ops. Inputs stay away from
kinks and ties (where a finite difference says nothing); the MXNet fixtures in
tests/compat/test_ops_tensor.py cover those."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.test_utils import check_numeric_gradient

RNG = np.random.RandomState(7)
EPS, RTOL, ATOL = 1e-4, 1e-4, 1e-6


def _u(lo, hi, *shape):
    return RNG.uniform(lo, hi, shape)


def _away(*shape):
    """Values in about [-1.4, 1.6] on a quarter grid shifted by 0.1 (fractions .1, .35, .6,
    .85): at least 0.1 from every integer and half, the kinks of abs, relu, sign, round."""
    x = RNG.uniform(0.2, 1.5, shape) * RNG.choice([-1, 1], shape)
    return np.round(x * 4) / 4 + 0.1


def _distinct(*shape):
    """Values far apart (no ties for max/min/sort/topk)."""
    return RNG.permutation(np.arange(int(np.prod(shape)))).reshape(shape) * 0.37 - 1.0


V = mx.sym.Variable
CASES = {}


def case(name, build, grad_nodes=None, **location):
    CASES[name] = (build, location, grad_nodes)


# ---------------------------------------------------------------- unary
_DOMAINS = {
    "real": (["negative", "abs", "sign", "square", "exp", "expm1", "sin", "cos", "arctan",
              "sinh", "cosh", "tanh", "arcsinh", "degrees", "radians", "relu", "sigmoid",
              "softsign", "erf", "cbrt", "round", "rint", "floor", "ceil", "trunc", "fix",
              "logical_not"], lambda: _away(2, 3)),
    "positive": (["log", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "gamma", "gammaln",
                  "rcbrt"], lambda: _u(0.5, 2.0, 2, 3)),
    "unit": (["arcsin", "arccos", "arctanh", "erfinv", "tan", "log1p"],
             lambda: _u(-0.8, 0.8, 2, 3)),
    "above_one": (["arccosh"], lambda: _u(1.2, 3.0, 2, 3)),
}
for _dom, (_ops, _gen) in _DOMAINS.items():
    for _op in _ops:
        case(_op, (lambda o: lambda: getattr(mx.sym, o)(V("a")))(_op), a=_gen())
case("identity", lambda: mx.sym.identity(V("a")), a=_away(2, 3))
case("hard_sigmoid", lambda: mx.sym.hard_sigmoid(V("a"), alpha=0.5, beta=0.3),
     a=np.array([[-2.1, -0.4, 0.2], [0.9, 1.7, 3.1]]))
case("gamma_negative", lambda: mx.sym.gamma(V("a")), a=np.array([[-2.5, -1.7, -0.5, -0.3]]))

# ---------------------------------------------------------------- binary and broadcast
_BIN = ["add", "sub", "mul", "div", "maximum", "minimum", "power", "hypot", "mod", "equal",
        "not_equal", "greater", "greater_equal", "lesser", "lesser_equal", "logical_and",
        "logical_or", "logical_xor"]
_SAME = {"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul",
         "div": "elemwise_div"}
for _op in _BIN:
    _l, _r = _distinct(2, 3) * 0.5 + 2.1, _distinct(2, 3)[::-1] * 0.5 + 2.0  # positive, no ties
    case("same_" + _op, (lambda o: lambda: getattr(mx.sym, _SAME.get(o, "_" + o))(
        V("lhs"), V("rhs")))(_op), lhs=_l, rhs=_r)
    case("broadcast_" + _op, (lambda o: lambda: getattr(mx.sym, "broadcast_" + o)(
        V("lhs"), V("rhs")))(_op), lhs=_l, rhs=_u(0.6, 1.4, 1, 3))

_SCALARS = [("_plus_scalar", 2), ("_minus_scalar", 0.5), ("_rminus_scalar", 3),
            ("_mul_scalar", -1.5), ("_div_scalar", 4), ("_rdiv_scalar", 2),
            ("_power_scalar", 3), ("_power_scalar", 0.5), ("_rpower_scalar", 2),
            ("_maximum_scalar", 1), ("_minimum_scalar", 1), ("_hypot_scalar", 1.5),
            ("_mod_scalar", 0.7), ("_rmod_scalar", 2.5), ("_equal_scalar", 1),
            ("_greater_scalar", 1), ("_logical_or_scalar", 0)]
for _op, _s in _SCALARS:
    case(f"{_op}_{_s}", (lambda o, s: lambda: getattr(mx.sym, o)(V("a"), scalar=s))(_op, _s),
         a=_distinct(2, 3) * 0.5 + 1.55)
case("clip", lambda: mx.sym.clip(V("a"), a_min=-0.45, a_max=0.7), a=_away(3, 3))

# ---------------------------------------------------------------- reductions
_RED = [("sum", {"axis": 1}), ("mean", {"axis": (0, 2), "keepdims": True}), ("prod", {}),
        ("prod", {"axis": 0, "exclude": True}), ("max", {"axis": 1}), ("min", {}),
        ("max", {"axis": (0, 2), "keepdims": True}), ("nansum", {"axis": 2}),
        ("nanprod", {"axis": 1}), ("norm", {}), ("norm", {"ord": 1, "axis": 1}),
        ("norm", {"axis": (0, 2), "keepdims": True})]
for _i, (_op, _kw) in enumerate(_RED):
    case(f"{_op}_{_i}", (lambda o, kw: lambda: getattr(mx.sym, o)(V("a"), **kw))(_op, _kw),
         a=_distinct(2, 3, 2) * 0.3 + 0.8 if _op != "norm" else _away(2, 3, 2))

case("moments", lambda: mx.sym.moments(V("a"), axes=(0, 2)), a=_away(2, 3, 2))
case("moments_keepdims", lambda: mx.sym.moments(V("a"), axes=(1,), keepdims=True),
     a=_away(2, 3, 2))

# ---------------------------------------------------------------- indexing and sorting
_IDX = {"index": np.array([[2, 0, 1], [1, 3, 0]], np.float64)}
case("pick", lambda: mx.sym.pick(V("data"), V("index"), axis=1), grad_nodes=["data"],
     data=_away(2, 4, 3), **_IDX)
case("take", lambda: mx.sym.take(V("a"), V("indices"), axis=1), grad_nodes=["a"],
     a=_away(2, 4), indices=np.array([[3, 0], [3, 1]], np.float64))
case("gather_nd", lambda: mx.sym.gather_nd(V("data"), V("indices")), grad_nodes=["data"],
     data=_away(3, 4), indices=np.array([[0, 2, 2], [1, 3, 3]], np.float64))
case("topk_value", lambda: mx.sym.topk(V("a"), k=2, ret_typ="value"), a=_distinct(3, 4))
case("topk_both", lambda: mx.sym.topk(V("a"), k=2, axis=0, ret_typ="both", is_ascend=True),
     a=_distinct(3, 4))
case("topk_mask", lambda: mx.sym.topk(V("a"), k=2, ret_typ="mask"), a=_distinct(3, 4))
case("sort", lambda: mx.sym.sort(V("a"), axis=0, is_ascend=False), a=_distinct(3, 4))
case("argsort", lambda: mx.sym.argsort(V("a")), a=_distinct(3, 4))
case("argmax", lambda: mx.sym.argmax(V("a"), axis=1), a=_distinct(3, 4))
case("one_hot", lambda: mx.sym.one_hot(V("a"), depth=3), a=np.array([0.5, 2.5, 1.5]))

# ---------------------------------------------------------------- matrix products
case("dot", lambda: mx.sym.dot(V("lhs"), V("rhs")), lhs=_away(2, 3), rhs=_away(3, 2))
case("dot_ta_tb", lambda: mx.sym.dot(V("lhs"), V("rhs"), transpose_a=True, transpose_b=True),
     lhs=_away(3, 2, 2), rhs=_away(2, 3))
case("batch_dot", lambda: mx.sym.batch_dot(V("lhs"), V("rhs"), transpose_b=True),
     lhs=_away(2, 2, 3), rhs=_away(2, 2, 3))
case("linalg_gemm2", lambda: mx.sym.linalg_gemm2(V("A"), V("B"), transpose_a=True, alpha=1.5),
     A=_away(3, 2), B=_away(3, 2))
case("linalg_gemm", lambda: mx.sym.linalg_gemm(V("A"), V("B"), V("C"), axis=-3, beta=0.5),
     A=_away(2, 2, 3), B=_away(3, 2, 2), C=_away(2, 2, 2))

_SPD = np.array([[4.0, 1.2, -0.6], [1.2, 3.0, 0.4], [-0.6, 0.4, 2.5]])
_L = np.array([[2.0, 0.0, 0.0], [0.7, 1.8, 0.0], [-0.4, 0.5, 2.2]])
_WELL = _L + _L.T * 0.3


def _symmetrized(fn):
    """``fn((A + A^T) / 2)``: a finite difference of one entry then stays a symmetric input
    (Cholesky reads one triangle of a matrix assumed symmetric)."""
    def build():
        a = V("A")
        return fn(0.5 * (a + mx.sym.transpose(a)))
    return build


case("linalg_potrf", _symmetrized(mx.sym.linalg_potrf), A=_SPD)
case("linalg_sumlogdiag", _symmetrized(mx.sym.linalg_sumlogdiag), A=_SPD)
case("linalg_potri", lambda: mx.sym.linalg_potri(V("A")), A=_L)
for _op in ("linalg_trmm", "linalg_trsm"):
    for _i, _kw in enumerate([{}, {"transpose": True, "alpha": 1.5},
                              {"rightside": True, "lower": False}]):
        case(f"{_op}_{_i}", (lambda o, kw: lambda: getattr(mx.sym, o)(V("A"), V("B"), **kw))(
            _op, _kw), A=_WELL, B=_away(3, 2) if not _kw.get("rightside") else _away(2, 3))
case("linalg_syrk", lambda: mx.sym.linalg_syrk(V("A"), transpose=True, alpha=0.5),
     A=_away(3, 2))
case("linalg_extractdiag", lambda: mx.sym.linalg_extractdiag(V("A"), offset=-1), A=_away(3, 3))
case("linalg_makediag", lambda: mx.sym.linalg_makediag(V("A"), offset=1), A=_away(2, 2))
case("linalg_extracttrian", lambda: mx.sym.linalg_extracttrian(V("A"), lower=False),
     A=_away(3, 3))
case("linalg_maketrian", lambda: mx.sym.linalg_maketrian(V("A"), offset=-1), A=_away(2, 3))
case("linalg_inverse", lambda: mx.sym.linalg_inverse(V("A")), A=_WELL)
case("linalg_det", lambda: mx.sym.linalg_det(V("A")), A=_WELL)
case("linalg_slogdet", lambda: mx.sym.linalg_slogdet(V("A")), A=-_WELL)
case("khatri_rao", lambda: mx.sym.khatri_rao(V("a"), V("b")), a=_away(2, 2), b=_away(3, 2))

# ---------------------------------------------------------------- shape ops
_SHAPE = [("Reshape", {"shape": (-4, 1, -1, -2)}), ("Reshape", {"shape": (-1, 0),
                                                                "reverse": True}),
          ("Flatten", {}), ("transpose", {"axes": (1, 2, 0)}), ("expand_dims", {"axis": 1}),
          ("swapaxes", {"dim1": 0, "dim2": 2}),
          ("slice", {"begin": (None, 2), "end": (None, 0), "step": (1, -1)}),
          ("slice_axis", {"axis": 1, "begin": 1, "end": None}),
          ("tile", {"reps": (2, 1)}), ("repeat", {"repeats": 2, "axis": 0}),
          ("reverse", {"axis": (0, 2)}), ("broadcast_to", {"shape": (2, 0, 0, 0)}),
          ("broadcast_axis", {"axis": 0, "size": 2}), ("diag", {"k": 1, "axis1": 2}),
          ("squeeze", {"axis": 0}), ("SequenceReverse", {}), ("SequenceLast", {})]
for _i, (_op, _kw) in enumerate(_SHAPE):
    _shape = (1, 3, 2) if _op in ("squeeze", "broadcast_axis") else (2, 3, 2)
    case(f"{_op}_{_i}", (lambda o, kw: lambda: getattr(mx.sym, o)(V("a"), **kw))(_op, _kw),
         a=_away(*_shape))
def _cast_like():
    a, b = V("a"), V("b")
    return mx.sym.Cast(a, dtype="float64") * (mx.sym.zeros_like(b) + mx.sym.ones_like(a) * b)


case("cast_like", _cast_like, a=_away(2, 3), b=_away(2, 3))
case("depth_to_space", lambda: mx.sym.depth_to_space(V("a"), block_size=2), a=_away(1, 8, 1, 2))
case("space_to_depth", lambda: mx.sym.space_to_depth(V("a"), block_size=2), a=_away(1, 2, 2, 4))
case("split", lambda: mx.sym.split(V("a"), num_outputs=3, axis=1, squeeze_axis=True),
     a=_away(2, 3, 2))
def _stack_concat():
    a, b = V("a"), V("b")
    return mx.sym.Group([mx.sym.stack(a, b, axis=1), mx.sym.Concat(a, b, dim=0)])


case("stack_concat", _stack_concat, a=_away(2, 2), b=_away(2, 2))
case("slice_like", lambda: mx.sym.slice_like(V("a"), V("b"), axes=(1,)), grad_nodes=["a"],
     a=_away(2, 3), b=_away(1, 2))
case("broadcast_like", lambda: mx.sym.broadcast_like(V("a"), V("b")), grad_nodes=["a"],
     a=_away(1, 3), b=_away(2, 3))
case("where", lambda: mx.sym.where(V("c"), V("x"), V("y")), grad_nodes=["x", "y"],
     c=np.array([[1.0, 0, 2], [0, 0, 1]]), x=_away(2, 3), y=_away(2, 3))
case("sequence_mask", lambda: mx.sym.SequenceMask(V("a"), V("n"), use_sequence_length=True,
                                                  axis=1, value=0.3),
     grad_nodes=["a"], a=_away(2, 3, 2), n=np.array([1.0, 3.0]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    build, location, grad_nodes = CASES[name]
    check_numeric_gradient(build(), location, grad_nodes=grad_nodes, numeric_eps=EPS,
                           rtol=RTOL, atol=ATOL)
