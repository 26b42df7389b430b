"""mx.io.LibSVMIter against MXNet 1.9.1 (fixtures from tools/gen_libsvm_fixtures.py):
batches, pads and the rows each epoch starts from (round_batch), byte-range parts, a
label file; errors for bad files; a Module trains from it."""
import json
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import FormatError, MXNetValueError

FIX = os.path.join(os.path.dirname(__file__), "..", "compat", "fixtures", "io", "libsvm")
REF = np.load(os.path.join(FIX, "batches.npz"))
with open(os.path.join(FIX, "cases.json")) as _f:
    META = json.load(_f)


def _iter(cfg, **extra):
    kw = {k: v for k, v in cfg.items() if k not in ("labels", "label_shape")}
    if cfg.get("labels"):
        kw.update(label_libsvm=os.path.join(FIX, "label.libsvm"),
                  label_shape=tuple(cfg["label_shape"]))
    return mx.io.LibSVMIter(data_libsvm=os.path.join(FIX, "data.libsvm"),
                            data_shape=(META["features"],), **kw, **extra)


@pytest.mark.parametrize("name", sorted(META["cases"]))
def test_batches_match_mxnet_over_three_epochs(name):
    it = _iter(META["cases"][name])
    provide = [[d.name, list(d.shape)] for d in it.provide_data + it.provide_label]
    assert provide == json.loads(str(REF[f"{name}/provide"]))
    for epoch in range(3):
        got = list(it)
        want = sorted({int(k.split("/")[2]) for k in REF.files
                       if k.startswith(f"{name}/{epoch}/")})
        assert len(got) == len(want), (epoch, len(got), len(want))
        for i, b in enumerate(got):
            key = f"{name}/{epoch}/{i}"
            assert f"{b.data[0].stype},{b.label[0].stype}" == str(REF[key + "/stypes"])
            np.testing.assert_allclose(b.data[0].asnumpy(), REF[key + "/data"], rtol=1e-6)
            np.testing.assert_allclose(b.label[0].asnumpy(), REF[key + "/label"], rtol=1e-6)
            assert b.pad == int(REF[key + "/pad"]), key
        it.reset()


def test_bad_input_is_refused(tmp_path):
    good = tmp_path / "a.libsvm"
    good.write_text("1 0:1 3:2\n0 1:1\n")
    with pytest.raises(MXNetValueError, match="round_batch"):
        mx.io.LibSVMIter(data_libsvm=str(good), data_shape=(4,), batch_size=2,
                         round_batch=False)
    with pytest.raises(MXNetValueError, match="outside \\[0, 3\\)"):
        mx.io.LibSVMIter(data_libsvm=str(good), data_shape=(3,), batch_size=2)
    bad = tmp_path / "b.libsvm"
    bad.write_text("1 0:1\nnot a line\n")
    with pytest.raises(FormatError, match="line 2"):
        mx.io.LibSVMIter(data_libsvm=str(bad), data_shape=(4,), batch_size=2)
    with pytest.raises(MXNetValueError, match="part_index"):
        mx.io.LibSVMIter(data_libsvm=str(good), data_shape=(4,), batch_size=2, num_parts=2,
                         part_index=2)


def test_module_fits_a_linear_model_from_libsvm(tmp_path):
    rng = np.random.RandomState(0)
    w = rng.normal(size=8)
    lines = []
    for _ in range(64):
        cols = np.sort(rng.choice(8, 3, replace=False))
        vals = rng.uniform(size=3)
        lines.append(f"{vals @ w[cols]:.6f} " + " ".join(f"{c}:{v:.6f}" for c, v in zip(cols, vals)))
    path = tmp_path / "lin.libsvm"
    path.write_text("\n".join(lines) + "\n")
    it = mx.io.LibSVMIter(data_libsvm=str(path), data_shape=(8,), batch_size=16,
                          label_name="label")
    x = mx.sym.var("data", stype="csr")
    weight = mx.sym.var("w_weight", shape=(8, 1), stype="row_sparse", init=mx.init.Zero())
    out = mx.sym.LinearRegressionOutput(mx.sym.dot(x, weight), mx.sym.var("label"))
    mod = mx.mod.Module(out, data_names=["data"], label_names=["label"])
    mod.fit(it, num_epoch=60, eval_metric="mse", optimizer="sgd",
            optimizer_params={"learning_rate": 0.5, "momentum": 0.5})
    np.testing.assert_allclose(mod.get_params()[0]["w_weight"].asnumpy().ravel(), w, atol=0.05)
