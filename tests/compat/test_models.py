"""mxtorch.models against MXNet 1.9.1 (fixtures from tools/gen_model_fixtures.py): the graph
our builders make is MXNet's byte for byte, MXNet's JSON loads here, and with the same
parameters (seeded, or initialised by MXNet and saved to .params) the logits and softmax
outputs agree to 1e-4 relative, in inference and in training mode (batch statistics)."""
import gzip
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "models")
_spec = importlib.util.spec_from_file_location("gen_model", os.path.join(ROOT, "tools",
                                                                         "gen_model_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

ALL = sorted(gen.CASES)
NUMERIC = sorted(n for n, c in gen.CASES.items() if c["numeric"])
CHECKPOINT = sorted(n for n, c in gen.CASES.items() if c["checkpoint"])


def _mxnet_json(name):
    with gzip.open(os.path.join(FIX, name + "-symbol.json.gz"), "rt", encoding="utf-8") as f:
        return f.read()


def _build(name):
    """Our builder's symbol; a case needing an op mxtorch lacks is skipped, naming it."""
    try:
        return gen.build(mx, name)
    except MXNetNotImplementedError as e:
        pytest.skip(str(e))


def _first_difference(ours, theirs):
    """A readable account of where two symbol JSON texts part."""
    import json
    a, b = json.loads(ours), json.loads(theirs)
    for i, (x, y) in enumerate(zip(a["nodes"], b["nodes"])):
        if x != y:
            return f"node {i}: ours {x} vs MXNet {y}"
    for key in ("arg_nodes", "node_row_ptr", "heads", "attrs"):
        if a[key] != b[key]:
            return f"{key}: ours {a[key]} vs MXNet {b[key]}"
    return f"{len(a['nodes'])} nodes vs {len(b['nodes'])}, or formatting"


@pytest.mark.parametrize("name", ALL)
def test_builder_json_is_mxnets(name):
    ours, theirs = _build(name).tojson(), _mxnet_json(name)
    assert ours == theirs, _first_difference(ours, theirs)


@pytest.mark.parametrize("name", ALL)
def test_mxnet_json_loads_and_round_trips(name):
    text = _mxnet_json(name)
    try:
        sym = mx.sym.load_json(text)
    except MXNetNotImplementedError as e:
        pytest.skip(str(e))
    assert sym.tojson() == text
    assert sym.list_outputs() == ["softmax_output"]


def _close(got, want, what):
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale + 1e-7, err_msg=what)


@pytest.mark.parametrize("name", NUMERIC)
def test_outputs_match_mxnet(name):
    sym = _build(name)
    ref = np.load(os.path.join(FIX, name + ".npz"))
    np.testing.assert_array_equal(ref["data"], gen.batch(name))
    if gen.CASES[name]["checkpoint"]:
        _, arg, aux = mx.model.load_checkpoint(os.path.join(FIX, name), 0)
    else:
        arg, aux = gen.params_of(mx, sym, name)
    got = gen.forward(mx, sym, name, arg, aux)
    assert sorted(got) == sorted(k for k in ref.files if k != "data")
    for key, value in got.items():
        _close(value, ref[key], f"{name} {key}")


@pytest.mark.parametrize("name", CHECKPOINT)
def test_mxnet_checkpoint_predicts_the_same(name):
    """Module.load of MXNet's save_checkpoint files, bound for inference, gives MXNet's
    softmax; the checkpoint's parameter names are exactly those our builder declares."""
    sym = _build(name)
    prefix = os.path.join(FIX, name)
    ref = np.load(prefix + ".npz")
    shapes = gen.input_shapes(sym, name)
    mod = mx.mod.Module.load(prefix, 0, context=mx.cpu())
    mod.bind(data_shapes=[("data", shapes["data"])],
             label_shapes=[("softmax_label", shapes["softmax_label"])], for_training=False)
    arg, aux = mod.get_params()
    assert sorted(arg) == sorted(n for n in sym.list_arguments() if n not in shapes)
    assert sorted(aux) == sorted(sym.list_auxiliary_states())
    mod.forward(mx.io.DataBatch([mx.nd.array(ref["data"])]), is_train=False)
    _close(mod.get_outputs()[0].asnumpy(), ref["infer_out"], name)
