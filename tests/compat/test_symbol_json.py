"""Symbol JSON compatibility with MXNet 1.9.1: our tojson() of whole nets is byte-identical
to MXNet's, and MXNet's JSON loads here with the same names, shapes, types and attributes
(fixtures from tools/gen_op_fixtures.py)."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "ops")
_spec = importlib.util.spec_from_file_location("gen_op", os.path.join(ROOT, "tools",
                                                                      "gen_op_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

NETS = sorted(gen.NETS)


def _read(name, suffix):
    with open(os.path.join(FIX, f"net_{name}-{suffix}"), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("name", NETS)
def test_tojson_is_byte_identical(name):
    assert gen.build(mx, name).tojson() == _read(name, "symbol.json")


@pytest.mark.parametrize("name", NETS)
def test_mxnet_json_loads_with_same_facts(name):
    sym = mx.sym.load_json(_read(name, "symbol.json"))
    facts = json.loads(_read(name, "facts.json"))
    got = json.loads(json.dumps(gen.net_facts(mx, name, sym)))
    for key, want in facts.items():
        assert got[key] == want, key


@pytest.mark.parametrize("name", NETS)
def test_load_then_save_round_trips(name, tmp_path):
    text = _read(name, "symbol.json")
    assert mx.sym.load_json(text).tojson() == text
    path = tmp_path / "net-symbol.json"
    path.write_text(text)
    assert mx.sym.load(str(path)).tojson() == text


def test_fixture_json_of_every_op_case_loads():
    for name in gen.CASES:
        ref = np.load(os.path.join(FIX, name + ".npz"))
        text = str(ref["json"])
        assert mx.sym.load_json(text).tojson() == text, name
