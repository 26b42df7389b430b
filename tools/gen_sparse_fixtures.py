"""Generate golden fixtures for sparse storage with real MXNet 1.9.1: ``sparse.dot``
forward and gradients, and Module training runs over csr data with row_sparse weights
and gradients (factorization machine, lazy SGD / Adam / AdaGrad updates, standard
updates, ``Embedding(sparse_grad=True)``), plus a checkpoint of the trained FM.

Run with the oracle: .mxnet-ref/bin/python tools/gen_sparse_fixtures.py
Writes tests/compat/fixtures/sparse/: dot.npz, train.npz (per scenario: the dense inputs,
initial parameters, outputs of every step and final parameters), train.json (scenario
settings) and fm-symbol.json / fm-0001.params (the trained FM, saved by MXNet).
The test tests/compat/test_sparse_compat.py imports this file and runs the same
scenarios (``train(mxtorch, ...)``), so mxnet is imported only where the oracle runs.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "compat", "fixtures", "sparse")

# scenario -> settings shared with the test (everything else is in train.npz)
SCENARIOS = {
    "fm": {"model": "fm", "optimizer": "sgd",
           "opt": {"momentum": 0.1, "clip_gradient": 5.0, "learning_rate": 0.01,
                   "rescale_grad": 1.0 / 16}, "epochs": 3},
    "linreg_adam_lazy": {"model": "linreg", "optimizer": "adam",
                         "opt": {"learning_rate": 0.01, "wd": 0.01, "rescale_grad": 1.0 / 16},
                         "epochs": 2},
    "linreg_sgd_std": {"model": "linreg", "optimizer": "sgd",
                       "opt": {"learning_rate": 0.05, "momentum": 0.9, "wd": 0.01,
                               "lazy_update": False, "rescale_grad": 1.0 / 16}, "epochs": 2},
    "linreg_sgd_lazy": {"model": "linreg", "optimizer": "sgd",
                        "opt": {"learning_rate": 0.05, "momentum": 0.9, "wd": 0.01,
                                "rescale_grad": 1.0 / 16}, "epochs": 2},
    "linreg_adagrad": {"model": "linreg", "optimizer": "adagrad",
                       "opt": {"learning_rate": 0.1, "rescale_grad": 1.0 / 16}, "epochs": 2},
    "embed_sparse_grad": {"model": "embed", "optimizer": "sgd",
                          "opt": {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.001,
                                  "rescale_grad": 1.0 / 16}, "epochs": 2},
}
FEATURES, FACTORS, BATCH, NUM = 200, 4, 16, 64
VOCAB, EMBED, CLASSES, SEQ = 50, 6, 3, 4


def fm_symbol(mod):
    """MXNet's test_factorization_machine_module network (``mod`` is mx or mxtorch)."""
    x = mod.symbol.Variable("data", stype="csr")
    v = mod.symbol.Variable("v", shape=(FEATURES, FACTORS), stype="row_sparse")
    w1_weight = mod.symbol.var("w1_weight", shape=(FEATURES, 1), stype="row_sparse")
    w1_bias = mod.symbol.var("w1_bias", shape=(1))
    w1 = mod.symbol.broadcast_add(mod.symbol.dot(x, w1_weight), w1_bias)
    v_s = mod.symbol._internal._square_sum(data=v, axis=1, keepdims=True)
    x_s = mod.symbol.square(data=x)
    bd_sum = mod.sym.dot(x_s, v_s)
    w2 = mod.symbol.dot(x, v)
    w2_squared = 0.5 * mod.symbol.square(data=w2)
    w_all = mod.symbol.Concat(w1, w2_squared, dim=1)
    sum1 = mod.symbol.sum(data=w_all, axis=1, keepdims=True)
    sum2 = 0.5 * mod.symbol.negative(bd_sum)
    model = mod.sym.elemwise_add(sum1, sum2)
    y = mod.symbol.Variable("label")
    return mod.symbol.LinearRegressionOutput(data=model, label=y)


def linreg_symbol(mod):
    """The sparse tutorial's linear regression: csr data, row_sparse weight, dense bias."""
    x = mod.sym.Variable("data", stype="csr")
    w = mod.sym.Variable("w_weight", shape=(FEATURES, 1), stype="row_sparse")
    b = mod.sym.Variable("bias", shape=(1,))
    y = mod.sym.broadcast_add(mod.sym.sparse.dot(x, w), b)
    return mod.sym.LinearRegressionOutput(data=y, label=mod.sym.Variable("label"))


def embed_symbol(mod):
    """Embedding with sparse_grad=True under a dense classifier."""
    e = mod.sym.Embedding(mod.sym.Variable("data"), input_dim=VOCAB, output_dim=EMBED,
                          sparse_grad=True, name="embed")
    fc = mod.sym.FullyConnected(mod.sym.flatten(e), num_hidden=CLASSES, name="fc")
    return mod.sym.SoftmaxOutput(fc, mod.sym.Variable("label"), name="softmax")


SYMBOLS = {"fm": fm_symbol, "linreg": linreg_symbol, "embed": embed_symbol}


