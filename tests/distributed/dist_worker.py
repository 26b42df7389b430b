"""Worker for tests/distributed/test_dist_kvstore.py, started by torchrun (2 processes,
gloo on loopback): ``dist_worker.py OUTDIR SCENARIO [SCENARIO ...]``. Each scenario writes
``OUTDIR/<scenario>-rank<r>.npz``; the test compares them with one-process runs of the same
functions (imported from this file)."""
import os
import sys
import time

import numpy as np

import mxtorch as mx

B = 8          # global batch; each of 2 workers takes B // 2


# ---------------------------------------------------------------- shared model code
def mlp():
    data = mx.sym.var("data")
    h = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=16, name="fc1"),
                          act_type="relu")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=4, name="fc2"),
                                name="softmax")


def dataset(n=64, features=6):
    rng = np.random.RandomState(3)
    return rng.rand(n, features).astype("f"), rng.randint(0, 4, n).astype("f")


def init_params():
    rng = np.random.RandomState(5)
    shapes = {"fc1_weight": (16, 6), "fc1_bias": (16,), "fc2_weight": (4, 16), "fc2_bias": (4,)}
    return {k: mx.nd.array(rng.uniform(-0.5, 0.5, s)) for k, s in shapes.items()}


def interleaved(x, parts):
    """The global order two contiguous shards produce batch by batch (rows of batch i of
    part 0, then of part 1, ...)."""
    n = len(x)
    shards = [x[p * n // parts:(p + 1) * n // parts] for p in range(parts)]
    per = B // parts
    return np.concatenate([s[i:i + per] for i in range(0, len(shards[0]), per)
                           for s in shards])


def fit_module(kvstore, batch_size, **iter_kwargs):
    """Parameters after 3 epochs, the last epoch's training accuracy and the accuracy of
    ``score`` over the data (each worker scores its shard; the result counts all)."""
    return _fit_and_score(mx.mod.Module(mlp()), kvstore, batch_size, iter_kwargs)


def _fit_and_score(mod, kvstore, batch_size, iter_kwargs):
    """``mod`` fitted 3 epochs on ``dataset()``: its parameters, the last epoch's training
    accuracy and ``score``'s accuracy over the data."""
    x, y = dataset()
    it = mx.io.NDArrayIter(x, y, batch_size=batch_size, **iter_kwargs)
    mod.fit(it, num_epoch=3, kvstore=kvstore, arg_params=init_params(),
            optimizer="sgd", optimizer_params={"learning_rate": 0.5, "momentum": 0.9})
    out = {k: v.asnumpy() for k, v in mod.get_params()[0].items()}
    out["train_accuracy"] = np.array(dict(mod.history.last.train)["accuracy"])
    scored = mod.score(mx.io.NDArrayIter(x, y, batch_size=batch_size, **iter_kwargs), "acc")
    out["score_accuracy"] = np.array(dict(scored)["accuracy"])
    return out


def bucket_sym_gen(key):
    """Sequences of length ``key``: a shared projection of each step, summed over time."""
    data = mx.sym.var("data")
    h = mx.sym.sum(mx.sym.FullyConnected(data, num_hidden=5, name="proj", flatten=False),
                   axis=1)
    out = mx.sym.FullyConnected(mx.sym.Activation(h, act_type="tanh"), num_hidden=3,
                                name="out")
    return mx.sym.SoftmaxOutput(out, name="softmax"), ("data",), ("softmax_label",)


def bucket_batches(parts=1, part=0):
    """Batches of keys 2 and 4 in a fixed order; with parts > 1, this worker's half rows."""
    rng = np.random.RandomState(9)
    out = []
    for key in (4, 2, 4, 2, 4):
        x = rng.rand(B, key, 3).astype("f")
        y = rng.randint(0, 3, B).astype("f")
        lo, hi = part * B // parts, (part + 1) * B // parts
        out.append((key, x[lo:hi], y[lo:hi]))
    return out


def fit_bucketing(kvstore, parts=1, part=0):
    mod = mx.mod.BucketingModule(bucket_sym_gen, default_bucket_key=4)
    bs = B // parts
    mod.bind(data_shapes=[("data", (bs, 4, 3))], label_shapes=[("softmax_label", (bs,))])
    mod.init_params(mx.init.Xavier(rnd_type="uniform", magnitude=1.0))
    rng = np.random.RandomState(11)
    arg = {k: mx.nd.array(rng.uniform(-0.3, 0.3, v.shape))
           for k, v in mod.get_params()[0].items()}
    mod.set_params(arg, {})
    mod.init_optimizer(kvstore=kvstore, optimizer="sgd",
                       optimizer_params={"learning_rate": 0.3, "momentum": 0.5})
    for key, x, y in bucket_batches(parts, part):
        batch = mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)], bucket_key=key,
                                provide_data=[mx.io.DataDesc("data", x.shape)],
                                provide_label=[mx.io.DataDesc("softmax_label", y.shape)])
        mod.forward_backward(batch)
        mod.update()
    return {k: v.asnumpy() for k, v in mod.get_params()[0].items()}


