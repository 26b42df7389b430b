"""Generate fixtures of full Module.fit runs with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_fit_fixtures.py
Writes tests/compat/fixtures/fit/<case>.npz: data, labels, initial parameters, the
parameters after fit, the per-epoch train metric values and the predictions, and the
symbol JSON. The same script body runs on mxtorch (tests/compat/test_fit.py) so the two
must agree.
"""
import logging
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "fit")

CASES = {
    "mlp_sgd_mom": dict(optimizer="sgd", optimizer_params={"learning_rate": 0.1, "momentum": 0.9,
                                                           "wd": 1e-3}, batch=20, bn=False),
    "mlp_sgd_pad": dict(optimizer="sgd", optimizer_params={"learning_rate": 0.05}, batch=16,
                        bn=False),
    "mlp_adam_clip": dict(optimizer="adam", optimizer_params={"learning_rate": 0.01,
                                                              "clip_gradient": 0.5, "wd": 1e-4},
                          batch=20, bn=False),
    "mlp_nag": dict(optimizer="nag", optimizer_params={"learning_rate": 0.05, "momentum": 0.9},
                    batch=20, bn=False),
    "mlp_bn_sgd": dict(optimizer="sgd", optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
                       batch=20, bn=True),
}


def build(mx, bn):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, name="fc1", num_hidden=16)
    if bn:
        net = mx.sym.BatchNorm(net, name="bn1", fix_gamma=False)
    net = mx.sym.Activation(net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(net, name="fc2", num_hidden=3)
    return mx.sym.SoftmaxOutput(net, name="softmax")


def make_data():
    rng = np.random.RandomState(42)
    x = rng.randn(60, 10).astype(np.float32)
    w = rng.randn(10, 3).astype(np.float32)
    y = (x @ w).argmax(axis=1).astype(np.float32)
    return x, y


def init_params(mx, sym, batch):
    rng = np.random.RandomState(7)
    arg_shapes, _, aux_shapes = sym.infer_shape(data=(batch, 10))
    args = {}
    for name, shape in zip(sym.list_arguments(), arg_shapes):
        if name in ("data", "softmax_label"):
            continue
        args[name] = rng.uniform(-0.3, 0.3, shape).astype(np.float32)
        if name.endswith("gamma"):
            args[name] = 1 + args[name]
    aux = {}
    for name, shape in zip(sym.list_auxiliary_states(), aux_shapes):
        aux[name] = (np.zeros(shape) if "mean" in name else np.ones(shape)).astype(np.float32)
    return args, aux


def run(mx, case, epochs=3):
    """The fit under test; returns a dict of numpy results."""
    cfg = CASES[case]
    x, y = make_data()
    sym = build(mx, cfg["bn"])
    args, aux = init_params(mx, sym, cfg["batch"])
    train = mx.io.NDArrayIter(x, y, batch_size=cfg["batch"], shuffle=False)
    mod = mx.mod.Module(sym, context=mx.cpu())
    metrics = []

    def cb(param):
        if param.locals.get("end_of_batch"):
            metrics.append(param.eval_metric.get()[1])

    mod.fit(train, num_epoch=epochs, optimizer=cfg["optimizer"],
            optimizer_params=dict(cfg["optimizer_params"]),
            arg_params={k: mx.nd.array(v) for k, v in args.items()},
            aux_params={k: mx.nd.array(v) for k, v in aux.items()},
            batch_end_callback=cb, eval_metric="acc")
    arg_out, aux_out = mod.get_params()
    pred = mod.predict(mx.io.NDArrayIter(x, batch_size=cfg["batch"]))
    res = {"x": x, "y": y, "pred": pred.asnumpy(), "train_acc": np.array(metrics)}
    res.update({"init_arg:" + k: v for k, v in args.items()})
    res.update({"init_aux:" + k: v for k, v in aux.items()})
    res.update({"arg:" + k: v.asnumpy() for k, v in arg_out.items()})
    res.update({"aux:" + k: v.asnumpy() for k, v in aux_out.items()})
    return res, sym.tojson()


def main():
    import mxnet as mx
    logging.basicConfig(level=logging.WARNING)
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        res, js = run(mx, case)
        np.savez(os.path.join(OUT, case + ".npz"), **res)
        with open(os.path.join(OUT, case + "-symbol.json"), "w") as f:
            f.write(js)
        print(case, "train_acc", res["train_acc"])


if __name__ == "__main__":
    sys.exit(main())
