"""Generate golden fixtures for mx.io (NDArrayIter, DataBatch, DataDesc), mx.init and
mx.callback with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_io_init_fixtures.py
Writes tests/compat/fixtures/io/ndarray_iter.json, tests/compat/fixtures/init/init.json
and tests/compat/fixtures/callback/callback.json. The tests replay the same calls on
mxtorch (numpy's global RNG drives NDArrayIter's shuffle in both, so seeded runs agree).
"""
import json
import logging
import os
import types
import warnings

import numpy as np
import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "compat", "fixtures")


def _ints(x):
    return [int(round(v)) for v in np.asarray(x).ravel()]


def _epochs(it, n_epochs, scale=1.0, with_idx=False):
    """Per epoch: batches as [data rows (first column * scale, as ints), labels * scale
    (or None), pad], the cursor after the epoch and (shuffled runs) ``idx``. An MXNet
    error ends the record with the string "error"."""
    out = []
    for _ in range(n_epochs):
        ep = []
        try:
            for b in it:
                first = b.data[0].asnumpy().reshape(b.data[0].shape[0], -1)[:, 0]
                lab = _ints(b.label[0].asnumpy() * scale) if b.label else None
                ep.append([_ints(first * scale), lab, int(b.pad)])
        except mx.base.MXNetError:
            out.append({"batches": ep, "error": True})
            return out
        rec = {"batches": ep, "cursor": int(it.cursor)}
        if with_idx:
            rec["idx"] = [int(i) for i in it.idx]
        out.append(rec)
        it.reset()
    return out


def gen_io():
    res = {}
    # the test_io scenario: 1000 samples (2,2), label i/100, batch 128
    data = np.ones([1000, 2, 2])
    label = np.ones([1000, 1])
    for i in range(1000):
        data[i] = i / 100
        label[i] = i / 100
    res["test_io"] = {}
    for mode in ("pad", "discard", "roll_over"):
        it = mx.io.NDArrayIter(data, label, 128, False, last_batch_handle=mode)
        res["test_io"][mode] = _epochs(it, 3, scale=100.0)
    # a grid of sizes, all modes, no shuffle (rows hold their index)
    grid = []
    for n in (1, 5, 7, 10):
        for bs in (1, 3, 4, 10, 12, 25):
            for mode in ("pad", "discard", "roll_over"):
                d = np.arange(n * 2, dtype=np.float32).reshape(n, 2) / 2
                lab = np.arange(n, dtype=np.float32)
                it = mx.io.NDArrayIter(d, lab, bs, last_batch_handle=mode)
                grid.append({"n": n, "bs": bs, "mode": mode, "epochs": _epochs(it, 3)})
    res["grid"] = grid
    # seeded shuffles (numpy global RNG)
    shuf = []
    for seed, n, bs, mode in ((0, 10, 3, "pad"), (1, 10, 3, "discard"), (2, 10, 3, "roll_over"),
                              (3, 7, 7, "pad"), (4, 12, 5, "roll_over")):
        np.random.seed(seed)
        d = np.arange(n * 2, dtype=np.float32).reshape(n, 2) / 2
        lab = np.arange(n, dtype=np.float32)
        it = mx.io.NDArrayIter(d, lab, bs, shuffle=True, last_batch_handle=mode)
        shuf.append({"seed": seed, "n": n, "bs": bs, "mode": mode, "idx0": it.idx.tolist(),
                     "epochs": _epochs(it, 3, with_idx=True)})
    res["shuffle"] = shuf
    # 10 samples, batch 205, pad
    d = np.arange(10, dtype=np.float32).reshape(10, 1)
    it = mx.io.NDArrayIter(d, batch_size=205, last_batch_handle="pad")
    b = next(it)
    res["pad_tile"] = {"data": b.data[0].asnumpy().ravel().tolist(), "pad": b.pad,
                       "label": list(b.label)}
    # naming and provide_data / provide_label
    naming = {}
    arrs = [np.zeros((6, i + 1), dtype=np.float32) for i in range(12)]
    cases = {
        "single": (np.zeros((6, 3)), None, {}),
        "list1": ([np.zeros((6, 3))], [np.zeros((6,))], {}),
        "list12": (arrs, [np.zeros((6,)), np.zeros((6, 2))], {}),
        "dict": ({"b": np.zeros((6, 2)), "a": np.zeros((6, 3, 4))}, {"lab": np.zeros((6,))}, {}),
        "names": (np.zeros((6, 3)), np.zeros((6,)), {"data_name": "x", "label_name": "y"}),
        "int_numpy": (np.zeros((6, 3), dtype=np.int64), np.zeros((6,), dtype=np.int32), {}),
        "nd_int32": (mx.nd.zeros((6, 3), dtype="int32"), mx.nd.zeros((6,), dtype="float64"), {}),
        "empty_label": (np.zeros((6, 3)), [], {}),
    }
    for key, (dat, lab, kw) in cases.items():
        it = mx.io.NDArrayIter(dat, lab, batch_size=4, **kw)
        b = next(it)
        naming[key] = {"provide_data": [repr(x) for x in it.provide_data],
                       "provide_label": [repr(x) for x in it.provide_label],
                       "batch": str(b), "label_is_list": isinstance(b.label, list),
                       "n_label": len(b.label)}
    res["naming"] = naming
    res["databatch_str"] = [str(mx.io.DataBatch(data=[mx.nd.ones((2, 3))])),
                            str(mx.io.DataBatch(data=[mx.nd.ones((2, 3)), mx.nd.ones((2,))],
                                                label=[mx.nd.ones((2, 1))]))]
    res["datadesc_repr"] = [repr(mx.io.DataDesc("a", (1, 2))),
                            repr(mx.io.DataDesc("b", (3,), np.int32, "NTC")),
                            repr(mx.io.DataDesc("c", (4, 5), "float16", "TNC"))]
    res["batch_axis"] = {str(l): mx.io.DataDesc.get_batch_axis(l)
                         for l in ("NCHW", "TNC", "NTC", "CHW", None)}
    with open(os.path.join(FIX, "io", "ndarray_iter.json"), "w") as f:
        json.dump(res, f, separators=(",", ":"))


