"""The benchmark harness (bench/) works end to end: ``python -m bench --quick`` produces a
figure for every workload and every peer that is installed, and the PyTorch twins are the
same models as the symbols the Module peers run. No timing is asserted: the quick sizes
measure nothing."""
import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

import mxtorch as mx  # noqa: E402
from bench import symbols, twins  # noqa: E402
from bench.workloads import ABSENT, WORKLOADS, peers_for  # noqa: E402

MXNET_PYTHON = os.path.join(REPO, ".mxnet-ref", "bin", "python")
HAVE_LIGHTNING = importlib.util.find_spec("lightning") is not None


def _symbol_param_sizes(sym, **shapes):
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    inputs = set(shapes) | {"softmax_label"}
    sizes = [math.prod(s) for n, s in zip(sym.list_arguments(), arg_shapes) if n not in inputs]
    return sorted(sizes), sorted(math.prod(s) for s in aux_shapes)


def _module_param_sizes(model):
    params = sorted(p.numel() for p in model.parameters())
    buffers = sorted(b.numel() for n, b in model.named_buffers() if "running" in n)
    return params, buffers


@pytest.mark.parametrize("name", ["mlp", "lenet", "resnet18", "lstm_lm"])
def test_twins_have_the_symbols_parameters(name):
    """Every peer trains the same model: the twin's parameter (and running-statistic)
    tensors have the sizes of the symbol's arguments (and auxiliary states)."""
    if name == "mlp":
        sym, model, shapes = symbols.mlp(mx), twins.mlp(), {"data": (2, 784)}
    elif name == "lenet":
        sym, model, shapes = symbols.lenet(mx), twins.lenet(), {"data": (2, 1, 28, 28)}
    elif name == "resnet18":
        sym, model = symbols.resnet(mx, 18, 32), twins.resnet(18, 32)
        shapes = {"data": (2, 3, 32, 32)}
    else:
        sym = symbols.lstm_lm_sym_gen(mx, 2000)(10)[0]
        model, shapes = twins.LSTMLM(2000), {"data": (2, 10), "softmax_label": (2, 10)}
    assert _symbol_param_sizes(sym, **shapes) == _module_param_sizes(model)


def test_quick_suite_produces_every_cell(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--jobs", "2", "--threads", "1",
         "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["device"] == "cpu"
    assert list(doc["workloads"]) == list(WORKLOADS)
    for key, wl in doc["workloads"].items():
        expected = set(peers_for(key, "cpu"))
        assert set(wl["peers"]) == expected, key
        assert not any((key, p) in ABSENT for p in expected)
        for peer, res in wl["peers"].items():
            assert "error" not in res, (key, peer, res)
            if (peer == "mxnet" and not os.path.exists(MXNET_PYTHON)) or \
                    (peer == "lightning" and not HAVE_LIGHTNING):
                assert "not installed" in res["absent"]
                continue
            names = [m for m, _, _ in WORKLOADS[key]["metrics"]]
            assert sorted(res["metrics"]) == sorted(names), (key, peer)
            for value in res["metrics"].values():
                assert math.isfinite(value) and value > 0, (key, peer, res["metrics"])
            assert res["memory"]["kind"] == "rss" and res["memory"]["peak_mib"] > 50
            if WORKLOADS[key]["kind"] == "fit":  # warm-up epoch + the timed one
                assert len(res["raw"]["epoch_seconds"]) == 2
    # The printed table has a row per metric and a ratio for each installed peer.
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()
            if line[:1] in WORKLOADS and line[1:4] == "   "}
    assert sorted(rows) == sorted(WORKLOADS)
    assert "failed" not in proc.stdout
    installed = 2 + HAVE_LIGHTNING + os.path.exists(MXNET_PYTHON)
    # "a", "samples/s", a cell per peer (a figure or n/i), a ratio per installed peer but ours
    assert len(rows["a"].split()) == 2 + 4 + installed - 1, rows["a"]


def test_allreduce_overhead_runs():
    """bench/allreduce_overhead.py on 2 workers for one step: it reports every worker's
    step time and its share spent in the all-reduce (no timing is asserted)."""
    import re
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "allreduce_overhead.py"),
                           "--steps", "1", "--batch-size", "4"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = re.findall(r"rank (\d): step \d+ ms, in all-reduce \d+ ms \([\d.]+%\), push "
                       r"42\.\d MB", proc.stdout)
    assert sorted(lines) == ["0", "1"], proc.stdout


def test_peak_runs_on_cpu():
    """bench/peak.py (the GPU fastest-variant comparison) runs its CPU path end to end:
    four variants per model and both ratio lines (no timing is asserted)."""
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "peak.py"), "--device",
                           "cpu", "--models", "mlp", "--steps", "2", "--rounds", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for variant in ("torch default", "mxtorch default", "torch fastest", "mxtorch fastest"):
        assert f"mlp       {variant}" in proc.stdout, proc.stdout
    assert proc.stdout.count("mxtorch/torch speed") == 2, proc.stdout


def test_nccl_check_script_passes_over_gloo():
    """tools/nccl_check.py (run on GPUs by tools/gpu_check.sh) with ``--cpu``: the same
    checks on 2 workers over gloo."""
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", os.path.join(REPO, "tools", "nccl_check.py"),
                           "--cpu"], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("gloo check passed") == 2, proc.stdout
    assert "FAIL" not in proc.stdout
