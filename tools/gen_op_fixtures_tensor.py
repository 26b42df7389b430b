"""Golden fixtures of the tensor ops (elementwise math, broadcasting, comparisons, scalar
forms, reductions, indexing and sorting, matrix products, shape ops) from MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_op_fixtures_tensor.py [case ...]
Writes tests/compat/fixtures/ops_tensor/<case>.npz: inputs, head gradients, outputs and
input gradients after one forward(is_train)+backward (tools/gen_op_fixtures.run), and the
symbol JSON; facts.json holds the names, shapes and dtypes MXNet infers for a few more
symbols. Most cases group several ops, each on its own input variable, so every
gradient belongs to one op. tests/compat/test_ops_tensor.py reruns the same builders
with mxtorch.
"""
import importlib.util
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "ops_tensor")
_spec = importlib.util.spec_from_file_location("gen_op", os.path.join(HERE, "gen_op_fixtures.py"))
gen_op = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_op)

CASES = {}


def case(name, shapes, build, values=None, no_grad=(), train=True):
    """Register ``build(mx) -> Symbol``. shapes: simple_bind input shapes. values: {input:
    spec}, spec one of ("u", lo, hi) uniform, ("i", lo, hi) integers in [lo, hi), or an
    array; other inputs are standard normal. no_grad: inputs bound with grad_req 'null'.
    train=False: forward only (ops MXNet cannot differentiate at all)."""
    CASES[name] = dict(build=build, shapes=shapes, values=values or {}, no_grad=no_grad,
                       train=train)


def op(mx, name):
    """``mx.sym.<name>``, or MXNet's ``mx.sym._internal.<name>`` for the underscore ops."""
    f = getattr(mx.sym, name, None)
    return f if f is not None else getattr(mx.sym._internal, name)


def V(mx, name):
    return mx.sym.Variable(name)


def _each(specs):
    """A builder grouping ``op(var, **kw)`` for each (opname, var names, kw) in specs."""
    def build(mx):
        return mx.sym.Group([op(mx, o)(*[V(mx, v) for v in vs], **kw) for o, vs, kw in specs])
    return build


def _unary(name, ops, shape, spec=None):
    case(name, {o: shape for o in ops}, _each([(o, [o], {}) for o in ops]),
         values={o: spec for o in ops} if spec is not None else None)


# ---------------------------------------------------------------- unary math
_unary("unary_real", ["negative", "abs", "sign", "square", "exp", "expm1", "sin", "cos",
                      "arctan", "sinh", "cosh", "tanh", "arcsinh", "degrees", "radians", "relu",
                      "sigmoid", "softsign", "erf", "cbrt"], (3, 4))
_unary("unary_positive", ["log", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "gamma",
                          "gammaln", "rcbrt"], (3, 4), ("u", 0.5, 2.0))
_unary("unary_unit", ["arcsin", "arccos", "arctanh", "erfinv", "tan", "log1p"], (3, 4),
       ("u", -0.9, 0.9))
_unary("unary_arccosh", ["arccosh"], (3, 4), ("u", 1.2, 3.0))
_HALVES = np.array([[-2.5, -1.5, -0.5, 0.5], [1.5, 2.5, 0.3, -0.7], [1.2, -1.8, 3.7, 0.0]],
                   np.float32)
_unary("unary_rounding", ["round", "rint", "floor", "ceil", "trunc", "fix", "sign",
                          "logical_not", "relu", "abs"], (3, 4), _HALVES)
_unary("unary_gamma_negative", ["gamma", "gammaln"], (2, 3),
       np.array([[-2.5, -1.7, -0.5], [-0.3, 0.5, 3.2]], np.float32))

case("unary_extra", {"a": (3, 4), "b": (3, 4), "c": (3, 4)},
     lambda mx: mx.sym.Group([mx.sym.identity(V(mx, "a")), mx.sym.hard_sigmoid(V(mx, "b")),
                              mx.sym.hard_sigmoid(V(mx, "c"), alpha=0.5, beta=0.25)]),
     values={"b": ("u", -4, 4), "c": ("u", -3, 3)})
# MXNet cannot differentiate argmax_channel at all (no FGradient): forward only
case("argmax_channel", {"d": (2, 3, 4)}, lambda mx: mx.sym.argmax_channel(V(mx, "d")),
     train=False)

# ---------------------------------------------------------------- binary, equal shapes
_TIES = ("i", 0, 3)  # small integers: many ties for maximum/minimum and comparisons
_CMP = ["equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal",
        "logical_and", "logical_or", "logical_xor"]


