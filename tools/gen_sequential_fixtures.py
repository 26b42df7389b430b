"""Generate fixtures of SequentialModule and PythonLossModule runs with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_sequential_fixtures.py
Writes tests/compat/fixtures/sequential/<case>.npz: the initial parameters, the
parameters after training, the per-epoch train accuracy, the validation score and
predictions (fit cases), or the outputs and input gradients of each step (the manual
case). Data: the first 300 images of the shipped digits (mxtorch/data/digits.npz).
The same ``run`` runs on mxtorch in tests/compat/test_sequential.py.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "compat", "fixtures", "sequential")
BATCH = 20
SGD_MOM = ("sgd", {"learning_rate": 0.1, "momentum": 0.9})
CASES = {
    # FC-BN-relu | FC-relu-FC-SoftmaxOutput, auto_wiring (MXNet's sequential_module.py)
    "seq_auto_wiring": dict(kind="seq", wiring="auto", opt=SGD_MOM, epochs=3),
    # second module's data variable is named like the first's output: no auto_wiring
    "seq_named_wiring": dict(kind="seq", wiring="named",
                             opt=("sgd", {"learning_rate": 0.05, "wd": 1e-3}), epochs=2),
    # first module data-parallel on two CPU contexts
    "seq_multi_ctx": dict(kind="seq", wiring="auto", opt=SGD_MOM, epochs=2,
                          ctx1=2),
    # MXNet's python_loss.py: MLP without loss + PythonLossModule(multi-class hinge)
    "pyloss_hinge_sgd_mom": dict(kind="pyloss", opt=("sgd", {"learning_rate": 0.01,
                                                             "momentum": 0.9}), epochs=3),
    # three modules: FC-relu | FC | hinge loss, Adam
    "pyloss_three_adam": dict(kind="pyloss3", opt=("adam", {"learning_rate": 0.01}), epochs=2),
    # bind/forward/backward/update by hand with inputs_need_grad: outputs and input grads
    "seq_manual_steps": dict(kind="manual", opt=SGD_MOM, steps=3),
}


def digits(n_train=200, n_val=100):
    """The first 300 shipped digits: pixels / 16 as float32, labels as float32."""
    with np.load(os.path.join(ROOT, "mxtorch", "data", "digits.npz")) as z:
        x = z["pixels"][:n_train + n_val].reshape(n_train + n_val, -1).astype(np.float32) / 16
        y = z["labels"][:n_train + n_val].astype(np.float32)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def mc_hinge_grad(scores, labels):
    """Gradient of the multi-class hinge loss (MXNet's example/module/python_loss.py,
    vectorized): -1 at the label, +1 at the most violating class."""
    s = scores.asnumpy()
    lab = labels.asnumpy().astype(np.int64)
    rows = np.arange(s.shape[0])
    margin = 1 + s - s[rows, lab][:, None]
    margin[rows, lab] = 0
    grad = np.zeros_like(s)
    grad[rows, lab] -= 1
    grad[rows, margin.argmax(axis=1)] += 1
    return grad


def build(mx, cfg):
    """The chain for ``cfg`` (not bound)."""
    ctx1 = [mx.cpu(i) for i in range(cfg.get("ctx1", 1))]
    data = mx.sym.Variable("data")
    if cfg["kind"] in ("seq", "manual"):
        net = mx.sym.FullyConnected(data, name="fc1", num_hidden=24)
        if cfg["kind"] == "seq":
            net = mx.sym.BatchNorm(net, name="bn1", fix_gamma=False)
        net = mx.sym.Activation(net, name="relu1", act_type="relu")
        mod1 = mx.mod.Module(net, label_names=[], context=ctx1)
        named = cfg.get("wiring") == "named"
        data2 = mx.sym.Variable("relu1_output" if named else "data")
        net = mx.sym.FullyConnected(data2, name="fc2", num_hidden=16)
        net = mx.sym.Activation(net, name="relu2", act_type="relu")
        net = mx.sym.FullyConnected(net, name="fc3", num_hidden=10)
        net = mx.sym.SoftmaxOutput(net, name="softmax")
        mod2 = mx.mod.Module(net, data_names=["relu1_output" if named else "data"])
        seq = mx.mod.SequentialModule()
        return seq.add(mod1).add(mod2, take_labels=True, auto_wiring=not named)
    loss = mx.mod.PythonLossModule(grad_func=mc_hinge_grad)
    if cfg["kind"] == "pyloss":
        net = mx.sym.FullyConnected(data, name="fc1", num_hidden=24)
        net = mx.sym.Activation(net, name="relu1", act_type="relu")
        net = mx.sym.FullyConnected(net, name="fc2", num_hidden=16)
        net = mx.sym.Activation(net, name="relu2", act_type="relu")
        net = mx.sym.FullyConnected(net, name="fc3", num_hidden=10)
        mlp = mx.mod.Module(net)
        return mx.mod.SequentialModule().add(mlp).add(loss, take_labels=True, auto_wiring=True)
    net = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc1", num_hidden=24),
                            name="relu1", act_type="relu")
    mod1 = mx.mod.Module(net, label_names=[])
    mod2 = mx.mod.Module(mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc2",
                                               num_hidden=10), label_names=None)
    return (mx.mod.SequentialModule().add(mod1).add(mod2, auto_wiring=True)
            .add(loss, take_labels=True, auto_wiring=True))


def init_values(seq):
    """Fixed initial parameters for a bound chain (Glorot-uniform weights, small biases,
    BatchNorm gamma near 1)."""
    rng = np.random.RandomState(5)
    args, auxs = {}, {}
    for module in seq._modules:
        arg, aux = module.get_params()
        for name in sorted(arg):
            shape = arg[name].shape
            if name.endswith("_weight"):
                a = np.sqrt(6.0 / (shape[0] + shape[1]))
                args[name] = rng.uniform(-a, a, shape).astype(np.float32)
            elif name.endswith("_gamma"):
                args[name] = rng.uniform(0.8, 1.2, shape).astype(np.float32)
            else:
                args[name] = rng.uniform(-0.1, 0.1, shape).astype(np.float32)
        for name in sorted(aux):
            shape = aux[name].shape
            auxs[name] = (np.ones(shape) if name.endswith("_var") else
                          np.zeros(shape)).astype(np.float32)
    return args, auxs


def run(mx, case):
    """Run ``case`` under ``mx`` (mxnet or mxtorch); a dict of numpy results."""
    cfg = CASES[case]
    (x, y), (vx, vy) = digits()
    seq = build(mx, cfg)
    train = mx.io.NDArrayIter(x, y, batch_size=BATCH, shuffle=False)
    val = mx.io.NDArrayIter(vx, vy, batch_size=BATCH, shuffle=False)
    manual = cfg["kind"] == "manual"
    seq.bind(train.provide_data, train.provide_label, inputs_need_grad=manual)
    seq.init_params(mx.init.Uniform(0.01))
    args, auxs = init_values(seq)
    res = {"init:" + k: v for k, v in args.items()}
    res.update({"init_aux:" + k: v for k, v in auxs.items()})
    nd_args = {k: mx.nd.array(v) for k, v in args.items()}
    nd_auxs = {k: mx.nd.array(v) for k, v in auxs.items()}
    optimizer, params = cfg["opt"]
    if manual:
        seq.set_params(nd_args, nd_auxs)
        seq.init_optimizer(optimizer=optimizer, optimizer_params=dict(params))
        for step in range(cfg["steps"]):
            batch = train.next()
            seq.forward(batch, is_train=True)
            seq.backward()
            res["out%d" % step] = seq.get_outputs()[0].asnumpy()
            # MXNet's SequentialModule never sets inputs_need_grad on itself, so its own
            # get_input_grads asserts: read the first module's
            res["dgrad%d" % step] = seq._modules[0].get_input_grads()[0].asnumpy()
            seq.update()
    else:
        acc = []
        seq.fit(train, num_epoch=cfg["epochs"], optimizer=optimizer,
                optimizer_params=dict(params), arg_params=nd_args, aux_params=nd_auxs,
                force_init=True,
                eval_metric="acc",
                batch_end_callback=lambda p: acc.append(p.eval_metric.get()[1])
                if p.locals.get("end_of_batch") else None)
        res["train_acc"] = np.array(acc)
        res["val_acc"] = np.array([seq.score(val, "acc")[0][1]])
        res["pred"] = seq.predict(val).asnumpy()
    arg, aux = seq.get_params()
    res.update({"arg:" + k: v.asnumpy() for k, v in arg.items()})
    res.update({"aux:" + k: v.asnumpy() for k, v in aux.items()})
    return res


def main():
    import logging
    import mxnet as mx
    logging.basicConfig(level=logging.WARNING)
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        res = run(mx, case)
        np.savez(os.path.join(OUT, case + ".npz"), **res)
        print(case, {k: v for k, v in res.items() if k in ("train_acc", "val_acc")})


if __name__ == "__main__":
    sys.exit(main())
