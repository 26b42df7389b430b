"""Generate golden fixtures of the nn-layer operators (issue 4, part 1) with real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_op_fixtures_nn.py [case ...]
Writes tests/compat/fixtures/ops_nn/<case>.npz: inputs, aux before, head gradients,
outputs, input gradients and aux after one forward(is_train)+backward (inference cases:
one forward(is_train=False)), the symbol JSON, and what MXNet reports about the symbol
(list_* names, inferred shapes and types). Convolution/Deconvolution 1-3-D,
Pooling 1-3-D (max, avg, sum, lp, global, full, channel-last), BatchNorm axis and
output_mean_var, InstanceNorm, LayerNorm, GroupNorm, L2Normalization, LRN, Dropout's
deterministic modes, LeakyReLU, softmax/log_softmax/softmin, SoftmaxActivation, Embedding.
The builders take the library as an argument; tests/compat/test_ops_nn.py reruns them
with mxtorch. The stepping (``run``) is the one of tools/gen_op_fixtures.py.
"""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "ops_nn")
_spec = importlib.util.spec_from_file_location("gen_op_fixtures",
                                               os.path.join(HERE, "gen_op_fixtures.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

CASES = {}


def case(name, shapes, op, train=True, fill=None, no_grad=(), cast=None, native=False,
         **kwargs):
    """Register the case ``name``: ``mx.sym.<op>(data, <other inputs>, name='op', **kwargs)``
    bound with ``shapes`` (the inputs other than data are passed by keyword, through a Cast
    to ``cast[input]`` when given). fill: {input: ("int", low, high)} integers in [low, high)
    or {input: ("normal", scale)} (default: standard normal values). no_grad: inputs
    bound with grad_req 'null'. train=False: inference only. native: generated with
    MXNet's own kernels (MXNET_MKLDNN_ENABLED=0), for cases its oneDNN path cannot run."""
    cast = cast or {}

    def build(mx):
        extra = {n: mx.sym.Variable(n) for n in shapes if n != "data"}
        extra = {n: mx.sym.Cast(v, dtype=cast[n]) if n in cast else v
                 for n, v in extra.items()}
        return getattr(mx.sym, op)(mx.sym.Variable("data"), name="op", **extra, **kwargs)
    CASES[name] = dict(build=build, shapes=shapes, train=train, fill=fill or {},
                       no_grad=no_grad, native=native)


# ---------------------------------------------------------------- Convolution
case("conv1d", {"data": (2, 3, 9)}, "Convolution", kernel=(3,), stride=(2,), pad=(1,),
     dilate=(2,), num_filter=4)
case("conv1d_group_nobias", {"data": (2, 4, 7)}, "Convolution", kernel=(2,), num_group=2,
     num_filter=6, no_bias=True)
case("conv2d_layout", {"data": (2, 3, 5, 6)}, "Convolution", kernel=(3, 2), num_filter=2,
     layout="NCHW")
case("conv3d", {"data": (1, 2, 4, 5, 4)}, "Convolution", kernel=(2, 3, 2), stride=(1, 2, 1),
     pad=(1, 0, 1), num_filter=3)
case("conv3d_dilate_group", {"data": (1, 4, 5, 5, 5)}, "Convolution", kernel=(2, 2, 2),
     dilate=(2, 1, 2), num_group=2, num_filter=4)

# ---------------------------------------------------------------- Deconvolution
case("deconv2d", {"data": (2, 3, 4, 4)}, "Deconvolution", kernel=(3, 3), num_filter=4)
case("deconv2d_stride_pad_adj", {"data": (2, 3, 4, 5)}, "Deconvolution", kernel=(3, 3),
     stride=(2, 2), pad=(1, 1), adj=(1, 0), num_filter=2, no_bias=False)
# MXNet 1.9.1's oneDNN path cannot run a Deconvolution with target_shape ("could not
# create a descriptor for a dilated deconvolution"); its native kernel can
case("deconv2d_target", {"data": (2, 3, 4, 4)}, "Deconvolution", native=True,
     kernel=(3, 3), stride=(2, 2), target_shape=(8, 9), num_filter=2)
case("deconv1d_target_even", {"data": (2, 3, 4)}, "Deconvolution", native=True,
     kernel=(4,), stride=(2,), target_shape=(8,), num_filter=2, no_bias=False)
case("deconv2d_group_dilate", {"data": (2, 4, 4, 4)}, "Deconvolution", kernel=(2, 2),
     dilate=(2, 2), num_group=2, num_filter=4, no_bias=False)
case("deconv1d", {"data": (2, 3, 5)}, "Deconvolution", kernel=(3,), stride=(2,), pad=(1,),
     adj=(1,), num_filter=2)
case("deconv3d", {"data": (1, 2, 3, 3, 3)}, "Deconvolution", kernel=(2, 2, 2),
     stride=(2, 1, 2), num_filter=3, no_bias=False)

# ---------------------------------------------------------------- Pooling
_POOL = {
    "pool1d_max": ((2, 3, 9), dict(kernel=(3,), stride=(2,), pad=(1,))),
    "pool1d_avg_full": ((2, 3, 8), dict(kernel=(3,), stride=(2,), pool_type="avg",
                                        pooling_convention="full")),
    "pool1d_avg_full_pad": ((2, 3, 7), dict(kernel=(3,), stride=(2,), pad=(1,),
                                            pool_type="avg", pooling_convention="full")),
    "pool1d_avg_full_odd": ((2, 3, 7), dict(kernel=(3,), stride=(2,), pool_type="avg",
                                            pooling_convention="full")),
    "pool1d_avg_full_edge": ((2, 3, 6), dict(kernel=(3,), stride=(2,), pool_type="avg",
                                             pooling_convention="full")),
    "pool1d_sum": ((2, 3, 8), dict(kernel=(2,), pool_type="sum")),
    "pool1d_global_avg": ((2, 3, 7), dict(global_pool=True, pool_type="avg")),
    "pool1d_lp2": ((2, 3, 8), dict(kernel=(3,), stride=(2,), pool_type="lp", p_value=2)),
    "pool1d_nwc_avg": ((2, 7, 3), dict(kernel=(3,), stride=(2,), pool_type="avg",
                                       layout="NWC")),
    "pool2d_sum_pad": ((2, 3, 6, 6), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                          pool_type="sum")),
    # pads over half the kernel (torch's pooling kernels take at most half)
    "pool2d_max_bigpad": ((2, 3, 5, 5), dict(kernel=(3, 3), stride=(2, 2), pad=(2, 2))),
    "pool2d_avg_bigpad": ((2, 3, 5, 5), dict(kernel=(3, 3), pad=(2, 2), pool_type="avg")),
    "pool2d_avg_bigpad_nocount": ((2, 3, 5, 5), dict(kernel=(3, 3), pad=(2, 2),
                                                     pool_type="avg",
                                                     count_include_pad=False)),
    "pool2d_lp2_bigpad": ((2, 3, 5, 5), dict(kernel=(3, 3), stride=(2, 2), pad=(2, 2),
                                             pool_type="lp", p_value=2)),
    "pool2d_global_max_nokernel": ((2, 3, 4, 5), dict(global_pool=True)),
    "pool2d_global_sum": ((2, 3, 4, 5), dict(global_pool=True, pool_type="sum")),
    "pool2d_lp1": ((2, 3, 6, 6), dict(kernel=(2, 2), stride=(2, 2), pool_type="lp",
                                      p_value=1)),
    "pool2d_lp2_pad": ((2, 3, 6, 6), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                          pool_type="lp", p_value=2)),
    "pool2d_lp3": ((2, 3, 6, 6), dict(kernel=(2, 2), stride=(1, 1), pool_type="lp",
                                      p_value=3)),
    "pool2d_lp2_full": ((2, 3, 7, 7), dict(kernel=(3, 3), stride=(2, 2), pool_type="lp",
                                           p_value=2, pooling_convention="full")),
    "pool2d_lp2_global": ((2, 3, 4, 5), dict(global_pool=True, pool_type="lp", p_value=2)),
    "pool2d_nhwc_max": ((2, 6, 6, 3), dict(kernel=(2, 2), stride=(2, 2), layout="NHWC")),
    "pool2d_nhwc_avg_pad": ((2, 6, 6, 3), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                               pool_type="avg", layout="NHWC")),
    "pool3d_max": ((1, 2, 5, 5, 5), dict(kernel=(2, 2, 2), stride=(2, 2, 2))),
    "pool3d_max_full": ((1, 2, 6, 6, 6), dict(kernel=(3, 3, 3), stride=(2, 2, 2),
                                              pooling_convention="full")),
    "pool3d_avg_pad": ((1, 2, 5, 5, 5), dict(kernel=(3, 3, 3), stride=(2, 2, 2),
                                             pad=(1, 1, 1), pool_type="avg")),
    "pool3d_avg_nocount": ((1, 2, 5, 5, 5), dict(kernel=(3, 3, 3), stride=(2, 2, 2),
                                                 pad=(1, 1, 1), pool_type="avg",
                                                 count_include_pad=False)),
    "pool3d_avg_full": ((1, 2, 6, 6, 6), dict(kernel=(3, 3, 3), stride=(2, 2, 2),
                                              pool_type="avg", pooling_convention="full")),
    "pool3d_avg_full_pad": ((1, 2, 6, 5, 6), dict(kernel=(3, 3, 2), stride=(2, 2, 2),
                                                  pad=(1, 1, 0), pool_type="avg",
                                                  pooling_convention="full")),
    "pool3d_global_max": ((1, 2, 3, 4, 3), dict(global_pool=True, kernel=(1, 1, 1))),
    "pool3d_lp3": ((1, 2, 4, 4, 4), dict(kernel=(2, 2, 2), stride=(2, 2, 2), pool_type="lp",
                                         p_value=3)),
}
for _n, (_s, _kw) in _POOL.items():
    case(_n, {"data": _s}, "Pooling", **_kw)

