"""Golden fixtures for MXNet's binary NDArray files (.params / nd.save) and optimizer
``.states`` pickles, written by real MXNet 1.9.1.

Two steps:
1. ``.mxnet-ref/bin/python tools/gen_params_fixtures.py``
   writes tests/compat/fixtures/params/*.params, *.states, expected.npz and
   manifest.json with MXNet 1.9.1. Legacy V0/V1 files (MXNet can no longer write them)
   are built here from the documented layout and accepted only if MXNet loads them back
   with the expected values.
2. ``.venv/bin/python tools/gen_params_fixtures.py --verify-ours``
   writes files with mxtorch (nd.save, dumps_mxnet_pickle), loads them in MXNet (it runs
   step 1's interpreter with ``--load-in-mxnet DIR``) and records what MXNet read back in
   tests/compat/fixtures/params/ours_in_mxnet.json; tests check that record.
"""
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "params")
ORACLE = os.path.join(ROOT, ".mxnet-ref", "bin", "python")
BF16 = np.dtype([("bfloat16", np.uint16)])


def _values(shape, dtype, seed):
    rng = np.random.RandomState(seed)
    if dtype == "bool":
        return rng.rand(*shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return rng.randint(max(info.min, -1000), min(info.max, 1000), size=shape).astype(dtype)
    return (rng.randn(*shape) * 10).astype(dtype)


# dtype name -> shape used in the all-dtypes files
DTYPE_SHAPES = {"float32": (2, 3), "float64": (4,), "float16": (2, 2, 2), "uint8": (5,),
                "int32": (3, 1), "int8": (2, 3, 1, 2), "int64": (3,), "bool": (2, 2)}


def _legacy_file(records):
    """A list file whose records are given as raw bytes (no names)."""
    return (struct.pack("<QQQ", 0x112, 0, len(records)) + b"".join(records)
            + struct.pack("<Q", 0))


def _v0_record(a):
    return (struct.pack(f"<I{a.ndim}I", a.ndim, *a.shape) + struct.pack("<iii", 1, 0, 0)
            + a.astype("<f4").tobytes())


def _v1_record(a):
    return (struct.pack(f"<Ii{a.ndim}q", 0xF993FAC8, a.ndim, *a.shape)
            + struct.pack("<iii", 1, 0, 0) + a.astype("<f4").tobytes())


def _describe(obj, arrays, prefix):
    """A JSON tree of an unpickled .states object; arrays go to ``arrays`` (npz)."""
    import mxnet as mx
    if isinstance(obj, mx.nd.NDArray):
        key = f"{prefix}"
        arrays[key] = obj.asnumpy()
        return {"ndarray": key, "dtype": np.dtype(obj.dtype).name, "shape": list(obj.shape)}
    if isinstance(obj, tuple):
        return {"tuple": [_describe(v, arrays, f"{prefix}.{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return {"list": [_describe(v, arrays, f"{prefix}.{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, dict):
        return {"dict": [[_describe(k, arrays, f"{prefix}.k{i}"),
                          _describe(v, arrays, f"{prefix}.v{i}")]
                         for i, (k, v) in enumerate(obj.items())]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj, "type": type(obj).__name__}
    if hasattr(obj, "__getstate__") or hasattr(obj, "__dict__"):
        state = obj.__getstate__() if hasattr(type(obj), "__getstate__") else obj.__dict__
        return {"object": type(obj).__module__ + "." + type(obj).__name__,
                "state": _describe(dict(state), arrays, f"{prefix}.s")}
    raise TypeError(f"cannot describe {type(obj)}")


def _states_files(manifest, arrays):
    import mxnet as mx
    w0 = np.arange(6, dtype=np.float32).reshape(2, 3) / 10
    g = [np.full((2, 3), 0.5, np.float32), np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)]
    cases = {
        "sgd_momentum_int": (lambda: mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01),
                             [0, 1], np.float32, False),
        "sgd_momentum_names": (lambda: mx.optimizer.SGD(learning_rate=0.1, momentum=0.9),
                               ["fc1_weight", "fc1_bias"], np.float32, False),
        "sgd_plain_int": (lambda: mx.optimizer.SGD(learning_rate=0.1), [0, 1], np.float32, False),
        "adam_int": (lambda: mx.optimizer.Adam(learning_rate=0.01), [0, 1], np.float32, False),
        "adam_names": (lambda: mx.optimizer.Adam(learning_rate=0.01), ["w", "b"], np.float32,
                       False),
        "sgd_momentum_int_dump": (lambda: mx.optimizer.SGD(
            learning_rate=0.1, momentum=0.9, lr_scheduler=mx.lr_scheduler.FactorScheduler(
                step=2, factor=0.5)), [0, 1], np.float32, True),
        "adam_names_dump": (lambda: mx.optimizer.Adam(learning_rate=0.01), ["w", "b"],
                            np.float32, True),
        "sgd_multi_precision_fp16": (lambda: mx.optimizer.SGD(
            learning_rate=0.1, momentum=0.9, multi_precision=True), [0], np.float16, False),
    }
    for name, (make, keys, dtype, dump) in cases.items():
        opt = make()
        upd = mx.optimizer.get_updater(opt)
        weights = {k: mx.nd.array(w0 + i, dtype=dtype) for i, k in enumerate(keys)}
        for step in range(2):
            for i, k in enumerate(keys):
                upd(k, mx.nd.array(g[(i + step) % 2], dtype=dtype), weights[k])
        blob = upd.get_states(dump_optimizer=dump)
        with open(os.path.join(FIX, f"{name}.states"), "wb") as f:
            f.write(blob)
        manifest["states"][name] = _describe(pickle.loads(blob), arrays, f"states.{name}")


def generate():
    import mxnet as mx
    os.makedirs(FIX, exist_ok=True)
    manifest = {"mxnet_version": mx.__version__, "files": {}, "states": {}, "records": {}}
    arrays = {}

    def record_file(name, data, kind):
        path = os.path.join(FIX, name)
        mx.nd.save(path, data)
        loaded = mx.nd.load(path)
        items = loaded.items() if isinstance(loaded, dict) else enumerate(loaded)
        entry = {"kind": kind, "size": os.path.getsize(path), "arrays": []}
        for k, v in items:
            key = f"{name}/{k}"
            np_dtype = np.dtype(v.dtype)
            if np_dtype == BF16:
                arrays[key] = v.asnumpy().view(np.uint16)
                dt = "bfloat16"
            else:
                arrays[key] = v.asnumpy()
                dt = np_dtype.name
            entry["arrays"].append({"name": k if isinstance(k, str) else None, "npz": key,
                                    "dtype": dt, "shape": list(v.shape)})
        manifest["files"][name] = entry

    # 3.2 worked example (158 bytes)
    record_file("worked_example.params",
                {"arg:w": mx.nd.array([[1, 2, 3], [4, 5, 6]]),
                 "aux:b": mx.nd.array([7], dtype="int32")}, "dict")
    # every dtype MXNet's Python API maps, as a dict, a list and a single array
    all_dt = {f"arg:{dt}": mx.nd.array(_values(s, dt, i), dtype=dt)
              for i, (dt, s) in enumerate(DTYPE_SHAPES.items())}
    try:   # bfloat16 needs the cast operator with the structured dtype
        all_dt["arg:bfloat16"] = mx.nd.array([1.5, -2.25, 3.0, 1e-3]).astype(BF16)
    except Exception as e:  # noqa: BLE001 - record and go on
        manifest["bfloat16_error"] = str(e)[:200]
    record_file("all_dtypes_dict.params", all_dt, "dict")
    record_file("list.params", [mx.nd.array(_values((3, 4), "float32", 11)),
                                mx.nd.array(_values((2,), "int64", 12), dtype="int64")], "list")
    record_file("single.params", mx.nd.array(_values((1, 2, 3, 4, 5), "float32", 13)), "list")
    record_file("empty_list.params", [], "list")
    record_file("unicode_names.params", {"arg:poids_é": mx.nd.ones((2,)),
                                         "aux:x" * 20: mx.nd.zeros((1, 1))}, "dict")
    record_file("cpu3_context.params", [mx.nd.array([1, 2], ctx=mx.cpu(3))], "list")
    with mx.util.np_shape(True):
        mx.nd.save(os.path.join(FIX, "np_shape_v3.params"),
                   {"scalar": mx.nd.array(np.float32(2.5)), "zero": mx.nd.zeros((0, 3)),
                    "vec": mx.nd.array([1, 2, 3])})
        loaded = mx.nd.load(os.path.join(FIX, "np_shape_v3.params"))
        manifest["files"]["np_shape_v3.params"] = {"kind": "dict", "arrays": [
            {"name": k, "npz": f"np_shape_v3.params/{k}", "dtype": np.dtype(v.dtype).name,
             "shape": list(v.shape)} for k, v in loaded.items()]}
        for k, v in loaded.items():
            arrays[f"np_shape_v3.params/{k}"] = v.asnumpy()
    # sparse files (row_sparse and csr records)
    rsp = mx.nd.sparse.row_sparse_array((np.array([[1, 2], [3, 4]], np.float32), [1, 3]),
                                        shape=(5, 2))
    csr = mx.nd.sparse.csr_matrix((np.array([1, 2, 3], np.float32), [0, 2, 1], [0, 2, 2, 3]),
                                  shape=(3, 3))
    mx.nd.save(os.path.join(FIX, "sparse_row_sparse.params"), {"w": rsp})
    mx.nd.save(os.path.join(FIX, "sparse_csr.params"), [mx.nd.ones((2,)), csr])

    # legacy records built from the documented layout, accepted only if MXNet agrees
    legacy = [np.arange(128, dtype=np.float32), np.arange(128, dtype=np.float32).reshape(2, 64),
              np.arange(24, dtype=np.float32).reshape(2, 3, 4)]
    for name, maker in (("legacy_v0.params", _v0_record), ("legacy_v1.params", _v1_record)):
        path = os.path.join(FIX, name)
        with open(path, "wb") as f:
            f.write(_legacy_file([maker(a) for a in legacy]))
        back = mx.nd.load(path)
        assert len(back) == 3 and all(np.array_equal(b.asnumpy(), a)
                                      for a, b in zip(legacy, back)), name
        manifest["files"][name] = {"kind": "list", "arrays": []}
        for i, b in enumerate(back):
            arrays[f"{name}/{i}"] = b.asnumpy()
            manifest["files"][name]["arrays"].append(
                {"name": None, "npz": f"{name}/{i}", "dtype": "float32", "shape": list(b.shape)})
    # a record saved on gpu(1): MXNet without CUDA loads it on the CPU
    gpu = bytearray(open(os.path.join(FIX, "list.params"), "rb").read())
    first_ctx = 24 + 4 + 4 + 4 + 2 * 8       # header, magic, stype, ndim, two dims
    gpu[first_ctx:first_ctx + 8] = struct.pack("<ii", 2, 1)
    with open(os.path.join(FIX, "gpu1_context.params"), "wb") as f:
        f.write(bytes(gpu))
    back = mx.nd.load(os.path.join(FIX, "gpu1_context.params"))
    manifest["gpu1_context_loaded_on"] = str(back[0].context)

    # pickled NDArray: the handle is one raw record
    for dt in ("float32", "int64", "float16"):
        a = mx.nd.array(_values((2, 3), dt, 21), dtype=dt)
        handle = bytes(a.__getstate__()["handle"])
        manifest["records"][dt] = {"hex": handle.hex(), "npz": f"record/{dt}"}
        arrays[f"record/{dt}"] = a.asnumpy()

    _states_files(manifest, arrays)
    np.savez(os.path.join(FIX, "expected.npz"), **arrays)
    with open(os.path.join(FIX, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print("wrote", len(os.listdir(FIX)), "files to", FIX)


# ------------------------------------------------------------------ mxtorch -> MXNet check
def _our_cases():
    """(file name, data) pairs written by mxtorch; arrays from numpy so MXNet can compare."""
    import mxtorch as mx
    import torch
    dts = {f"arg:{dt}": mx.nd.array(_values(s, dt, 100 + i), dtype=dt)
           for i, (dt, s) in enumerate(DTYPE_SHAPES.items())}
    dts["arg:bfloat16"] = mx.nd.from_torch(torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16))
    return [("ours_dict.params", dts),
            ("ours_list.params", [mx.nd.array(_values((3, 4), "float32", 7)),
                                  mx.nd.array(_values((2,), "int64", 8), dtype="int64")]),
            ("ours_single.params", mx.nd.array(_values((2, 2), "float64", 9), dtype="float64")),
            ("ours_scalar_v3.params", {"s": mx.nd.from_torch(torch.tensor(4.5))})]


def verify_ours():
    sys.path.insert(0, ROOT)
    import mxtorch as mx
    from mxtorch.ndarray.pickle_compat import dumps_mxnet_pickle
    with tempfile.TemporaryDirectory() as tmp:
        expected, expected_dtypes = {}, {}
        for name, data in _our_cases():
            mx.nd.save(os.path.join(tmp, name), data)
            items = data.items() if isinstance(data, dict) else (
                enumerate(data) if isinstance(data, list) else [(0, data)])
            expected[name] = {str(k): v.torch.double().tolist() if v.torch.dtype.is_floating_point
                              else v.torch.tolist() for k, v in items}
            expected_dtypes[name] = {str(k): str(v.torch.dtype).replace("torch.", "")
                                     for k, v in (data.items() if isinstance(data, dict) else (
                                         enumerate(data) if isinstance(data, list)
                                         else [(0, data)]))}
        states = {0: (mx.nd.array([[1.0, 2.0]]), mx.nd.array([[3.0, 4.0]])),
                  "fc_weight": mx.nd.array([0.5, -0.5]), 2: None}
        with open(os.path.join(tmp, "ours.states"), "wb") as f:
            f.write(dumps_mxnet_pickle(states))
        from mxtorch.ndarray.pickle_compat import loads_mxnet_pickle
        dumped = loads_mxnet_pickle(open(os.path.join(FIX, "sgd_momentum_int_dump.states"),
                                         "rb").read())
        with open(os.path.join(tmp, "ours_dump.states"), "wb") as f:
            f.write(dumps_mxnet_pickle(dumped))
        out = subprocess.run([ORACLE, __file__, "--load-in-mxnet", tmp], check=True,
                             capture_output=True, text=True).stdout
        seen = json.loads(out.strip().splitlines()[-1])
    result = {"note": "files written by mxtorch, loaded by MXNet 1.9.1 (tools/"
                      "gen_params_fixtures.py --verify-ours)", "files": {}}
    for name, exp in expected.items():
        got = seen[name]
        result["files"][name] = {"mxnet_loaded": got.get("error") is None,
                                 "values_equal": got.get("values") == exp,
                                 "dtypes_equal": got.get("dtypes") == expected_dtypes[name],
                                 "mxnet_error": got.get("error")}
    result["states"] = seen["ours.states"]
    result["dump_optimizer_states"] = seen["ours_dump.states"]
    with open(os.path.join(FIX, "ours_in_mxnet.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print(json.dumps(result, indent=1))


def load_in_mxnet(directory):
    import mxnet as mx
    seen = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name == "ours_dump.states":
            upd = mx.optimizer.get_updater(mx.optimizer.Adam())
            upd.set_states(open(path, "rb").read())
            opt = upd.optimizer
            seen[name] = {"optimizer": type(opt).__name__, "momentum": opt.momentum,
                          "num_update": opt.num_update,
                          "lr_scheduler": type(opt.lr_scheduler).__name__,
                          "factor": opt.lr_scheduler.factor, "keys": sorted(upd.states),
                          "state_1": upd.states[1].asnumpy().tolist()}
            continue
        if name.endswith(".states"):
            upd = mx.optimizer.get_updater(mx.optimizer.SGD())
            upd.set_states(open(path, "rb").read())
            st = upd.states
            seen[name] = {"keys": sorted(map(str, st)),
                          "0": [v.asnumpy().tolist() for v in st[0]],
                          "fc_weight": st["fc_weight"].asnumpy().tolist(),
                          "2": st[2]}
            continue
        try:
            ctx = mx.util.np_shape(True) if "v3" in name else _Null()
            with ctx:
                data = mx.nd.load(path)
            items = data.items() if isinstance(data, dict) else enumerate(data)
            vals, dtypes = {}, {}
            for k, v in items:
                dtypes[str(k)] = "bfloat16" if np.dtype(v.dtype) == BF16 else np.dtype(v.dtype).name
                a = v.asnumpy()
                if np.dtype(v.dtype) == BF16:
                    a = (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
                vals[str(k)] = a.astype(np.float64).tolist() if a.dtype.kind == "f" else a.tolist()
            seen[name] = {"values": vals, "dtypes": dtypes, "error": None}
        except Exception as e:  # noqa: BLE001 - report to the caller
            seen[name] = {"error": str(e)[:300]}
    print(json.dumps(seen))


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    if "--verify-ours" in sys.argv:
        verify_ours()
    elif "--load-in-mxnet" in sys.argv:
        load_in_mxnet(sys.argv[sys.argv.index("--load-in-mxnet") + 1])
    else:
        generate()
