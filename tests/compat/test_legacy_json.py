"""Symbol JSON of other MXNet versions loads as MXNet 1.9.1 loads it: the upgraded graph
re-saves to MXNet's JSON byte for byte, with the same names, attributes, shapes and types;
documents MXNet refuses are refused with a clear error (fixtures from
tools/gen_legacy_json_fixtures.py)."""
import importlib.util
import json
import os

import pytest

import mxtorch as mx
from mxtorch.base import MXNetError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "legacy_json")
_spec = importlib.util.spec_from_file_location(
    "gen_legacy", os.path.join(ROOT, "tools", "gen_legacy_json_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

SAMPLES = sorted(f[:-5] for f in os.listdir(os.path.join(FIX, "samples")))
with open(os.path.join(FIX, "rejected.json"), encoding="utf-8") as _f:
    REJECTED = json.load(_f)
with open(os.path.join(FIX, "composed.json"), encoding="utf-8") as _f:
    COMPOSED = json.load(_f)
with open(os.path.join(FIX, "odd_accepted.json"), encoding="utf-8") as _f:
    ODD = json.load(_f)


def _read(name):
    with open(os.path.join(FIX, name), encoding="utf-8") as f:
        return f.read()


def _sample(name):
    return mx.sym.load(os.path.join(FIX, "samples", name + ".json"))


@pytest.mark.parametrize("name", SAMPLES)
def test_old_json_resaves_as_mxnet_does(name):
    assert _sample(name).tojson() == _read(name + "-mxnet.json")


@pytest.mark.parametrize("name", SAMPLES)
def test_old_json_has_mxnet_names_attributes_shapes_and_types(name):
    sym = _sample(name)
    facts = json.loads(_read(name + "-facts.json"))
    for key in ("list_arguments", "list_auxiliary_states", "list_outputs", "attr_dict"):
        assert getattr(sym, key)() == facts[key], key
    shapes = sym.infer_shape(**{k: tuple(v) for k, v in facts["shapes"].items()})
    assert [[list(s) for s in lst] for lst in shapes] == facts["infer_shape"]
    types = sym.infer_type(**facts["dtypes"])
    assert [[t.__name__ for t in lst] for lst in types] == facts["infer_type"]


@pytest.mark.parametrize("name", SAMPLES)
def test_upgraded_json_round_trips(name):
    text = _read(name + "-mxnet.json")
    assert mx.sym.load_json(text).tojson() == text


def test_old_batchnorm_binds_with_its_added_statistics():
    sym = _sample("save_000800")
    ex = sym.simple_bind(mx.cpu(), data=(4, 200), grad_req="null")
    assert sorted(ex.aux_dict) == ["batchnorm0_moving_mean", "batchnorm0_moving_var"]
    assert ex.forward(is_train=False)[0].shape == (4, 10)


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_documents_load_as_in_mxnet(name):
    """Per-op rules: ops without a parser keep unknown keys, ops without input names keep
    ``data_lr_mult``, legacy ops keep lr_mult-like keys of old files."""
    assert mx.sym.load_json(ODD[name]["json"]).tojson() == ODD[name]["mxnet"]


# what our message must name, per document MXNet refuses
_MESSAGE_NAMES = {
    "arg_node_not_variable": "arg_nodes", "missing_required_param": "num_hidden",
    "no_arg_nodes": "arg_nodes", "no_heads": "heads", "non_string_attr": "strings",
    "not_an_op": "did you mean 'FullyConnected'", "plain_lr_mult_on_op_191": "lr_mult",
    "unknown_graph_key": "metadata", "unknown_node_key": "foo", "unknown_param_08": "foo",
    "unknown_param_1x": "foo", "version_not_int": "mxnet_version",
    "no_input_names_refuses_input_lr_mult": "data_lr_mult",
    "legacy_op_refuses_lr_mult_like_key_191": "gamma_lr_mult",
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_documents_mxnet_refuses_are_refused(name):
    with pytest.raises(MXNetError, match=_MESSAGE_NAMES[name]) as info:
        mx.sym.load_json(REJECTED[name]["json"])
    assert isinstance(info.value, ValueError)


def test_every_refusal_case_has_a_message_check():
    assert sorted(_MESSAGE_NAMES) == sorted(REJECTED)


@pytest.mark.parametrize("name", ["bn_given_stats", "prelu_given_gamma", "bn_in_scope"])
def test_ops_set_attributes_on_the_variables_they_are_composed_with(name):
    with mx.name.NameManager():
        assert gen.COMPOSED[name](mx).attr_dict() == COMPOSED[name]


@pytest.mark.parametrize("name", ["attr_scope_on_op", "set_attr_on_op"])
def test_plain_attributes_on_op_nodes_are_refused_as_in_mxnet(name):
    assert "mxnet_error" in COMPOSED[name]
    with pytest.raises(ValueError, match="unknown attribute"):
        gen.REFUSED_BUILDS[name](mx)