def _binary_case(name, prefix, ops, lshape, rshape, spec=None, rspec=None):
    specs = [(prefix + o, [o + "_l", o + "_r"], {}) for o in ops]
    shapes = {}
    for o in ops:
        shapes[o + "_l"], shapes[o + "_r"] = lshape, rshape
    values = {}
    if spec is not None:
        values = {v: (spec if v.endswith("_l") or rspec is None else rspec) for v in shapes}
    case(name, shapes, _each(specs), values=values)


_binary_case("elemwise_minmax_ties", "_", ["maximum", "minimum"], (3, 4), (3, 4), _TIES)
_binary_case("elemwise_compare", "_", _CMP, (3, 4), (3, 4), _TIES)
_binary_case("elemwise_power", "_", ["power"], (3, 4), (3, 4), ("u", 0.5, 2.0))
_binary_case("elemwise_hypot", "_", ["hypot"], (3, 4), (3, 4))
_MOD_L = np.array([[5, -5, 5, -5], [5.5, -7.25, 0.0, 3], [2.5, 9, -1, 0.75]], np.float32)
_MOD_R = np.array([[3, 3, -3, -3], [2, 1.5, 2, 0.7], [-4, 2.5, 0.3, -1.25]], np.float32)
_binary_case("elemwise_mod", "_", ["mod"], (3, 4), (3, 4), _MOD_L, _MOD_R)

# ---------------------------------------------------------------- broadcast_*
_binary_case("broadcast_arith", "broadcast_", ["add", "sub", "mul", "div", "plus", "minus"],
             (2, 3, 4), (1, 3, 1), ("u", 0.5, 1.5))
_binary_case("broadcast_minmax_ties", "broadcast_", ["maximum", "minimum"], (2, 3, 4),
             (2, 1, 4), _TIES)
_binary_case("broadcast_compare", "broadcast_", _CMP, (2, 3, 1), (1, 3, 4), _TIES)
_binary_case("broadcast_power_hypot", "broadcast_", ["power", "hypot"], (2, 1, 3), (2, 4, 1),
             ("u", 0.5, 2.0))
_binary_case("broadcast_mod", "broadcast_", ["mod"], (3, 4), (3, 1), _MOD_L,
             np.array([[3], [-2], [1.5]], np.float32))
_binary_case("broadcast_rank", "broadcast_", ["add", "mul"], (2, 3, 4), (3, 4))

# ---------------------------------------------------------------- scalar forms
_SCALARS = [("_plus_scalar", 2), ("_minus_scalar", 0.5), ("_rminus_scalar", 3),
            ("_mul_scalar", -1.5), ("_div_scalar", 4), ("_rdiv_scalar", 2),
            ("_power_scalar", 3), ("_power_scalar", 0.5), ("_rpower_scalar", 2),
            ("_maximum_scalar", 1), ("_minimum_scalar", 1), ("_hypot_scalar", 1.5),
            ("_mod_scalar", 1.5), ("_rmod_scalar", 2.5), ("_mod_scalar", -1.5)]
_SCALAR_CMP = [("_%s_scalar" % c, 1) for c in _CMP]


def _scalar_case(name, table, spec):
    names = [f"x{i}" for i in range(len(table))]
    case(name, {n: (3, 4) for n in names},
         _each([(o, [n], {"scalar": s}) for n, (o, s) in zip(names, table)]),
         values={n: spec for n in names})


_scalar_case("scalar_ops", _SCALARS, ("u", 0.5, 2.0))
_scalar_case("scalar_ops_ties", [("_maximum_scalar", 1), ("_minimum_scalar", 1)] + _SCALAR_CMP,
             _TIES)
case("clip", {"a": (3, 4), "b": (3, 4)},
     lambda mx: mx.sym.Group([mx.sym.clip(V(mx, "a"), a_min=-0.5, a_max=0.7),
                              mx.sym.clip(V(mx, "b"), 0, 1)]),
     values={"b": _TIES})


def _sym_compare(mx):
    """Symbol comparison operators (MXNet's Symbol.__gt__ etc.)."""
    a, b = V(mx, "a"), V(mx, "b")
    return mx.sym.Group([a > b, a >= b, a < b, a <= b, a == b, a != b, a > 1, a == 1,
                         a != 1, 1 < a, a <= 1, 2 >= a])


def _sym_pow_mod(mx):
    """Symbol **, % and abs() (MXNet's Symbol.__pow__, __mod__, __abs__ ...)."""
    a, b, c = V(mx, "a"), V(mx, "b"), V(mx, "c")
    return mx.sym.Group([c ** b, c ** 2, 2 ** c, c % b, c % 1.5, 2 % c, abs(a), -a])


