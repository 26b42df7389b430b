"""Generate golden fixtures of single operators (forward and gradient) with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_op_fixtures.py [case ...]
Writes tests/compat/fixtures/ops/<case>.npz (inputs, aux before, head gradients, outputs,
input gradients, aux after one forward(is_train)+backward, and the symbol JSON),
net_<name>-symbol.json / -facts.json for a few whole nets, and symbol_api.json (names,
attributes, inference results of Symbol API calls). The builders take the library as an
argument, so the tests (tests/compat/test_ops.py, test_symbol_json.py,
tests/symbol/test_symbol_api.py) rerun the very same code with mxtorch.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "ops")

CASES = {}


def case(name, shapes, train=True, loss=False, labels=None, positive=(), ints=None, no_grad=()):
    """Register a case builder ``build(mx) -> Symbol``.

    shapes: input shapes for simple_bind. labels: {input: number of classes} (integer
    class labels) or {input: "unit"} (values in [0, 1)) or {input: array}. positive: inputs
    filled with values in [0.5, 1.5] (divisors). ints: {input: high} integer indices.
    loss: the heads are loss heads (backward takes no head gradients). no_grad: inputs
    bound with grad_req 'null'.
    """
    def deco(build):
        CASES[name] = dict(build=build, shapes=shapes, train=train, loss=loss,
                           labels=labels or {}, positive=positive, ints=ints or {},
                           no_grad=no_grad)
        return build
    return deco


def V(mx, name="data"):
    return mx.sym.Variable(name)


# ---------------------------------------------------------------- FullyConnected
case("fc_flatten", {"data": (4, 3, 5)})(lambda mx: mx.sym.FullyConnected(V(mx), num_hidden=6))
case("fc_noflatten", {"data": (2, 3, 5)})(
    lambda mx: mx.sym.FullyConnected(V(mx), num_hidden=4, flatten=False, name="fc"))
case("fc_nobias", {"data": (4, 7)})(
    lambda mx: mx.sym.FullyConnected(V(mx), num_hidden=3, no_bias=True, name="fc"))

# ---------------------------------------------------------------- Convolution
case("conv_basic", {"data": (2, 3, 7, 7)})(
    lambda mx: mx.sym.Convolution(V(mx), kernel=(3, 3), num_filter=4))
case("conv_stride_pad", {"data": (2, 3, 8, 8)})(
    lambda mx: mx.sym.Convolution(V(mx), kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                  num_filter=5, name="conv"))
case("conv_dilate", {"data": (2, 2, 9, 9)})(
    lambda mx: mx.sym.Convolution(V(mx), kernel=(3, 3), dilate=(2, 2), pad=(2, 1),
                                  num_filter=3, name="conv"))
case("conv_group_nobias", {"data": (2, 4, 6, 6)})(
    lambda mx: mx.sym.Convolution(V(mx), kernel=(3, 3), num_group=2, num_filter=6,
                                  no_bias=True, name="conv"))
case("conv_rect", {"data": (2, 3, 6, 9)})(
    lambda mx: mx.sym.Convolution(V(mx), kernel=(2, 3), stride=(1, 2), num_filter=2,
                                  name="conv"))

# ---------------------------------------------------------------- Pooling
_POOL = {
    "pool_max": dict(kernel=(2, 2), stride=(2, 2), pool_type="max"),
    "pool_max_pad": dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max"),
    "pool_max_full": dict(kernel=(3, 3), stride=(2, 2), pool_type="max",
                          pooling_convention="full"),
    "pool_avg_pad": dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg"),
    "pool_avg_nocount": dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                             count_include_pad=False),
    "pool_avg_full": dict(kernel=(3, 3), stride=(2, 2), pool_type="avg",
                          pooling_convention="full"),
    "pool_avg_full_pad": dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                              pooling_convention="full"),
    "pool_sum": dict(kernel=(2, 2), stride=(1, 1), pool_type="sum"),
    "pool_global_max": dict(kernel=(1, 1), global_pool=True, pool_type="max"),
    "pool_global_avg": dict(global_pool=True, pool_type="avg"),
    "pool_default_stride": dict(kernel=(2, 2), pool_type="max"),
}
_POOL_EDGE = {  # full convention where the last window starts in the right padding
    "pool_max_full_edge": ((1, 2, 7, 7), dict(kernel=(2, 2), stride=(2, 2), pad=(1, 1),
                                              pool_type="max", pooling_convention="full")),
    "pool_avg_full_edge": ((1, 2, 7, 7), dict(kernel=(2, 2), stride=(2, 2), pad=(1, 1),
                                              pool_type="avg", pooling_convention="full")),
    "pool_avg_full_k4": ((1, 2, 9, 9), dict(kernel=(4, 4), stride=(3, 3), pad=(1, 1),
                                            pool_type="avg", pooling_convention="full")),
}
_POOL.update({k: v for k, (_, v) in _POOL_EDGE.items()})
for _n, _kw in _POOL.items():
    _s = _POOL_EDGE[_n][0] if _n in _POOL_EDGE else (2, 3, 8, 8)
    case(_n, {"data": _s})((lambda kw: lambda mx: mx.sym.Pooling(V(mx), **kw))(_kw))

# ---------------------------------------------------------------- Activation
for _a in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    case("act_" + _a, {"data": (3, 4, 5)})(
        (lambda a: lambda mx: mx.sym.Activation(V(mx), act_type=a))(_a))

# ---------------------------------------------------------------- BatchNorm
_BN = {
    "bn_4d_fixgamma": ((4, 3, 5, 5), dict()),
    "bn_4d": ((4, 3, 5, 5), dict(fix_gamma=False, momentum=0.8, eps=1e-4)),
    "bn_2d": ((6, 4), dict(fix_gamma=False)),
    "bn_2d_fixgamma": ((6, 4), dict(momentum=0.5)),
    "bn_global": ((4, 3, 5, 5), dict(fix_gamma=False, use_global_stats=True)),
    "bn_global_2d": ((6, 4), dict(fix_gamma=False, use_global_stats=True)),
    "bn_axis_last": ((2, 5, 3), dict(fix_gamma=False, axis=-1)),
    "bn_3d": ((4, 3, 5), dict(fix_gamma=False)),
}
for _n, (_s, _kw) in _BN.items():
    case(_n, {"data": _s})((lambda kw: lambda mx: mx.sym.BatchNorm(V(mx), name="bn", **kw))(_kw))

case("bn_output_mean_var", {"data": (4, 3, 2, 2)})(
    lambda mx: mx.sym.BatchNorm(V(mx), name="bn", fix_gamma=False, output_mean_var=True))


def _bn_in_net(mx):
    net = mx.sym.FullyConnected(V(mx), num_hidden=5, name="fc1")
    net = mx.sym.BatchNorm(net, name="bn", fix_gamma=False, momentum=0.7)
    return mx.sym.FullyConnected(net, num_hidden=2, name="fc2")


case("bn_in_net", {"data": (4, 3)})(_bn_in_net)
# no gradient flows through the BatchNorm: MXNet leaves its moving statistics alone
case("bn_frozen", {"data": (4, 5)}, no_grad=("data", "bn_gamma", "bn_beta"))(
    lambda mx: mx.sym.FullyConnected(mx.sym.BatchNorm(V(mx), name="bn", fix_gamma=False),
                                     num_hidden=2, name="fc"))

# ---------------------------------------------------------------- Dropout
case("dropout_infer", {"data": (3, 4)}, train=False)(lambda mx: mx.sym.Dropout(V(mx), p=0.5))

# ---------------------------------------------------------------- shape ops
case("flatten", {"data": (2, 3, 4)})(lambda mx: mx.sym.Flatten(V(mx)))
_RESHAPE = {
    "reshape_0_m1": ((2, 3, 4, 5), dict(shape=(0, -1))),
    "reshape_m2": ((2, 3, 4, 5), dict(shape=(-2, 1))),
    "reshape_m3": ((2, 3, 4, 5), dict(shape=(-3, -2))),
    "reshape_m4": ((4, 3, 5), dict(shape=(-4, -1, 2, -2))),
    "reshape_m4b": ((6, 5), dict(shape=(-4, 2, 3, 0))),
    "reshape_reverse": ((10, 5, 4), dict(shape=(-1, 0), reverse=True)),
    "reshape_plain": ((2, 6), dict(shape=(3, 4))),
}
for _n, (_s, _kw) in _RESHAPE.items():
    case(_n, {"data": _s})((lambda kw: lambda mx: mx.sym.Reshape(V(mx), **kw))(_kw))


def _concat(dim):
    def build(mx):
        return mx.sym.Concat(V(mx, "a"), V(mx, "b"), V(mx, "c"), dim=dim)
    return build


case("concat_dim1", {"a": (2, 3, 2), "b": (2, 1, 2), "c": (2, 4, 2)})(_concat(1))
case("concat_dim0", {"a": (2, 3), "b": (1, 3), "c": (3, 3)})(_concat(0))
case("embedding", {"data": (3, 4)}, ints={"data": 10}, no_grad=("data",))(
    lambda mx: mx.sym.Embedding(V(mx), input_dim=10, output_dim=5, name="embed"))

# ---------------------------------------------------------------- reductions
_RED = {
    "sum_axis1": ("sum", dict(axis=1)),
    "sum_all": ("sum", dict()),
    "sum_keepdims": ("sum", dict(axis=(0, 2), keepdims=True)),
    "sum_exclude": ("sum", dict(axis=1, exclude=True)),
    "mean_axis": ("mean", dict(axis=2)),
    "mean_all": ("mean", dict()),
    "mean_exclude_keep": ("mean", dict(axis=(0,), exclude=True, keepdims=True)),
}
for _n, (_op, _kw) in _RED.items():
    case(_n, {"data": (2, 3, 4)})(
        (lambda op, kw: lambda mx: getattr(mx.sym, op)(V(mx), **kw))(_op, _kw))

# ---------------------------------------------------------------- elementwise
_ELEM = {"elemwise_add": "elemwise_add", "elemwise_sub": "elemwise_sub",
         "elemwise_mul": "elemwise_mul", "elemwise_div": "elemwise_div"}
for _n, _op in _ELEM.items():
    case(_n, {"a": (3, 4), "b": (3, 4)}, positive=("b",))(
        (lambda op: lambda mx: getattr(mx.sym, op)(V(mx, "a"), V(mx, "b")))(_op))


def _sym_arith(mx):
    a, b = V(mx, "a"), V(mx, "b")
    return mx.sym.Group([a + b, a - b, a * b, a / b])


case("sym_arith", {"a": (3, 4), "b": (3, 4)}, positive=("b",))(_sym_arith)
case("broadcast_add", {"a": (2, 3, 4), "b": (1, 3, 1)})(
    lambda mx: mx.sym.broadcast_add(V(mx, "a"), V(mx, "b")))
case("broadcast_mul", {"a": (2, 1, 4), "b": (2, 3, 1)})(
    lambda mx: mx.sym.broadcast_mul(V(mx, "a"), V(mx, "b")))


def _scalar_arith(mx):
    a = V(mx, "a")
    return mx.sym.Group([a + 2, 2 + a, a - 3, 3 - a, a * 1.5, 1.5 * a, a / 2, 2 / a, -a,
                         a + 0.5, a * 3])


case("scalar_arith", {"a": (3, 4)}, positive=("a",))(_scalar_arith)

# ---------------------------------------------------------------- loss heads
_SM = {
    "softmax_basic": ({"data": (4, 5)}, dict(), {"softmax_label": 5}),
    "softmax_scale_batch": ({"data": (4, 5)}, dict(grad_scale=2.0, normalization="batch"),
                            {"softmax_label": 5}),
    "softmax_ignore_valid": ({"data": (6, 4)}, dict(use_ignore=True, ignore_label=1,
                                                    normalization="valid"),
                             {"softmax_label": np.array([1, 0, 2, 1, 3, 1], np.float32)}),
    "softmax_ignore_null": ({"data": (6, 4)}, dict(use_ignore=True, ignore_label=2),
                            {"softmax_label": np.array([1, 0, 2, 1, 3, 2], np.float32)}),
    "softmax_multi": ({"data": (2, 4, 3, 3)}, dict(multi_output=True), {"softmax_label": 4}),
    "softmax_multi_valid": ({"data": (2, 4, 3, 3)},
                            dict(multi_output=True, use_ignore=True, ignore_label=0,
                                 normalization="valid"), {"softmax_label": 4}),
    "softmax_multi_batch": ({"data": (2, 4, 3)}, dict(multi_output=True, normalization="batch",
                                                      grad_scale=0.5), {"softmax_label": 4}),
    "softmax_preserve": ({"data": (2, 3, 5)}, dict(preserve_shape=True), {"softmax_label": 5}),
    "softmax_4d_flat": ({"data": (2, 3, 2, 2)}, dict(), {"softmax_label": 12}),
    "softmax_prob_label": ({"data": (4, 5), "softmax_label": (4, 5)}, dict(),
                           {"softmax_label": "unit"}),
}
for _n, (_s, _kw, _lab) in _SM.items():
    _shapes = dict(_s)
    if "softmax_label" not in _shapes and _n != "softmax_4d_flat":
        d = _shapes["data"]
        _shapes["softmax_label"] = ((d[0],) + d[2:] if _kw.get("multi_output") else
                                    d[:-1] if _kw.get("preserve_shape") else (d[0],))
    case(_n, _shapes, loss=True, labels=_lab)(
        (lambda kw: lambda mx: mx.sym.SoftmaxOutput(V(mx), name="softmax", **kw))(_kw))

_REG = {
    "linreg": ("LinearRegressionOutput", (4, 3), (4, 3), dict()),
    "linreg_scale_1d": ("LinearRegressionOutput", (4, 1), (4,), dict(grad_scale=2.0)),
    "logreg": ("LogisticRegressionOutput", (4, 3), (4, 3), dict()),
    "maereg": ("MAERegressionOutput", (4, 3), (4, 3), dict(grad_scale=0.5)),
}
for _n, (_op, _ds, _ls, _kw) in _REG.items():
    case(_n, {"data": _ds, "reg_label": _ls}, loss=True, labels={"reg_label": "unit"})(
        (lambda op, kw: lambda mx: getattr(mx.sym, op)(V(mx), name="reg", **kw))(_op, _kw))

case("makeloss_scale", {"data": (3, 4)}, loss=True)(
    lambda mx: mx.sym.MakeLoss(mx.sym.square(V(mx)), grad_scale=2.0))
case("makeloss_batch", {"data": (3, 4)}, loss=True)(
    lambda mx: mx.sym.MakeLoss(V(mx) * 3, normalization="batch"))
case("makeloss_valid", {"data": (3, 4)}, loss=True)(
    lambda mx: mx.sym.MakeLoss(V(mx), normalization="valid", valid_thresh=0.5))
case("blockgrad", {"a": (3, 4), "b": (3, 4)})(
    lambda mx: mx.sym.BlockGrad(V(mx, "a")) * V(mx, "b"))


# ---------------------------------------------------------------- whole nets (JSON only)
def net_mlp(mx):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, name="fc1", num_hidden=16)
    net = mx.sym.Activation(net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(net, name="fc2", num_hidden=10, lr_mult=0.5)
    return mx.sym.SoftmaxOutput(net, name="softmax")


def net_conv(mx):
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=8, pad=(1, 1), name="conv1")
    net = mx.sym.BatchNorm(net, fix_gamma=False, name="bn1")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.Pooling(net, kernel=(2, 2), stride=(2, 2), pool_type="max")
    net = mx.sym.Dropout(net, p=0.25)
    net = mx.sym.Flatten(net)
    net = mx.sym.FullyConnected(net, num_hidden=10)
    return mx.sym.SoftmaxOutput(net, name="softmax")


def net_arith(mx):
    a, b, c = mx.sym.Variable("a"), mx.sym.Variable("b", shape=(2, 3)), mx.sym.Variable("c")
    out = (a + b * 2) - c / 3
    out = mx.sym.sum(out * out, axis=1) + 1
    return mx.sym.Group([out, mx.sym.BlockGrad(a - b)])


NETS = {"mlp": net_mlp, "conv": net_conv, "arith": net_arith}
NET_SHAPES = {"mlp": {"data": (5, 8)}, "conv": {"data": (2, 3, 8, 8)},
              "arith": {"a": (2, 3), "c": (2, 3)}}


def net_facts(mx, name, sym):
    """What MXNet reports about a net: the list_* names, inferred shapes and types."""
    arg, out, aux = sym.infer_shape(**NET_SHAPES[name])
    targ, tout, taux = sym.infer_type(**{k: "float32" for k in NET_SHAPES[name]})
    return {"arguments": sym.list_arguments(), "outputs": sym.list_outputs(),
            "aux": sym.list_auxiliary_states(), "inputs": sym.list_inputs(),
            "internals": sym.get_internals().list_outputs(),
            "arg_shapes": [list(s) for s in arg], "out_shapes": [list(s) for s in out],
            "aux_shapes": [list(s) for s in aux],
            "types": [np.dtype(t).name for t in targ + tout + taux],
            "attr_dict": sym.attr_dict()}


# ---------------------------------------------------------------- Symbol API facts
def _api_naming(mx):
    with mx.name.NameManager():
        data = mx.sym.Variable("data")
        fc = mx.sym.FullyConnected(data, num_hidden=2)
        outs = [fc + 1, fc * 2, fc + fc, fc - fc, fc * fc, fc / fc, 1 - fc, 2 / fc, fc - 3,
                fc / 4, mx.sym.Activation(fc, act_type="relu"), fc + 1, -fc]
        with mx.name.Prefix("blk_"):
            pre = [mx.sym.FullyConnected(data, num_hidden=2),
                   mx.sym.FullyConnected(data, num_hidden=2, name="named")]
    return {"names": [o.name for o in outs + pre], "fc_args": fc.list_arguments(),
            "pre_args": pre[0].list_arguments() + pre[1].list_arguments(),
            "attrs": [o.list_attr() for o in outs[:2] + outs[6:8]]}


def _api_attrs(mx):
    data = mx.sym.Variable("data", shape=(2, 3), lr_mult=2, wd_mult=0.5, dtype="float16")
    w = mx.sym.Variable("w", attr={"__mine__": "x"}, init='["constant", {"value": 0.5}]')
    fc = mx.sym.FullyConnected(data, weight=w, num_hidden=4, name="fc", lr_mult=0)
    with mx.AttrScope(ctx_group="dev1", __foo__="bar"):
        bn = mx.sym.BatchNorm(fc, name="bn")
    with mx.AttrScope(ctx_group="dev2"):
        act = mx.sym.Activation(bn, act_type="tanh", name="act", attr={"__x__": "1"})
    return {"attr_dict": act.attr_dict(), "fc_lr": fc.attr("lr_mult"),
            "fc_lr2": fc.attr("__lr_mult__"), "data_shape": data.attr("__shape__"),
            "act_list": act.list_attr(), "missing": act.attr("nothing"),
            "json": act.tojson()}


def _api_group(mx):
    data = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    bn = mx.sym.BatchNorm(fc, name="bn", output_mean_var=True)
    g = mx.sym.Group([fc, mx.sym.Activation(fc, act_type="relu", name="relu"), data])
    internals = bn.get_internals()
    return {"bn_outputs": bn.list_outputs(), "bn0": bn[0].list_outputs(),
            "bn_var": bn["bn_var"].list_outputs(), "group": g.list_outputs(),
            "group_args": g.list_arguments(), "group_len": len(g),
            "internals": internals.list_outputs(),
            "fc_from_internals": internals["fc_output"].list_arguments(),
            "children": fc.get_children().list_outputs(),
            "group_shapes": [list(s) for s in g.infer_shape(data=(2, 5))[1]],
            "json": g.tojson()}


def _api_infer(mx):
    data = mx.sym.Variable("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv")
    net = mx.sym.FullyConnected(net, num_hidden=5, name="fc")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    full = net.infer_shape(data=(2, 3, 6, 6))
    partial = net.infer_shape_partial(softmax_label=(2,))
    none = net.infer_shape(softmax_label=(2,))
    types = net.infer_type(data="float64")
    lst = lambda t: [list(s) for s in t] if t is not None else None  # noqa: E731
    return {"full": [lst(t) for t in full], "partial": [lst(t) for t in partial], "none": [t for t in none],
            "types": [[np.dtype(x).name for x in t] for t in types]}


API = {"naming": _api_naming, "attrs": _api_attrs, "group": _api_group, "infer": _api_infer}


# ---------------------------------------------------------------- running
def build(mx, name):
    """The case's (or net's) symbol, built under a fresh NameManager."""
    fn = CASES[name]["build"] if name in CASES else NETS[name]
    with mx.name.NameManager():
        return fn(mx)


def make_inputs(name, sym):
    """Seeded numpy inputs, aux states and head gradients of a case."""
    cfg = CASES[name]
    rng = np.random.RandomState(_seed(name))
    arg_shapes, out_shapes, aux_shapes = sym.infer_shape(**cfg["shapes"])
    inputs = {}
    for n, s in zip(sym.list_arguments(), arg_shapes):
        lab = cfg["labels"].get(n)
        if isinstance(lab, np.ndarray):
            v = lab
        elif lab == "unit":
            v = rng.uniform(0, 1, s)
        elif lab is not None:
            v = rng.randint(0, lab, s)
        elif n in cfg["ints"]:
            v = rng.randint(0, cfg["ints"][n], s)
        elif n in cfg["positive"]:
            v = rng.uniform(0.5, 1.5, s)
        else:
            v = rng.randn(*s)
        inputs[n] = np.asarray(v, np.float32).reshape(s)
    aux = {}
    for n, s in zip(sym.list_auxiliary_states(), aux_shapes):
        v = rng.uniform(0.5, 1.5, s) if n.endswith("var") else rng.randn(*s) * 0.1
        aux[n] = v.astype(np.float32)
    ograds = [] if cfg["loss"] else [rng.randn(*s).astype(np.float32) for s in out_shapes]
    return inputs, aux, ograds


def _seed(name):
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % 2**31


def run(mx, sym, shapes, inputs, aux, ograds, train=True, no_grad=()):
    """One simple_bind + forward(is_train) + backward step; returns numpy results."""
    req = {n: "null" if n in no_grad or not train else "write" for n in sym.list_arguments()}
    ex = sym.simple_bind(mx.cpu(), grad_req=req, **shapes)
    for n, v in inputs.items():
        ex.arg_dict[n][:] = v
    for n, v in aux.items():
        ex.aux_dict[n][:] = v
    ex.forward(is_train=train)
    mx.nd.waitall()  # MXNet's BatchNorm writes its aux states without the engine knowing
    res = {"out:%d" % i: o.asnumpy() for i, o in enumerate(ex.outputs)}
    res.update({"auxfwd:" + n: a.asnumpy() for n, a in ex.aux_dict.items()})
    if train:
        ex.backward([mx.nd.array(g) for g in ograds] if ograds else None)
        mx.nd.waitall()
        res.update({"grad:" + n: g.asnumpy() for n, g in ex.grad_dict.items() if g is not None})
    res.update({"aux:" + n: a.asnumpy() for n, a in ex.aux_dict.items()})
    res.update({"post:" + n: a.asnumpy() for n, a in ex.arg_dict.items()})
    return res


def generate(mx, name):
    cfg = CASES[name]
    sym = build(mx, name)
    inputs, aux, ograds = make_inputs(name, sym)
    res = run(mx, sym, cfg["shapes"], inputs, aux, ograds, cfg["train"], cfg["no_grad"])
    res.update({"in:" + n: v for n, v in inputs.items()})
    res.update({"aux0:" + n: v for n, v in aux.items()})
    res.update({"ograd:%d" % i: g for i, g in enumerate(ograds)})
    res["json"] = np.array(sym.tojson())
    return res


def main(argv):
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    names = argv or list(CASES) + ["net_" + n for n in NETS] + ["api"]
    for name in names:
        if name == "api":
            with open(os.path.join(OUT, "symbol_api.json"), "w") as f:
                json.dump({k: fn(mx) for k, fn in API.items()}, f, indent=1, sort_keys=True)
            continue
        if name.startswith("net_"):
            sym = build(mx, name[4:])
            with open(os.path.join(OUT, name + "-symbol.json"), "w") as f:
                f.write(sym.tojson())
            with open(os.path.join(OUT, name + "-facts.json"), "w") as f:
                json.dump(net_facts(mx, name[4:], sym), f, indent=1, sort_keys=True)
            continue
        np.savez_compressed(os.path.join(OUT, name + ".npz"), **generate(mx, name))
    print(f"wrote {len(names)} fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
