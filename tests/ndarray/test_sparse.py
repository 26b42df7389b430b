"""Sparse storage: CSRNDArray / RowSparseNDArray creation, conversion and arithmetic
(storage types of results as MXNet 1.9.1 gives them, checked there by hand), NDArrayIter
over csr data, and Module training with row_sparse parameters: MXNet's
test_module_initializer and test_factorization_machine_module, several devices,
sparse_row_id_fn, checkpoints, finite differences."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError
from mxtorch.test_utils import check_numeric_gradient, rand_ndarray

DENSE = np.array([[1, 0, 2], [0, 0, 3], [4, 5, 0]], dtype=np.float32)


def test_csr_parts_and_row_slices():
    c = mx.nd.array(DENSE).tostype("csr")
    assert isinstance(c, mx.nd.sparse.CSRNDArray) and c.stype == "csr"
    np.testing.assert_array_equal(c.indptr.asnumpy(), [0, 2, 3, 5])
    np.testing.assert_array_equal(c.indices.asnumpy(), [0, 2, 2, 0, 1])
    np.testing.assert_array_equal(c.data.asnumpy(), [1, 2, 3, 4, 5])
    assert c.indices.dtype == np.int64 and c.indptr.dtype == np.int64
    np.testing.assert_array_equal(c[1:3].asnumpy(), DENSE[1:3])
    np.testing.assert_array_equal(c[-1].asnumpy(), DENSE[2:3])
    assert c[1:3].stype == "csr" and "CSRNDArray 2x3" in repr(c[1:3])
    with pytest.raises(MXNetValueError, match="step 1"):
        c[::2]


def test_creation_functions():
    c = mx.nd.sparse.csr_matrix(([1.0, 2.0], [0, 2], [0, 1, 2]), shape=(2, 3))
    np.testing.assert_array_equal(c.asnumpy(), [[1, 0, 0], [0, 0, 2]])
    coo = mx.nd.sparse.csr_matrix(([1.0, 2.0, 3.0], ([0, 1, 1], [1, 0, 0])), shape=(2, 2))
    np.testing.assert_array_equal(coo.asnumpy(), [[0, 1], [5, 0]])      # duplicates summed
    assert mx.nd.sparse.csr_matrix((3, 4)).indptr.asnumpy().tolist() == [0, 0, 0, 0]
    r = mx.nd.sparse.row_sparse_array(([[1.0, 2.0]], [3]), shape=(5, 2))
    np.testing.assert_array_equal(r.asnumpy()[3], [1, 2])
    assert r.indices.asnumpy().tolist() == [3] and r.data.shape == (1, 2)
    z = mx.nd.sparse.zeros("row_sparse", (4, 2))
    assert z.stype == "row_sparse" and z.indices.shape == (0,) and z.asnumpy().sum() == 0
    assert mx.nd.sparse.zeros("csr", (2, 2), dtype="float64").dtype == np.float64
    assert mx.nd.sparse.array(c).stype == "csr"


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.sparse.csr_matrix(([1.0], [5], [0, 1]), shape=(1, 3)), "column indices"),
    (lambda: mx.nd.sparse.csr_matrix(([1.0, 2.0], [0], [0, 1]), shape=(1, 3)), "inconsistent"),
    (lambda: mx.nd.sparse.row_sparse_array(([[1.0]], [0, 1]), shape=(3, 1)), "does not fit"),
    (lambda: mx.nd.sparse.row_sparse_array(([[1.0], [2.0]], [1, 1]), shape=(3, 1)), "unique"),
    (lambda: mx.nd.sparse.zeros("dense", (2,)), "unknown storage type"),
    (lambda: mx.nd.ones((2, 2, 2)).tostype("csr"), "2-D"),
])
def test_bad_sparse_input_names_the_problem(call, match):
    with pytest.raises(MXNetValueError, match=match):
        call()


def test_storage_of_results_follows_mxnet():
    c, d = mx.nd.array(DENSE).tostype("csr"), mx.nd.array(DENSE)
    r = d.tostype("row_sparse")
    w = mx.nd.array(np.arange(6).reshape(3, 2))
    # each pair checked in MXNet 1.9.1
    assert [(c * 2).stype, (c + c).stype, (c + d).stype, (-c).stype] == \
        ["csr", "csr", "default", "csr"]
    assert [mx.nd.square(c).stype, mx.nd.sqrt(c).stype, mx.nd.exp(c).stype] == \
        ["csr", "csr", "default"]
    assert [(r * 2).stype, (r + r).stype, mx.nd.sum(c).stype] == \
        ["row_sparse", "row_sparse", "default"]
    assert mx.nd.sparse.dot(c, w).stype == "default"
    assert mx.nd.sparse.dot(c, w, transpose_a=True).stype == "row_sparse"
    assert mx.nd.sparse.dot(w.T, c).stype == "csr"
    assert mx.nd.sparse.dot(w.T, c, forward_stype="default").stype == "default"
    assert mx.nd._internal._square_sum(r, axis=1, keepdims=True).stype == "row_sparse"
    np.testing.assert_allclose(mx.nd.sparse.dot(c, w).asnumpy(), DENSE @ w.asnumpy())
    np.testing.assert_allclose(mx.nd.sparse.dot(c, w, transpose_a=True).asnumpy(),
                               DENSE.T @ w.asnumpy())
    np.testing.assert_allclose((c + d).asnumpy(), 2 * DENSE)
    np.testing.assert_array_equal(mx.nd.sparse.retain(r, mx.nd.array([0, 1])).indices.asnumpy(),
                                  [0, 1])


def test_copies_and_assignment():
    c = mx.nd.array(DENSE).tostype("csr")
    target = mx.nd.sparse.zeros("csr", (3, 3))
    c.copyto(target)
    np.testing.assert_array_equal(target.asnumpy(), DENSE)
    dense = mx.nd.zeros((3, 3))
    c.copyto(dense)
    np.testing.assert_array_equal(dense.asnumpy(), DENSE)
    r = mx.nd.sparse.zeros("row_sparse", (3, 3))
    r[:] = DENSE
    assert r.indices.asnumpy().tolist() == [0, 1, 2]
    with pytest.raises(MXNetValueError, match="whole array"):
        r[1] = 2
    with pytest.raises(MXNetNotImplementedError, match="tostype"):
        c.reshape((9,))
    assert c.astype("float64").dtype == np.float64 and c.copy().stype == "csr"


def test_ndarray_iter_over_csr_needs_discard_and_matches_dense():
    np.random.seed(0)
    csr = rand_ndarray((10, 6), "csr", 0.3)
    label = np.arange(10, dtype=np.float32)
    with pytest.raises(MXNetNotImplementedError, match="discard"):
        mx.io.NDArrayIter(csr, label, batch_size=3)
    it = mx.io.NDArrayIter(csr, label, batch_size=3, last_batch_handle="discard")
    batches = list(it)
    assert len(batches) == 3 and all(b.data[0].stype == "csr" for b in batches)
    np.testing.assert_array_equal(np.concatenate([b.data[0].asnumpy() for b in batches]),
                                  csr.asnumpy()[:9])
    np.random.seed(1)
    shuffled = mx.io.NDArrayIter(csr, label, batch_size=5, shuffle=True,
                                 last_batch_handle="discard")
    for b in shuffled:       # rows stay with their labels
        for row, lab in zip(b.data[0].asnumpy(), b.label[0].asnumpy()):
            np.testing.assert_array_equal(row, csr.asnumpy()[int(lab)])


def test_module_initializer_row_sparse():
    """MXNet's test_module_initializer."""
    n, m, k = 128, 100, 64
    data = mx.nd.array(np.random.RandomState(0).uniform(size=(n, m)) < 0.1).tostype("csr")
    it = mx.io.NDArrayIter(data, mx.nd.ones((n, k)), batch_size=32,
                           last_batch_handle="discard", label_name="label")
    x = mx.sym.Variable("data", stype="csr")
    v = mx.sym.Variable("v", shape=(m, k), init=mx.init.Uniform(scale=0.1), stype="row_sparse")
    out = mx.sym.LinearRegressionOutput(mx.sym.dot(x, v), mx.sym.Variable("label"))
    mod = mx.mod.Module(out, data_names=["data"], label_names=["label"])
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params()
    v = mod._arg_params["v"]
    assert v.stype == "row_sparse" and np.sum(v.asnumpy()) != 0
    assert mod._exec_group.execs[0].arg_dict["data"].stype == "csr"


