"""Symbol API facts (auto names, attributes, AttrScope, Group, indexing, internals, shape and
type inference) equal what MXNet 1.9.1 reports for the same calls (fixture
symbol_api.json from tools/gen_op_fixtures.py); and misuse raises clear errors."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("gen_op", os.path.join(ROOT, "tools",
                                                                      "gen_op_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
with open(os.path.join(ROOT, "tests", "compat", "fixtures", "ops", "symbol_api.json")) as _f:
    FACTS = json.load(_f)


@pytest.mark.parametrize("scenario", sorted(gen.API))
def test_symbol_api_matches_mxnet(scenario):
    got = json.loads(json.dumps(gen.API[scenario](mx)))
    want = FACTS[scenario]
    assert sorted(got) == sorted(want)
    for key in want:
        assert got[key] == want[key], f"{scenario}: {key}"


def test_symbols_pickle_and_deepcopy():
    import copy
    import pickle
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    assert copy.deepcopy(net).tojson() == net.tojson()
    assert pickle.loads(pickle.dumps(net)).tojson() == net.tojson()


# ---------------------------------------------------------------- misuse
def test_unknown_op_parameter_is_a_type_error():
    with pytest.raises(TypeError, match="num_hiden"):
        mx.sym.FullyConnected(mx.sym.Variable("data"), num_hiden=3)


def test_missing_required_parameter_names_it():
    with pytest.raises(ValueError, match="num_hidden"):
        mx.sym.FullyConnected(mx.sym.Variable("data"))


def test_bad_parameter_value_names_it():
    with pytest.raises(ValueError, match="act_type"):
        mx.sym.Activation(mx.sym.Variable("data"), act_type="swishy")


def test_non_symbol_input_is_a_type_error():
    with pytest.raises(TypeError, match="data"):
        mx.sym.FullyConnected([1, 2], num_hidden=3)


def test_arithmetic_with_a_string_is_a_type_error():
    with pytest.raises(TypeError):
        mx.sym.Variable("a") + "b"


def test_variable_name_must_be_a_string():
    with pytest.raises(TypeError):
        mx.sym.Variable(3)


def test_variable_rejects_plain_extra_attributes():
    with pytest.raises(ValueError, match="double underscores"):
        mx.sym.Variable("a", foo="x")


def test_attr_scope_values_must_be_strings():
    with pytest.raises(ValueError):
        mx.AttrScope(ctx_group=1)


def test_output_index_out_of_range_and_unknown_name():
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    with pytest.raises(IndexError):
        net[1]
    with pytest.raises(ValueError, match="fc_output"):
        net["nope"]


def test_infer_shape_with_unknown_input_name():
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    with pytest.raises(KeyError, match="dta"):
        net.infer_shape(dta=(2, 3))


def test_infer_shape_inconsistent_shapes_raise():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    with pytest.raises(MXNetError, match="inconsistent|broadcast|shape"):
        (a + b).infer_shape(a=(2, 3), b=(3, 2))


def test_load_json_rejects_garbage():
    with pytest.raises(ValueError):
        mx.sym.load_json("not json")
    with pytest.raises(ValueError):
        mx.sym.load_json('{"nodes": [{"name": "x"}], "heads": [[0, 0, 0]]}')


def test_load_json_unknown_op_names_it():
    doc = {"nodes": [{"op": "null", "name": "x", "inputs": []},
                     {"op": "NoSuchOp", "name": "y", "inputs": [[0, 0, 0]]}],
           "arg_nodes": [0], "heads": [[1, 0, 0]]}
    with pytest.raises(KeyError, match="NoSuchOp"):
        mx.sym.load_json(json.dumps(doc))


# MXNet 1.9.1's answers (checked with the oracle, .mxnet-ref): elementwise, broadcast and
# concatenating ops refuse operands of different dtypes (ElemwiseType: "Incompatible attr
# in node _plus0 at 1-th input: expected float64, got float32"); where's output takes x's
# dtype whatever the condition's.
@pytest.mark.parametrize("make, types", [
    (lambda a, b: a + b, ("float32", "float64")),
    (lambda a, b: a * b, ("float32", "int32")),
    (lambda a, b: mx.sym.broadcast_add(a, b), ("float32", "float64")),
    (lambda a, b: mx.sym.concat(a, b), ("float32", "float64")),
    (lambda a, b: mx.sym.stack(a, b), ("float16", "float32")),
    (lambda a, b: mx.sym.add_n(a, b), ("float32", "float64")),
])
def test_mixed_dtypes_in_elementwise_ops_are_refused(make, types):
    a, b = mx.sym.var("a"), mx.sym.var("b")
    sym = make(a, b)
    with pytest.raises(mx.base.MXNetTypeError, match=r"different dtypes .*mx\.sym\.Cast"):
        sym.infer_type(a=types[0], b=types[1])
    with pytest.raises(mx.base.MXNetTypeError, match="type inference failed at node"):
        sym.simple_bind(mx.cpu(), a=(2, 3), b=(2, 3), type_dict=dict(zip("ab", types)))
    arg, out, _ = sym.infer_type(a=types[0])       # one known: the other takes it
    assert [t.__name__ for t in arg + out] == [types[0]] * 3


def test_where_output_takes_the_dtype_of_its_values():
    cond, x, y = mx.sym.var("c"), mx.sym.var("x"), mx.sym.var("y")
    arg, out, _ = mx.sym.where(cond, x, y).infer_type(c="int32", x="float32")
    assert [t.__name__ for t in arg] == ["int32", "float32", "float32"]
    assert out[0].__name__ == "float32"


def _types(sym, **given):
    arg, out, aux = sym.infer_type(**given)
    return [t.__name__ for t in arg], [t.__name__ for t in out], [t.__name__ for t in aux]


def test_layer_type_rules_are_mxnets():
    """FullyConnected/Convolution take one dtype; BatchNorm keeps its parameters and
    statistics in float32 under float16 data and refuses others; Embedding's output takes
    its weight's dtype (all as MXNet 1.9.1 infers them)."""
    d = mx.sym.var("data")
    with pytest.raises(mx.base.MXNetTypeError, match="node 'fc'.*different dtypes"):
        mx.sym.FullyConnected(d, num_hidden=2, name="fc").infer_type(data="float16",
                                                                     fc_weight="float32")
    with pytest.raises(mx.base.MXNetTypeError, match="node 'c'.*different dtypes"):
        mx.sym.Convolution(d, kernel=(3, 3), num_filter=2, name="c").infer_type(
            data="float16", c_weight="float32")
    bn = mx.sym.BatchNorm(d, name="bn")
    assert _types(bn, data="float16") == (["float16", "float32", "float32"], ["float16"],
                                          ["float32", "float32"])
    assert _types(bn, data="float64") == (["float64"] * 3, ["float64"], ["float64"] * 2)
    with pytest.raises(mx.base.MXNetTypeError, match=r"in float32, got \['float16'\]"):
        bn.infer_type(data="float16", bn_gamma="float16")
    emb = lambda **kw: mx.sym.Embedding(d, input_dim=3, output_dim=2, name="e", **kw)  # noqa
    assert _types(emb(), data="int32") == (["int32", "float32"], ["float32"], [])
    assert _types(emb(), data="float32", e_weight="float64") == (["float32", "float64"],
                                                                 ["float64"], [])
    assert _types(emb(dtype="float16"), data="float32") == (["float32", "float16"],
                                                            ["float16"], [])


@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_on_float16_data_trains_float32_statistics(train):
    """float16 data, float32 gamma/beta/statistics (MXNet's layout): float16 output, the
    statistics computed in float32 and moved in backward."""
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=False, name="bn")
    ex = sym.simple_bind(mx.cpu(), data=(8, 3, 2, 2), type_dict={"data": "float16"})
    x = np.random.RandomState(0).rand(8, 3, 2, 2) * 4
    ex.arg_dict["data"][:] = x
    out = ex.forward(is_train=train)[0]
    assert out.dtype == np.float16
    if train:
        ex.backward(mx.nd.ones((8, 3, 2, 2), dtype="float16"))
        assert ex.grad_dict["bn_gamma"].dtype == np.float32
        mean = x.astype("float16").astype("float64").mean(axis=(0, 2, 3))
        np.testing.assert_allclose(ex.aux_dict["bn_moving_mean"].asnumpy(), 0.1 * mean,
                                   rtol=1e-4)
