"""The tensor ops (elementwise math, broadcasting, comparisons, scalar forms, reductions,
indexing, sorting, matrix products, shape ops) give MXNet 1.9.1's outputs (values, shapes
and dtypes) and input gradients after one forward(is_train)+backward step, built from
Python calls and from MXNet's JSON, with the same JSON (fixtures from
tools/gen_op_fixtures_tensor.py, run under the real MXNet)."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetError, MXNetValueError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "ops_tensor")
_spec = importlib.util.spec_from_file_location(
    "gen_op_tensor", os.path.join(ROOT, "tools", "gen_op_fixtures_tensor.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

CASES = sorted(gen.CASES)
RTOL, ATOL = 1e-5, 1e-6  # fp32; every case passes at this tolerance


def _facts():
    with open(os.path.join(FIX, "facts.json")) as f:
        return json.load(f)


FACTS = _facts()


def _build(name):
    """The case's symbol built with mxtorch (the same builder MXNet ran)."""
    return gen.build(mx, name)


def _check(opcase, name, sym):
    ref, inputs, _, ograds = opcase.load(FIX, name)
    opcase.compare(name, ref, gen.run(mx, name, sym, inputs, ograds), RTOL, ATOL,
                   keys=("out", "grad"))


@pytest.mark.parametrize("name", CASES)
def test_values_match_mxnet(opcase, name):
    _check(opcase, name, _build(name))


@pytest.mark.parametrize("name", CASES)
def test_loaded_mxnet_json_runs_the_same(opcase, name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    _check(opcase, name, mx.sym.load_json(str(ref["json"])))


@pytest.mark.parametrize("name", CASES)
def test_json_matches_mxnet(name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    assert _build(name).tojson() == str(ref["json"])


def test_all_fixtures_have_a_case():
    assert {f[:-4] for f in os.listdir(FIX) if f.endswith(".npz")} == set(CASES)
    assert set(FACTS) == set(gen.FACTS)


# ---------------------------------------------------------------- errors
def _forward(sym, **arrays):
    ex = sym.simple_bind(mx.cpu(), grad_req="null", **{k: v.shape for k, v in arrays.items()})
    for k, v in arrays.items():
        ex.arg_dict[k][:] = v
    return ex.forward()[0].asnumpy()


def test_take_raise_mode_names_the_bad_indices():
    sym = mx.sym.take(mx.sym.Variable("a"), mx.sym.Variable("i"), mode="raise")
    with pytest.raises(MXNetValueError, match=r"out of bounds.*mode='clip'"):
        _forward(sym, a=np.ones((3, 2), np.float32), i=np.array([0, 3], np.float32))


def test_topk_k_larger_than_axis():
    sym = mx.sym.topk(mx.sym.Variable("a"), k=5)
    with pytest.raises(MXNetValueError, match="k=5 is larger than the 4 elements"):
        _forward(sym, a=np.ones((2, 4), np.float32))


def test_bad_parameter_values_are_rejected_with_the_choices():
    with pytest.raises(MXNetValueError, match="ret_typ"):
        mx.sym.topk(mx.sym.Variable("a"), ret_typ="values")
    with pytest.raises(MXNetValueError, match="'ord'"):
        mx.sym.norm(mx.sym.Variable("a"), ord=3)
    with pytest.raises(MXNetValueError, match="mode"):
        mx.sym.pick(mx.sym.Variable("a"), mx.sym.Variable("i"), mode="raise")


def test_dot_shape_mismatch_names_both_shapes():
    sym = mx.sym.dot(mx.sym.Variable("a"), mx.sym.Variable("b"), transpose_b=True)
    with pytest.raises(Exception, match=r"\(3, 4\) and \(4, 5\)"):
        sym.infer_shape(a=(3, 4), b=(4, 5))




@pytest.mark.parametrize("name", sorted(gen.FACTS))
def test_inferred_names_shapes_and_types_match_mxnet(name):
    fn, shapes, types = gen.FACTS[name]
    with mx.name.NameManager():
        sym = fn(mx)
    arg, out, _ = sym.infer_shape(**shapes)
    targ, tout, _ = sym.infer_type(**types)
    got = {"arguments": sym.list_arguments(), "outputs": sym.list_outputs(),
           "internals": sym.get_internals().list_outputs(),
           "arg_shapes": [list(x) for x in arg], "out_shapes": [list(x) for x in out],
           "arg_types": [np.dtype(t).name for t in targ],
           "out_types": [np.dtype(t).name for t in tout]}
    assert got == FACTS[name]


def test_pick_without_axis_is_refused_as_in_mxnet():
    """MXNet 1.9.1: 'axis=None is not supported by pick yet' (written 'None' in its JSON)."""
    sym = mx.sym.pick(mx.sym.Variable("a"), mx.sym.Variable("i"))
    graph = json.loads(sym.tojson())
    graph["nodes"][-1]["attrs"] = {"axis": "None"}
    with pytest.raises(MXNetError, match="axis=None is not supported"):
        mx.sym.load_json(json.dumps(graph)).infer_shape(a=(3, 4))