# ---------------------------------------------------------------- BatchNorm
case("bn_axis2_mean_var", {"data": (2, 3, 4)}, "BatchNorm", axis=2, output_mean_var=True,
     fix_gamma=False)
case("bn_axis_neg1_4d", {"data": (2, 3, 2, 4)}, "BatchNorm", axis=-1, fix_gamma=False,
     momentum=0.6)
case("bn_global_mean_var", {"data": (3, 4, 2)}, "BatchNorm", use_global_stats=True,
     output_mean_var=True, fix_gamma=False)
case("bn_infer_mean_var", {"data": (3, 4, 2)}, "BatchNorm", train=False,
     output_mean_var=True, fix_gamma=False)

# ---------------------------------------------------------------- other norms
case("instnorm_3d", {"data": (2, 3, 5)}, "InstanceNorm")
case("instnorm_4d_eps", {"data": (2, 3, 3, 4)}, "InstanceNorm", eps=1e-5)
case("layernorm_last", {"data": (2, 3, 5)}, "LayerNorm")
case("layernorm_axis1_mean_var", {"data": (2, 4, 3)}, "LayerNorm", axis=1, eps=1e-3,
     output_mean_var=True)
case("layernorm_2d_axis0", {"data": (4, 6)}, "LayerNorm", axis=0)
case("groupnorm", {"data": (2, 4, 3, 3)}, "GroupNorm", num_groups=2)
case("groupnorm_mean_var", {"data": (2, 4, 3)}, "GroupNorm", num_groups=4, eps=1e-3,
     output_mean_var=True)
