"""Golden fixtures for the recurrent pieces, from real MXNet 1.9.1: the array ops
(SliceChannel, expand_dims, transpose, swapaxes, slice*, stack, tile, repeat, squeeze,
reverse, where, broadcast_*, Cast, *_like, zeros/ones/full, Sequence*), the fused RNN op,
networks unrolled from mx.rnn cells, and BucketSentenceIter / encode_sentences.

Run with the oracle: .mxnet-ref/bin/python tools/gen_rnn_fixtures.py [case ...]
Writes tests/compat/fixtures/rnn/<case>.npz (inputs, head gradients, outputs, gradients,
symbol JSON, list_arguments/list_outputs) and iter.json. The builders take the library
as an argument; tests/compat/test_rnn_ops.py reruns them with mxtorch.
"""
import json
import os
import random
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "rnn")

CASES = {}


def case(name, shapes, ints=None, fixed=None, no_grad=(), scale=1.0, forward_only=False):
    """Register ``build(mx) -> Symbol``. shapes: simple_bind input shapes; ints: {input:
    high} integer inputs in [0, high); fixed: {input: array}; no_grad: inputs bound with
    grad_req 'null'; scale: standard deviation of the random float inputs; forward_only:
    an inference forward and no backward (what MXNet's CPU build cannot train)."""
    def deco(build):
        CASES[name] = dict(build=build, shapes=shapes, ints=ints or {}, fixed=fixed or {},
                           no_grad=no_grad, scale=scale, forward_only=forward_only)
        return build
    return deco


_VARS = {}


def V(mx, name="data"):
    """The variable ``name`` of the symbol being built (one node per name)."""
    if name not in _VARS:
        _VARS[name] = mx.sym.Variable(name)
    return _VARS[name]


# ---------------------------------------------------------------- array ops
case("split_axis1", {"data": (2, 6, 3)})(
    lambda mx: mx.sym.Group(list(mx.sym.SliceChannel(V(mx), num_outputs=3, axis=1))))
case("split_squeeze", {"data": (4, 3, 2)})(
    lambda mx: mx.sym.Group(list(mx.sym.split(V(mx), num_outputs=3, axis=1, squeeze_axis=1))))
case("split_last", {"data": (2, 3, 4)})(
    lambda mx: mx.sym.split(V(mx), num_outputs=2, axis=-1)[1] * 2)
case("expand_dims", {"data": (2, 3)})(
    lambda mx: mx.sym.Group([mx.sym.expand_dims(V(mx), axis=1),
                             mx.sym.expand_dims(V(mx), axis=-1)]))
case("transpose", {"data": (2, 3, 4)})(
    lambda mx: mx.sym.Group([mx.sym.transpose(V(mx)), mx.sym.transpose(V(mx), axes=(1, 0, 2))]))
case("swapaxes", {"data": (2, 3, 4)})(
    lambda mx: mx.sym.Group([mx.sym.swapaxes(V(mx), dim1=0, dim2=2),
                             mx.sym.SwapAxis(V(mx), dim1=1, dim2=2)]))
case("slice_axis", {"data": (3, 5, 2)})(
    lambda mx: mx.sym.Group([mx.sym.slice_axis(V(mx), axis=1, begin=1, end=3),
                             mx.sym.slice_axis(V(mx), axis=0, begin=-2, end=None),
                             mx.sym.slice_axis(V(mx), axis=-1, begin=0, end=-1)]))
case("slice", {"data": (4, 5, 3)})(
    lambda mx: mx.sym.Group([mx.sym.slice(V(mx), begin=(None, 1), end=(None, 4)),
                             mx.sym.slice(V(mx), begin=(1, 0, 0), end=(4, 5, 2),
                                          step=(2, 2, 1)),
                             mx.sym.slice(V(mx), begin=(None, 3), end=(None, 0),
                                          step=(1, -1))]))