def make_data(model, rng):
    """(data, label) numpy arrays of one scenario (csr data is stored dense)."""
    if model == "embed":
        return (rng.randint(0, VOCAB // 2, size=(NUM, SEQ)).astype(np.float32),
                rng.randint(0, CLASSES, size=(NUM,)).astype(np.float32))
    dense = rng.uniform(size=(NUM, FEATURES)).astype(np.float32)
    dense[dense > 0.1] = 0
    dense[:, FEATURES // 2:] = 0          # half the features never occur: untouched rows
    label = rng.uniform(size=(NUM, 1)).astype(np.float32)
    return dense, label


def make_params(model, rng):
    if model == "fm":
        return {"v": rng.normal(0, 0.01, (FEATURES, FACTORS)),
                "w1_weight": rng.normal(0, 0.01, (FEATURES, 1)), "w1_bias": np.zeros(1)}
    if model == "linreg":
        return {"w_weight": rng.normal(0, 0.1, (FEATURES, 1)), "bias": np.zeros(1)}
    return {"embed_weight": rng.normal(0, 0.1, (VOCAB, EMBED)),
            "fc_weight": rng.normal(0, 0.1, (CLASSES, SEQ * EMBED)),
            "fc_bias": np.zeros(CLASSES)}


def train(mod, name, spec, data, label, params):
    """Run a scenario with library ``mod`` (mx or mxtorch): outputs of every step and the
    final parameters as numpy arrays. Written to run unchanged under both libraries."""
    model = spec["model"]
    sym = SYMBOLS[model](mod)
    x = mod.nd.array(data)
    if model != "embed":
        x = x.tostype("csr")
    label_name = "label"
    it = mod.io.NDArrayIter(x, {label_name: mod.nd.array(label)}, batch_size=BATCH,
                            last_batch_handle="discard")
    m = mod.mod.Module(sym, data_names=["data"], label_names=[label_name])
    m.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    m.init_params(arg_params={k: mod.nd.array(v.astype(np.float32)) for k, v in params.items()})
    m.init_optimizer(optimizer=spec["optimizer"], optimizer_params=spec["opt"])
    outputs = []
    for _ in range(spec["epochs"]):
        it.reset()
        for batch in it:
            m.forward(batch, is_train=True)
            outputs.append(m.get_outputs()[0].asnumpy())
            m.backward()
            m.update()
    args, _ = m.get_params()
    final = {k: v.tostype("default").asnumpy() for k, v in args.items()}
    return m, np.stack(outputs), final


def dot_cases():
    """sparse.dot forward and gradients: csr x dense (plain and transpose_a), row_sparse
    gradient of the dense operand, and dense x csr."""
    import mxnet as mx
    rng = np.random.RandomState(0)
    lhs = rng.uniform(size=(5, 7)).astype(np.float32)
    lhs[lhs > 0.4] = 0
    rhs = rng.normal(size=(7, 3)).astype(np.float32)
    rhs_t = rng.normal(size=(5, 3)).astype(np.float32)
    head = rng.normal(size=(5, 3)).astype(np.float32)
    head_t = rng.normal(size=(7, 3)).astype(np.float32)
    out = {"lhs": lhs, "rhs": rhs, "rhs_t": rhs_t, "head": head, "head_t": head_t}
    csr = mx.nd.array(lhs).tostype("csr")
    for tag, r, h, ta in (("", rhs, head, False), ("_t", rhs_t, head_t, True)):
        data = mx.sym.Variable("lhs", stype="csr")
        w = mx.sym.Variable("rhs")
        sym = mx.sym.dot(data, w, transpose_a=ta)
        exe = sym.simple_bind(mx.cpu(), lhs=csr.shape, rhs=r.shape,
                              stype_dict={"lhs": "csr", "rhs": "default"},
                              grad_req={"lhs": "null", "rhs": "write"})
        exe.arg_dict["lhs"][:] = csr
        exe.arg_dict["rhs"][:] = r
        exe.forward(is_train=True)
        exe.backward(mx.nd.array(h))
        g = exe.grad_dict["rhs"]
        out[f"out{tag}"] = exe.outputs[0].asnumpy()
        out[f"grad{tag}"] = g.tostype("default").asnumpy()
        if g.stype == "row_sparse":
            out[f"grad_rows{tag}"] = g.indices.asnumpy()
        out[f"grad_stype{tag}"] = np.array(g.stype)
    dense_lhs = rng.normal(size=(2, 5)).astype(np.float32)
    res = mx.nd.sparse.dot(mx.nd.array(dense_lhs), csr)
    out["dns_csr_lhs"], out["dns_csr"], out["dns_csr_stype"] = (dense_lhs, res.asnumpy(),
                                                                 np.array(res.stype))
    return out


def main():
    import mxnet as mx
    os.makedirs(FIX, exist_ok=True)
    np.savez(os.path.join(FIX, "dot.npz"), **dot_cases())
    arrays = {}
    for i, (name, spec) in enumerate(sorted(SCENARIOS.items())):
        rng = np.random.RandomState(10 + i)
        data, label = make_data(spec["model"], rng)
        params = make_params(spec["model"], rng)
        m, outputs, final = train(mx, name, spec, data, label, params)
        arrays[f"{name}/data"], arrays[f"{name}/label"] = data, label
        for k, v in params.items():
            arrays[f"{name}/init/{k}"] = v.astype(np.float32)
        arrays[f"{name}/outputs"] = outputs
        for k, v in final.items():
            arrays[f"{name}/final/{k}"] = v
        if name == "fm":
            m.save_checkpoint(os.path.join(FIX, "fm"), 1)
            arrays["fm/arg_stypes"] = np.array([f"{k}:{v.stype}" for k, v in
                                                sorted(m.get_params()[0].items())])
    np.savez(os.path.join(FIX, "train.npz"), **arrays)
    with open(os.path.join(FIX, "train.json"), "w") as f:
        json.dump({"scenarios": SCENARIOS, "features": FEATURES, "factors": FACTORS,
                   "batch": BATCH, "num": NUM, "vocab": VOCAB, "embed": EMBED,
                   "classes": CLASSES, "seq": SEQ, "mxnet": mx.__version__}, f, indent=1,
                  sort_keys=True)
    print("wrote", FIX)


if __name__ == "__main__":
    main()