def _fm(feature_dim, factor_size=4):
    init = mx.init.Normal(sigma=0.01)
    x = mx.sym.Variable("data", stype="csr")
    v = mx.sym.Variable("v", shape=(feature_dim, factor_size), init=init, stype="row_sparse")
    w1_weight = mx.sym.var("w1_weight", shape=(feature_dim, 1), init=init, stype="row_sparse")
    w1 = mx.sym.broadcast_add(mx.sym.dot(x, w1_weight), mx.sym.var("w1_bias", shape=(1)))
    v_s = mx.sym._internal._square_sum(data=v, axis=1, keepdims=True)
    bd_sum = mx.sym.dot(mx.sym.square(data=x), v_s)
    w2_squared = 0.5 * mx.sym.square(data=mx.sym.dot(x, v))
    sum1 = mx.sym.sum(data=mx.sym.Concat(w1, w2_squared, dim=1), axis=1, keepdims=True)
    model = mx.sym.elemwise_add(sum1, 0.5 * mx.sym.negative(bd_sum))
    return mx.sym.LinearRegressionOutput(data=model, label=mx.sym.Variable("label")), init


def test_factorization_machine_module_reaches_mxnet_threshold():
    """MXNet's test_factorization_machine_module (50 epochs, MSE < 0.02)."""
    np.random.seed(42)
    mx.random.seed(42)
    model, init = _fm(10000)
    batch_size = 64
    csr_nd = rand_ndarray((batch_size * 5, 10000), "csr", 0.1)
    train_iter = mx.io.NDArrayIter(data=csr_nd, label={"label": mx.nd.ones((batch_size * 5, 1))},
                                   batch_size=batch_size, last_batch_handle="discard")
    mod = mx.mod.Module(symbol=model, data_names=["data"], label_names=["label"])
    mod.bind(data_shapes=train_iter.provide_data, label_shapes=train_iter.provide_label)
    mod.init_params(initializer=init)
    mod.init_optimizer(optimizer=mx.optimizer.SGD(momentum=0.1, clip_gradient=5.0,
                                                  learning_rate=0.01,
                                                  rescale_grad=1.0 / batch_size))
    metric = mx.metric.create("MSE")
    for _ in range(50):
        train_iter.reset()
        metric.reset()
        for batch in train_iter:
            mod.forward(batch, is_train=True)
            mod.update_metric(metric, batch.label)
            mod.backward()
            mod.update()
    assert metric.get()[1] < 0.02
    grad = mod._exec_group.execs[0].grad_dict["w1_weight"]
    assert grad.stype == "row_sparse" and len(grad.indices) < 10000


