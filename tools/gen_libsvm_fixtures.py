"""Generate golden fixtures for mx.io.LibSVMIter with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_libsvm_fixtures.py
Writes tests/compat/fixtures/io/libsvm/: data.libsvm, label.libsvm (a label file of
3 features per line) and batches.npz: for each case (batch size, parts, label file), 3
epochs of batches as dense data/label arrays and pads, read the way Module.fit reads
(iterate, then reset at the end of each epoch).
"""
import json
import os

import numpy as np
import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "compat", "fixtures", "io", "libsvm")
FEATURES, ROWS = 12, 23
CASES = {
    "b5": {"batch_size": 5},
    "b4_part0of2": {"batch_size": 4, "num_parts": 2, "part_index": 0},
    "b4_part1of2": {"batch_size": 4, "num_parts": 2, "part_index": 1},
    "b3_part2of3": {"batch_size": 3, "num_parts": 3, "part_index": 2},
    "b7_labels": {"batch_size": 7, "label_shape": [3], "labels": True},
}


def write_files():
    rng = np.random.RandomState(0)
    with open(os.path.join(FIX, "data.libsvm"), "w") as f, \
            open(os.path.join(FIX, "label.libsvm"), "w") as g:
        for _ in range(ROWS):
            cols = np.sort(rng.choice(FEATURES, rng.randint(1, 5), replace=False))
            vals = np.round(rng.normal(size=len(cols)), 3)
            f.write(f"{rng.randint(0, 2)} " + " ".join(f"{c}:{v}" for c, v in zip(cols, vals))
                    + "\n")
            lab = np.sort(rng.choice(3, rng.randint(1, 3), replace=False))
            g.write(" ".join(f"{c}:{c + 1}" for c in lab) + "\n")


def main():
    os.makedirs(FIX, exist_ok=True)
    write_files()
    arrays = {}
    for name, cfg in CASES.items():
        kw = {k: v for k, v in cfg.items() if k not in ("labels", "label_shape")}
        if cfg.get("labels"):
            kw.update(label_libsvm=os.path.join(FIX, "label.libsvm"),
                      label_shape=tuple(cfg["label_shape"]))
        it = mx.io.LibSVMIter(data_libsvm=os.path.join(FIX, "data.libsvm"),
                              data_shape=(FEATURES,), **kw)
        arrays[f"{name}/provide"] = np.array(json.dumps(
            [[d.name, list(d.shape)] for d in it.provide_data + it.provide_label]))
        for epoch in range(3):
            for i, b in enumerate(it):
                arrays[f"{name}/{epoch}/{i}/data"] = b.data[0].asnumpy()
                arrays[f"{name}/{epoch}/{i}/label"] = b.label[0].asnumpy()
                arrays[f"{name}/{epoch}/{i}/pad"] = np.array(b.pad)
                arrays[f"{name}/{epoch}/{i}/stypes"] = np.array(
                    f"{b.data[0].stype},{b.label[0].stype}")
            it.reset()
    np.savez(os.path.join(FIX, "batches.npz"), **arrays)
    with open(os.path.join(FIX, "cases.json"), "w") as f:
        json.dump({"cases": CASES, "features": FEATURES, "mxnet": mx.__version__}, f, indent=1)
    print("wrote", FIX)


if __name__ == "__main__":
    main()