def predict_module(n, batch_size=3, **iter_kwargs):
    """A bound predict-only mlp with init_params(), and an iterator over the first ``n``
    samples (this worker's part of them with ``num_parts``/``part_index``)."""
    x, _ = dataset()
    mod = mx.mod.Module(mlp())
    mod.bind(data_shapes=[("data", (batch_size, x.shape[1]))], for_training=False)
    mod.init_params(arg_params=init_params())
    return mod, mx.io.NDArrayIter(x[:n], batch_size=batch_size, **iter_kwargs)


def fit_sequential(kvstore, batch_size, **iter_kwargs):
    """A SequentialModule (fc1 + relu, then fc2 + softmax taking the labels) after 3
    epochs: its parameters, the last epoch's training accuracy and ``score``'s accuracy."""
    data = mx.sym.var("data")
    first = mx.mod.Module(mx.sym.Activation(
        mx.sym.FullyConnected(data, num_hidden=16, name="fc1"), act_type="relu"),
        label_names=None)
    second = mx.mod.Module(mx.sym.SoftmaxOutput(
        mx.sym.FullyConnected(mx.sym.var("hidden"), num_hidden=4, name="fc2"),
        name="softmax"), data_names=["hidden"])
    seq = mx.mod.SequentialModule().add(first).add(second, take_labels=True, auto_wiring=True)
    return _fit_and_score(seq, kvstore, batch_size, iter_kwargs)


def bigdl_classifier():
    from mxtorch.nn.bigdl_layers import Linear, LogSoftMax, ReLU, Sequential
    import torch
    torch.manual_seed(0)
    return Sequential(Linear(6, 16), ReLU(), Linear(16, 7), LogSoftMax())


def bigdl_data(n=23):
    rng = np.random.RandomState(4)
    return rng.randn(n, 6).astype("f"), rng.randint(1, 8, size=n)


def bigdl_methods():
    from mxtorch.nn.bigdl_validation import Loss, Top1Accuracy, Top5Accuracy
    return [Top1Accuracy(), Top5Accuracy(), Loss()]


def bigdl_results(results):
    """``{method: [value, count, total]}`` of evaluate's results (total: correct or the
    summed loss)."""
    return {m.format(): np.array([*r.result(), getattr(r, "correct", getattr(r, "loss", 0))])
            for r, m in results}


