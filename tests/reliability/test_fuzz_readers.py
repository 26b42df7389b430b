"""Fuzzed readers (issue 9): random and mutated bytes fed to the .params reader, the
symbol JSON reader, the optimizer-states reader and the nnabla parameter-file readers
(.h5, .safetensors) give only the library's own errors
(MXNetError subclasses), never another exception, a hang or a huge allocation. Bounded:
a few hundred examples per reader, no deadline per example but a small input size."""
import json
import os
import pickle
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import mxtorch as mx
from mxtorch.base import MXNetError
from mxtorch.ndarray import serialize
from mxtorch.optimizer.states import loads_states

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def _saved(arrays):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.params")
        mx.nd.save(path, arrays)
        with open(path, "rb") as f:
            return f.read()


VALID_PARAMS = _saved({"arg:w": mx.nd.array(np.arange(6, dtype="f").reshape(2, 3)),
                       "aux:m": mx.nd.array(np.arange(3), dtype="int64")})
_net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=3,
                                                  name="fc"), name="softmax")
VALID_JSON = _net.tojson()


def _states_bytes():
    upd = mx.optimizer.get_updater(mx.optimizer.create("sgd", momentum=0.9))
    w, g = mx.nd.ones((3,)), mx.nd.ones((3,))
    upd(0, g, w)
    return upd.get_states(dump_optimizer=True)


VALID_STATES = _states_bytes()
VALID_PICKLE = pickle.dumps({0: (np.ones(3, "f"), None)}, protocol=2)


def _mutations(valid):
    """Bytes near a valid file: flipped, cut, spliced, with 64-bit fields made huge."""
    n = len(valid)
    return st.one_of(
        st.binary(max_size=256),
        st.tuples(st.integers(0, n - 1), st.integers(0, 255)).map(
            lambda t: valid[:t[0]] + bytes([t[1]]) + valid[t[0] + 1:]),
        st.integers(0, n).map(lambda i: valid[:i]),
        st.tuples(st.integers(0, max(n - 8, 0)), st.sampled_from(
            [b"\xff" * 8, b"\x00" * 8, (2 ** 62).to_bytes(8, "little"),
             (2 ** 31).to_bytes(8, "little")])).map(
            lambda t: valid[:t[0]] + t[1] + valid[t[0] + 8:]),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=16)).map(
            lambda t: valid[:t[0]] + t[1] + valid[t[0]:]),
    )


def _only_library_errors(fn, data):
    try:
        fn(data)
    except MXNetError:
        pass


@FUZZ
@given(_mutations(VALID_PARAMS))
def test_fuzz_params_reader(data):
    _only_library_errors(lambda b: serialize.loads(b, source="fuzz.params"), data)


@FUZZ
@given(_mutations(VALID_STATES))
def test_fuzz_states_reader(data):
    _only_library_errors(loads_states, data)


@FUZZ
@given(_mutations(VALID_PICKLE))
def test_fuzz_mxnet_states_pickle_reader(data):
    _only_library_errors(loads_states, data)


def _json_mutations():
    doc = json.loads(VALID_JSON)
    text = st.text(max_size=8)
    values = st.one_of(st.none(), st.booleans(), st.integers(-3, 10), text,
                       st.lists(st.integers(-3, 10), max_size=4), st.dictionaries(text, text,
                                                                                  max_size=2))

    def mutate(args):
        kind, node, key, value = args
        d = json.loads(VALID_JSON)
        nodes = d["nodes"]
        target = nodes[node % len(nodes)]
        if kind == "node":
            target[key if key else "op"] = value
        elif kind == "top":
            d[key if key else "heads"] = value
        elif kind == "attrs":
            target.setdefault("attrs", {})[key or "num_hidden"] = value
        return json.dumps(d)
    return st.one_of(
        st.text(max_size=200),
        st.integers(0, len(VALID_JSON)).map(lambda i: VALID_JSON[:i]),
        st.tuples(st.sampled_from(["node", "top", "attrs"]), st.integers(0, len(doc["nodes"])),
                  st.sampled_from(["", "op", "name", "inputs", "attrs", "param", "attr",
                                   "nodes", "arg_nodes", "heads", "node_row_ptr"]),
                  values).map(mutate),
    )


@FUZZ
@given(_json_mutations())
def test_fuzz_symbol_json_reader(text):
    def load(t):
        sym = mx.sym.load_json(t)
        sym.list_arguments()
        sym.infer_shape_partial()
    _only_library_errors(load, text)


# ---------------------------------------------------------------- nnabla parameter files
def _nn_file(ext):
    from collections import OrderedDict
    from mxtorch.nn import param_io
    items = OrderedDict([("conv/W", (np.arange(6, dtype="f").reshape(2, 3), True)),
                         ("bn/mean", (np.zeros(3, "f"), False))])
    return param_io._WRITERS[ext](items)


def _nn_reader(ext):
    from mxtorch.nn import param_io
    return lambda b: param_io._READERS[ext](b, f"fuzz{ext}")


VALID_H5 = _nn_file(".h5")
VALID_SAFETENSORS = _nn_file(".safetensors")


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_mutations(VALID_H5))
def test_fuzz_h5_parameter_reader(data):
    _only_library_errors(_nn_reader(".h5"), data)


@FUZZ
@given(_mutations(VALID_SAFETENSORS))
def test_fuzz_safetensors_parameter_reader(data):
    _only_library_errors(_nn_reader(".safetensors"), data)