case("stack", {"a": (2, 3), "b": (2, 3), "c": (2, 3)})(
    lambda mx: mx.sym.Group([mx.sym.stack(V(mx, "a"), V(mx, "b"), V(mx, "c"), axis=1),
                             mx.sym.stack(V(mx, "a"), V(mx, "b"))]))
case("tile", {"data": (2, 3)})(
    lambda mx: mx.sym.Group([mx.sym.tile(V(mx), reps=(2, 1, 3)), mx.sym.tile(V(mx), reps=(2,))]))
case("repeat", {"data": (2, 3)})(
    lambda mx: mx.sym.Group([mx.sym.repeat(V(mx), repeats=2, axis=1),
                             mx.sym.repeat(V(mx), repeats=3)]))
case("squeeze", {"data": (3, 1, 4, 1)})(
    lambda mx: mx.sym.Group([mx.sym.squeeze(V(mx)), mx.sym.squeeze(V(mx), axis=(1,))]))
case("reverse", {"data": (3, 4, 2)})(
    lambda mx: mx.sym.Group([mx.sym.reverse(V(mx), axis=1), mx.sym.flip(V(mx), axis=(0, 2))]))
case("where", {"c": (3, 4), "x": (3, 4), "y": (3, 4)}, ints={"c": 2}, no_grad=("c",))(
    lambda mx: mx.sym.where(V(mx, "c"), V(mx, "x"), V(mx, "y")))
case("broadcast_to", {"data": (1, 3, 1)})(
    lambda mx: mx.sym.Group([mx.sym.broadcast_to(V(mx), shape=(4, 0, 2)),
                             mx.sym.broadcast_axis(V(mx), axis=(0, 2), size=(2, 3))]))
case("broadcast_like", {"a": (1, 3), "b": (4, 3)}, no_grad=("b",))(
    lambda mx: mx.sym.broadcast_like(V(mx, "a"), V(mx, "b")))
case("cast", {"data": (3, 4)})(
    lambda mx: mx.sym.Cast(V(mx), dtype="float64") * 2)
case("like_ops", {"data": (3, 4)})(
    lambda mx: mx.sym.Group([mx.sym.zeros_like(V(mx)) + V(mx), mx.sym.ones_like(V(mx)) * V(mx)]))
case("constants", {"data": (3, 4)})(
    lambda mx: mx.sym.Group([V(mx) + mx.sym.zeros(shape=(0, 4)),
                             V(mx) * mx.sym.ones(shape=(3, 0)),
                             V(mx) * mx.sym.full(shape=(3, 4), val=2.5)]))

_LENS = np.array([2, 4, 1], np.float32)
for _op in ("SequenceMask", "SequenceLast", "SequenceReverse"):
    case(_op.lower(), {"data": (4, 3, 2)})(
        (lambda op: lambda mx: getattr(mx.sym, op)(V(mx)))(_op))
    case(_op.lower() + "_len", {"data": (4, 3, 2), "len": (3,)}, fixed={"len": _LENS},
         no_grad=("len",))(
        (lambda op: lambda mx: getattr(mx.sym, op)(V(mx), V(mx, "len"),
                                                   use_sequence_length=True))(_op))
    if _op != "SequenceReverse":  # MXNet 1.9.1's SequenceReverse supports axis 0 only
        case(_op.lower() + "_axis1", {"data": (3, 4, 2), "len": (3,)}, fixed={"len": _LENS},
             no_grad=("len",))(
            (lambda op: lambda mx: getattr(mx.sym, op)(V(mx), V(mx, "len"),
                                                       use_sequence_length=True,
                                                       axis=1))(_op))
case("sequencemask_value", {"data": (4, 3), "len": (3,)}, fixed={"len": _LENS},
     no_grad=("len",))(
    lambda mx: mx.sym.SequenceMask(V(mx), V(mx, "len"), use_sequence_length=True, value=-1.5))