class _Seven(mx.init.Initializer):
    def _init_weight(self, _, arr):
        arr[:] = 7


def gen_init():
    res = {}
    inits = [mx.init.Zero(), mx.init.One(), mx.init.Constant(1), mx.init.Constant(0.5),
             mx.init.Constant(np.array([1.0, 2.0])), mx.init.Uniform(), mx.init.Uniform(0.1),
             mx.init.Normal(), mx.init.Normal(0.5), mx.init.Xavier(),
             mx.init.Xavier(factor_type="in", magnitude=2.34),
             mx.init.Xavier(rnd_type="gaussian", factor_type="out", magnitude=2),
             mx.init.MSRAPrelu(), mx.init.MSRAPrelu("in", 0.1), mx.init.Orthogonal(),
             mx.init.Orthogonal(2.0, "normal"), mx.init.Bilinear(), mx.init.LSTMBias(),
             mx.init.LSTMBias(2.5)]
    res["dumps"] = [i.dumps() for i in inits]
    # suffix rules: InitDesc and legacy str, with a weight initializer writing 7
    names = ["fc_weight", "fc_bias", "bn_gamma", "bn_beta", "q_min", "q_max", "weight", "bias",
             "xweight", "bn_moving_mean", "bn_moving_var", "bn_moving_inv_var", "x_moving_avg",
             "foo", "data", "upsampling0_weight", "stn_loc_weight", "stn_loc_bias",
             "fc_weight_quantize", "fc_bias_quantize", "gammab"]
    rules = {}
    warnings.simplefilter("ignore")
    for name in names:
        shape = (6,) if "stn_loc_bias" in name else ((1, 1, 4, 4) if "upsampling" in name else (2, 3))
        out = {}
        for kind in ("desc", "legacy"):
            arr = mx.nd.full(shape, -3.0)
            try:
                _Seven()(mx.init.InitDesc(name) if kind == "desc" else name, arr)
                out[kind] = arr.asnumpy().ravel().tolist()
            except ValueError:
                out[kind] = "ValueError"
        rules[name] = out
    res["rules"] = rules
    # __init__ attribute precedence
    attrs = {}
    for name, init in (("x_gamma", '["constant", {"value": 0.25}]'), ("x_weight", '["one", {}]'),
                       ("moving_var", '["one", {}]'), ("anything", '["zero", {}]'),
                       ("y_bias", '["constant", {"value": 3}]')):
        arr = mx.nd.full((2, 2), -3.0)
        mx.init.Uniform()(mx.init.InitDesc(name, attrs={"__init__": init}), arr)
        attrs[name] = {"init": init, "value": arr.asnumpy().ravel().tolist()}
    res["attr_init"] = attrs
    # deterministic initializers
    bil = {}
    for shape in ((1, 1, 4, 4), (2, 1, 3, 5), (1, 2, 5, 3), (1, 1, 1, 1), (1, 1, 6, 6)):
        arr = mx.nd.zeros(shape)
        mx.init.Bilinear()(mx.init.InitDesc("up_weight"), arr)
        bil[str(list(shape))] = arr.asnumpy().ravel().tolist()
    res["bilinear"] = bil
    lstm = {}
    for fb, n in ((1.0, 8), (2.5, 12), (0.0, 4)):
        arr = mx.nd.full((n,), -3.0)
        mx.init.LSTMBias(fb)(mx.init.InitDesc("lstm_weight"), arr)
        lstm[f"{fb}_{n}"] = arr.asnumpy().tolist()
    res["lstm_bias"] = lstm
    # create round trips
    created = {}
    for spec in ("xavier", "Xavier", "zeros", "ones", '["normal", {"sigma": 0.5}]',
                 '{"initializer": "uniform", "scale": 0.2}', '["msraprelu", {"slope": 0.1}]'):
        created[spec] = mx.init.create(spec).dumps()
    created["dict"] = mx.init.create({"initializer": "constant", "value": 2}).dumps()
    res["create"] = created
    # Mixed and Load
    arr_b, arr_w = mx.nd.full((3,), -1.0), mx.nd.full((2, 3), -1.0)
    mixed = mx.init.Mixed(["bias", ".*"], [mx.init.Zero(), mx.init.One()])
    mixed("fc_bias", arr_b)
    mixed("fc_weight", arr_w)
    res["mixed"] = {"fc_bias": arr_b.asnumpy().tolist(), "fc_weight": arr_w.asnumpy().ravel().tolist()}
    with open(os.path.join(FIX, "init", "init.json"), "w") as f:
        json.dump(res, f, separators=(",", ":"))