def _sym_functions(mx):
    """mx.sym.maximum/minimum/pow/power/hypot on symbols and numbers."""
    a, b = V(mx, "a"), V(mx, "b")
    s = mx.sym
    return mx.sym.Group([s.maximum(a, b), s.maximum(a, 1), s.maximum(1, a), s.minimum(a, b),
                         s.minimum(1.5, a), s.pow(b, a), s.pow(b, 2), s.pow(2, b),
                         s.power(b, 0.5), s.hypot(a, b), s.hypot(a, 2), s.hypot(2, a),
                         a * s.maximum(2, 3) + s.hypot(3, 4)])


case("sym_functions", {"a": (3, 4), "b": (3, 4)}, _sym_functions,
     values={"a": _TIES, "b": ("u", 0.5, 2.0)})
case("sym_compare", {"a": (3, 4), "b": (3, 4)}, _sym_compare, values={"a": _TIES, "b": _TIES})
case("sym_pow_mod", {"a": (3, 4), "b": (3, 4), "c": (3, 4)}, _sym_pow_mod,
     values={"b": ("u", 0.5, 2.0), "c": ("u", 0.5, 2.0)})

# ---------------------------------------------------------------- reductions
_RED = [("sum", {"axis": 1}), ("mean", {"axis": (0, 2), "keepdims": True}),
        ("prod", {"axis": 2}), ("sum", {"axis": 0, "exclude": True}),
        ("mean", {}), ("prod", {"keepdims": True}), ("nansum", {"axis": -1}),
        ("nanprod", {"axis": (0, 1)}), ("sum_axis", {"axis": 1}), ("sum", {"axis": ()})]
case("reduce", {f"x{i}": (2, 3, 4) for i in range(len(_RED))},
     _each([(o, [f"x{i}"], kw) for i, (o, kw) in enumerate(_RED)]),
     values={f"x{i}": ("u", 0.5, 1.5) for i in range(len(_RED))})
_RED_TIES = [("max", {"axis": 1}), ("min", {"axis": (0, 2)}), ("max", {}),
             ("min", {"axis": 0, "keepdims": True}), ("max_axis", {"axis": 2}),
             ("min_axis", {"axis": 1, "exclude": True})]
case("reduce_extreme_ties", {f"x{i}": (2, 3, 4) for i in range(len(_RED_TIES))},
     _each([(o, [f"x{i}"], kw) for i, (o, kw) in enumerate(_RED_TIES)]),
     values={f"x{i}": _TIES for i in range(len(_RED_TIES))})
_NAN = np.array([[1.5, np.nan, -0.5, 2.0], [np.nan, np.nan, 0.7, 1.1], [0.3, -2.0, 1.2, 0.9]],
                np.float32)
case("reduce_nan", {"a": (3, 4), "b": (3, 4), "c": (3, 4)},
     lambda mx: mx.sym.Group([mx.sym.nansum(V(mx, "a"), axis=1),
                              mx.sym.nanprod(V(mx, "b"), axis=0),
                              mx.sym.nansum(V(mx, "c"))]),
     values={"a": _NAN, "b": _NAN, "c": _NAN})
_NORM = [{}, {"ord": 1}, {"axis": 1}, {"axis": (0, 2), "keepdims": True},
         {"ord": 1, "axis": -1, "keepdims": True}, {"keepdims": True}, {"axis": (1, 2)}]
case("norm", {f"x{i}": (2, 3, 4) for i in range(len(_NORM))},
     _each([("norm", [f"x{i}"], kw) for i, kw in enumerate(_NORM)]))

case("moments", {"a": (2, 3, 4), "b": (2, 3, 4), "c": (3, 4)},
     lambda mx: mx.sym.Group(list(mx.sym.moments(V(mx, "a"), axes=(1,))) +
                             list(mx.sym.moments(V(mx, "b"), axes=(0, 2), keepdims=True)) +
                             list(mx.sym.moments(V(mx, "c"), axes=(0, 1)))))

# ---------------------------------------------------------------- indexing
case("one_hot", {"a": (2, 3), "b": (4,)},
     lambda mx: mx.sym.Group([mx.sym.one_hot(V(mx, "a"), depth=4),
                              mx.sym.one_hot(V(mx, "b"), depth=3, on_value=2.5,
                                             off_value=-1)]),
     values={"a": np.array([[-1, 0, 2.7], [3, 1, 4]], np.float32),
             "b": np.array([2, 0, 1, 1], np.float32)})
case("pick", {"d0": (3, 4), "i0": (3,), "d1": (3, 4), "i1": (4,), "d2": (2, 3, 4),
              "i2": (2, 4), "d3": (3, 4), "i3": (3,)},
     lambda mx: mx.sym.Group([
         mx.sym.pick(V(mx, "d0"), V(mx, "i0")),
         mx.sym.pick(V(mx, "d1"), V(mx, "i1"), axis=0, keepdims=True),
         mx.sym.pick(V(mx, "d2"), V(mx, "i2"), axis=1, mode="wrap"),
         mx.sym.pick(V(mx, "d3"), V(mx, "i3"), axis=-1, keepdims=True, mode="wrap")]),
     values={"i0": np.array([-1, 5, 2.6], np.float32), "i1": np.array([0, 2, 2, 7], np.float32),
             "i2": np.array([[-1, 3, 4, 0], [2, 2, -4, 1]], np.float32),
             "i3": np.array([4, -1, 9], np.float32)})
