"""The command line's help and its errors (in-process through ``mxtorch.cli.main``, and
once through ``python -m mxtorch``): ``--help`` on each subcommand, and missing files or
malformed values named with their fix, exit status 2."""
import os
import subprocess
import sys

import numpy as np
import pytest

from mxtorch.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("command, options", [
    ("train", ["--network", "--symbol", "--epochs", "--lr", "--batch-size", "--optimizer",
               "--data", "--prefix"]),
    ("score", ["--prefix", "--epoch", "--data", "--metric"]),
    ("predict", ["--prefix", "--output", "--data"]),
    ("summary", ["target", "--shape", "--line-length"]),
    ("convert", ["input", "output", "--symbol", "--shape", "--dynamic"]),
])
def test_help_on_each_subcommand(command, options, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mxtorch {command}")
    for option in options:
        assert option in out


def test_top_level_help_lists_the_subcommands():
    proc = subprocess.run([sys.executable, "-m", "mxtorch", "--help"], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert proc.returncode == 0
    for command in ("train", "score", "predict", "summary", "convert"):
        assert command in proc.stdout


@pytest.mark.parametrize("argv, message", [
    (["score", "--prefix", "{d}/nope"], "symbol file '{d}/nope-symbol.json' not found"),
    (["predict", "--prefix", "{d}/ck", "--epoch", "7"], "parameter file '{d}/ck-0007.params' "
     "not found; check --prefix and --epoch"),
    (["train", "--data", "{d}/missing.npz"], "data file '{d}/missing.npz' not found; pass "
     "'digits' or an .npz"),
    (["train", "--data", "{d}/nolabel.npz"], "has no 'label'"),
    (["train", "--data-shape", "3,3", "--epochs", "1"], "--data-shape 3,3 does not hold the "
     "64 values"),
    (["train", "--network", "lenet", "--epochs", "1"], "the samples have shape (64,): "
     "--data-shape reshapes them"),
    (["summary", "{d}/ck.json"], "symbol file '{d}/ck.json' not found"),
    (["convert", "{d}/ck-0000.params", "{d}/x.onnx"], "needs the input shapes: --shape"),
    (["convert", "{d}/ck-0000.params", "{d}/x.txt"], "cannot convert '.params' to '.txt'"),
    (["convert", "{d}/none.params", "{d}/x.safetensors"], "input file '{d}/none.params' "
     "not found"),
])
def test_bad_input_is_named(tmp_path, capsys, argv, message):
    import mxtorch as mx
    sym = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2, name="fc")
    sym.save(str(tmp_path / "ck-symbol.json"))
    mx.nd.save(str(tmp_path / "ck-0000.params"), {"arg:fc_weight": mx.nd.ones((2, 3))})
    np.savez(tmp_path / "nolabel.npz", data=np.zeros((4, 3), np.float32))
    d = str(tmp_path)
    assert main([a.format(d=d) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mxtorch {argv[0]}: error: ")
    assert message.format(d=d) in err


@pytest.mark.parametrize("argv, message", [
    (["summary", "x", "--shape", "data"], "write an input shape as NAME=DIMS"),
    (["train", "--data-shape", "1,a"], "is not a shape"),
    (["train", "--network", "nonet"], "invalid choice: 'nonet'"),
    (["score"], "the following arguments are required: --prefix"),
])
def test_malformed_arguments_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
