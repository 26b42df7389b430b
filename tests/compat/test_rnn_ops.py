"""The array ops, the fused RNN op and networks unrolled from mx.rnn cells give MXNet
1.9.1's outputs and gradients after one forward(is_train)+backward step, and the same
symbol JSON, arguments and outputs (fixtures from tools/gen_rnn_fixtures.py)."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx
import mxtorch.rnn  # noqa: F401  (mx.rnn, until the package exports it)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "rnn")
_spec = importlib.util.spec_from_file_location("gen_rnn", os.path.join(ROOT, "tools",
                                                                       "gen_rnn_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

CASES = sorted(gen.CASES)
RTOL, ATOL = 1e-4, 1e-5  # fp32; recurrences over a few steps


def _check(opcase, name, sym):
    cfg = gen.CASES[name]
    ref, ins, _, ograds = opcase.load(FIX, name)
    res = gen.run(mx, sym, cfg["shapes"], ins, ograds, cfg["no_grad"], cfg["forward_only"])
    opcase.compare(name, ref, res, RTOL, ATOL, keys=("out", "grad"))


@pytest.mark.parametrize("name", CASES)
def test_values_match_mxnet(opcase, name):
    _check(opcase, name, gen.build(mx, name))


@pytest.mark.parametrize("name", CASES)
def test_loaded_mxnet_json_runs_the_same(opcase, name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    _check(opcase, name, mx.sym.load_json(str(ref["json"])))


@pytest.mark.parametrize("name", CASES)
def test_names_and_json_match_mxnet(name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    sym = gen.build(mx, name)
    assert sym.list_arguments() == json.loads(str(ref["arguments"]))
    assert sym.list_outputs() == json.loads(str(ref["outputs"]))
    assert sym.tojson() == str(ref["json"])


def test_every_fixture_has_a_case():
    names = {f[:-4] for f in os.listdir(FIX) if f.endswith(".npz")}
    assert names == set(CASES)
