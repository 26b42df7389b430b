"""Generate golden fixtures of whole networks (mxtorch/models) and of network
initialization with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_model_fixtures.py [case ... | initializers]
Writes into tests/compat/fixtures/models/:
- <case>-symbol.json.gz for every case: MXNet's tojson of the graph our builder code makes
  under MXNet (gzipped: deep ResNets are 300 kB of text);
- <case>.npz for the numeric cases: the input batch, and the softmax output and logits
  (the softmax head's data input) of one inference forward and, for nets without Dropout,
  one training forward. Parameters are drawn from numpy seeded by each name
  (``seeded_params``: both sides draw the same numbers, so big nets need no parameter
  file) or, for the ``checkpoint`` cases, initialised by MXNet's Module and saved with
  save_checkpoint (<case>-symbol.json, <case>-0000.params);
- init_breadth.npz/.json: Module.init_params results, ``__init__`` attributes, FusedRNN
  and Orthogonal arrays (tests/initializer/test_initializer_breadth.py).

The builders in mxtorch/models take the library as ``mx=``; under MXNet this script loads
that package standalone (it does not import mxtorch). The tests import this file and
rerun the very same cases with mxtorch.
"""
import gzip
import importlib.util
import json
import os
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "compat", "fixtures", "models")
MODELS_DIR = os.path.join(ROOT, "mxtorch", "models")

CASES = {}


def case(name, build, data_shape=None, numeric=False, train=False, checkpoint=False,
         vocab=None):
    """Register ``build(models, mx) -> Symbol``. numeric: also compare outputs on a batch
    of ``data_shape``; train: also a training-mode forward (nets without Dropout);
    checkpoint: parameters from MXNet's initializer through a saved .params file; vocab:
    integer token data below ``vocab`` (language models)."""
    CASES[name] = dict(build=build, data_shape=data_shape, numeric=numeric, train=train,
                       checkpoint=checkpoint, vocab=vocab)