case("groupnorm_1group", {"data": (2, 3, 5)}, "GroupNorm")
case("l2norm_instance", {"data": (3, 4, 2)}, "L2Normalization")
case("l2norm_instance_2d", {"data": (3, 5)}, "L2Normalization", eps=1e-4)
case("l2norm_channel", {"data": (2, 3, 2, 2)}, "L2Normalization", mode="channel")
case("l2norm_spatial", {"data": (2, 3, 2, 2)}, "L2Normalization", mode="spatial")
case("lrn3", {"data": (2, 5, 3, 3)}, "LRN", nsize=3)
case("lrn5_params", {"data": (2, 6, 2, 3)}, "LRN", nsize=5, alpha=0.05, beta=0.6, knorm=1.5)
case("lrn4_even", {"data": (2, 6, 2, 2)}, "LRN", nsize=4, alpha=0.1)

# ---------------------------------------------------------------- Dropout (deterministic)
case("dropout_p0_train", {"data": (3, 4)}, "Dropout", p=0.0)
case("dropout_always_p0", {"data": (3, 4)}, "Dropout", p=0.0, mode="always")
case("dropout_axes_infer", {"data": (2, 3, 4)}, "Dropout", train=False, p=0.5, axes=(1,))

# ---------------------------------------------------------------- LeakyReLU
case("leaky_default", {"data": (3, 4, 2)}, "LeakyReLU")
case("leaky_slope", {"data": (3, 4)}, "LeakyReLU", act_type="leaky", slope=0.1)
case("prelu", {"data": (2, 3, 4)}, "LeakyReLU", act_type="prelu")
case("prelu_4d", {"data": (2, 3, 2, 2)}, "LeakyReLU", act_type="prelu")
case("prelu_scalar_gamma", {"data": (2, 3, 4), "gamma": (1,)}, "LeakyReLU",
     act_type="prelu")