# ---------------------------------------------------------------- fused RNN op
_RNN = {"rnn_lstm_2l_bi": dict(mode="lstm", num_layers=2, bidirectional=True),
        "rnn_gru_2l": dict(mode="gru", num_layers=2),
        "rnn_tanh_bi": dict(mode="rnn_tanh", num_layers=1, bidirectional=True),
        "rnn_relu_2l": dict(mode="rnn_relu", num_layers=2)}
for _n, _kw in _RNN.items():
    for _so in (False, True):
        case(_n + ("_states" if _so else ""), {"data": (4, 3, 5)}, scale=0.4)(
            (lambda kw, so: lambda mx: mx.sym.RNN(V(mx), state_size=6, state_outputs=so,
                                                  name="rnn", **kw))(_kw, _so))
# LSTMP (projection of the hidden state): MXNet's CPU build runs it forward only. (Its CPU
# build ignores lstm_state_clip_*, a cuDNN-only option, so there is no fixture for it.)
for _n, _kw in {"rnn_lstm_proj": dict(num_layers=1, projection_size=3),
                "rnn_lstm_proj_2l_bi": dict(num_layers=2, bidirectional=True,
                                            projection_size=3)}.items():
    case(_n, {"data": (4, 3, 5)}, forward_only=True)(
        (lambda kw: lambda mx: mx.sym.RNN(V(mx), state_size=6, state_outputs=True, mode="lstm",
                                          name="rnn", **kw))(_kw))


# ---------------------------------------------------------------- unrolled cells
def _group(mx, outputs, states):
    """Outputs and (flattened) states as one group; a state that is also an output is left
    out (MXNet gives a repeated head only its last head gradient)."""
    outs = outputs if isinstance(outputs, list) else [outputs]
    flat = []
    for s in states:
        flat.extend(s if isinstance(s, list) else [s])
    seen = {o.list_outputs()[0] for o in outs}
    return mx.sym.Group(outs + [s for s in flat if s.list_outputs()[0] not in seen])


def net_lstm_stack(mx):
    cell = mx.rnn.SequentialRNNCell()
    for i in range(2):
        cell.add(mx.rnn.LSTMCell(6, prefix="lstm_l%d_" % i))
    emb = mx.sym.Embedding(V(mx), input_dim=11, output_dim=5, name="embed")
    out, states = cell.unroll(4, emb, merge_outputs=True)
    pred = mx.sym.FullyConnected(mx.sym.Reshape(out, shape=(-1, 6)), num_hidden=7, name="pred")
    return _group(mx, pred, states)


def net_gru_list(mx):
    cell = mx.rnn.GRUCell(6, prefix="gru_")
    out, states = cell.unroll(3, V(mx), layout="NTC", merge_outputs=False)
    return _group(mx, out, states)


def net_rnn_tnc(mx):
    cell = mx.rnn.RNNCell(5, activation="relu", prefix="rnn_")
    out, states = cell.unroll(3, V(mx), layout="TNC", merge_outputs=True)
    return _group(mx, out, states)


def net_bidi(mx):
    cell = mx.rnn.BidirectionalCell(mx.rnn.LSTMCell(4, prefix="l_"),
                                    mx.rnn.GRUCell(4, prefix="r_"), output_prefix="bi_")
    out, states = cell.unroll(3, V(mx), merge_outputs=True)
    return _group(mx, out, states)


def net_bidi_list(mx):
    cell = mx.rnn.BidirectionalCell(mx.rnn.RNNCell(4, prefix="l_"), mx.rnn.RNNCell(4, prefix="r_"))
    out, states = cell.unroll(3, V(mx))
    return _group(mx, out, states)


def net_residual(mx):
    cell = mx.rnn.ResidualCell(mx.rnn.GRUCell(5, prefix="g0_"))
    out, states = cell.unroll(3, V(mx), merge_outputs=True)
    cell2 = mx.rnn.ResidualCell(mx.rnn.LSTMCell(5, prefix="l0_"))
    out2, states2 = cell2.unroll(3, V(mx), merge_outputs=False)
    return _group(mx, [out] + out2, states + states2)