# ---------------------------------------------------------------- scenarios (2 workers)
def scenario_kv(kv, out):
    rank = kv.rank
    kv.init("a", mx.nd.full((3, 4), 10.0 + rank))        # rank 0's value wins
    got = mx.nd.zeros((3, 4))
    kv.pull("a", out=got)
    out["init"] = got.asnumpy()
    kv.push("a", mx.nd.array(np.arange(12).reshape(3, 4) * (rank + 1)))
    kv.pull("a", out=got)
    out["push_sum"] = got.asnumpy()                       # 0+..+11 times (1 + 2)
    kv.init(["b", "c"], [mx.nd.zeros((5,)), mx.nd.zeros((2, 2))])
    vals = [[mx.nd.full((5,), 1.0 + rank), mx.nd.full((5,), 0.5)],   # two devices
            [mx.nd.full((2, 2), 2.0 ** rank)]]
    kv.pushpull(["b", "c"], vals)
    out["pushpull_b0"], out["pushpull_c"] = vals[0][0].asnumpy(), vals[1][0].asnumpy()
    kv.set_optimizer(mx.optimizer.create("sgd", learning_rate=0.1))
    kv.push("a", mx.nd.ones((3, 4)))
    kv.pull("a", out=got)
    out["updated"] = got.asnumpy()
    kv.barrier()
    out["rank"], out["num_workers"] = np.array(rank), np.array(kv.num_workers)


def sparse_dataset(n=64, features=20):
    rng = np.random.RandomState(7)
    x = rng.rand(n, features).astype("f")
    x[x > 0.15] = 0
    return x, (x @ rng.randn(features, 1)).astype("f")


def fit_sparse(kvstore, batch_size, **iter_kwargs):
    """csr data, a row_sparse weight (lazy SGD with momentum and wd: only the rows a batch
    touches move), 3 epochs; the parameters."""
    x, y = sparse_dataset()
    it = mx.io.NDArrayIter(mx.nd.array(x).tostype("csr"), {"label": y}, batch_size=batch_size,
                           last_batch_handle="discard", **iter_kwargs)
    w = mx.sym.var("lin_weight", shape=(x.shape[1], 1), stype="row_sparse")
    out = mx.sym.LinearRegressionOutput(mx.sym.dot(mx.sym.var("data", stype="csr"), w),
                                        mx.sym.var("label"))
    mod = mx.mod.Module(out, data_names=["data"], label_names=["label"])
    init = np.random.RandomState(8).uniform(-0.5, 0.5, (x.shape[1], 1))
    mod.fit(it, num_epoch=3, kvstore=kvstore, eval_metric="mse",
            arg_params={"lin_weight": mx.nd.array(init)}, optimizer="sgd",
            optimizer_params={"learning_rate": 0.2, "momentum": 0.9, "wd": 0.01})
    return {k: v.asnumpy() for k, v in mod.get_params()[0].items()}


