"""Record how real MXNet 1.9.1 loads symbol JSON written by older (and newer) MXNet versions.

Run with the oracle: .mxnet-ref/bin/python tools/gen_legacy_json_fixtures.py
Inputs: tests/compat/fixtures/legacy_json/samples/<name>.json, files in the layouts of past
MXNet releases (the version is the suffix: save_000800 is MXNet 0.8.0, aliases_010300 is
1.3.0). save_000800.json is MXNet's own test file (tests/python/unittest/save_000800.json,
Apache-2.0); mnist_mlp_000905.json is what MXNet 0.9.5 saved for train_mnist.py's MLP; the
others were written by hand in the layout of their version ("param"/"attr"/"attrs" keys,
two- or three-element entries, with or without node_row_ptr and mxnet_version).

Outputs, next to the samples' folder:
- <name>-mxnet.json: MXNet 1.9.1's ``tojson()`` after ``mx.sym.load`` (the upgraded graph);
- <name>-facts.json: list_arguments / list_auxiliary_states / list_outputs, attr_dict,
  infer_shape and infer_type for the input shapes and types given in SAMPLES;
- rejected.json: documents MXNet 1.9.1 refuses to load, with the line of its error;
- odd_accepted.json: odd documents it loads, and its re-saved JSON (per-op rules);
- composed.json: attr_dict of symbols built in Python (COMPOSED: the attributes an op gives
  its input variables) and the errors of builds MXNet refuses (REFUSED_BUILDS).
The builders take the library as an argument; tests/compat/test_legacy_json.py checks that
mxtorch gives the same.
"""
import json
import os
import re

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "compat", "fixtures", "legacy_json")

# sample -> (input shapes for infer_shape, input dtypes for infer_type)
SAMPLES = {
    "save_000800": ({"data": (4, 200)}, {"data": "float32"}),
    "mnist_mlp_000905": ({"data": (2, 1, 28, 28)}, {"data": "float32"}),
    "inception_bn_000903": ({"data": (2, 3, 56, 56)}, {"data": "float32"}),
    "resnet_unit_001000": ({"data": (2, 3, 7, 7)}, {"data": "float32"}),
    "aliases_010300": ({"data": (5, 6)}, {"data": "float32"}),
    "prelu_embed_000800": ({"data": (3, 4)}, {"data": "float32"}),
    "argmax_000904": ({"data": (3, 4)}, {"data": "float32"}),
    "future_020000": ({}, {"data": "float32"}),
}


def _doc(nodes, heads, version=None, **extra):
    doc = {"nodes": nodes, "arg_nodes": [i for i, n in enumerate(nodes) if n["op"] == "null"],
           "heads": heads}
    if version is not None:
        doc["attrs"] = {"mxnet_version": ["int", version]}
    doc.update(extra)
    return json.dumps(doc)


def _relu_doc(version=None, node_extra=None, attrs_key="attrs", attrs=None, **extra):
    relu = {"op": "Activation", "name": "act", "inputs": [[0, 0, 0]],
            attrs_key: dict({"act_type": "relu"}, **(attrs or {}))}
    relu.update(node_extra or {})
    return _doc([{"op": "null", "name": "x", "inputs": []}, relu], [[1, 0, 0]], version, **extra)


