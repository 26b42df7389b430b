"""``python -m mxtorch`` train, score, predict and summary, each in a subprocess on a tiny
slice of the digits: the checkpoint is MXNet's pair of files, score's accuracy is the one
numpy computes from predict's outputs, and summary's total is the number of weights in
the .params file. Variants run in-process through ``mxtorch.cli.main`` (faster)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.cli import main
from mxtorch.datasets import load_digits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "mxtorch", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A tiny data set (.npz) and an MLP trained on it by ``train``."""
    d = tmp_path_factory.mktemp("cli")
    X, y = load_digits()
    np.savez(d / "tiny.npz", data=X[:96], label=y[:96])
    rc, out, err = run_cli("train", "--network", "mlp", "--data", "tiny.npz", "--epochs", "2",
                           "--batch-size", "16", "--lr", "0.3", "--momentum", "0.9",
                           "--prefix", "ck/mlp", cwd=d)
    assert rc == 0, err
    d.joinpath("train.log").write_text(out + err)
    return d


def test_train_writes_mxnet_checkpoint(workdir):
    log = workdir.joinpath("train.log").read_text()
    assert "Epoch[1] Train-accuracy=" in log
    assert "saved ck/mlp-symbol.json and ck/mlp-0002.params" in log
    sym, arg, aux = mx.model.load_checkpoint(str(workdir / "ck" / "mlp"), 2)
    assert sym.list_arguments()[0] == "data"
    assert sorted(arg) == ["fc1_bias", "fc1_weight", "fc2_bias", "fc2_weight", "fc3_bias",
                           "fc3_weight"]
    assert arg["fc3_weight"].shape == (10, 64)


def test_predict_and_score_agree_with_numpy(workdir):
    rc, out, err = run_cli("predict", "--prefix", "ck/mlp", "--data", "tiny.npz",
                           "--output", "probs.npy", cwd=workdir)
    assert rc == 0, err
    probs = np.load(workdir / "probs.npy")
    assert probs.shape == (96, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    labels = np.load(workdir / "tiny.npz")["label"]
    accuracy = float((probs.argmax(axis=1) == labels).mean())
    rc, out, err = run_cli("score", "--prefix", "ck/mlp", "--epoch", "2", "--data", "tiny.npz",
                           "--batch-size", "32", cwd=workdir)
    assert rc == 0, err
    assert out.strip().splitlines()[-1] == f"accuracy={accuracy:.6f}"
    assert accuracy > 0.3  # two epochs on 96 samples learn something (chance is 0.1)


def test_predict_prints_classes(workdir, capsys):
    np.savez(workdir / "unlabelled.npz", data=np.load(workdir / "tiny.npz")["data"][:5])
    assert main(["predict", "--prefix", str(workdir / "ck" / "mlp"), "--data",
                 str(workdir / "unlabelled.npz")]) == 0
    out = capsys.readouterr().out
    mod = mx.mod.Module.load(str(workdir / "ck" / "mlp"), 2)
    x = np.load(workdir / "tiny.npz")["data"][:5]
    mod.bind([("data", x.shape)], for_training=False)
    expected = mod.predict(mx.io.NDArrayIter(x, batch_size=5)).asnumpy().argmax(axis=1)
    assert [int(c) for c in out.split()] == list(expected)


def test_summary_counts_the_checkpoint_weights(workdir):
    rc, out, err = run_cli("summary", "ck/mlp", "--shape", "data=1,64", cwd=workdir)
    assert rc == 0, err
    _, arg, _ = mx.model.load_checkpoint(str(workdir / "ck" / "mlp"), 2)
    total = sum(int(np.prod(v.shape)) for v in arg.values())
    assert f"Total params: {total}" in out
    assert "fc1(FullyConnected)" in out and "128" in out


def test_train_a_cnn_symbol_json_on_images(workdir, capsys):
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv")
    net = mx.sym.BatchNorm(net, name="bn")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.FullyConnected(mx.sym.Flatten(net), num_hidden=10, name="fc")
    mx.sym.SoftmaxOutput(net, name="softmax").save(str(workdir / "cnn-symbol.json"))
    assert main(["train", "--symbol", str(workdir / "cnn-symbol.json"), "--data",
                 str(workdir / "tiny.npz"), "--data-shape", "1,8,8", "--epochs", "1",
                 "--batch-size", "32", "--optimizer", "adam", "--lr", "0.01", "--prefix",
                 str(workdir / "ck" / "cnn")]) == 0
    assert "cnn-0001.params" in capsys.readouterr().out
    _, arg, aux = mx.model.load_checkpoint(str(workdir / "ck" / "cnn"), 1)
    assert arg["conv_weight"].shape == (4, 1, 3, 3)
    assert sorted(aux) == ["bn_moving_mean", "bn_moving_var"]
    assert np.abs(aux["bn_moving_mean"].asnumpy()).max() > 0  # trained: statistics moved