def _linreg_fit(contexts, kvstore, num_epoch=3, sparse_row_id_fn=None):
    rng = np.random.RandomState(3)
    dense = rng.uniform(size=(48, 30)).astype(np.float32)
    dense[dense > 0.2] = 0
    y = dense @ rng.normal(size=(30, 1)).astype(np.float32)
    it = mx.io.NDArrayIter(mx.nd.array(dense).tostype("csr"), {"label": y}, batch_size=12,
                           last_batch_handle="discard")
    x = mx.sym.Variable("data", stype="csr")
    w = mx.sym.Variable("w_weight", shape=(30, 1), stype="row_sparse", init=mx.init.Zero())
    out = mx.sym.LinearRegressionOutput(mx.sym.dot(x, w), mx.sym.Variable("label"))
    mod = mx.mod.Module(out, data_names=["data"], label_names=["label"], context=contexts)
    mod.fit(it, eval_metric="mse", kvstore=kvstore, optimizer="sgd", num_epoch=num_epoch,
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3},
            sparse_row_id_fn=sparse_row_id_fn)
    return mod, it


def test_two_devices_equal_one_device_and_sparse_row_id_fn_is_called():
    one, _ = _linreg_fit([mx.cpu(0)], "local")
    calls = []

    def row_ids(batch):
        calls.append(batch)
        return {"w_weight": batch.data[0].indices}

    two, it = _linreg_fit([mx.cpu(0), mx.cpu(1)], "local", sparse_row_id_fn=row_ids)
    # as MXNet, fit prepares each next batch of an epoch (not the first): 3 epochs x 3
    assert two._update_on_kvstore and len(calls) == 3 * 3
    for k, v in one.get_params()[0].items():
        np.testing.assert_allclose(two.get_params()[0][k].asnumpy(), v.asnumpy(), rtol=1e-5,
                                   atol=1e-6)
    with pytest.raises(MXNetTypeError, match="dict"):
        two.prepare(next(iter(it)), sparse_row_id_fn=lambda b: [1])
    with pytest.raises(MXNetValueError, match="not a parameter"):
        two.prepare(next(iter(it)), sparse_row_id_fn=lambda b: {"nope": b.data[0].indices})


