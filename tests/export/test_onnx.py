"""ONNX export (mx.onnx.export_model, Module.export_onnx): the file runs in onnxruntime and
gives Module.predict's outputs for a trained MLP and a CNN with BatchNorm (inference), with
MXNet's input and output names, from objects or from checkpoint files, with a dynamic
batch; bad arguments are named."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError
import mxtorch.models
from mxtorch.datasets import load_digits

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")


def run_onnx(path, **feeds):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess, sess.run(None, feeds)


def trained_mlp():
    X, y = load_digits()
    X, y = X[:400], y[:400]
    mx.random.seed(0)
    mod = mx.mod.Module(mxtorch.models.mlp.get_symbol(10))
    mod.fit(mx.io.NDArrayIter(X, y, batch_size=50, shuffle=False), num_epoch=2,
            optimizer="sgd", optimizer_params={"learning_rate": 0.5},
            initializer=mx.init.Xavier())
    return mod, X[:50]


def cnn_module():
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=6, pad=(1, 1), name="conv")
    net = mx.sym.BatchNorm(net, name="bn")
    net = mx.sym.Activation(net, act_type="relu", name="relu")
    net = mx.sym.Pooling(net, kernel=(2, 2), stride=(2, 2), pool_type="avg", name="pool")
    net = mx.sym.Dropout(net, p=0.3, name="drop")  # off at inference
    net = mx.sym.FullyConnected(mx.sym.Flatten(net), num_hidden=10, name="fc")
    sym = mx.sym.SoftmaxOutput(net, name="softmax")
    mx.random.seed(1)
    mod = mx.mod.Module(sym)
    mod.bind([("data", (8, 1, 8, 8))], [("softmax_label", (8,))], for_training=False)
    mod.init_params(mx.init.Xavier(magnitude=2.0))
    arg, aux = mod.get_params()
    rng = np.random.RandomState(0)
    aux["bn_moving_mean"][:] = rng.randn(6).astype(np.float32) * 0.1
    aux["bn_moving_var"][:] = (rng.rand(6) + 0.5).astype(np.float32)
    mod.set_params(arg, aux)
    x = np.random.RandomState(2).rand(8, 1, 8, 8).astype(np.float32)
    return mod, x


def predict(mod, x):
    return mod.predict(mx.io.NDArrayIter(x, batch_size=len(x))).asnumpy()


def test_module_export_onnx_mlp_runs_in_onnxruntime(tmp_path):
    mod, x = trained_mlp()
    path = tmp_path / "mlp.onnx"
    assert mod.export_onnx(str(path), in_shapes=[(50, 64)]) == str(path)
    sess, (out,) = run_onnx(path, data=x)
    assert [i.name for i in sess.get_inputs()] == ["data"]
    assert [o.name for o in sess.get_outputs()] == ["softmax"]
    expected = predict(mod, x)
    assert (expected.argmax(1) == mod.predict(x).asnumpy().argmax(1)).all()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_module_export_onnx_cnn_batchnorm_uses_moving_statistics(tmp_path):
    mod, x = cnn_module()
    path = tmp_path / "cnn.onnx"
    mod.export_onnx(str(path))  # shapes from the bound data_shapes
    _, (out,) = run_onnx(path, data=x)
    np.testing.assert_allclose(out, predict(mod, x), rtol=1e-5, atol=1e-6)


def test_export_model_from_checkpoint_files_with_dynamic_batch(tmp_path):
    mod, x = cnn_module()
    prefix = str(tmp_path / "cnn")
    mod.save_checkpoint(prefix, 3)
    path = mx.onnx.export_model(f"{prefix}-symbol.json", f"{prefix}-0003.params",
                                [(8, 1, 8, 8)], np.float32, str(tmp_path / "dyn.onnx"),
                                dynamic=True, dynamic_input_shapes=[(None, 1, 8, 8)],
                                run_shape_inference=True)
    sess, (out,) = run_onnx(path, data=x[:3])
    assert isinstance(sess.get_inputs()[0].shape[0], str)  # a symbolic batch dimension
    assert sess.get_inputs()[0].shape[1:] == [1, 8, 8]
    np.testing.assert_allclose(out, predict(mod, x)[:3], rtol=1e-5, atol=1e-6)


def test_export_model_takes_arg_aux_list_and_old_argument_names(tmp_path):
    mod, x = cnn_module()
    path = mx.onnx.export_model(mod.symbol, list(mod.get_params()),
                                input_shape=[(8, 1, 8, 8)], input_type=[np.float32],
                                onnx_file_path=str(tmp_path / "m.onnx"))
    model = onnx.load(path)
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["data"]
    assert [o.name for o in model.graph.output] == ["softmax"]
    _, (out,) = run_onnx(path, data=x)
    np.testing.assert_allclose(out, predict(mod, x), rtol=1e-5, atol=1e-6)


def test_output_names_follow_mxnet():
    data = mx.sym.Variable("data")
    parts = mx.sym.SliceChannel(data, num_outputs=2, name="split")
    sym = mx.sym.Group([mx.sym.Activation(data, act_type="relu", name="relu"), parts[1]])
    assert mx.onnx.onnx_output_names(sym) == ["relu", "split1"]


def test_bad_arguments_are_named(tmp_path):
    mod, _ = cnn_module()
    arg, aux = mod.get_params()
    params = dict(arg, **aux)
    with pytest.raises(MXNetValueError, match="symbol file .*missing-symbol.json.* does not "
                                              "exist"):
        mx.onnx.export_model(str(tmp_path / "missing-symbol.json"), params, [(1, 1, 8, 8)])
    with pytest.raises(MXNetValueError, match="params file .* does not exist"):
        mx.onnx.export_model(mod.symbol, str(tmp_path / "x-0000.params"), [(1, 1, 8, 8)])
    with pytest.raises(MXNetTypeError, match="params must be a .params path, a dict"):
        mx.onnx.export_model(mod.symbol, 42, [(1, 1, 8, 8)])
    with pytest.raises(MXNetValueError, match=r"one input shape per input \['data'\]"):
        mx.onnx.export_model(mod.symbol, params, [(1, 1, 8, 8), (1,)])
    with pytest.raises(MXNetValueError, match="lengths of in_types and in_shapes"):
        mx.onnx.export_model(mod.symbol, params, [(1, 1, 8, 8)], [np.float32, np.int32])
    assert not any(tmp_path.iterdir())  # nothing written by a refused call


def test_missing_onnxscript_is_named(monkeypatch, tmp_path):
    import importlib.util
    mod, _ = cnn_module()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxscript" else real(name, *a))
    with pytest.raises(ImportError, match=r"\['onnxscript'\]: pip install onnx onnxscript"):
        mod.export_onnx(str(tmp_path / "m.onnx"))