_TAKE_IDX = np.array([[0, 2, 2], [-1, 5, 1.7]], np.float32)
case("take", {"a0": (4, 3), "i0": (2, 3), "a1": (4, 3), "i1": (2, 3), "a2": (2, 3, 4),
              "i2": (2, 3), "a3": (3, 4), "i3": (3,)},
     lambda mx: mx.sym.Group([
         mx.sym.take(V(mx, "a0"), V(mx, "i0")),
         mx.sym.take(V(mx, "a1"), V(mx, "i1"), mode="wrap"),
         mx.sym.take(V(mx, "a2"), V(mx, "i2"), axis=-1, mode="clip"),
         mx.sym.take(V(mx, "a3"), V(mx, "i3"), axis=1, mode="raise")]),
     values={"i0": _TAKE_IDX, "i1": _TAKE_IDX, "i2": _TAKE_IDX,
             "i3": np.array([3, 0, 3], np.float32)})
case("gather_nd", {"a": (3, 4, 2), "i": (2, 5), "b": (3, 4), "j": (2, 2, 2)},
     lambda mx: mx.sym.Group([mx.sym.gather_nd(V(mx, "a"), V(mx, "i")),
                              mx.sym.gather_nd(V(mx, "b"), V(mx, "j"))]),
     values={"i": np.array([[0, 2, 2, 1, 0], [3, 1, 1, 0, 3]], np.float32),
             "j": np.array([[[1, -1], [0, 1]], [[3, -4], [0, 2]]], np.float32)},
     no_grad=("b",))  # MXNet's backward drops the gradient of negative (wrapped) indices

# ---------------------------------------------------------------- sorting
_TOPK = [{"k": 2, "ret_typ": "value"}, {"k": 3}, {"k": 2, "ret_typ": "both", "is_ascend": True},
         {"k": 2, "ret_typ": "mask"}, {"k": 2, "axis": 0, "ret_typ": "value"},
         {"k": 0, "ret_typ": "value", "axis": 0}, {"k": 3, "ret_typ": "indices",
                                                   "dtype": "float64"}]
case("topk", {f"x{i}": (3, 5) for i in range(len(_TOPK))},
     _each([("topk", [f"x{i}"], kw) for i, kw in enumerate(_TOPK)]))
case("topk_ties", {"a": (2, 6), "b": (2, 6)},
     lambda mx: mx.sym.Group([mx.sym.topk(V(mx, "a"), k=3), mx.sym.topk(V(mx, "b"), k=3,
                                                                        is_ascend=True)]),
     values={"a": _TIES, "b": _TIES})
_SORT = [("sort", {"axis": -1}), ("sort", {"axis": 0, "is_ascend": False}), ("argsort", {}),
         ("argsort", {"axis": 0, "is_ascend": False}),
         ("argsort", {"dtype": "float64"})]
case("sort", {f"x{i}": (3, 4) for i in range(len(_SORT))},
     _each([(o, [f"x{i}"], kw) for i, (o, kw) in enumerate(_SORT)]))
case("sort_flat", {"a": (3, 4), "b": (2, 3), "c": (2, 3)},  # axis=None: the flattened array
     lambda mx: mx.sym.Group([mx.sym.argsort(V(mx, "a"), axis=None),
                              mx.sym.topk(V(mx, "b"), axis=None, k=3, ret_typ="indices"),
                              mx.sym.topk(V(mx, "c"), axis=None, k=2, ret_typ="mask")]))
case("argsort_ties", {"a": (2, 6), "b": (2, 6)},
     lambda mx: mx.sym.Group([mx.sym.argsort(V(mx, "a")),
                              mx.sym.argsort(V(mx, "b"), is_ascend=False)]),
     values={"a": _TIES, "b": _TIES})
_ARG = [("argmax", {"axis": 1}), ("argmin", {"axis": 0, "keepdims": True}), ("argmax", {}),
        ("argmin", {"axis": -1}), ("argmax", {"axis": 2, "keepdims": True})]
case("argmax_ties", {f"x{i}": (2, 3, 4) for i in range(len(_ARG))},
     _each([(o, [f"x{i}"], kw) for i, (o, kw) in enumerate(_ARG)]),
     values={f"x{i}": _TIES for i in range(len(_ARG))})