case("elu", {"data": (3, 4)}, "LeakyReLU", act_type="elu", slope=0.5)
case("selu", {"data": (3, 4)}, "LeakyReLU", act_type="selu")
case("gelu", {"data": (3, 4)}, "LeakyReLU", act_type="gelu")
case("rrelu_infer", {"data": (3, 4)}, "LeakyReLU", train=False, act_type="rrelu",
     lower_bound=0.1, upper_bound=0.4)
# rrelu in training crashes MXNet 1.9.1's CPU build (a segfault; with lower_bound ==
# upper_bound a "ctx.dev_mask() == kGPU" check), so only inference has fixtures

# ---------------------------------------------------------------- softmax family
case("softmax", {"data": (3, 5)}, "softmax")
case("softmax_axis0_temp", {"data": (4, 3, 2)}, "softmax", axis=0, temperature=2.5)
case("softmax_length", {"data": (2, 4, 3), "length": (2, 3)}, "softmax", axis=1,
     use_length=True, fill={"length": ("int", 1, 5)}, no_grad=("length",),
     cast={"length": "int32"})
case("log_softmax", {"data": (3, 5)}, "log_softmax")
case("log_softmax_axis1_temp", {"data": (2, 4, 3)}, "log_softmax", axis=1, temperature=0.5)
case("softmin", {"data": (3, 4)}, "softmin", axis=1)
case("softmax_large_f64", {"data": (3, 5)}, "softmax", dtype="float64",
     fill={"data": ("normal", 30.0)})
case("softmax_act_instance", {"data": (3, 4, 2)}, "SoftmaxActivation")
case("softmax_act_channel", {"data": (2, 3, 2, 2)}, "SoftmaxActivation", mode="channel")

# ---------------------------------------------------------------- Activation (beyond ops/)
case("act_softrelu_large", {"data": (4, 6)}, "Activation", act_type="softrelu",
     fill={"data": ("normal", 15.0)})
case("act_sigmoid_large", {"data": (4, 6)}, "Activation", act_type="sigmoid",
     fill={"data": ("normal", 15.0)})
