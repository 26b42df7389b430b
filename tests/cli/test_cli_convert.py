"""``python -m mxtorch convert`` in a subprocess: MXNet .params -> safetensors -> .params
gives back the same bytes (safetensors holding the same arrays), and a checkpoint -> ONNX
runs in onnxruntime with Module.predict's outputs."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "mxtorch", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def checkpoint(tmp_path):
    """A small CNN with BatchNorm, saved as prefix-symbol.json / prefix-0004.params (with a
    float16 and an int32 array among the parameters: dtypes must survive)."""
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=3, name="conv")
    net = mx.sym.BatchNorm(net, fix_gamma=False, name="bn")
    net = mx.sym.FullyConnected(mx.sym.Flatten(net), num_hidden=4, name="fc")
    sym = mx.sym.SoftmaxOutput(net, name="softmax")
    mx.random.seed(7)
    mod = mx.mod.Module(sym)
    mod.bind([("data", (2, 1, 6, 6))], [("softmax_label", (2,))], for_training=False)
    mod.init_params(mx.init.Xavier())
    arg, aux = mod.get_params()
    aux["bn_moving_mean"][:] = np.linspace(-0.2, 0.2, 3).astype(np.float32)
    aux["bn_moving_var"][:] = np.array([0.5, 1.0, 2.0], np.float32)
    mod.set_params(arg, aux)
    mod.save_checkpoint(str(tmp_path / "cnn"), 4)
    return mod, tmp_path


def test_params_safetensors_round_trip(checkpoint, tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    extra = {"w16": mx.nd.array(np.arange(6).reshape(2, 3), dtype="float16"),
             "idx": mx.nd.array([3, 1, 2], dtype="int32"),
             "arg:z": mx.nd.ones((2,)), "aux:a": mx.nd.zeros((1, 2))}
    mx.nd.save(str(tmp_path / "mixed.params"), extra)
    rc, out, err = run_cli("convert", "mixed.params", "mixed.safetensors", cwd=tmp_path)
    assert rc == 0, err
    assert "wrote mixed.safetensors" in out
    stored = safetensors_numpy.load_file(str(tmp_path / "mixed.safetensors"))
    assert sorted(stored) == sorted(extra)
    for k, v in extra.items():
        assert stored[k].dtype == v.asnumpy().dtype
        np.testing.assert_array_equal(stored[k], v.asnumpy())
    rc, out, err = run_cli("convert", "mixed.safetensors", "back.params", cwd=tmp_path)
    assert rc == 0, err
    assert (tmp_path / "back.params").read_bytes() == (tmp_path / "mixed.params").read_bytes()


def test_checkpoint_to_onnx(checkpoint):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    mod, d = checkpoint
    rc, out, err = run_cli("convert", "cnn-0004.params", "cnn.onnx", "--shape", "data=2,1,6,6",
                           "--dynamic", cwd=d)
    assert rc == 0, err
    x = np.random.RandomState(3).rand(5, 1, 6, 6).astype(np.float32)
    sess = ort.InferenceSession(str(d / "cnn.onnx"), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"data": x})
    mod.reshape([("data", (5, 1, 6, 6))], [("softmax_label", (5,))])
    expected = mod.predict(mx.io.NDArrayIter(x, batch_size=5)).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
