"""Generate golden fixtures for mx.metric with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_metric_fixtures.py
Writes tests/compat/fixtures/metric/metric.json. For each case: the metric (name and
kwargs for mx.metric.create), two phases of update calls (each a list of (label, pred)
pairs), and what MXNet reports: get()/get_global() after phase 1, then after
reset_local() and phase 2, plus get() of fresh metrics fed phase 2 only and all
updates, the name and get_config(). tests/metric/test_metric_compat.py replays them.
"""
import json
import os

import numpy as np
import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "metric")

RNG = np.random.RandomState(1234)


def softmax(n, c):
    x = RNG.randn(n, c).astype(np.float32)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def cls_label(n, c):
    return RNG.randint(0, c, size=n).astype(np.float32)


def clf(n, c):
    return (cls_label(n, c), softmax(n, c))


def reg(lshape, pshape):
    return (RNG.randn(*lshape).astype(np.float32), RNG.randn(*pshape).astype(np.float32))


def mean_abs_argmax(label, pred):
    """A custom feval replayed by the tests (same definition there)."""
    return float(np.abs(label - pred.argmax(axis=1)).mean())


def hits_and_count(label, pred):
    """A custom feval returning (sum, num)."""
    return (float((pred.argmax(axis=1) == label).sum()), label.shape[0])


FEVALS = {"mean_abs_argmax": mean_abs_argmax, "hits_and_count": hits_and_count}


def cases():
    c = []

    def add(case_id, metric, kwargs, phase1, phase2):
        c.append({"id": case_id, "metric": metric, "kwargs": kwargs,
                  "phase1": phase1, "phase2": phase2})

    add("acc", "acc", {}, [[clf(8, 4)], [clf(8, 4), clf(5, 4)]], [[clf(6, 4)], [clf(7, 4)]])
    add("acc_axis0", "acc", {"axis": 0},
        [[(cls_label(6, 3), softmax(6, 3).T.copy())]], [[(cls_label(5, 3), softmax(5, 3).T.copy())]])
    add("acc_same_shape", "accuracy", {},
        [[(cls_label(9, 3), cls_label(9, 3))]], [[(cls_label(4, 3), cls_label(4, 3))]])
    add("acc_2d_label", "acc", {},
        [[(cls_label(6, 2).reshape(2, 3), softmax(6, 2))]], [[(cls_label(6, 2).reshape(3, 2), softmax(6, 2))]])
    add("topk3", "top_k_accuracy", {"top_k": 3}, [[clf(10, 10)], [clf(12, 10)]], [[clf(9, 10)]])
    add("topk_all", "TopKAccuracy", {"top_k": 5}, [[clf(10, 5)]], [[clf(8, 5)]])
    for avg in ("macro", "micro"):
        for name in ("f1", "mcc"):
            add("%s_%s" % (name, avg), name, {"average": avg},
                [[clf(10, 2)], [clf(12, 2), clf(6, 2)]],
                [[(np.zeros(5, np.float32), softmax(5, 2))], [clf(11, 2)]])
    add("pcc", "pcc", {}, [[clf(12, 2)], [clf(10, 4)]], [[clf(15, 4)], [clf(9, 5)]])
    add("pcc_binary", "pcc", {}, [[clf(20, 2)]], [[clf(16, 2)], [clf(8, 2)]])

    def ppl_batch(n, c, ignore):
        label, pred = clf(n, c)
        label[RNG.rand(n) < 0.3] = ignore
        return (label, pred)
    add("perplexity_m1", "perplexity", {"ignore_label": -1},
        [[ppl_batch(10, 5, -1)], [ppl_batch(8, 5, -1), ppl_batch(4, 5, -1)]], [[ppl_batch(9, 5, -1)]])
    add("perplexity_0", "Perplexity", {"ignore_label": 0},
        [[ppl_batch(10, 6, 0)]], [[ppl_batch(12, 6, 0)]])
    add("perplexity_none", "perplexity", {"ignore_label": None}, [[clf(7, 3)]], [[clf(5, 3)]])
    for name in ("mae", "mse", "rmse"):
        add(name, name, {}, [[reg((6,), (6, 1))], [reg((5, 3), (5, 3)), reg((4,), (4,))]],
            [[reg((7, 1), (7,))], [reg((3, 2), (3, 2))]])
    add("ce", "ce", {}, [[clf(8, 5)], [clf(6, 5), clf(3, 5)]], [[clf(5, 5)]])
    add("ce_eps", "CrossEntropy", {"eps": 1e-3}, [[clf(8, 5)]], [[clf(5, 5)]])
    add("nll", "nll_loss", {}, [[clf(8, 5)], [clf(6, 5)]], [[clf(5, 5)]])
    add("pearsonr", "pearsonr", {}, [[reg((8,), (8,))], [reg((4, 3), (4, 3)), reg((6,), (6,))]],
        [[reg((9,), (9,))], [reg((5,), (5,))]])
    add("pearsonr_micro", "pearsonr", {"average": "micro"},
        [[reg((8,), (8,))], [reg((4, 3), (4, 3)), reg((6,), (6,))]],
        [[reg((9,), (9,))], [reg((5,), (5,))]])
    add("loss", "loss", {}, [[(None, RNG.rand(4, 3).astype(np.float32))],
                             [(None, RNG.rand(5).astype(np.float32))]],
        [[(None, RNG.rand(2, 2).astype(np.float32))]])
    add("custom", "feval:mean_abs_argmax", {}, [[clf(6, 3)], [clf(5, 3)]], [[clf(4, 3)]])
    add("custom_tuple", "feval:hits_and_count", {}, [[clf(6, 3)], [clf(5, 3), clf(7, 3)]],
        [[clf(4, 3)]])
    add("composite", ["acc", "f1", "ce"], {}, [[clf(10, 2)], [clf(6, 2)]], [[clf(8, 2)]])
    return c


