"""Sparse storage against MXNet 1.9.1 (fixtures from tools/gen_sparse_fixtures.py):
``dot`` with a csr operand (outputs, gradients and their row_sparse rows), Module training
over csr data with row_sparse weights (factorization machine; lazy SGD, Adam and AdaGrad;
SGD with lazy_update=False; Embedding(sparse_grad=True)) step by step, and the FM
checkpoint MXNet saved with row_sparse parameters."""
import importlib.util
import json
import os

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FIX = os.path.join(os.path.dirname(__file__), "fixtures", "sparse")
_spec = importlib.util.spec_from_file_location(
    "gen_sparse", os.path.join(ROOT, "tools", "gen_sparse_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

DOT = np.load(os.path.join(FIX, "dot.npz"))
TRAIN = np.load(os.path.join(FIX, "train.npz"))
with open(os.path.join(FIX, "train.json")) as _f:
    META = json.load(_f)


@pytest.mark.parametrize("tag,transpose_a", [("", False), ("_t", True)])
def test_csr_dot_forward_and_gradient_match_mxnet(tag, transpose_a):
    rhs = DOT["rhs" + tag]
    data = mx.sym.Variable("lhs", stype="csr")
    sym = mx.sym.dot(data, mx.sym.Variable("rhs"), transpose_a=transpose_a)
    exe = sym.simple_bind(mx.cpu(), lhs=DOT["lhs"].shape, rhs=rhs.shape,
                          grad_req={"lhs": "null", "rhs": "write"})
    assert exe.arg_dict["lhs"].stype == "csr"
    exe.arg_dict["lhs"][:] = mx.nd.array(DOT["lhs"]).tostype("csr")
    exe.arg_dict["rhs"][:] = rhs
    exe.forward(is_train=True)
    exe.backward(mx.nd.array(DOT["head" + tag]))
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), DOT["out" + tag], rtol=1e-5, atol=1e-6)
    grad = exe.grad_dict["rhs"]
    assert grad.stype == str(DOT["grad_stype" + tag])
    np.testing.assert_allclose(grad.asnumpy(), DOT["grad" + tag], rtol=1e-5, atol=1e-6)
    if grad.stype == "row_sparse":
        np.testing.assert_array_equal(grad.indices.asnumpy(), DOT["grad_rows" + tag])


def test_dense_dot_csr_is_csr_as_mxnet():
    csr = mx.nd.array(DOT["lhs"]).tostype("csr")
    out = mx.nd.sparse.dot(mx.nd.array(DOT["dns_csr_lhs"]), csr)
    assert out.stype == str(DOT["dns_csr_stype"])
    np.testing.assert_allclose(out.asnumpy(), DOT["dns_csr"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(META["scenarios"]))
def test_training_step_by_step_matches_mxnet(name):
    spec = META["scenarios"][name]
    params = {k.split("/")[-1]: TRAIN[k] for k in TRAIN.files
              if k.startswith(f"{name}/init/")}
    mod, outputs, final = gen.train(mx, name, spec, TRAIN[f"{name}/data"],
                                    TRAIN[f"{name}/label"], params)
    np.testing.assert_allclose(outputs, TRAIN[f"{name}/outputs"], rtol=1e-5, atol=1e-6)
    for k, v in final.items():
        np.testing.assert_allclose(v, TRAIN[f"{name}/final/{k}"], rtol=1e-5, atol=1e-6,
                                   err_msg=k)
    if spec["model"] != "embed":
        args, _ = mod.get_params()
        stypes = {k: v.stype for k, v in args.items()}
        assert stypes[gen.SYMBOLS[spec["model"]](mx).list_arguments()[1]] == "row_sparse"


def test_untouched_rows_keep_their_values_under_lazy_update():
    name = "linreg_sgd_lazy"
    init, final = TRAIN[f"{name}/init/w_weight"], TRAIN[f"{name}/final/w_weight"]
    untouched = slice(gen.FEATURES // 2, None)      # features that never occur in the data
    np.testing.assert_array_equal(final[untouched], init[untouched])
    std = TRAIN["linreg_sgd_std/final/w_weight"]
    assert not np.allclose(std[untouched], TRAIN["linreg_sgd_std/init/w_weight"][untouched])


def test_fm_checkpoint_written_by_mxnet_loads_and_predicts():
    arg = mx.nd.load(os.path.join(FIX, "fm-0001.params"))
    stypes = sorted(f"{k[4:]}:{v.stype}" for k, v in arg.items())
    assert stypes == list(TRAIN["fm/arg_stypes"])
    for k, v in arg.items():
        np.testing.assert_allclose(v.asnumpy(), TRAIN[f"fm/final/{k[4:]}"], rtol=1e-6)
    mod = mx.mod.Module.load(os.path.join(FIX, "fm"), 1, data_names=["data"],
                             label_names=["label"])
    x = TRAIN["fm/data"][:gen.BATCH]
    it = mx.io.NDArrayIter(mx.nd.array(x).tostype("csr"), None, batch_size=gen.BATCH,
                           last_batch_handle="discard")
    mod.bind(data_shapes=it.provide_data, label_shapes=[("label", (gen.BATCH, 1))],
             for_training=False)
    pred = mod.predict(it).asnumpy()
    p = {k: TRAIN[f"fm/final/{k}"].astype(np.float64) for k in ("v", "w1_weight", "w1_bias")}
    x = x.astype(np.float64)
    want = (x @ p["w1_weight"] + p["w1_bias"] +
            0.5 * (((x @ p["v"]) ** 2).sum(1, keepdims=True) - (x ** 2) @ (p["v"] ** 2).sum(
                1, keepdims=True)))
    np.testing.assert_allclose(pred, want, rtol=1e-4, atol=1e-6)
