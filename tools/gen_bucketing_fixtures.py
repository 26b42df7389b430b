"""Generate fixtures of a BucketingModule fit with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_bucketing_fixtures.py
Writes tests/compat/fixtures/bucketing/<case>.npz: the initial parameters, the
parameters after fit (buckets of several lengths, an LSTM language model built with
mx.rnn cells), the per-epoch train perplexity and the bucket keys used. The same ``run``
runs on mxtorch in tests/compat/test_bucketing.py.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "bucketing")
VOCAB, HIDDEN, BATCH = 11, 8, 4
CASES = {
    "lstm_sgd_mom": dict(optimizer="sgd", optimizer_params={"learning_rate": 0.5,
                                                            "momentum": 0.9}, grad_req="write"),
    "lstm_adam": dict(optimizer="adam", optimizer_params={"learning_rate": 0.01, "wd": 1e-4},
                      grad_req="write"),
}


def batches(mx):
    """Fixed batches of three bucket lengths (labels: data shifted left, 0 padding)."""
    rng = np.random.RandomState(3)
    out = []
    for key in (5, 3, 7, 5, 7, 3):
        x = rng.randint(1, VOCAB, (BATCH, key)).astype(np.float32)
        y = np.concatenate([x[:, 1:], np.zeros((BATCH, 1), np.float32)], axis=1)
        out.append((key, x, y))
    return out


class ListIter:
    """A DataIter over fixed bucketed batches (identical under both libraries)."""

    def __init__(self, mx, items):
        self.mx, self.items, self.cur = mx, items, 0
        self.batch_size = BATCH
        self.default_bucket_key = 7
        self.provide_data = [mx.io.DataDesc("data", (BATCH, 7))]
        self.provide_label = [mx.io.DataDesc("softmax_label", (BATCH, 7))]

    def __iter__(self):
        return self

    def reset(self):
        self.cur = 0

    def __next__(self):
        if self.cur == len(self.items):
            raise StopIteration
        key, x, y = self.items[self.cur]
        self.cur += 1
        mx = self.mx
        return mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)], pad=0, bucket_key=key,
                               provide_data=[mx.io.DataDesc("data", x.shape)],
                               provide_label=[mx.io.DataDesc("softmax_label", y.shape)])

    next = __next__


def sym_gen_factory(mx):
    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.LSTMCell(num_hidden=HIDDEN, prefix="lstm_l0_"))

    def sym_gen(seq_len):
        data = mx.sym.Variable("data")
        label = mx.sym.Variable("softmax_label")
        embed = mx.sym.Embedding(data=data, input_dim=VOCAB, output_dim=HIDDEN, name="embed")
        stack.reset()
        outputs, _ = stack.unroll(seq_len, inputs=embed, merge_outputs=True)
        pred = mx.sym.FullyConnected(mx.sym.Reshape(outputs, shape=(-1, HIDDEN)),
                                     num_hidden=VOCAB, name="pred")
        pred = mx.sym.SoftmaxOutput(pred, mx.sym.Reshape(label, shape=(-1,)), name="softmax",
                                    use_ignore=True, ignore_label=0)
        return pred, ("data",), ("softmax_label",)
    return sym_gen


def run(mx, case, epochs=2):
    cfg = CASES[case]
    it = ListIter(mx, batches(mx))
    mod = mx.mod.BucketingModule(sym_gen_factory(mx), default_bucket_key=7)
    mod.bind(it.provide_data, it.provide_label, grad_req=cfg["grad_req"])
    rng = np.random.RandomState(11)
    shapes = dict(zip(mod.symbol.list_arguments(),
                      mod.symbol.infer_shape(data=(BATCH, 7), softmax_label=(BATCH, 7))[0]))
    args = {k: rng.uniform(-0.3, 0.3, shapes[k]).astype(np.float32)
            for k in sorted(shapes) if k not in ("data", "softmax_label")}
    perplexity = []
    mod.fit(it, num_epoch=epochs, optimizer=cfg["optimizer"],
            optimizer_params=dict(cfg["optimizer_params"]),
            arg_params={k: mx.nd.array(v) for k, v in args.items()}, aux_params={},
            eval_metric=mx.metric.Perplexity(0),
            batch_end_callback=lambda p: perplexity.append(p.eval_metric.get()[1])
            if p.locals.get("end_of_batch") else None)
    res = {"perplexity": np.array(perplexity), "buckets": np.array(sorted(mod._buckets))}
    res.update({"init:" + k: v for k, v in args.items()})
    res.update({"arg:" + k: v.asnumpy() for k, v in mod.get_params()[0].items()})
    return res


def main():
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        res = run(mx, case)
        np.savez(os.path.join(OUT, case + ".npz"), **res)
        print(case, res["perplexity"], res["buckets"])


if __name__ == "__main__":
    sys.exit(main())
