"""Record MXNet 1.9.1's Symbol comparison operators (==, !=, >, >=, <, <=).

Run with the oracle: .mxnet-ref/bin/python tools/gen_symbol_compare_fixtures.py
Writes tests/compat/fixtures/symbol_compare/compare.json: for each expression in EXPRS, the
symbol JSON MXNet builds (op names such as _greater / _greater_scalar, auto names, the
scalar attribute) and the forward output on the arrays A and B. The builders take the
library as an argument, so tests/symbol/test_symbol_compare.py reruns them with mxtorch.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "symbol_compare")

A = np.array([[1.0, 2.0, 3.0], [0.5, 2.0, 4.0]], dtype=np.float32)
B = np.array([[1.0, 0.0, 5.0], [0.5, 3.0, 1.0]], dtype=np.float32)

# name -> f(a, b) on two symbols; reflected forms (2 < a) check Python's operand swap
EXPRS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "eq_scalar": lambda a, b: a == 2,
    "ne_scalar": lambda a, b: a != 3,
    "gt_scalar": lambda a, b: a > 1.5,
    "ge_scalar": lambda a, b: a >= 2,
    "lt_scalar": lambda a, b: a < 2,
    "le_scalar": lambda a, b: a <= 0.5,
    "scalar_lt": lambda a, b: 2 < a,
    "scalar_eq": lambda a, b: 2 == a,
    "scalar_ge": lambda a, b: 1 >= a,
    "chain": lambda a, b: (a > b) + (a <= 2) * (b != 0),
}


def build(mx, name):
    """The expression's symbol, built under a fresh NameManager on variables a and b."""
    with mx.name.NameManager():
        return EXPRS[name](mx.sym.var("a"), mx.sym.var("b"))


def run(mx, sym):
    """Forward output of ``sym`` with a=A, b=B (only the inputs it uses)."""
    arrays = {"a": mx.nd.array(A), "b": mx.nd.array(B)}
    args = {n: arrays[n] for n in sym.list_arguments()}
    return sym.eval(ctx=mx.cpu(), **args)[0].asnumpy()


def main():
    import mxnet as mx
    facts = {}
    for name in EXPRS:
        sym = build(mx, name)
        facts[name] = {"json": sym.tojson(), "output": run(mx, sym).tolist()}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "compare.json"), "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
    print(f"wrote {len(facts)} comparisons to {OUT}")


if __name__ == "__main__":
    main()