class _FakeMetric:
    def __init__(self, pairs):
        self.pairs = pairs
        self.resets = 0

    def get_name_value(self):
        return list(self.pairs)

    def reset_local(self):
        self.resets += 1


def gen_callback():
    """Log lines of the callbacks, with time.time() replaced by a fixed clock."""
    import mxnet.callback as cbmod
    res = {}

    class Catch(logging.Handler):
        def __init__(self):
            super().__init__()
            self.lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    def run(cb, calls, metric, times=None):
        h = Catch()
        root = logging.getLogger()
        root.addHandler(h)
        root.setLevel(logging.INFO)
        if times is not None:
            clock = iter(times)
            cbmod.time = types.SimpleNamespace(time=lambda: next(clock))
        try:
            for epoch, nbatch in calls:
                cb(mx.model.BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=metric,
                                          locals=None))
        finally:
            root.removeHandler(h)
            import time as _t
            cbmod.time = _t
        return h.lines, (metric.resets if metric is not None else None)

    calls = [(0, i) for i in range(7)] + [(1, i) for i in range(5)]
    times = [100.0 + 0.5 * k for k in range(40)]
    pairs = [("accuracy", 0.25), ("ce", 1.5)]
    res["speedometer_reset"] = run(mx.callback.Speedometer(4, 2), calls, _FakeMetric(pairs), times)
    res["speedometer_noreset"] = run(mx.callback.Speedometer(4, 3, auto_reset=False), calls,
                                     _FakeMetric(pairs[:1]), times)
    res["speedometer_nometric"] = run(mx.callback.Speedometer(8, 2), calls, None, times)
    res["log_train_metric"] = run(mx.callback.log_train_metric(3, auto_reset=True), calls,
                                  _FakeMetric(pairs))
    res["progressbar"] = run(mx.callback.ProgressBar(7, length=10), calls[:7], None)
    res["validation"] = run(mx.callback.LogValidationMetricsCallback(), [(3, 0)],
                            _FakeMetric(pairs))
    res["batch_end_param"] = [type(mx.model.BatchEndParam(1, 2, 3, 4)).__name__,
                              list(mx.model.BatchEndParam._fields)]
    with open(os.path.join(FIX, "callback", "callback.json"), "w") as f:
        json.dump(res, f, indent=0)


if __name__ == "__main__":
    for sub in ("io", "init", "callback"):
        os.makedirs(os.path.join(FIX, sub), exist_ok=True)
    gen_io()
    gen_init()
    gen_callback()