# ---------------------------------------------------------------- matrix products
_DOT = [((3, 4), (4, 5), {}), ((4, 3), (4, 5), {"transpose_a": True}),
        ((3, 4), (5, 4), {"transpose_b": True}),
        ((4, 3), (5, 4), {"transpose_a": True, "transpose_b": True}),
        ((2, 3, 4), (4, 5), {}), ((4, 2, 3), (4, 5), {"transpose_a": True}),
        ((2, 3), (5, 2, 3), {"transpose_b": True}), ((4,), (4,), {}), ((4,), (4, 3), {}),
        ((3, 4), (4, 2, 2), {})]


def _pairs_case(name, opname, table):
    shapes = {}
    for i, (ls, rs, _) in enumerate(table):
        shapes[f"l{i}"], shapes[f"r{i}"] = ls, rs
    case(name, shapes, _each([(opname, [f"l{i}", f"r{i}"], kw)
                              for i, (_, _, kw) in enumerate(table)]))


_pairs_case("dot", "dot", _DOT)
_pairs_case("batch_dot", "batch_dot",
            [((2, 3, 4), (2, 4, 5), {}), ((2, 4, 3), (2, 4, 5), {"transpose_a": True}),
             ((2, 3, 4), (2, 5, 4), {"transpose_b": True}),
             ((2, 2, 3, 4), (2, 2, 4, 3), {})])
_pairs_case("linalg_gemm2", "linalg_gemm2",
            [((3, 4), (4, 5), {}), ((4, 3), (4, 5), {"transpose_a": True, "alpha": 2.0}),
             ((2, 3, 4), (2, 5, 4), {"transpose_b": True, "alpha": -0.5}),
             ((2, 3, 2, 4), (2, 4, 2, 3), {"axis": -3})])
def _linalg_namespace(mx):
    a, b, c = V(mx, "a"), V(mx, "b"), V(mx, "c")
    return mx.sym.Group([mx.sym.linalg.gemm2(a, b, transpose_b=True, alpha=0.5),
                         mx.sym.linalg.gemm(a, b, c, transpose_b=True, beta=2.0)])


case("linalg_namespace", {"a": (3, 4), "b": (5, 4), "c": (3, 5)}, _linalg_namespace)
case("linalg_gemm", {"a": (2, 3, 4), "b": (2, 4, 5), "c": (2, 3, 5), "d": (3, 4),
                     "e": (5, 4), "f": (3, 5)},
     lambda mx: mx.sym.Group([
         mx.sym.linalg_gemm(V(mx, "a"), V(mx, "b"), V(mx, "c"), alpha=1.5, beta=0.5),
         mx.sym.linalg_gemm(V(mx, "d"), V(mx, "e"), V(mx, "f"), transpose_b=True)]))

_R = np.random.RandomState(11)


def _spd(*batch, n=3):
    m = _R.randn(*batch, n, n)
    return (m @ np.swapaxes(m, -1, -2) + n * np.eye(n)).astype(np.float32)


def _lower_factor(*batch, n=3):
    return (np.tril(_R.randn(*batch, n, n) * 0.5) + 2 * np.eye(n)).astype(np.float32)


def _well_conditioned(*batch, n=3):
    return (_R.randn(*batch, n, n) * 0.4 + 2 * np.eye(n)).astype(np.float32)


_LINALG = [("linalg_potrf", {}, (2, 3, 3), _spd(2)), ("linalg_potri", {}, (3, 3), _lower_factor()),
           ("linalg_syrk", {}, (2, 3, 4), None),
           ("linalg_syrk", {"transpose": True, "alpha": 0.5}, (3, 4), None),
           ("linalg_sumlogdiag", {}, (3, 3), _spd()),
           ("linalg_sumlogdiag", {}, (2, 3, 3), _spd(2)),
           ("linalg_extractdiag", {"offset": 1}, (2, 4, 4), None),
           ("linalg_makediag", {"offset": -1}, (2, 3), None),
           ("linalg_extracttrian", {}, (4, 4), None),
           ("linalg_extracttrian", {"offset": -1}, (2, 4, 4), None),
           ("linalg_extracttrian", {"lower": False}, (4, 4), None),
           ("linalg_extracttrian", {"offset": 2, "lower": True}, (4, 4), None),
           ("linalg_maketrian", {}, (2, 6), None), ("linalg_maketrian", {"offset": -1}, (6,), None),
           ("linalg_maketrian", {"lower": False}, (6,), None),
           ("linalg_maketrian", {"offset": 2}, (3,), None),
           ("linalg_inverse", {}, (2, 3, 3), _well_conditioned(2)),
           ("linalg_det", {}, (3, 3), _well_conditioned()),
           ("linalg_det", {}, (2, 3, 3), _well_conditioned(2))]
