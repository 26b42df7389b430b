"""No model or state file can run code (issue 9): the package never calls an unrestricted
unpickler, and a malicious .states file given to every public loader is refused with
nothing executed."""
import ast
import os
import pickle

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import FormatError

PKG = os.path.dirname(os.path.abspath(mx.__file__))
ALLOWED_UNPICKLER = os.path.join(PKG, "ndarray", "pickle_compat.py")


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = (f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name) else getattr(f, "id", None))
            yield node, name


def test_package_source_has_no_unrestricted_unpickling():
    offenders = []
    for root, _, files in os.walk(PKG):
        for fname in files:
            if not fname.endswith(".py"):
                continue
            path = os.path.join(root, fname)
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
            for node, name in _calls(tree):
                where = f"{os.path.relpath(path, PKG)}:{node.lineno} {name}"
                if name in ("pickle.load", "pickle.loads", "cPickle.loads", "marshal.loads",
                            "dill.load", "dill.loads", "np.load", "numpy.load"):
                    if name.endswith("np.load") or name == "numpy.load":
                        if not any(k.arg == "allow_pickle" and isinstance(k.value, ast.Constant)
                                   and k.value.value is False for k in node.keywords):
                            offenders.append(where + " without allow_pickle=False")
                        continue
                    offenders.append(where)
                elif name == "torch.load":
                    if not any(k.arg == "weights_only" and isinstance(k.value, ast.Constant)
                               and k.value.value is True for k in node.keywords):
                        offenders.append(where + " without weights_only=True")
                elif name in ("pickle.Unpickler",) and path != ALLOWED_UNPICKLER:
                    offenders.append(where)
    assert not offenders, f"unrestricted loading of files: {offenders}"


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_malicious_states_file_runs_nothing_through_module_and_kvstore(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.states"
    evil.write_bytes(pickle.dumps({0: _Evil(marker)}, protocol=2))
    data = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"),
                               name="softmax")
    mod = mx.mod.Module(net)
    mod.bind(data_shapes=[("data", (2, 4))], label_shapes=[("softmax_label", (2,))])
    mod.init_params()
    mod.init_optimizer()
    with pytest.raises(FormatError, match="refusing to unpickle"):
        mod.load_optimizer_states(str(evil))
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.create("sgd"))
    with pytest.raises(FormatError, match="refusing to unpickle"):
        kv.load_optimizer_states(str(evil))
    with pytest.raises(FormatError):
        mx.nd.load(str(evil))
    assert not marker.exists()


def test_malicious_pickle_renamed_as_params_or_json_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Evil(marker), protocol=4)
    (tmp_path / "m-symbol.json").write_bytes(payload)
    (tmp_path / "m-0001.params").write_bytes(payload)
    with pytest.raises(mx.MXNetError):
        mx.model.load_checkpoint(str(tmp_path / "m"), 1)
    with pytest.raises(FormatError):
        mx.model.load_params(str(tmp_path / "m"), 1)
    assert mx.snapshot.latest_checkpoint(str(tmp_path / "m")) is None
    assert not marker.exists()
    np.testing.assert_equal(marker.exists(), False)
