"""Generate fixtures of imperative ``mx.nd`` calls with real MXNet 1.9.1: operators called
on NDArrays (``mx.nd.sum(x, axis=1)``, ``mx.nd.FullyConnected(x, w, b, num_hidden=4)``, ...)
and the arithmetic helpers (``mx.nd.subtract(2, x)``), values, shapes and dtypes.

Run with the oracle: .mxnet-ref/bin/python tools/gen_nd_fixtures.py
Writes tests/compat/fixtures/nd/calls.npz; ``run(mx)`` is shared with
tests/compat/test_nd_calls.py, which reruns it with mxtorch.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "nd")


def _inputs(mx):
    rng = np.random.RandomState(0)
    f = lambda *s: mx.nd.array(rng.uniform(-1, 1, s).astype(np.float32))  # noqa: E731
    return {"x": f(3, 4), "y": f(3, 4), "row": f(4), "img": f(2, 3, 5, 5), "w": f(6, 4),
            "b": f(6), "cw": f(4, 3, 3, 3), "cb": f(4), "bx": f(2, 3, 4), "by": f(2, 4, 5),
            "pos": mx.nd.array(rng.uniform(0.5, 2, (3, 4)).astype(np.float32)),
            "idx": mx.nd.array(np.array([2, 0, 1], np.float32)),
            "tok": mx.nd.array(np.array([[1, 3], [0, 2]], np.float32)),
            "emb": f(5, 3), "g": f(3), "be": f(3), "mm": f(3), "mv": mx.nd.ones((3,)) * 0.5}


CASES = {
    "sum_all": lambda nd, a: nd.sum(a["x"]),
    "sum_axis_keep": lambda nd, a: nd.sum(a["x"], axis=1, keepdims=True),
    "mean_exclude": lambda nd, a: nd.mean(a["img"], axis=1, exclude=True),
    "max_axis": lambda nd, a: nd.max(a["x"], axis=0),
    "prod_axis": lambda nd, a: nd.prod(a["pos"], axis=(0, 1)),
    "norm": lambda nd, a: nd.norm(a["x"], ord=1, axis=1),
    "unary": lambda nd, a: [nd.abs(a["x"]), nd.sqrt(a["pos"]), nd.exp(a["x"]),
                            nd.log(a["pos"]), nd.relu(a["x"]), nd.sigmoid(a["x"]),
                            nd.tanh(a["x"]), nd.sign(a["x"]), nd.square(a["x"]),
                            nd.negative(a["x"]), nd.flatten(a["img"])],
    "dot": lambda nd, a: [nd.dot(a["x"], a["w"], transpose_b=True),
                          nd.batch_dot(a["bx"], a["by"])],
    "argmax": lambda nd, a: [nd.argmax(a["x"], axis=1), nd.argmin(a["x"], axis=0,
                                                                  keepdims=True)],
    "clip_softmax": lambda nd, a: [nd.clip(a["x"], -0.5, 0.5), nd.softmax(a["x"], axis=0),
                                   nd.log_softmax(a["x"], temperature=2.0)],
    "shape_ops": lambda nd, a: [nd.stack(a["x"], a["y"], axis=1),
                                nd.transpose(a["img"], axes=(0, 2, 3, 1)),
                                nd.reshape(a["img"], shape=(0, -3, -1)),
                                nd.reshape(a["img"], shape=(-4, 1, 2, -2)),
                                nd.expand_dims(a["x"], axis=1),
                                nd.slice_axis(a["x"], axis=1, begin=1, end=3),
                                nd.concat(a["x"], a["y"], dim=0),
                                nd.broadcast_to(a["row"].reshape((1, 4)), shape=(3, 4)),
                                nd.tile(a["row"], reps=(2, 1)), nd.reverse(a["x"], axis=1)],
    "split": lambda nd, a: nd.split(a["x"], num_outputs=2, axis=1),
    "indexing": lambda nd, a: [nd.one_hot(a["idx"], depth=4), nd.take(a["x"], a["idx"]),
                               nd.pick(a["x"], a["idx"], axis=1),
                               nd.where(a["x"] > 0, a["x"], a["y"]),
                               nd.cast(a["x"], dtype="float16")],
    "topk_sort": lambda nd, a: nd.topk(a["x"], k=2, ret_typ="both") + [nd.sort(a["x"]),
                                                                        nd.argsort(a["x"])],
    "arith": lambda nd, a: [nd.add(a["x"], a["row"]), nd.subtract(2, a["x"]),
                            nd.multiply(a["x"], 3), nd.divide(1, a["pos"]),
                            nd.power(a["pos"], 2), nd.power(2, a["x"]),
                            nd.maximum(a["x"], a["y"]), nd.minimum(a["x"], 0.1),
                            nd.equal(a["x"], a["x"]), nd.greater(a["x"], 0),
                            nd.lesser_equal(0.2, a["x"])],
    "layers": lambda nd, a: [
        nd.FullyConnected(a["x"], a["w"], a["b"], num_hidden=6),
        nd.Convolution(a["img"], a["cw"], a["cb"], kernel=(3, 3), num_filter=4, pad=(1, 1)),
        nd.Pooling(a["img"], kernel=(2, 2), stride=(2, 2), pool_type="max"),
        nd.Activation(a["x"], act_type="softrelu"),
        nd.LeakyReLU(a["x"], act_type="leaky", slope=0.1),
        nd.Embedding(a["tok"], a["emb"], input_dim=5, output_dim=3),
        nd.BatchNorm(a["x"][:, :3], a["g"], a["be"], a["mm"], a["mv"], fix_gamma=False),
        nd.SoftmaxOutput(a["x"], a["idx"]),
        nd.softmax_cross_entropy(a["x"], a["idx"]), nd.Dropout(a["x"], p=0.5)],
}


def run(mx):
    """Every case's outputs as ``{case/i: array}`` (numpy)."""
    args = _inputs(mx)
    out = {}
    for name, fn in CASES.items():
        res = fn(mx.nd, args)
        res = res if isinstance(res, list) else [res]
        for i, r in enumerate(res):
            out[f"{name}/{i}"] = r.asnumpy()
    return out


def main():
    import mxnet as mx
    assert mx.__version__ == "1.9.1", mx.__version__
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "calls.npz"), **run(mx))
    print("wrote", os.path.join(OUT, "calls.npz"))


if __name__ == "__main__":
    sys.exit(main())