case("act_softsign_4d", {"data": (2, 3, 2, 2)}, "Activation", act_type="softsign")

# ---------------------------------------------------------------- Embedding
case("embedding_repeat", {"data": (3, 4)}, "Embedding", input_dim=5, output_dim=3,
     fill={"data": ("int", 0, 5)}, no_grad=("data",))
case("embedding_out_of_range", {"data": (2, 5)}, "Embedding", input_dim=4, output_dim=2,
     fill={"data": ("int", -2, 7)}, no_grad=("data",))


# ---------------------------------------------------------------- running
def build(mx, name):
    """The case's symbol, built under a fresh NameManager."""
    with mx.name.NameManager():
        return CASES[name]["build"](mx)


def make_inputs(name, sym):
    """Seeded numpy inputs, aux states and head gradients of a case."""
    cfg = CASES[name]
    rng = np.random.RandomState(base._seed(name))
    arg_shapes, out_shapes, aux_shapes = sym.infer_shape(**cfg["shapes"])
    inputs = {}
    for n, s in zip(sym.list_arguments(), arg_shapes):
        kind = cfg["fill"].get(n, ("normal",))
        if kind[0] == "int":
            v = rng.randint(kind[1], kind[2], s)
        else:
            v = rng.randn(*s) * (kind[1] if len(kind) > 1 else 1.0)
        inputs[n] = np.asarray(v, np.float32).reshape(s)
    aux = {}
    for n, s in zip(sym.list_auxiliary_states(), aux_shapes):
        v = rng.uniform(0.5, 1.5, s) if n.endswith("var") else rng.randn(*s) * 0.1
        aux[n] = v.astype(np.float32)
    ograds = [rng.randn(*s).astype(np.float32) for s in out_shapes]
    return inputs, aux, ograds


def step(mx, name, sym, inputs, aux, ograds):
    """One simple_bind + forward + backward of the case (tools/gen_op_fixtures.run)."""
    cfg = CASES[name]
    return base.run(mx, sym, cfg["shapes"], inputs, aux, ograds, cfg["train"], cfg["no_grad"])


def facts(mx, name, sym):
    """What MXNet reports about the case's symbol: names and inferred shapes and types."""
    shapes = CASES[name]["shapes"]
    arg, out, aux = sym.infer_shape(**shapes)
    types = sym.infer_type(**{n: "float32" for n in shapes})
    return {"arguments": sym.list_arguments(), "outputs": sym.list_outputs(),
            "aux": sym.list_auxiliary_states(),
            "internals": sym.get_internals().list_outputs(),
            "shapes": [[list(s) for s in t] for t in (arg, out, aux)],
            "types": [[np.dtype(x).name for x in t] if t is not None else None
                      for t in types]}


def generate(mx, name):
    sym = build(mx, name)
    inputs, aux, ograds = make_inputs(name, sym)
    res = step(mx, name, sym, inputs, aux, ograds)
    res.update({"in:" + n: v for n, v in inputs.items()})
    res.update({"aux0:" + n: v for n, v in aux.items()})
    res.update({"ograd:%d" % i: g for i, g in enumerate(ograds)})
    res["json"] = np.array(sym.tojson())
    res["facts"] = np.array(json.dumps(facts(mx, name, sym), sort_keys=True))
    return res


def main(argv):
    native = argv[:1] == ["--native"]
    names = (argv[1:] if native else argv) or list(CASES)
    if not native:  # the native cases run in a child process with oneDNN switched off
        todo = [n for n in names if CASES[n]["native"]]
        names = [n for n in names if not CASES[n]["native"]]
        if todo:
            env = dict(os.environ, MXNET_MKLDNN_ENABLED="0")
            subprocess.run([sys.executable, __file__, "--native"] + todo, env=env, check=True)
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        np.savez_compressed(os.path.join(OUT, name + ".npz"), **generate(mx, name))
    print(f"wrote {len(names)} fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
