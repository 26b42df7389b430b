"""An MXNet 1.9.1 operator that mxtorch lacks is refused with OperatorNotImplementedError
(naming the op), told apart, by MXNet's own op list
(mxtorch/symbol/mxnet_op_names.py, from tools/gen_mxnet_op_names.py), from a name that is
no MXNet operator at all, which gets close-match suggestions."""
import json

import pytest

import mxtorch as mx
from mxtorch.base import MXNetError, MXNetNotImplementedError
from mxtorch.symbol import mxnet_op_names
from mxtorch.symbol.registry import (get_op, list_ops, is_mxnet_op, missing_attribute,
                                     OperatorNotImplementedError, UnknownOperatorError)

# MXNet ops that no family of mxtorch covers; the first one not registered is used
_CANDIDATES = ("IdentityAttachKLSparseReg", "SVMOutput", "ROIPooling", "SpatialTransformer",
               "Correlation", "khatri_rao", "ravel_multi_index")
MISSING = next((n for n in _CANDIDATES if n not in list_ops()), None)
needs_missing = pytest.mark.skipif(MISSING is None, reason="every candidate op is implemented")


def _doc(opname, attrs=None):
    node = {"op": opname, "name": "node0", "inputs": [[0, 0, 0]]}
    if attrs:
        node["attrs"] = attrs
    return json.dumps({"nodes": [{"op": "null", "name": "x", "inputs": []}, node],
                       "arg_nodes": [0], "heads": [[1, 0, 0]],
                       "attrs": {"mxnet_version": ["int", 10901]}})


def test_the_op_list_is_mxnet_191s():
    assert mxnet_op_names.MXNET_VERSION == "1.9.1"
    assert {"FullyConnected", "Convolution", "_contrib_box_nms"} <= mxnet_op_names.OPS
    assert mxnet_op_names.ALIASES["ElementWiseSum"] == "add_n"
    assert "FullyConnected" in mxnet_op_names.SYMBOL_NAMES


def test_every_registered_op_is_an_mxnet_op_under_its_mxnet_name():
    """JSON stores an op's canonical name, so ours must be MXNet's (an alias registered as
    a separate op in MXNet would be written under the wrong name)."""
    for name in list_ops():
        if name.startswith("_test"):  # ops that tests register
            continue
        assert is_mxnet_op(name), name
        assert get_op(name).name == mxnet_op_names.ALIASES.get(name, name), name


@needs_missing
def test_get_op_of_an_mxnet_op_we_lack_is_not_implemented():
    with pytest.raises(OperatorNotImplementedError, match=f"'{MISSING}'.*not implement") as info:
        get_op(MISSING)
    assert isinstance(info.value, MXNetNotImplementedError)


def test_get_op_of_a_non_mxnet_name_suggests_close_names():
    with pytest.raises(UnknownOperatorError, match="did you mean 'Convolution'") as info:
        get_op("Convolutoin")
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    assert not isinstance(info.value, NotImplementedError)


@needs_missing
def test_loading_json_with_an_mxnet_op_we_lack_names_node_and_op():
    with pytest.raises(OperatorNotImplementedError, match=f"node0.*'{MISSING}'.*not implement"):
        mx.sym.load_json(_doc(MISSING))


def test_loading_json_with_a_non_mxnet_op_is_a_value_error_with_suggestions():
    with pytest.raises(UnknownOperatorError, match="node0.*'Activaton'.*did you mean "
                                                   "'Activation'"):
        mx.sym.load_json(_doc("Activaton", {"act_type": "relu"}))


@needs_missing
def test_missing_attribute_tells_mxnet_functions_from_typos():
    err = missing_attribute("mx.sym", MISSING, mxnet_op_names.SYMBOL_NAMES)
    assert isinstance(err, OperatorNotImplementedError) and isinstance(err, AttributeError)
    assert f"mx.sym.{MISSING}" in str(err) and "does not implement" in str(err)
    err = missing_attribute("mx.sym", "FullyConected", mxnet_op_names.SYMBOL_NAMES)
    assert type(err) is AttributeError and "did you mean 'FullyConnected'" in str(err)
    assert type(missing_attribute("mx.sym", "__wrapped__", ())) is AttributeError


_HOOKED = "__getattr__" in vars(mx.symbol)
needs_hook = pytest.mark.skipif(
    not _HOOKED, reason="mxtorch/symbol/__init__.py has no module __getattr__ calling "
                        "registry.missing_attribute yet")


@needs_missing
@needs_hook
def test_mx_sym_of_an_mxnet_op_we_lack_is_not_implemented():
    with pytest.raises(OperatorNotImplementedError, match=f"{MISSING}.*not implement"):
        getattr(mx.sym, MISSING)(mx.sym.var("x"))
    assert not hasattr(mx.sym, MISSING)


@needs_hook
def test_mx_sym_of_a_typo_is_an_attribute_error_with_suggestions():
    with pytest.raises(AttributeError, match="did you mean 'FullyConnected'") as info:
        mx.sym.FullyConected  # noqa: B018
    assert not isinstance(info.value, MXNetError)