# documents MXNet 1.9.1 refuses: mxtorch must refuse them too (with a clear message)
REJECTED = {
    "unknown_param_1x": _relu_doc(10901, attrs={"foo": "1"}),
    "unknown_param_08": _relu_doc(None, attrs_key="param", attrs={"foo": "1"}),
    "plain_lr_mult_on_op_191": _relu_doc(10901, attrs={"lr_mult": "1"}),
    "unknown_graph_key": _relu_doc(10901, metadata={}),
    "unknown_node_key": _relu_doc(10901, node_extra={"foo": 1}),
    "non_string_attr": _relu_doc(10901, attrs={"__x__": 1}),
    "no_arg_nodes": json.dumps({"nodes": [{"op": "null", "name": "x", "inputs": []}],
                                "heads": [[0, 0, 0]]}),
    "no_heads": json.dumps({"nodes": [{"op": "null", "name": "x", "inputs": []}],
                            "arg_nodes": [0]}),
    "arg_node_not_variable": json.dumps({"nodes": [{"op": "null", "name": "x", "inputs": []},
                                                   {"op": "relu", "name": "r",
                                                    "inputs": [[0, 0, 0]]}],
                                         "arg_nodes": [1], "heads": [[1, 0, 0]]}),
    "version_not_int": _doc([{"op": "null", "name": "x", "inputs": []}], [[0, 0, 0]],
                            attrs={"mxnet_version": ["int", "10901"]}),
    "not_an_op": _doc([{"op": "null", "name": "x", "inputs": []},
                       {"op": "FullyConected", "name": "fc", "inputs": [[0, 0, 0]]}],
                      [[1, 0, 0]], 10901),
    "missing_required_param": _doc([{"op": "null", "name": "x", "inputs": []},
                                    {"op": "FullyConnected", "name": "fc",
                                     "inputs": [[0, 0, 0]]}], [[1, 0, 0]]),
}


# Symbols built in Python: the attributes an op sets on the variables it is composed with
# (FSetInputVarAttrOnCompose, the rule the 0.9.4 upgrade applies to old files), also on
# variables the user passes in
def _compose_bn(mx):
    return mx.sym.BatchNorm(mx.sym.var("data"), moving_mean=mx.sym.var("mm"),
                            moving_var=mx.sym.var("mv", init=mx.init.Constant(3)), name="bn")


def _compose_prelu(mx):
    return mx.sym.LeakyReLU(mx.sym.var("data"), gamma=mx.sym.var("g"), act_type="prelu",
                            name="prelu")


def _compose_scope(mx):
    with mx.AttrScope(ctx_group="dev1", __mine__="x"):
        return mx.sym.BatchNorm(mx.sym.var("data"), name="bn")


COMPOSED = {"bn_given_stats": _compose_bn, "prelu_given_gamma": _compose_prelu,
            "bn_in_scope": _compose_scope}


def _attr_scope_on_op(mx):
    with mx.AttrScope(group="4"):
        return mx.sym.Activation(mx.sym.var("data"), act_type="relu", name="act")


def _set_attr_on_op(mx):
    act = mx.sym.Activation(mx.sym.var("data"), act_type="relu", name="act")
    act._set_attr(foo="1")
    return act


# symbol building MXNet refuses: an op node only takes its parameters and __hidden__ keys
REFUSED_BUILDS = {"attr_scope_on_op": _attr_scope_on_op, "set_attr_on_op": _set_attr_on_op}


def _one_op_doc(op, attrs, version, attrs_key="attrs"):
    return _doc([{"op": "null", "name": "x", "inputs": []},
                 {"op": op, "name": "n", attrs_key: attrs, "inputs": [[0, 0, 0]]}],
                [[1, 0, 0]], version)


# odd documents MXNet 1.9.1 loads; its re-saved JSON shows the per-op rules of
# mxtorch/symbol/mxnet_op_names.py at work
ODD_ACCEPTED = {
    # relu has no parameter parser: any key passes
    "no_parser_keeps_unknown_key": _one_op_doc("relu", {"foo": "1"}, 10901),
    # relu has no FListInputNames: data_lr_mult stays on the node instead of moving to x
    "no_input_names_keeps_input_lr_mult": _one_op_doc("relu", {"data_lr_mult": "2"}, 10000),
    # FullyConnected knows its inputs: data_lr_mult moves to x as __lr_mult__
    "input_lr_mult_moves_to_variable": _doc(
        [{"op": "null", "name": "x", "inputs": []}, {"op": "null", "name": "w", "inputs": []},
         {"op": "null", "name": "b", "inputs": []},
         {"op": "FullyConnected", "name": "fc", "inputs": [[0, 0], [1, 0], [2, 0]],
          "attr": {"num_hidden": "3", "data_lr_mult": "2", "bias_wd_mult": "0"}}],
        [[3, 0]], 903),
    # SwapAxis is a legacy op: an lr_mult-like key of an old file stays
    "legacy_op_keeps_lr_mult_like_key": _one_op_doc("SwapAxis", {"dim1": "0", "dim2": "1",
                                                                 "gamma_lr_mult": "2"}, 10000),
}

