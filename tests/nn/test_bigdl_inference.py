"""Inference with BigDL modules: predict / predict_class (1-based), evaluate with
Top1Accuracy, Top5Accuracy and Loss (values from numpy), predict_image on a list and a
folder of images, quantize (int8 weights, outputs close, original unchanged) and
save_onnx (onnxruntime equal to 1e-5)."""
import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError
from mxtorch.nn.bigdl_criterion import ClassNLLCriterion, CrossEntropyCriterion, MSECriterion
from mxtorch.nn.bigdl_layers import (Linear, LogSoftMax, ReLU, Reshape, Sequential,
                                     SpatialConvolution, SpatialMaxPooling)
from mxtorch.nn.bigdl_validation import (AccuracyResult, Loss, LossResult, Top1Accuracy,
                                         Top5Accuracy)


def _classifier(classes=7):
    torch.manual_seed(0)
    return Sequential(Linear(5, 16), ReLU(), Linear(16, classes), LogSoftMax())


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_predict_and_predict_class():
    model = _classifier()
    x = np.random.RandomState(0).randn(23, 5).astype(np.float32)
    out = model.predict(x, batch_size=5)
    w1, b1 = model.layers[0].weight.detach().numpy(), model.layers[0].bias.detach().numpy()
    w2, b2 = model.layers[2].weight.detach().numpy(), model.layers[2].bias.detach().numpy()
    ref = _log_softmax(np.maximum(x @ w1.T + b1, 0) @ w2.T + b2)
    assert out.shape == (23, 7) and np.allclose(out.numpy(), ref, atol=1e-5)
    assert not model.is_training()
    classes = model.predict_class(x)
    assert classes.tolist() == (ref.argmax(axis=1) + 1).tolist()
    with pytest.raises(MXNetValueError, match="positive int"):
        model.predict(x, batch_size=0)
    with pytest.raises(MXNetValueError, match="1-D"):
        Sequential(Reshape([1, 5], batch_mode=True)).predict_class(x)