case("linalg_unary", {f"x{i}": s for i, (_, _, s, _) in enumerate(_LINALG)},
     _each([(o, [f"x{i}"], kw) for i, (o, kw, _, _) in enumerate(_LINALG)]),
     values={f"x{i}": v for i, (_, _, _, v) in enumerate(_LINALG) if v is not None})
case("linalg_slogdet", {"a": (2, 3, 3)}, lambda mx: mx.sym.linalg_slogdet(V(mx, "a")),
     values={"a": np.stack([_well_conditioned(), -_well_conditioned()])})
_TRI = [{}, {"transpose": True}, {"rightside": True, "alpha": 2.0}, {"lower": False},
        {"lower": False, "transpose": True, "rightside": True}]
_TRI_SPECS = [(o, [f"{o[7:]}a{i}", f"{o[7:]}b{i}"], kw) for o in ("linalg_trmm", "linalg_trsm")
              for i, kw in enumerate(_TRI)]
case("linalg_triangular",
     {v: ((2, 3, 3) if v[4] == "a" else (2, 3, 3) if "rightside" in kw else (2, 3, 4))
      for _, vs, kw in _TRI_SPECS for v in vs},
     _each(_TRI_SPECS),
     values={vs[0]: _well_conditioned(2) for _, vs, _ in _TRI_SPECS})
case("khatri_rao", {"a": (2, 3), "b": (4, 3), "c": (2, 3)},  # MXNet: no gradient at all
     lambda mx: mx.sym.khatri_rao(V(mx, "a"), V(mx, "b"), V(mx, "c")), train=False)

# ---------------------------------------------------------------- shape ops
_RESHAPE = [((2, 3, 4), {"shape": (0, 0, -1)}), ((2, 3, 4), {"shape": (-3, 0)}),
            ((2, 3, 4), {"shape": (0, -4, 3, -1, 0)}), ((2, 3, 4), {"shape": (-2,)}),
            ((2, 3, 4), {"shape": (-1, 0), "reverse": True}),
            ((2, 3, 4), {"shape": (0, -3), "reverse": True}),
            ((2, 3, 4), {"shape": (4, 0, -1), "reverse": True}),
            ((6, 4), {"shape": (-4, -1, 3, 0)})]
case("reshape", {f"x{i}": s for i, (s, _) in enumerate(_RESHAPE)},
     _each([("Reshape", [f"x{i}"], kw) for i, (_, kw) in enumerate(_RESHAPE)]))
_SHAPE_OPS = [
    ((2, 3, 4), "Flatten", {}), ((2, 3, 4), "transpose", {"axes": (2, 0, 1)}),
    ((2, 3), "expand_dims", {"axis": -1}), ((1, 3, 1), "squeeze", {}),
    ((2, 1, 3), "squeeze", {"axis": -2}), ((2, 3, 4), "swapaxes", {"dim1": 0, "dim2": -1}),
    ((4, 5, 3), "slice", {"begin": (1, None), "end": (None, -1), "step": (2, None)}),
    ((4, 5), "slice", {"begin": (None, -1), "end": (None, None), "step": (-1, -2)}),
    ((4, 5), "slice", {"begin": (-3,), "end": (-1,)}),
    ((3, 5, 2), "slice_axis", {"axis": -2, "begin": 2, "end": None}),
    ((2, 3), "tile", {"reps": (2, 1, 2)}), ((2, 3, 2), "tile", {"reps": (2,)}),
    ((2, 3), "repeat", {"repeats": 2}), ((2, 3), "repeat", {"repeats": 2, "axis": -1}),
    ((3, 4, 2), "reverse", {"axis": (0, 2)}), ((3, 4), "flip", {"axis": 1}),
    ((1, 3, 1), "broadcast_to", {"shape": (2, 0, 4)}),
    ((3, 1), "broadcast_axis", {"axis": 1, "size": 4}),
    ((3, 4), "zeros_like", {}), ((3, 4), "ones_like", {}),
    ((4,), "diag", {}), ((4,), "diag", {"k": -1}), ((3, 4), "diag", {"k": 1}),
    ((2, 3, 4), "diag", {"k": -1, "axis1": 2, "axis2": 0}),
]
case("shape_ops", {f"x{i}": s for i, (s, _, _) in enumerate(_SHAPE_OPS)},
     _each([(o, [f"x{i}"], kw) for i, (_, o, kw) in enumerate(_SHAPE_OPS)]))
def _multi_input_shape_ops(mx):
    a, b, c, d, e, f, g, h, k, m = [V(mx, n) for n in "abcdefghkm"]
    return mx.sym.Group([
        mx.sym.stack(a, b, axis=-1), mx.sym.Concat(a, c, dim=-1), mx.sym.concat(a, b, dim=0),
        mx.sym.slice_like(d, e), mx.sym.slice_like(f, g, axes=(0, -1)),
        mx.sym.broadcast_like(h, k), mx.sym.broadcast_like(c, m, lhs_axes=(1,), rhs_axes=(2,))])