def test_row_sparse_checkpoint_roundtrip(tmp_path):
    mod, it = _linreg_fit([mx.cpu()], "local", num_epoch=1)
    prefix = str(tmp_path / "lin")
    mod.save_checkpoint(prefix, 1)
    saved = mx.nd.load(prefix + "-0001.params")
    assert saved["arg:w_weight"].stype == "row_sparse"
    back = mx.mod.Module.load(prefix, 1, data_names=["data"], label_names=["label"])
    back.bind(data_shapes=it.provide_data, label_shapes=it.provide_label, for_training=False)
    np.testing.assert_allclose(back.predict(it).asnumpy(), mod.predict(it).asnumpy(), rtol=1e-6)


def test_kvstore_row_sparse_pull_and_sparse_push():
    kv = mx.kv.create("local")
    kv.init("w", mx.nd.array(DENSE))
    out = mx.nd.sparse.zeros("row_sparse", (3, 3))
    kv.row_sparse_pull("w", out=out, row_ids=mx.nd.array([2, 0]))
    assert out.indices.asnumpy().tolist() == [0, 2]
    np.testing.assert_array_equal(out.data.asnumpy(), DENSE[[0, 2]])
    g = mx.nd.array(DENSE).tostype("row_sparse")
    kv.push("w", [g, g])
    res = mx.nd.zeros((3, 3))
    kv.pull("w", out=res)
    np.testing.assert_array_equal(res.asnumpy(), 2 * DENSE)


def test_finite_differences_through_csr_dot_and_square_sum():
    x = mx.sym.Variable("x", stype="csr")
    v = mx.sym.Variable("v", stype="row_sparse")
    out = mx.sym.dot(x, v) + mx.sym.dot(mx.sym.square(x),
                                        mx.sym._internal._square_sum(v, axis=1, keepdims=True))
    rng = np.random.RandomState(0)
    xv = rng.uniform(size=(4, 5)) * (rng.uniform(size=(4, 5)) < 0.5)
    check_numeric_gradient(out, {"x": xv, "v": rng.normal(size=(5, 3))}, grad_nodes=["v"],
                           grad_stype_dict={"v": "row_sparse"}, rtol=1e-2, atol=1e-4)
    emb = mx.sym.Embedding(mx.sym.Variable("d"), mx.sym.Variable("e"), input_dim=6,
                           output_dim=2, sparse_grad=True)
    check_numeric_gradient(emb, {"d": np.array([1.0, 4.0, 1.0]), "e": rng.normal(size=(6, 2))},
                           grad_nodes=["e"], grad_stype_dict={"e": "row_sparse"})


def test_sparse_embedding_gradient_rows_are_the_batch_tokens():
    tokens = np.array([[3, 1], [3, 7]], dtype=np.float32)
    weight = np.random.RandomState(0).normal(size=(10, 4)).astype(np.float32)
    outs = {}
    for name, sym in (("contrib", mx.sym.contrib.SparseEmbedding(
            mx.sym.var("data"), mx.sym.var("w"), input_dim=10, output_dim=4)),
                      ("dense", mx.sym.Embedding(mx.sym.var("data"), mx.sym.var("w"),
                                                 input_dim=10, output_dim=4))):
        exe = sym.simple_bind(mx.cpu(), data=(2, 2), grad_req={"data": "null", "w": "write"})
        exe.arg_dict["w"][:] = weight
        exe.forward(is_train=True, data=tokens)
        exe.backward(mx.nd.ones((2, 2, 4)))
        outs[name] = (exe.outputs[0].asnumpy(), exe.grad_dict["w"])
    assert outs["contrib"][1].stype == "row_sparse" and outs["dense"][1].stype == "default"
    np.testing.assert_array_equal(outs["contrib"][1].indices.asnumpy(), [1, 3, 7])
    np.testing.assert_array_equal(outs["contrib"][0], outs["dense"][0])
    np.testing.assert_array_equal(outs["contrib"][1].asnumpy(), outs["dense"][1].asnumpy())
