"""Generate fixtures of Module runs on several contexts (kvstore, states, monitor) with
real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_module_fixtures.py
Writes tests/compat/fixtures/module/<case>.npz (and monitor.json). Each ``run_*``
function takes the library as ``mx`` (and the monitor module as ``mon``) so the same
body runs on mxtorch in tests/module/test_module_kvstore.py, test_states.py and
tests/test_monitor.py.
"""
import json
import logging
import os
import sys
from functools import reduce

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "module")

# multi-context fits: contexts [cpu(0), cpu(1)], work_load_list [1, 2], batch 12
FIT_CASES = {
    "mc_local_sgd": dict(kvstore="local", update_on_kvstore="1", optimizer="sgd",
                         optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3}),
    "mc_device_adam_noupd": dict(kvstore="device", update_on_kvstore="0", optimizer="adam",
                                 optimizer_params={"learning_rate": 0.01, "wd": 1e-4}),
    "mc_none_sgd": dict(kvstore=None, update_on_kvstore="1", optimizer="sgd",
                        optimizer_params={"learning_rate": 0.1, "momentum": 0.9}),
}


def mlp(mx):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, name="fc1", num_hidden=16)
    net = mx.sym.Activation(net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(net, name="fc2", num_hidden=3)
    return mx.sym.SoftmaxOutput(net, name="softmax")


def make_data():
    rng = np.random.RandomState(42)
    x = rng.randn(60, 10).astype(np.float32)
    w = rng.randn(10, 3).astype(np.float32)
    y = (x @ w).argmax(axis=1).astype(np.float32)
    return x, y


def init_args(sym, batch):
    rng = np.random.RandomState(7)
    arg_shapes, _, _ = sym.infer_shape(data=(batch, 10))
    return {name: rng.uniform(-0.3, 0.3, shape).astype(np.float32)
            for name, shape in zip(sym.list_arguments(), arg_shapes)
            if name not in ("data", "softmax_label")}


def run_fit(mx, case, contexts=None, work_load_list=(1, 2), epochs=3):
    """Fit the MLP on ``contexts`` (default cpu(0), cpu(1)); returns numpy results."""
    cfg = FIT_CASES[case]
    old = os.environ.get("MXNET_UPDATE_ON_KVSTORE")
    os.environ["MXNET_UPDATE_ON_KVSTORE"] = cfg["update_on_kvstore"]
    try:
        x, y = make_data()
        sym = mlp(mx)
        args = init_args(sym, 12)
        contexts = contexts or [mx.cpu(0), mx.cpu(1)]
        mod = mx.mod.Module(sym, context=contexts,
                            work_load_list=list(work_load_list) if len(contexts) > 1 else None)
        metrics = []

        def cb(param):
            if param.locals.get("end_of_batch"):
                metrics.append(param.eval_metric.get()[1])

        mod.fit(mx.io.NDArrayIter(x, y, batch_size=12, shuffle=False), num_epoch=epochs,
                kvstore=cfg["kvstore"], optimizer=cfg["optimizer"],
                optimizer_params=dict(cfg["optimizer_params"]),
                arg_params={k: mx.nd.array(v) for k, v in args.items()},
                batch_end_callback=cb, eval_metric="acc")
        arg_out, _ = mod.get_params()
        res = {"train_acc": np.array(metrics), "update_on_kvstore": np.array(
            bool(mod._update_on_kvstore)), "has_kvstore": np.array(mod._kvstore is not None)}
        res.update({"arg:" + k: v.asnumpy() for k, v in arg_out.items()})
        return res
    finally:
        if old is None:
            del os.environ["MXNET_UPDATE_ON_KVSTORE"]
        else:
            os.environ["MXNET_UPDATE_ON_KVSTORE"] = old


def run_optimizer_states(mx):
    """One SGD-momentum step on 2 cpus with a kvstore: the kvstore updater's states
    (keyed by parameter name) and the parameters, plus the single-device states."""
    x, y = make_data()
    sym = mlp(mx)
    args = init_args(sym, 12)
    out = {}
    for tag, ctx in (("mc", [mx.cpu(0), mx.cpu(1)]), ("sc", [mx.cpu(0)])):
        mod = mx.mod.Module(sym, context=ctx)
        mod.bind(data_shapes=[("data", (12, 10))], label_shapes=[("softmax_label", (12,))])
        mod.init_params(arg_params={k: mx.nd.array(v) for k, v in args.items()})
        mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
        for i in range(2):
            batch = mx.io.DataBatch(data=[mx.nd.array(x[12 * i:12 * (i + 1)])],
                                    label=[mx.nd.array(y[12 * i:12 * (i + 1)])])
            mod.forward_backward(batch)
            mod.update()
        updater = mod._kvstore._updater if tag == "mc" else mod._updater
        for k, v in updater.states.items():
            out[f"{tag}_state:{k}"] = v.asnumpy()
        for k, v in mod.get_params()[0].items():
            out[f"{tag}_arg:{k}"] = v.asnumpy()
    return out


def run_states(mx):
    """A module with explicit state inputs on 2 cpus: outputs after set_states(value=)
    and after set_states(states=) with the unmerged outputs fed back."""
    data = mx.sym.Variable("data")
    s0 = mx.sym.Variable("s0")
    s1 = mx.sym.Variable("s1")
    h = mx.sym.FullyConnected(data, name="fc", num_hidden=4)
    n0 = mx.sym.Activation(h + s0, act_type="tanh", name="n0")
    n1 = mx.sym.Activation(n0 * s1 + h, act_type="sigmoid", name="n1")
    sym = mx.sym.Group([n0, n1])
    mod = mx.mod.Module(sym, context=[mx.cpu(0), mx.cpu(1)], label_names=None,
                        state_names=["s0", "s1"])
    mod.bind(data_shapes=[("data", (6, 3))], label_shapes=None, for_training=False)
    rng = np.random.RandomState(3)
    w = rng.uniform(-1, 1, (4, 3)).astype(np.float32)
    b = rng.uniform(-1, 1, (4,)).astype(np.float32)
    mod.init_params(arg_params={"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.array(b)})
    x = rng.uniform(-1, 1, (6, 3)).astype(np.float32)
    batch = mx.io.DataBatch(data=[mx.nd.array(x)], label=[])
    res = {"x": x}
    mod.set_states(value=0.5)
    res["states_after_value"] = np.stack([np.concatenate([a.asnumpy() for a in per_dev])
                                          for per_dev in mod.get_states(False)])
    mod.forward(batch)
    out = mod.get_outputs(merge_multi_context=False)
    res["out1_0"], res["out1_1"] = [o.asnumpy() for o in mod.get_outputs()]
    mod.set_states(states=out)
    mod.forward(batch)
    res["out2_0"], res["out2_1"] = [o.asnumpy() for o in mod.get_outputs()]
    return res


def run_monitor(mx, mon, sort):
    """MXNet's test_monitor network: toc() entries (step, name, stat string)."""
    data = mx.nd.array([[0.05, .10]])
    label = mx.nd.array([[.01, 0.99]])
    train_data = mx.io.NDArrayIter(data, label, batch_size=1)
    x = mx.symbol.Variable("data")
    x = mx.symbol.FullyConnected(name="fc_0", data=x, num_hidden=2)
    x = mx.symbol.Activation(name="act_0", data=x, act_type="sigmoid")
    x = mx.symbol.FullyConnected(name="fc_1", data=x, num_hidden=2)
    x = mx.symbol.Activation(name="act_1", data=x, act_type="sigmoid")
    x = mx.symbol.LinearRegressionOutput(data=x, name="softmax", grad_scale=2)

    def mean_abs(a):
        sum_abs = mx.ndarray.sum(mx.ndarray.abs(a))
        return mx.ndarray.divide(sum_abs, reduce(lambda p, q: p * q, a.shape))

    m = mon.Monitor(1, stat_func=mean_abs, pattern=".*", sort=sort)
    mod = mx.mod.Module(x, context=[mx.cpu()])
    mod.bind(train_data.provide_data, label_shapes=train_data.provide_label,
             for_training=True)
    mod.install_monitor(m)
    mod.init_params(arg_params={"fc_0_weight": mx.nd.array([[.15, .20], [.25, .30]]),
                                "fc_0_bias": mx.nd.array([.35, .35]),
                                "fc_1_weight": mx.nd.array([[.40, .45], [.50, .55]]),
                                "fc_1_bias": mx.nd.array([.60, .60])})
    batch = next(iter(train_data))
    m.tic()
    mod.forward_backward(batch)
    return m.toc()


def main():
    import mxnet as mx
    logging.basicConfig(level=logging.WARNING)
    os.makedirs(OUT, exist_ok=True)
    for case in FIT_CASES:
        res = run_fit(mx, case)
        np.savez(os.path.join(OUT, case + ".npz"), **res)
        print(case, "train_acc", res["train_acc"], "update_on_kvstore",
              res["update_on_kvstore"])
    np.savez(os.path.join(OUT, "optimizer_states.npz"), **run_optimizer_states(mx))
    np.savez(os.path.join(OUT, "states.npz"), **run_states(mx))
    mon = {"unsorted": run_monitor(mx, mx.mon, False), "sorted": run_monitor(mx, mx.mon, True)}
    with open(os.path.join(OUT, "monitor.json"), "w") as f:
        json.dump(mon, f, indent=1)
    print("monitor", [k for _, k, _ in mon["unsorted"]])


if __name__ == "__main__":
    sys.exit(main())