def scenario_sparse(kv, out):
    out.update(fit_sparse(kv, B // kv.num_workers, **mx.kv.data_shard(kv)))


def scenario_module(kv, out):
    out.update(fit_module(kv, B // kv.num_workers, **mx.kv.data_shard(kv)))


def scenario_bucketing(kv, out):
    out.update(fit_bucketing(kv, kv.num_workers, kv.rank))


def scenario_predict(kv, out):
    """predict(gather=) over 10 samples (5 a worker, batch 3: padded) with the module's
    store, over 11 (5 and 6) with the store passed, always_output_list, and all_gather_rows
    with an empty part on rank 0."""
    import torch
    mod, it = predict_module(10, **mx.kv.data_shard(kv))
    mod.init_optimizer(kvstore=kv)
    out["local10"] = mod.predict(it).asnumpy()          # gather=False: this shard only
    out["even10"] = mod.predict(it, gather=True).asnumpy()
    mod, it = predict_module(11, **mx.kv.data_shard(kv))
    out["uneven11"] = mod.predict(it, gather=kv).asnumpy()
    listed = mod.predict(it, gather=kv, always_output_list=True)
    out["listed11"] = np.array([len(listed)] + list(listed[0].shape))
    part = torch.empty(0) if kv.rank == 0 else torch.arange(6, dtype=torch.int64).reshape(2, 3)
    out["empty_part"] = kv.all_gather_rows(part).numpy()


def scenario_sequential(kv, out):
    out.update(fit_sequential(kv, B // kv.num_workers, **mx.kv.data_shard(kv)))


def scenario_bigdl(kv, out):
    """BigDL evaluate of this worker's contiguous part of 23 samples (11 and 12), batch 4,
    with distributed=True and distributed=kv; the local result too."""
    x, y = bigdl_data()
    lo, hi = kv.rank * len(x) // 2, (kv.rank + 1) * len(x) // 2
    model = bigdl_classifier()
    for name, how in (("local", False), ("default_group", True), ("store", kv)):
        results = model.evaluate((x[lo:hi], y[lo:hi]), bigdl_methods(), batch_size=4,
                                 distributed=how)
        for method, value in bigdl_results(results).items():
            out[f"{name}_{method}"] = value


def scenario_die(kv, out):
    """Rank 1 dies after the first step; rank 0 must fail with a clear error, not hang."""
    kv.init("w", mx.nd.zeros((4,)))
    kv.push("w", mx.nd.ones((4,)))
    if kv.rank == 1:
        os._exit(3)
    for _ in range(100):
        kv.push("w", mx.nd.ones((4,)))
        time.sleep(0.05)


def scenario_digits(kv, out):
    """The digits MLP, 2 workers of batch 32, plain SGD, uncompressed and with 2-bit
    compression (threshold 0.5): validation accuracy of each (the same on both workers).
    (With momentum 0.9, 2-bit training collapses to chance here, in MXNet 1.9.1 too.)"""
    from mxtorch.demo import mlp_symbol, split_digits
    x, y = mx.datasets.load_digits()
    x_train, y_train, x_val, y_val = split_digits(x, y)
    for name, params in (("plain", None), ("2bit", {"type": "2bit", "threshold": 0.5})):
        store = kv if name == "plain" else mx.kv.create("dist_sync")
        if params:
            store.set_gradient_compression(params)
        mx.random.seed(1)
        np.random.seed(1)
        train = mx.io.NDArrayIter(x_train, y_train, 32, shuffle=True, **mx.kv.data_shard(store))
        mod = mx.mod.Module(mlp_symbol(mx))
        mod.fit(train, num_epoch=30, kvstore=store, initializer=mx.init.Xavier(),
                optimizer="sgd", optimizer_params={"learning_rate": 0.1})
        out[name] = np.array(mod.score(mx.io.NDArrayIter(x_val, y_val, 50), "acc")[0][1])


def scenario_resume(kv, out):
    """fit(resume=) on 2 workers: the snapshot prefix and epochs come from the environment
    (RESUME_PREFIX, RESUME_EPOCHS); returns the parameters."""
    x, y = dataset()
    np.random.seed(kv.rank)
    it = mx.io.NDArrayIter(x, y, batch_size=B // 2, shuffle=True, **mx.kv.data_shard(kv))
    mod = mx.mod.Module(mlp())
    prefix = os.environ.get("RESUME_PREFIX") or None
    writes = []                  # this worker's do_checkpoint writes (rank 0 only expected)
    save = mx.model.save_checkpoint
    mx.model.save_checkpoint = lambda *a, **k: (writes.append(a[1]), save(*a, **k))
    try:
        mod.fit(it, num_epoch=int(os.environ["RESUME_EPOCHS"]), kvstore=kv,
                arg_params=init_params(), resume=prefix,
                epoch_end_callback=mx.callback.do_checkpoint(prefix + "-ck") if prefix else None,
                optimizer="sgd", optimizer_params={"learning_rate": 0.5, "momentum": 0.9})
    finally:
        mx.model.save_checkpoint = save
    out.update({k: v.asnumpy() for k, v in mod.get_params()[0].items()})
    out["checkpoint_writes"] = np.array(writes, dtype=np.int64)


def main():
    outdir, scenarios = sys.argv[1], sys.argv[2:]
    for name in scenarios:
        kv = mx.kv.create("dist_sync")
        out = {}
        globals()["scenario_" + name](kv, out)
        np.savez(os.path.join(outdir, f"{name}-rank{kv.rank}.npz"), **out)


if __name__ == "__main__":
    main()
