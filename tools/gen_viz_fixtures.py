"""Generate golden fixtures of mx.viz (print_summary and plot_network) with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_viz_fixtures.py
Writes into tests/compat/fixtures/viz/:
  summary-<case>.txt  what mx.viz.print_summary printed for the case (LeNet, ResNet-18, ...)
  plot-<case>.json    every call plot_network made on graphviz: the Digraph's name and
                      format, then each node(name, label, attributes) and edge(tail, head,
                      attributes) in order; recorded with a stand-in graphviz module
                      (``recording_graphviz``), so the fixture does not depend on the
                      graphviz package's version or its DOT formatting.

The networks come from mxtorch/models (loaded standalone under MXNet, as
tools/gen_model_fixtures.py does) or are built here; every builder takes the library as
``mx``. tests/compat/test_viz.py imports this file and reruns the same cases with mxtorch.
"""
import contextlib
import importlib.util
import io
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "compat", "fixtures", "viz")


def _models(mx):
    spec = importlib.util.spec_from_file_location("_gen_model_fixtures",
                                                  os.path.join(HERE, "gen_model_fixtures.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen.models_for(mx)


# ---------------------------------------------------------------------------- networks
def lenet(mx):
    return _models(mx).lenet.get_symbol(10, mx=mx)


def resnet18(mx):
    return _models(mx).resnet.get_symbol(1000, 18, "3,224,224", mx=mx)


def mlp(mx):
    return _models(mx).mlp.get_symbol(10, mx=mx)


def branches(mx):
    """Grouped and bias-free convolutions, BatchNorm, LeakyReLU, Concat (a node with two
    previous layers), global pooling and a bias-free FullyConnected."""
    data = mx.sym.Variable("data")
    c1 = mx.sym.Convolution(data, kernel=(3, 3), num_filter=8, pad=(1, 1), no_bias=True,
                            name="c1")
    c2 = mx.sym.Convolution(c1, kernel=(3, 3), num_filter=8, num_group=4, pad=(1, 1),
                            stride=(1, 1), name="c2")
    bn = mx.sym.BatchNorm(c2, name="bn")
    act = mx.sym.LeakyReLU(bn, act_type="leaky", slope=0.1, name="lrelu")
    cat = mx.sym.Concat(act, c1, dim=1, name="cat")
    pool = mx.sym.Pooling(cat, global_pool=True, kernel=(1, 1), pool_type="avg", name="gap")
    fc = mx.sym.FullyConnected(mx.sym.Flatten(pool, name="flat"), num_hidden=5, no_bias=True,
                               name="fc")
    return mx.sym.SoftmaxOutput(fc, name="softmax")


def embed(mx):
    """Embedding (counted from its attributes), Reshape, SliceChannel (an edge keyed by
    the last of ``num_outputs``) and a regression head."""
    tokens = mx.sym.Variable("tokens")
    emb = mx.sym.Embedding(tokens, input_dim=20, output_dim=4, name="emb")
    parts = mx.sym.SliceChannel(emb, num_outputs=2, axis=1, name="split")
    flat = mx.sym.Reshape(parts[1], shape=(0, -1), name="flat")
    fc = mx.sym.FullyConnected(flat, num_hidden=3, name="fc")
    return mx.sym.LinearRegressionOutput(fc, name="reg")


def two_heads(mx):
    """A Group whose first head is the second output of its node (MXNet's head set)."""
    data = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
    parts = mx.sym.SliceChannel(fc, num_outputs=2, name="split")
    return mx.sym.Group([parts[1], mx.sym.Activation(parts[0], act_type="relu", name="relu")])


# case name -> (network, keyword arguments)
SUMMARY_CASES = {
    "lenet": (lenet, dict(shape={"data": (1, 1, 28, 28)})),
    "lenet_noshape": (lenet, dict()),
    "resnet18": (resnet18, dict(shape={"data": (1, 3, 224, 224)})),
    "mlp_narrow": (mlp, dict(shape={"data": (4, 64)}, line_length=70,
                             positions=[30, 45, 55, 70])),
    "branches": (branches, dict(shape={"data": (2, 3, 8, 8)})),
    "embed": (embed, dict(shape={"tokens": (2, 6)})),
    "two_heads": (two_heads, dict(shape={"data": (3, 5)})),
}
PLOT_CASES = {
    "lenet": (lenet, dict(shape={"data": (1, 1, 28, 28)})),
    "lenet_plain": (lenet, dict()),
    "lenet_weights": (lenet, dict(hide_weights=False, title="lenet", save_format="svg")),
    "resnet18": (resnet18, dict(shape={"data": (1, 3, 224, 224)},
                                dtype={"data": "float32"})),
    "branches": (branches, dict(shape={"data": (2, 3, 8, 8)},
                                node_attrs={"shape": "oval", "fixedsize": "false"})),
    "embed": (embed, dict(shape={"tokens": (2, 6)}, dtype={"tokens": "float32"})),
}


def build(mx, network):
    """The network's symbol, in a fresh NameManager (automatic names as in a fresh
    process)."""
    with mx.name.NameManager():
        return network(mx)


# ---------------------------------------------------------------------------- running
def run_summary(mx, case):
    """What ``mx.viz.print_summary`` prints for the case."""
    network, kwargs = SUMMARY_CASES[case]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mx.viz.print_summary(build(mx, network), **kwargs)
    return buf.getvalue()


class RecordingDigraph:
    """Stands for ``graphviz.Digraph``: records the calls plot_network makes."""

    def __init__(self, name=None, format=None, **kwargs):  # noqa: A002 (graphviz's name)
        self.record = {"name": name, "format": format, "nodes": [], "edges": []}

    def node(self, name, label=None, **attrs):
        self.record["nodes"].append([name, label, list(attrs.items())])

    def edge(self, tail_name, head_name, **attrs):
        self.record["edges"].append([tail_name, head_name, list(attrs.items())])


@contextlib.contextmanager
def recording_graphviz():
    """Put a graphviz module holding ``RecordingDigraph`` in ``sys.modules``."""
    fake = types.ModuleType("graphviz")
    fake.Digraph = RecordingDigraph
    saved = sys.modules.get("graphviz")
    sys.modules["graphviz"] = fake
    try:
        yield
    finally:
        if saved is None:
            del sys.modules["graphviz"]
        else:
            sys.modules["graphviz"] = saved


def run_plot(mx, case):
    """The calls ``mx.viz.plot_network`` makes on graphviz for the case, as JSON data."""
    network, kwargs = PLOT_CASES[case]
    symbol = build(mx, network)
    with recording_graphviz():
        dot = mx.viz.plot_network(symbol, **kwargs)
    return json.loads(json.dumps(dot.record))


def main():
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    for case in SUMMARY_CASES:
        with open(os.path.join(OUT, f"summary-{case}.txt"), "w", encoding="utf-8") as f:
            f.write(run_summary(mx, case))
    for case in PLOT_CASES:
        with open(os.path.join(OUT, f"plot-{case}.json"), "w", encoding="utf-8") as f:
            json.dump(run_plot(mx, case), f, indent=1)
            f.write("\n")
    print(f"wrote {len(SUMMARY_CASES)} summaries and {len(PLOT_CASES)} plots to {OUT}")


if __name__ == "__main__":
    main()