def test_evaluate_with_validation_methods():
    model = _classifier()
    rng = np.random.RandomState(1)
    x = rng.randn(40, 5).astype(np.float32)
    y = rng.randint(1, 8, size=40)
    results = model.evaluate((x, y), [Top1Accuracy(), Top5Accuracy(), Loss()], batch_size=16)
    logp = model.predict(x).numpy()
    top1 = (logp.argmax(1) + 1 == y).sum()
    top5 = sum(y[i] in (np.argsort(-logp[i])[:5] + 1) for i in range(40))
    nll = -logp[np.arange(40), y - 1].mean()
    (r1, m1), (r5, _), (rl, _) = results
    assert r1.result() == (top1 / 40, 40) and str(r1) == \
        f"Accuracy(correct: {top1}, count: 40, accuracy: {top1 / 40})"
    assert r5.correct == top5
    assert np.isclose(rl.result()[0], nll, atol=1e-5) and rl.count == 40
    assert m1.format() == "Top1Accuracy"
    # a DataIter and an iterable of batches give the same
    it = mx.io.NDArrayIter(x, y.astype(np.float32), batch_size=16)
    assert model.evaluate(it, [Top1Accuracy()])[0][0].correct == top1
    batches = [(x[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10)]
    assert model.evaluate(batches, [Top1Accuracy()])[0][0].correct == top1
    python_order = model.evaluate((x, y), 16, [Top1Accuracy()])    # BigDL Python's order
    assert python_order[0][0].correct == top1
    with pytest.raises(MXNetTypeError, match="ValidationMethods"):
        model.evaluate((x, y), ["acc"])
    with pytest.raises(MXNetValueError, match="needs labels"):
        model.evaluate(x, [Top1Accuracy()])


def test_validation_method_rules():
    single = torch.tensor([[0.7], [0.2], [0.5]])
    assert Top1Accuracy()(single, torch.tensor([1, 0, 0])).correct == 2   # >= 0.5 is 1
    merged = AccuracyResult(3, 4) + AccuracyResult(1, 4)
    assert merged.result() == (0.5, 8)
    loss = LossResult(2.0, 4) + LossResult(4.0, 4)
    assert loss.result() == (0.75, 8)
    assert str(loss) == "(Loss: 6.0, count: 8, Average Loss: 0.75)"
    with pytest.raises(MXNetTypeError):
        Loss("nll")


def test_criteria_against_numpy():
    rng = np.random.RandomState(2)
    z = rng.randn(6, 4).astype(np.float32)
    y = rng.randint(1, 5, size=6)
    logp = _log_softmax(z)
    crit = ClassNLLCriterion()
    assert np.isclose(crit.forward(logp, y), -logp[np.arange(6), y - 1].mean(), atol=1e-6)
    grad = crit.backward(logp, y).numpy()
    ref = np.zeros_like(logp)
    ref[np.arange(6), y - 1] = -1 / 6
    assert np.allclose(grad, ref)
    ce = CrossEntropyCriterion()
    assert np.isclose(ce.forward(z, y), crit.forward(logp, y), atol=1e-5)
    assert np.isclose(MSECriterion().forward(z, np.zeros_like(z)), (z ** 2).mean(), atol=1e-6)
    with pytest.raises(MXNetValueError, match="1-based"):
        crit.forward(logp, y - 1 - (y - 1).min())    # holds a 0
    with pytest.raises(mx.base.StateError):
        ClassNLLCriterion().backward(logp, y)


def _cnn():
    torch.manual_seed(5)
    return Sequential(SpatialConvolution(3, 4, 3, 3, pad_w=1, pad_h=1).set_name("conv"),
                      ReLU().set_name("relu"), SpatialMaxPooling(2, 2),
                      Reshape([64], batch_mode=True), Linear(64, 5).set_name("fc"),
                      LogSoftMax())


def test_predict_image_list_and_folder(tmp_path):
    from PIL import Image
    rng = np.random.RandomState(3)
    arrays = [rng.randint(0, 256, size=(8, 8, 3)).astype(np.uint8) for _ in range(5)]
    for i, a in enumerate(arrays):
        Image.fromarray(a).save(tmp_path / f"img{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    model = _cnn()
    feats = model.predict_image(str(tmp_path), batch_per_partition=2)
    assert [f["uri"].rsplit("/", 1)[-1] for f in feats] == [f"img{i}.png" for i in range(5)]
    batch = np.stack([a.transpose(2, 0, 1).astype(np.float32) / 255 for a in arrays])
    ref = model.predict(batch)
    for i, f in enumerate(feats):
        assert torch.allclose(f["predict"], ref[i], atol=1e-6)
        assert np.allclose(f["image"], batch[i])
    from_list = model.predict_image([Image.fromarray(a) for a in arrays[:2]],
                                    output_layer="relu", predict_key="features")
    assert from_list[0]["features"].shape == (4, 8, 8) and from_list[0]["uri"] is None
    with pytest.raises(MXNetValueError, match="no layer named"):
        model.predict_image(arrays, output_layer="nope")
    with pytest.raises(MXNetValueError, match="different shapes"):
        model.predict_image([arrays[0], arrays[1][:4]])
    half = model.predict_image(arrays[:1], transform=lambda a: a * 0.5)
    assert torch.allclose(half[0]["predict"], model.predict(batch[:1] * 0.5)[0], atol=1e-6)


def test_quantize():
    model = _cnn()
    x = torch.rand(8, 3, 8, 8)
    ref = model.predict(x)
    q = model.quantize()
    assert q is not model and isinstance(model.layers[0], SpatialConvolution)
    qconv = q.layers[0].layer
    assert type(qconv).__module__.startswith("torch.ao.nn.quantized.dynamic")
    assert q.layers[0].get_name() == "conv"
    assert qconv.weight().dtype == torch.qint8
    assert type(q.layers[4].layer).__module__.startswith("torch.ao.nn.quantized.dynamic")
    out = q.predict(x)
    assert (out - ref).abs().max() < 0.05
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.75
    assert torch.equal(model.predict(x), ref)           # the original is unchanged


def test_save_onnx_runs_in_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = _cnn()
    model.set_training()
    x = np.random.RandomState(4).rand(2, 3, 8, 8).astype(np.float32)
    path = str(tmp_path / "cnn.onnx")
    assert model.save_onnx(path, (2, 3, 8, 8)) == path
    assert model.is_training()                            # mode restored
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    ref = model.predict(x).numpy()
    assert np.allclose(got, ref, atol=1e-5, rtol=0)