def net_var_states(mx):
    cell = mx.rnn.SequentialRNNCell()
    cell.add(mx.rnn.GRUCell(5, prefix="g0_"))
    cell.add(mx.rnn.DropoutCell(0.0, prefix="drop_"))
    cell.add(mx.rnn.LSTMCell(5, prefix="l1_"))
    begin = cell.begin_state(func=mx.sym.Variable)
    out, states = cell.unroll(3, V(mx), begin_state=begin, merge_outputs=False)
    return _group(mx, out, states)


def net_fused(mx):
    cell = mx.rnn.FusedRNNCell(4, num_layers=2, mode="lstm", bidirectional=True,
                               get_next_state=True, prefix="lstm_")
    out, states = cell.unroll(3, V(mx), layout="NTC", merge_outputs=True)
    return _group(mx, out, states)


def net_fused_gru_tnc(mx):
    cell = mx.rnn.FusedRNNCell(5, num_layers=1, mode="gru", prefix="gru_")
    out, states = cell.unroll(3, V(mx), layout="TNC", merge_outputs=False)
    return _group(mx, out, states)


_NETS = {"net_lstm_stack": (net_lstm_stack, {"data": (3, 4)}, {"data": 11}, ("data",)),
         "net_gru_list": (net_gru_list, {"data": (2, 3, 4)}, {}, ()),
         "net_rnn_tnc": (net_rnn_tnc, {"data": (3, 2, 4)}, {}, ()),
         "net_bidi": (net_bidi, {"data": (2, 3, 5)}, {}, ()),
         "net_bidi_list": (net_bidi_list, {"data": (2, 3, 5)}, {}, ()),
         "net_residual": (net_residual, {"data": (2, 3, 5)}, {}, ()),
         "net_var_states": (net_var_states,
                                     {"data": (2, 3, 5), "g0_begin_state_0": (2, 5),
                                      "l1_begin_state_0": (2, 5), "l1_begin_state_1": (2, 5)},
                                     {}, ()),
         "net_fused": (net_fused, {"data": (2, 3, 5)}, {}, ()),
         "net_fused_gru_tnc": (net_fused_gru_tnc, {"data": (3, 2, 4)}, {}, ())}
for _n, (_b, _s, _i, _ng) in _NETS.items():
    case(_n, _s, ints=_i, no_grad=_ng, scale=0.5)(_b)


# ---------------------------------------------------------------- running
def build(mx, name):
    """The case's symbol, built under a fresh NameManager."""
    _VARS.clear()
    with mx.name.NameManager():
        return CASES[name]["build"](mx)


def _seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 2**31


def make_inputs(name, sym):
    """Seeded inputs and head gradients of a case."""
    cfg = CASES[name]
    rng = np.random.RandomState(_seed(name))
    arg_shapes, out_shapes, _ = sym.infer_shape(**cfg["shapes"])
    inputs = {}
    for n, s in zip(sym.list_arguments(), arg_shapes):
        if n in cfg["fixed"]:
            v = cfg["fixed"][n]
        elif n in cfg["ints"]:
            v = rng.randint(0, cfg["ints"][n], s)
        else:
            v = rng.randn(*s) * cfg["scale"]
        inputs[n] = np.asarray(v, np.float32).reshape(s)
    ograds = [rng.randn(*s).astype(np.float32) for s in out_shapes]
    return inputs, ograds


