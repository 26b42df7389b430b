"""Symbol comparison operators build the graphs MXNet 1.9.1 builds (_greater,
_greater_scalar, ... with the same auto names) and compute the same 0/1 outputs (fixture
tests/compat/fixtures/symbol_compare/compare.json from tools/gen_symbol_compare_fixtures.py);
like MXNet's, a Symbol is unhashable and has no truth value."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError
from mxtorch.symbol.registry import list_ops

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "gen_compare", os.path.join(ROOT, "tools", "gen_symbol_compare_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
with open(os.path.join(ROOT, "tests", "compat", "fixtures", "symbol_compare",
                       "compare.json"), encoding="utf-8") as _f:
    FACTS = json.load(_f)


def _ops_of(text):
    return {n["op"] for n in json.loads(text)["nodes"] if n["op"] != "null"}


@pytest.mark.parametrize("name", sorted(gen.EXPRS))
def test_comparison_matches_mxnet(name):
    missing = sorted(_ops_of(FACTS[name]["json"]) - set(list_ops()))
    if missing:
        pytest.skip(f"operators {missing} are not registered yet (symbol/ops/elemwise.py)")
    sym = gen.build(mx, name)
    assert sym.tojson() == FACTS[name]["json"]
    np.testing.assert_array_equal(gen.run(mx, sym), np.array(FACTS[name]["output"]))


def test_symbols_are_unhashable_and_have_no_truth_value():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    with pytest.raises(TypeError):
        hash(a)
    with pytest.raises(MXNetNotImplementedError, match="bool"):
        bool(a == b)
    with pytest.raises(MXNetNotImplementedError):
        a in [b]  # noqa: B015 (membership asks each comparison for its truth value)


def test_comparison_with_a_non_number_names_the_type():
    with pytest.raises(TypeError, match="str"):
        mx.sym.var("a") > "x"  # noqa: B015