case("multi_input_shape_ops",
     {"a": (2, 3), "b": (2, 3), "c": (2, 1), "d": (2, 3, 4), "e": (1, 2, 3), "f": (4, 5, 3),
      "g": (2, 3, 2), "h": (1, 3), "k": (2, 3), "m": (3, 2, 5)}, _multi_input_shape_ops)
case("depth_space", {"a": (2, 8, 2, 3), "b": (2, 3, 4, 6)},
     lambda mx: mx.sym.Group([mx.sym.depth_to_space(V(mx, "a"), block_size=2),
                              mx.sym.space_to_depth(V(mx, "b"), block_size=2)]))
case("shape_size_array", {"a": (2, 3, 4), "b": (3, 5)},
     lambda mx: mx.sym.Group([mx.sym.shape_array(V(mx, "a")), mx.sym.size_array(V(mx, "b"))]))


def _arange(mx):
    x = V(mx, "x")
    s = mx.sym
    return mx.sym.Group([s.arange(5), s.arange(2, 8, 2, repeat=2),
                         s.arange(0.1, 1.7, 0.3, dtype="float64"), s.arange(-3, 4, 2.5),
                         x * s.arange(start=1, infer_range=True)])


case("arange", {"x": (4,)}, _arange)
case("split", {"a": (2, 6, 3), "b": (3, 2, 4)},
     lambda mx: mx.sym.Group(
         list(mx.sym.split(V(mx, "a"), num_outputs=2, axis=1)) +
         list(mx.sym.SliceChannel(V(mx, "b"), num_outputs=4, axis=-1, squeeze_axis=True))))
_LENS = np.array([2, 4, 1], np.float32)
case("sequence_ops",
     {"a": (4, 3, 2), "la": (3,), "b": (3, 4, 2), "lb": (3,), "c": (4, 3), "lc": (3,),
      "d": (3, 4, 2), "ld": (3,)},
     lambda mx: mx.sym.Group([
         mx.sym.SequenceMask(V(mx, "a"), V(mx, "la"), use_sequence_length=True, value=0.5),
         mx.sym.SequenceMask(V(mx, "b"), V(mx, "lb"), use_sequence_length=True, axis=1),
         mx.sym.SequenceReverse(V(mx, "c"), V(mx, "lc"), use_sequence_length=True),
         mx.sym.SequenceLast(V(mx, "d"), V(mx, "ld"), use_sequence_length=True, axis=1)]),
     values={"la": _LENS, "lb": _LENS, "lc": _LENS, "ld": _LENS},
     no_grad=("la", "lb", "lc", "ld"))
case("where_cast", {"c": (3, 4), "x": (3, 4), "y": (3, 4), "r": (3,), "p": (3, 4),
                    "q": (3, 4), "z": (2, 3)},
     lambda mx: mx.sym.Group([mx.sym.where(V(mx, "c"), V(mx, "x"), V(mx, "y")),
                              mx.sym.where(V(mx, "r"), V(mx, "p"), V(mx, "q")),
                              mx.sym.Cast(V(mx, "z"), dtype="float16")]),
     values={"c": _TIES, "r": np.array([0, 1, 2], np.float32)})


# ---------------------------------------------------------------- inference facts
def _facts_pair(opname, **kw):
    return lambda mx: op(mx, opname)(V(mx, "a"), V(mx, "b"), **kw)


def _facts_one(opname, **kw):
    return lambda mx: op(mx, opname)(V(mx, "a"), **kw)