def run(mx, sym, shapes, inputs, ograds, no_grad=(), forward_only=False):
    """simple_bind + forward(is_train=True) + backward (or an inference forward only);
    numpy results by key."""
    req = {n: "null" if n in no_grad or forward_only else "write" for n in sym.list_arguments()}
    ex = sym.simple_bind(mx.cpu(), grad_req=req, **shapes)
    for n, v in inputs.items():
        ex.arg_dict[n][:] = v
    ex.forward(is_train=not forward_only)
    res = {"out:%d" % i: o.asnumpy() for i, o in enumerate(ex.outputs)}
    if forward_only:
        return res
    ex.backward([mx.nd.array(g, dtype=o.dtype) for g, o in zip(ograds, ex.outputs)])
    res.update({"grad:" + n: g.asnumpy() for n, g in ex.grad_dict.items() if g is not None})
    return res


def generate(mx, name):
    cfg = CASES[name]
    sym = build(mx, name)
    inputs, ograds = make_inputs(name, sym)
    res = run(mx, sym, cfg["shapes"], inputs, ograds, cfg["no_grad"], cfg["forward_only"])
    res.update({"in:" + n: v for n, v in inputs.items()})
    res.update({"ograd:%d" % i: g for i, g in enumerate(ograds)})
    res["json"] = np.array(sym.tojson())
    res["arguments"] = np.array(json.dumps(sym.list_arguments()))
    res["outputs"] = np.array(json.dumps(sym.list_outputs()))
    return res


# ---------------------------------------------------------------- text iterator
def corpus():
    """A fixed corpus of token lists (lengths 2..14) built from a seeded generator."""
    rng = np.random.RandomState(7)
    words = ["w%d" % i for i in range(30)]
    return [[words[k] for k in rng.randint(0, 30, rng.randint(2, 15))] for _ in range(60)]


def iter_facts(mx):
    """What encode_sentences and BucketSentenceIter give on the corpus."""
    sents = corpus()
    facts = {}
    coded, vocab = mx.rnn.encode_sentences(sents, invalid_label=0, start_label=1)
    facts["coded"], facts["vocab"] = coded, vocab
    more = [["w1", "zzz", "w2"], ["yyy"]]
    c2, v2 = mx.rnn.encode_sentences(more, vocab=dict(vocab), invalid_label=0,
                                     unknown_token="<unk>")
    facts["coded_unk"], facts["vocab_unk"] = c2, v2
    c3, v3 = mx.rnn.encode_sentences(sents[:5], invalid_label=2, start_label=0)
    facts["coded_skip"], facts["vocab_skip"] = c3, v3
    for layout, buckets in (("NT", [4, 8, 12]), ("TN", None)):
        random.seed(3)
        np.random.seed(3)
        it = mx.rnn.BucketSentenceIter(coded, 4, buckets=buckets, invalid_label=0,
                                       layout=layout)
        epochs = []
        for _ in range(2):
            batches = []
            for b in it:
                batches.append({"key": b.bucket_key, "pad": b.pad,
                                "data": b.data[0].asnumpy().tolist(),
                                "label": b.label[0].asnumpy().tolist(),
                                "provide_data": [[d.name, list(d.shape), d.layout]
                                                 for d in b.provide_data],
                                "provide_label": [[d.name, list(d.shape), d.layout]
                                                  for d in b.provide_label]})
            epochs.append(batches)
            it.reset()
        facts["iter_" + layout] = {
            "buckets": it.buckets, "default_bucket_key": it.default_bucket_key,
            "provide_data": [[d.name, list(d.shape), d.layout] for d in it.provide_data],
            "provide_label": [[d.name, list(d.shape), d.layout] for d in it.provide_label],
            "epochs": epochs}
    return facts


def main(argv):
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    names = argv or list(CASES) + ["iter"]
    for name in names:
        if name == "iter":
            with open(os.path.join(OUT, "iter.json"), "w") as f:
                json.dump(iter_facts(mx), f, sort_keys=True)
            continue
        try:
            np.savez_compressed(os.path.join(OUT, name + ".npz"), **generate(mx, name))
        except Exception as e:  # report and go on
            print("FAILED", name, str(e).splitlines()[-1][:200])
    print(f"wrote {len(names)} fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