def make(metric, kwargs):
    if isinstance(metric, str) and metric.startswith("feval:"):
        return mx.metric.create(FEVALS[metric[6:]], **kwargs)
    return mx.metric.create(metric, **kwargs)


def feed(m, calls):
    for call in calls:
        labels = [None if l is None else mx.nd.array(l, dtype=l.dtype) for l, _ in call]
        preds = [mx.nd.array(p, dtype=p.dtype) for _, p in call]
        m.update(labels, preds)


def enc_calls(calls):
    return [[[None if l is None else {"shape": list(l.shape), "data": l.ravel().tolist()},
              {"shape": list(p.shape), "data": p.ravel().tolist()}] for l, p in call]
            for call in calls]


def main():
    os.makedirs(OUT, exist_ok=True)
    out = []
    for case in cases():
        m = make(case["metric"], case["kwargs"])
        feed(m, case["phase1"])
        rec = {"id": case["id"], "metric": case["metric"], "kwargs": case["kwargs"],
               "phase1": enc_calls(case["phase1"]), "phase2": enc_calls(case["phase2"]),
               "name": m.name, "get1": list(m.get()), "get_global1": list(m.get_global())}
        try:
            rec["config"] = m.get_config()
        except NotImplementedError:
            rec["config"] = None
        m.reset_local()
        rec["get_after_reset_local"] = list(m.get())
        feed(m, case["phase2"])
        rec["get2"] = list(m.get())
        rec["get_global2"] = list(m.get_global())
        rec["name_value2"] = [list(p) for p in m.get_name_value()]
        rec["global_name_value2"] = [list(p) for p in m.get_global_name_value()]
        fresh = make(case["metric"], case["kwargs"])
        feed(fresh, case["phase2"])
        rec["fresh_phase2"] = list(fresh.get())
        fresh = make(case["metric"], case["kwargs"])
        feed(fresh, case["phase1"] + case["phase2"])
        rec["fresh_all"] = list(fresh.get())
        m.reset()
        rec["get_after_reset"] = list(m.get())
        rec["get_global_after_reset"] = list(m.get_global())
        out.append(rec)

    def conv(o):
        if isinstance(o, (np.floating, np.integer)):
            return o.item()
        raise TypeError(type(o))
    path = os.path.join(OUT, "metric.json")
    with open(path, "w") as f:
        json.dump({"mxnet": mx.__version__, "cases": out}, f, default=conv)
    print("wrote", path, os.path.getsize(path), "bytes,", len(out), "cases")


if __name__ == "__main__":
    main()
