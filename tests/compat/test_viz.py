"""mx.viz against MXNet 1.9.1 (fixtures from tools/gen_viz_fixtures.py): print_summary
prints MXNet's table character for character (LeNet, ResNet-18 and graphs that reach every
branch), and plot_network makes the same graphviz calls (nodes, labels, colours, edges,
shape and dtype labels); then the real graphviz package: the Digraph's DOT text, and a
rendered SVG where the ``dot`` program is installed."""
import importlib.util
import json
import os
import shutil
import sys
import warnings

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "viz")
_spec = importlib.util.spec_from_file_location("gen_viz", os.path.join(ROOT, "tools",
                                                                       "gen_viz_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def _run(fn, case):
    """``fn(mx, case)``; a case needing an op mxtorch lacks yet is skipped, naming it."""
    try:
        return fn(mx, case)
    except MXNetNotImplementedError as e:
        pytest.skip(str(e))


def _fixture(name):
    with open(os.path.join(FIX, name), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("case", sorted(gen.SUMMARY_CASES))
def test_print_summary_is_mxnets(case):
    ours, theirs = _run(gen.run_summary, case), _fixture(f"summary-{case}.txt")
    for i, (a, b) in enumerate(zip(ours.splitlines(), theirs.splitlines())):
        assert a == b, f"line {i}:\nours  {a!r}\nMXNet {b!r}"
    assert ours == theirs


@pytest.mark.parametrize("case", ["lenet", "resnet18"])
def test_summary_total_is_the_number_of_trained_weights(case):
    """For nets of conv/FC/BatchNorm layers MXNet's count is every argument but the
    inputs: check it against the inferred parameter shapes (numpy, not our printer)."""
    network, kwargs = gen.SUMMARY_CASES[case]
    sym = _run(gen.build, network)
    arg_shapes = sym.infer_shape(**kwargs["shape"])[0]
    expected = sum(int(np.prod(s)) for n, s in zip(sym.list_arguments(), arg_shapes)
                   if n not in ("data", "softmax_label"))
    total = [line for line in _fixture(f"summary-{case}.txt").splitlines()
             if line.startswith("Total params")]
    assert total == [f"Total params: {expected}"]


@pytest.mark.parametrize("case", sorted(gen.PLOT_CASES))
def test_plot_network_calls_are_mxnets(case):
    theirs = json.loads(_fixture(f"plot-{case}.json"))
    ours = _run(gen.run_plot, case)
    assert (ours["name"], ours["format"]) == (theirs["name"], theirs["format"])
    assert ours["nodes"] == theirs["nodes"]
    assert ours["edges"] == theirs["edges"]


def test_plot_network_gives_a_graphviz_digraph():
    graphviz = pytest.importorskip("graphviz")
    sym = gen.build(mx, gen.lenet)
    dot = mx.viz.plot_network(sym, shape={"data": (1, 1, 28, 28)}, save_format="svg")
    assert isinstance(dot, graphviz.Digraph)
    assert dot.name == "plot" and dot.format == "svg"
    src = dot.source
    assert "Convolution\n5x5/1, 20" in src
    assert "#fb8072" in src and "#8dd3c7" in src
    assert "convolution0 -> data" in src and "20x24x24" in src
    assert "convolution0_weight" not in src


@pytest.mark.skipif(shutil.which("dot") is None, reason="the graphviz 'dot' program is not "
                    "installed (apt-get install graphviz)")
def test_plot_network_renders_svg(tmp_path):
    pytest.importorskip("graphviz")
    dot = mx.viz.plot_network(gen.build(mx, gen.mlp), shape={"data": (2, 64)},
                              save_format="svg")
    path = dot.render(filename="mlp", directory=str(tmp_path), cleanup=True)
    svg = open(path, encoding="utf-8").read()
    assert path.endswith(".svg") and svg.lstrip().startswith("<?xml")
    assert "FullyConnected" in svg and "128" in svg


def test_plot_network_without_graphviz_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        mx.viz.plot_network(gen.build(mx, gen.mlp))


@pytest.mark.parametrize("fn", [mx.viz.print_summary, mx.viz.plot_network])
def test_not_a_symbol_is_refused(fn):
    with pytest.raises(TypeError, match="symbol must be an mx.sym.Symbol, got dict"):
        fn({"data": 1})


def test_incomplete_shape_is_refused(monkeypatch):
    sym = gen.build(mx, gen.lenet)
    with pytest.raises(ValueError, match="Input shape is incomplete.*give the shape"):
        mx.viz.print_summary(sym, shape={"softmax_label": (1,)})
    with gen.recording_graphviz():
        with pytest.raises(ValueError, match="Input type is incomplete"):
            mx.viz.plot_network(sym, dtype={})


def test_positions_must_give_four_columns():
    with pytest.raises(ValueError, match="positions.*4"):
        mx.viz.print_summary(gen.build(mx, gen.mlp), positions=[.5, 1.])


def test_repeated_names_warn():
    a = mx.sym.Variable("x")
    b = mx.sym.Variable("x", shape=(2,))
    sym = mx.sym.FullyConnected(a + b, num_hidden=2, name="fc")
    with gen.recording_graphviz(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mx.viz.plot_network(sym)
    assert any("Repeated names: x" in str(w.message) for w in caught)


def test_render_without_dot_says_what_is_missing(monkeypatch, tmp_path):
    graphviz = pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' program on it
    dot = mx.viz.plot_network(gen.build(mx, gen.mlp), save_format="png")
    assert "fc1" in dot.source  # the graph is there without the program
    with pytest.raises(graphviz.ExecutableNotFound, match="Graphviz executables"):
        dot.render(filename="mlp", directory=str(tmp_path))