# name: (build, shapes given to infer_shape, types given to infer_type)
FACTS = {
    "pick_index_from_data": (_facts_pair("pick", axis=1), {"a": (2, 3, 4)},
                             {"a": "float32", "b": "float32"}),
    "pick_keepdims": (_facts_pair("pick", axis=0, keepdims=True), {"a": (2, 3)},
                      {"a": "float64", "b": "float64"}),
    "broadcast_rank": (_facts_pair("broadcast_add"), {"a": (2, 3, 4), "b": (3, 1)},
                       {"a": "float32"}),
    "broadcast_greater": (_facts_pair("broadcast_greater"), {"a": (2, 1), "b": (1, 3)},
                          {"a": "float64"}),
    "topk_both": (_facts_one("topk", ret_typ="both", k=2, dtype="float64"), {"a": (3, 4)},
                  {"a": "float32"}),
    "topk_value": (_facts_one("topk", ret_typ="value", k=2), {"a": (3, 4)}, {"a": "float64"}),
    "topk_mask": (_facts_one("topk", ret_typ="mask", k=2), {"a": (3, 4)}, {"a": "float64"}),
    "sort": (_facts_one("sort", axis=0), {"a": (3, 4)}, {"a": "float64"}),
    "argsort": (_facts_one("argsort", dtype="int32"), {"a": (3, 4)}, {"a": "float64"}),
    "argmax": (_facts_one("argmax", axis=1, keepdims=True), {"a": (3, 4)}, {"a": "float64"}),
    "argmin_flat": (_facts_one("argmin"), {"a": (3, 4)}, {"a": "float32"}),
    "one_hot": (lambda mx: mx.sym.one_hot(V(mx, "a"), depth=5, dtype="int32"), {"a": (2, 3)},
                {"a": "float32"}),
    "norm": (_facts_one("norm", axis=(0, 2)), {"a": (2, 3, 4)}, {"a": "float32"}),
    "dot_3d": (_facts_pair("dot", transpose_a=True), {"a": (4, 2, 3), "b": (4, 5)},
               {"a": "float32"}),
    "batch_dot": (_facts_pair("batch_dot", transpose_b=True), {"a": (2, 3, 4), "b": (2, 5, 4)},
                  {"a": "float64"}),
    "gemm2_axis": (_facts_pair("linalg_gemm2", axis=-3), {"a": (2, 3, 2, 4), "b": (2, 4, 2, 3)},
                   {"a": "float32"}),
    "take": (_facts_pair("take", axis=1), {"a": (3, 4, 2), "b": (2, 5)},
             {"a": "float32", "b": "float32"}),
    "gather_nd": (_facts_pair("gather_nd"), {"a": (3, 4, 2), "b": (2, 5)},
                  {"a": "float32", "b": "float32"}),
    "slice_like": (_facts_pair("slice_like", axes=(1,)), {"a": (3, 4), "b": (2, 2)},
                   {"a": "float32", "b": "float32"}),
    "compare_scalar": (lambda mx: op(mx, "_greater_scalar")(V(mx, "a"), scalar=1), {"a": (2, 3)},
                       {"a": "float64"}),
}


def facts(mx):
    """What MXNet reports for each FACTS symbol: names, inferred shapes and dtypes."""
    out = {}
    for name, (fn, shapes, types) in FACTS.items():
        with mx.name.NameManager():
            sym = fn(mx)
        arg, outs, _ = sym.infer_shape(**shapes)
        targ, tout, _ = sym.infer_type(**types)
        out[name] = {"arguments": sym.list_arguments(), "outputs": sym.list_outputs(),
                     "internals": sym.get_internals().list_outputs(),
                     "arg_shapes": [list(x) for x in arg], "out_shapes": [list(x) for x in outs],
                     "arg_types": None if targ is None else [np.dtype(t).name for t in targ],
                     "out_types": None if tout is None else [np.dtype(t).name for t in tout]}
    return out


# ---------------------------------------------------------------- running
def build(mx, name):
    """The case's symbol, built under a fresh NameManager."""
    with mx.name.NameManager():
        return CASES[name]["build"](mx)


def _seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 2**31


def make_inputs(name, sym):
    """Seeded numpy inputs and head gradients of a case."""
    cfg = CASES[name]
    rng = np.random.RandomState(_seed(name))
    arg_shapes, out_shapes, _ = sym.infer_shape(**cfg["shapes"])
    inputs = {}
    for n, s in zip(sym.list_arguments(), arg_shapes):
        spec = cfg["values"].get(n)
        if isinstance(spec, np.ndarray):
            v = spec
        elif spec is None:
            v = rng.randn(*s)
        elif spec[0] == "u":
            v = rng.uniform(spec[1], spec[2], s)
        else:
            v = rng.randint(spec[1], spec[2], s)
        inputs[n] = np.asarray(v, np.float32).reshape(s)
    ograds = [rng.randn(*s).astype(np.float32) for s in out_shapes]
    return inputs, ograds


def run(mx, name, sym, inputs, ograds):
    cfg = CASES[name]
    return gen_op.run(mx, sym, cfg["shapes"], inputs, {}, ograds, cfg["train"], cfg["no_grad"])


def generate(mx, name):
    sym = build(mx, name)
    inputs, ograds = make_inputs(name, sym)
    res = run(mx, name, sym, inputs, ograds)
    res.update({"in:" + n: v for n, v in inputs.items()})
    res.update({"ograd:%d" % i: g for i, g in enumerate(ograds)})
    res["json"] = np.array(sym.tojson())
    return res


def main(argv):
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    names = argv or list(CASES) + ["facts"]
    for name in names:
        if name == "facts":
            with open(os.path.join(OUT, "facts.json"), "w") as f:
                json.dump(facts(mx), f, indent=1, sort_keys=True)
            continue
        np.savez_compressed(os.path.join(OUT, name + ".npz"), **generate(mx, name))
    print(f"wrote {len(names)} fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
