"""Generate KVStore fixtures with real MXNet 1.9.1: 2-bit gradient compression with error
feedback on the 'device' kvstore over two CPU contexts (pushes of random gradients, pulls
after each), and row_sparse_pull rows.

Run with the oracle: .mxnet-ref/bin/python tools/gen_kvstore_fixtures.py
Writes tests/compat/fixtures/kvstore/compression.npz. ``run(mx)`` is shared with
tests/kvstore/test_compression_compat.py, which reruns it with mxtorch.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "kvstore")
SHAPES = {"b": (4, 5), "w": (7,)}
THRESHOLDS = (0.5, 0.25)
STEPS = 6


def run(mx):
    """Pulled values after each push, per threshold and key."""
    rng = np.random.RandomState(0)
    out = {}
    for t in THRESHOLDS:
        kv = mx.kv.create("device")
        kv.set_gradient_compression({"type": "2bit", "threshold": t})
        for key, shape in SHAPES.items():
            kv.init(key, mx.nd.zeros(shape))
        for step in range(STEPS):
            for key, shape in SHAPES.items():
                grads = [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(2)]
                kv.push(key, [mx.nd.array(g, ctx=mx.cpu(i)) for i, g in enumerate(grads)])
                pulled = mx.nd.zeros(shape)
                kv.pull(key, out=pulled)
                out[f"t{t}/{key}/{step}/grad0"] = grads[0]
                out[f"t{t}/{key}/{step}/grad1"] = grads[1]
                out[f"t{t}/{key}/{step}/pulled"] = pulled.asnumpy()
    return out


def main():
    import mxnet as mx
    assert mx.__version__ == "1.9.1", mx.__version__
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "compression.npz"), **run(mx))
    print("wrote", os.path.join(OUT, "compression.npz"))


if __name__ == "__main__":
    sys.exit(main())