def models_for(mx):
    """mxtorch.models for mxtorch; the same package loaded standalone for real MXNet."""
    if mx.__name__ == "mxtorch":
        import mxtorch.models
        return mxtorch.models
    if "_fixture_models" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "_fixture_models", os.path.join(MODELS_DIR, "__init__.py"),
            submodule_search_locations=[MODELS_DIR])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["_fixture_models"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["_fixture_models"]


def build(mx, name):
    """The case's symbol, built in a fresh NameManager (automatic names as in a fresh
    process)."""
    with mx.name.NameManager():
        return CASES[name]["build"](models_for(mx), mx)


# ---------------------------------------------------------------------------- cases
def _img(c, h, w=None, n=2):
    return (n, c, h, w or h)


case("mlp", lambda m, mx: m.mlp.get_symbol(10, mx=mx), _img(1, 8), numeric=True, train=True,
     checkpoint=True)
case("lenet", lambda m, mx: m.lenet.get_symbol(10, mx=mx), _img(1, 28), numeric=True,
     train=True)
case("lenet_stn", lambda m, mx: m.lenet.get_symbol(10, add_stn=True, mx=mx), _img(1, 28),
     numeric=True, train=True)
for _n in (11, 13, 16, 19):
    case("vgg%d" % _n, lambda m, mx, n=_n: m.vgg.get_symbol(10, num_layers=n, mx=mx))
    case("vgg%d_bn" % _n, lambda m, mx, n=_n: m.vgg.get_symbol(10, num_layers=n, batch_norm=True,
                                                               mx=mx),
         _img(3, 32, n=1), numeric=_n == 11)
case("vgg11_fp16", lambda m, mx: m.vgg.get_symbol(10, dtype="float16", mx=mx))
# ResNet v2 (resnet.py) and v1 (resnet_v1.py)
for _v, _mod in (("", "resnet"), ("v1_", "resnet_v1")):
    case("resnet_%s18_32" % _v,
         lambda m, mx, mod=_mod: getattr(m, mod).get_symbol(10, 18, "3,32,32", mx=mx),
         _img(3, 32), numeric=True, train=True)
    case("resnet_%s20_28" % _v,
         lambda m, mx, mod=_mod: getattr(m, mod).get_symbol(10, 20, "3,28,28", mx=mx),
         _img(3, 28), numeric=True, train=True)
    case("resnet_%s18_64" % _v,
         lambda m, mx, mod=_mod: getattr(m, mod).get_symbol(7, 18, "3,64,64", mx=mx),
         _img(3, 64), numeric=_v == "", train=True)
    case("resnet_%s50_64" % _v,
         lambda m, mx, mod=_mod: getattr(m, mod).get_symbol(7, 50, "3,64,64", mx=mx),
         _img(3, 64, n=1), numeric=True)
    case("resnet_%s164_28" % _v,
         lambda m, mx, mod=_mod: getattr(m, mod).get_symbol(10, 164, "3,28,28", mx=mx))
    for _d in (18, 34, 50, 101, 152):
        case("resnet_%s%d_224" % (_v, _d),
             lambda m, mx, mod=_mod, d=_d: getattr(m, mod).get_symbol(1000, d, "3,224,224",
                                                                      mx=mx))
    case("resnet_%s50_224_fp16" % _v,
         lambda m, mx, mod=_mod: getattr(m, mod).get_symbol(1000, 50, "3,224,224",
                                                            dtype="float16", mx=mx))
case("resnet_memonger",
     lambda m, mx: m.resnet.resnet([1, 1, 1], 3, [16, 16, 32, 64], 10, (3, 28, 28),
                                   bottle_neck=False, memonger=True, mx=mx),
     _img(3, 28), numeric=True, train=True, checkpoint=True)
case("inception_bn_28", lambda m, mx: m.inception_bn.get_symbol(10, "3,28,28", mx=mx),
     _img(3, 28), numeric=True, train=True)
case("inception_bn_224", lambda m, mx: m.inception_bn.get_symbol(1000, "3,224,224", mx=mx))
case("mobilenet", lambda m, mx: m.mobilenet.get_symbol(1000, mx=mx))
# training-mode BatchNorm over few values (1x1 maps of a batch of 2) amplifies rounding
# noise past 1e-4, so the numeric case keeps 2x2 final maps and 4 images
case("mobilenet_0.25_64", lambda m, mx: m.mobilenet.get_symbol(10, alpha=0.25, resolution=64,
                                                               mx=mx),
     _img(3, 64, n=4), numeric=True, train=True)
case("mobilenet_0.5_32", lambda m, mx: m.mobilenet.get_symbol(10, alpha=0.5, resolution=32,
                                                              mx=mx))
case("alexnet", lambda m, mx: m.alexnet.get_symbol(10, mx=mx), _img(3, 67, n=1), numeric=True)
case("alexnet_fp16", lambda m, mx: m.alexnet.get_symbol(1000, dtype="float16", mx=mx))
case("lstm_lm", lambda m, mx: m.lstm_lm.get_symbol(20, 5, num_embed=8, num_hidden=8,
                                                   num_layers=2, mx=mx),
     (3, 5), numeric=True, train=True, checkpoint=True, vocab=20)
case("lstm_lm_fused", lambda m, mx: m.lstm_lm.get_symbol(20, 5, num_embed=8, num_hidden=6,
                                                         num_layers=2, fused=True, mx=mx),
     (5, 3), numeric=True, train=True, vocab=20)
case("lstm_lm_fused_bi", lambda m, mx: m.lstm_lm.get_symbol(20, 5, num_embed=8, num_hidden=6,
                                                            num_layers=1, fused=True,
                                                            bidirectional=True, dropout=0.5,
                                                            mx=mx))


# ---------------------------------------------------------------------------- numbers
def seeded_params(shapes):
    """``{name: float32 array}`` drawn from numpy seeded by crc32(name), by the name's
    role: weights N(0, 2/fan_in), 1-D fused RNN ``parameters`` U(-0.3, 0.3), biases and
    betas N(0, 0.1^2), gammas and moving variances U(0.5, 1.5), moving means N(0, 0.1^2)."""
    out = {}
    for name, shape in shapes.items():
        rng = np.random.RandomState(zlib.crc32(name.encode()))
        if name.endswith("parameters"):
            arr = rng.uniform(-0.3, 0.3, shape)
        elif name.endswith("weight") and len(shape) >= 2:
            arr = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
        elif name.endswith("gamma") or name.endswith("moving_var"):
            arr = rng.uniform(0.5, 1.5, shape)
        else:
            arr = rng.standard_normal(shape) * 0.1
        out[name] = arr.astype(np.float32)
    return out


def batch(name):
    """The input batch of a numeric case (images U(-1, 1), or tokens below ``vocab``)."""
    c = CASES[name]
    rng = np.random.RandomState(zlib.crc32(name.encode()) % 1000)
    if c["vocab"]:
        return rng.randint(0, c["vocab"], c["data_shape"]).astype(np.float32)
    return rng.uniform(-1, 1, c["data_shape"]).astype(np.float32)


def input_shapes(sym, name):
    """Shapes of data and label for simple_bind."""
    shape = CASES[name]["data_shape"]
    return {"data": shape, "softmax_label": shape if CASES[name]["vocab"] else shape[:1]}


def forward(mx, sym, name, arg_params, aux_params):
    """Softmax output and logits of one inference forward and (train cases) one training
    forward, as numpy arrays keyed infer_out/infer_logits/train_out/train_logits."""
    net = mx.sym.Group([sym, sym.get_children()[0]])
    exe = net.simple_bind(mx.cpu(), grad_req="null", **input_shapes(sym, name))
    exe.copy_params_from(arg_params, aux_params)
    exe.arg_dict["data"][:] = batch(name)
    res = {}
    modes = ("infer", "train") if CASES[name]["train"] else ("infer",)
    for mode in modes:
        outs = exe.forward(is_train=mode == "train")
        res[mode + "_out"] = outs[0].asnumpy()
        res[mode + "_logits"] = outs[1].asnumpy()
    return res


def params_of(mx, sym, name):
    """Seeded parameters for ``sym`` at the case's input shapes, as NDArrays."""
    arg_shapes, _, aux_shapes = sym.infer_shape(**input_shapes(sym, name))
    skip = set(input_shapes(sym, name))
    args = {n: s for n, s in zip(sym.list_arguments(), arg_shapes) if n not in skip}
    aux = dict(zip(sym.list_auxiliary_states(), aux_shapes))
    return ({k: mx.nd.array(v) for k, v in seeded_params(args).items()},
            {k: mx.nd.array(v) for k, v in seeded_params(aux).items()})


def _checkpoint(mx, sym, name):
    """MXNet's Module initialises the parameters (Xavier, magnitude 2; seeded) and
    save_checkpoint writes them; the aux states get seeded values (not all 0/1)."""
    mx.random.seed(7)
    np.random.seed(7)
    shapes = input_shapes(sym, name)
    mod = mx.mod.Module(sym, data_names=("data",), label_names=("softmax_label",),
                        context=mx.cpu())
    mod.bind(data_shapes=[("data", shapes["data"])],
             label_shapes=[("softmax_label", shapes["softmax_label"])], for_training=False)
    mod.init_params(mx.init.Xavier(magnitude=2.0))
    arg, aux = mod.get_params()
    aux = {k: mx.nd.array(v) for k, v in seeded_params({k: v.shape for k, v in aux.items()})
           .items()}
    mod.set_params(arg, aux)
    mod.save_checkpoint(os.path.join(OUT, name), 0)
    return arg, aux


# ---------------------------------------------------------------------------- initializers
# How networks get their first parameters: variables' own ``__init__`` attributes (set by
# ``Variable(init=...)`` or by ops such as BatchNorm, PReLU and the RNN cells), FusedRNN on
# the fused RNN op's flat vector, and the composites around them. tests/initializer/
# test_initializer_breadth.py reruns these with mxtorch.
INIT_CASES = {}


def init_case(name):
    """Register ``build(mx) -> (symbol, data_shapes, initializer)`` for Module.init_params."""
    def deco(fn):
        INIT_CASES[name] = fn
        return fn
    return deco


def _attrs_net(mx):
    """FC with its own weight init, BatchNorm, PReLU, a suffix-less variable with init=One
    (no name rule would cover it) and a plain FC."""
    data = mx.sym.Variable("data")
    w = mx.sym.Variable("fc1_weight", init=mx.init.Constant(0.5))
    fc1 = mx.sym.FullyConnected(data, weight=w, num_hidden=4, name="fc1")
    bn = mx.sym.BatchNorm(fc1, name="bn")
    act = mx.sym.LeakyReLU(bn, act_type="prelu", name="prelu")
    scale = mx.sym.Variable("scale", init=mx.init.One(), shape=(1, 4))
    fc2 = mx.sym.FullyConnected(mx.sym.broadcast_mul(act, scale), num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


init_case("attrs_uniform")(lambda mx: (_attrs_net(mx), (5, 6), mx.init.Uniform(0.07)))
init_case("attrs_mixed")(lambda mx: (_attrs_net(mx), (5, 6),
                                     mx.init.Mixed(["fc2.*", ".*"],
                                                   [mx.init.Zero(), mx.init.Uniform(0.1)])))
init_case("attrs_load")(lambda mx: (_attrs_net(mx), (5, 6),
                                    mx.init.Load({"arg:fc1_weight": mx.nd.ones((4, 6)) * 3},
                                                 default_init=mx.init.Xavier())))


def _cell_net(mx, cell, layout="NTC"):
    data = mx.sym.Variable("data")
    out, _ = cell.unroll(3, inputs=data, merge_outputs=True, layout=layout)
    return mx.sym.MakeLoss(mx.sym.sum(out))


init_case("lstm_cell")(lambda mx: (_cell_net(mx, mx.rnn.LSTMCell(4, prefix="l_",
                                                                  forget_bias=2.0)),
                                   (2, 3, 5), mx.init.Xavier()))
init_case("fused_lstm_bi")(lambda mx: (
    _cell_net(mx, mx.rnn.FusedRNNCell(3, num_layers=2, mode="lstm", bidirectional=True,
                                      forget_bias=1.5), "TNC"),
    (3, 2, 5), mx.init.Uniform(0.1)))
init_case("fused_gru")(lambda mx: (
    _cell_net(mx, mx.rnn.FusedRNNCell(4, num_layers=1, mode="gru"), "TNC"), (3, 2, 5),
    mx.init.Xavier(factor_type="in")))


def module_init(mx, name, seed):
    """Module.init_params of an init case: ``({name: array}, symbol.attr_dict())``."""
    sym, shape, init = INIT_CASES[name](mx)
    mx.random.seed(seed)
    np.random.seed(seed)
    mod = mx.mod.Module(sym, data_names=("data",),
                        label_names=("softmax_label",) if "softmax_label" in
                        sym.list_arguments() else None, context=mx.cpu())
    label = [("softmax_label", shape[:1])] if "softmax_label" in sym.list_arguments() else None
    mod.bind(data_shapes=[("data", shape)], label_shapes=label, for_training=False)
    mod.init_params(init)
    arg, aux = mod.get_params()
    out = {k: v.asnumpy() for k, v in list(arg.items()) + list(aux.items())}
    return out, sym.attr_dict()


# FusedRNN called directly on a flat vector: (num_hidden, num_layers, mode, bidirectional,
# forget_bias, input size)
FUSED_DIRECT = [(3, 1, "lstm", False, 1.0, 2), (2, 2, "lstm", True, 0.5, 3),
                (3, 2, "gru", False, 1.0, 4), (2, 1, "gru", True, 1.0, 2),
                (3, 2, "rnn_tanh", True, 1.0, 2), (2, 1, "rnn_relu", False, 1.0, 5)]


def fused_size(h, layers, mode, bi, ninput):
    """The length of the RNN op's flat parameter vector."""
    g = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}[mode]
    b = 2 if bi else 1
    size = b * g * h * (ninput + h + 2)
    return size + (layers - 1) * b * g * h * (b * h + h + 2)


def fused_direct(mx, h, layers, mode, bi, fb, ninput, init):
    """FusedRNN(init, ...) on a flat vector. With an ``init`` it is called directly (on a
    name ending in 'weight'); with None it is the vector's ``__init__`` and the global
    initializer Constant(0.25) fills the pieces, as in Module.init_params. (MXNet cannot
    recreate a FusedRNN with a non-None init from its JSON: see gen_initializers.)"""
    arr = mx.nd.full((fused_size(h, layers, mode, bi, ninput),), -7.0)
    fused = mx.init.FusedRNN(init, h, layers, mode, bi, fb)
    if init is not None:
        fused(mx.init.InitDesc("rnn_weight"), arr)
    else:
        mx.init.Constant(0.25)(mx.init.InitDesc("rnn_parameters",
                                                attrs={"__init__": fused.dumps()}), arr)
    return arr.asnumpy()


ORTHO_SHAPES = [(3, 5), (5, 3), (4, 2, 3, 3), (6, 6)]


def gen_initializers(mx):
    """Writes models/init_breadth.npz and init_breadth.json."""
    arrays, meta = {}, {"attrs": {}, "dumps": {}}
    for name in sorted(INIT_CASES):
        v1, attrs = module_init(mx, name, 1)
        v2, _ = module_init(mx, name, 2)
        meta["attrs"][name] = attrs
        for k in v1:
            arrays["%s/%s" % (name, k)] = v1[k]
            arrays["%s/%s:fixed" % (name, k)] = v1[k] == v2[k]
    for i, (h, layers, mode, bi, fb, ninput) in enumerate(FUSED_DIRECT):
        arrays["fused_one/%d" % i] = fused_direct(mx, h, layers, mode, bi, fb, ninput,
                                                  mx.init.One())
        arrays["fused_global/%d" % i] = fused_direct(mx, h, layers, mode, bi, fb, ninput, None)
        meta["dumps"]["fused_%d" % i] = mx.init.FusedRNN(mx.init.One(), h, layers, mode, bi,
                                                         fb).dumps()
    meta["dumps"]["fused_none"] = mx.init.FusedRNN(None, 4, 1, "lstm").dumps()
    # MXNet 1.9.1 looks a string init up in the wrong registry dict: KeyError
    try:
        mx.init.FusedRNN('["xavier", {"magnitude": 2}]', 4, 2, "gru", True, 0.0)
        meta["fused_str_error"] = None
    except KeyError as e:
        meta["fused_str_error"] = "KeyError: %s" % e
    for scale, rand_type in ((1.414, "uniform"), (0.5, "normal")):
        for shape in ORTHO_SHAPES:
            arr = mx.nd.zeros(shape)
            mx.init.Orthogonal(scale, rand_type)(mx.init.InitDesc("o_weight"), arr)
            arrays["ortho/%s/%s/%s" % (scale, rand_type, shape)] = arr.asnumpy()
    np.savez_compressed(os.path.join(OUT, "init_breadth.npz"), **arrays)
    with open(os.path.join(OUT, "init_breadth.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


def main(names):
    # MXNet's pip build fuses Convolution+BatchNorm(+ReLU) with its MKLDNN subgraph backend
    # when nothing needs a gradient (grad_req 'null'); forward(is_train=True) of the fused
    # graph then uses the moving statistics, not the batch's. Switch the fusion off.
    os.environ["MXNET_SUBGRAPH_BACKEND"] = "NONE"
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    for name in (n for n in names if n in CASES):
        sym = build(mx, name)
        with gzip.open(os.path.join(OUT, name + "-symbol.json.gz"), "wt",
                       encoding="utf-8") as f:
            f.write(sym.tojson())
        c = CASES[name]
        if not c["numeric"]:
            continue
        if c["checkpoint"]:
            arg, aux = _checkpoint(mx, sym, name)
        else:
            arg, aux = params_of(mx, sym, name)
        res = forward(mx, sym, name, arg, aux)
        np.savez_compressed(os.path.join(OUT, name + ".npz"), data=batch(name), **res)
        print(name, {k: v.shape for k, v in res.items()})
    if not names or "initializers" in names:
        gen_initializers(mx)


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(CASES) + ["initializers"])