# and its refusals of the same keys elsewhere
REJECTED.update({
    "no_input_names_refuses_input_lr_mult": _one_op_doc("Activation", {
        "act_type": "relu", "data_lr_mult": "2"}, 10000),
    "legacy_op_refuses_lr_mult_like_key_191": _one_op_doc("SwapAxis", {
        "dim1": "0", "dim2": "1", "gamma_lr_mult": "2"}, 10901),
})


def _shapes(lst):
    return None if lst is None else [list(s) for s in lst]


def _types(lst):
    return None if lst is None else [np.dtype(t).name for t in lst]


def facts(sym, shapes, dtypes):
    """What a test compares: names, attributes, inferred shapes and types."""
    arg, out, aux = sym.infer_shape(**shapes)
    targ, tout, taux = sym.infer_type(**dtypes)
    return {"shapes": {k: list(v) for k, v in shapes.items()}, "dtypes": dtypes,
            "list_arguments": sym.list_arguments(),
            "list_auxiliary_states": sym.list_auxiliary_states(),
            "list_outputs": sym.list_outputs(),
            "attr_dict": sym.attr_dict(),
            "infer_shape": [_shapes(arg), _shapes(out), _shapes(aux)],
            "infer_type": [_types(targ), _types(tout), _types(taux)]}


def _message(err):
    """The informative line of an MXNet error (its messages start with a C++ traceback)."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    keys = ("Unknown field", "Cannot find argument", "Check failed", "Required parameter",
            "Failed loading", "Expect", "JSONReader")
    line = next((ln for ln in lines if any(k in ln for k in keys)), lines[-1] if lines else "")
    return re.sub(r"\[\d\d:\d\d:\d\d\] ", "", line)  # no log time stamps in fixtures


def main():
    import mxnet as mx
    for name, (shapes, dtypes) in sorted(SAMPLES.items()):
        sym = mx.sym.load(os.path.join(FIX, "samples", name + ".json"))
        with open(os.path.join(FIX, name + "-mxnet.json"), "w", encoding="utf-8") as f:
            f.write(sym.tojson())
        with open(os.path.join(FIX, name + "-facts.json"), "w", encoding="utf-8") as f:
            json.dump(facts(sym, shapes, dtypes), f, indent=1, sort_keys=True)
    rejected = {}
    for name, text in sorted(REJECTED.items()):
        try:
            mx.sym.load_json(text)
        except mx.base.MXNetError as e:
            rejected[name] = {"json": text, "mxnet_error": _message(e)}
        else:
            raise SystemExit(f"MXNet loads the document {name!r}; it is no rejection case")
    with open(os.path.join(FIX, "rejected.json"), "w", encoding="utf-8") as f:
        json.dump(rejected, f, indent=1, sort_keys=True)
    odd = {name: {"json": text, "mxnet": mx.sym.load_json(text).tojson()}
           for name, text in sorted(ODD_ACCEPTED.items())}
    with open(os.path.join(FIX, "odd_accepted.json"), "w", encoding="utf-8") as f:
        json.dump(odd, f, indent=1, sort_keys=True)
    composed = {name: build(mx).attr_dict() for name, build in sorted(COMPOSED.items())}
    for name, build in sorted(REFUSED_BUILDS.items()):
        try:
            build(mx)
        except mx.base.MXNetError as e:
            composed[name] = {"mxnet_error": _message(e)}
        else:
            raise SystemExit(f"MXNet builds {name!r}; it is no refusal case")
    with open(os.path.join(FIX, "composed.json"), "w", encoding="utf-8") as f:
        json.dump(composed, f, indent=1, sort_keys=True)
    print(f"wrote {len(SAMPLES)} samples and {len(rejected)} rejections to {FIX}")


if __name__ == "__main__":
    main()
