"""Finite-difference gradient checks (float64 central differences,
``mx.test_utils.check_numeric_gradient``) of the nn-layer operators on small shapes.
Where MXNet 1.9.1's gradient is not the derivative (SELU below 0, SoftmaxActivation
instance on 3+ dims, avg pooling 'full' where oneDNN's divisor applies) the fixtures in
tests/compat/test_ops_nn.py check it instead, and the cases here avoid those inputs.
Dropout has no case: its training forward is random."""
import numpy as np
import pytest

import mxtorch as mx
from mxtorch.test_utils import check_numeric_gradient

D = mx.sym.Variable("data")


def _pos(shape):
    """Values in [0.5, 1.5]: away from 0, where lp pooling roots are not smooth."""
    return lambda rng: rng.uniform(0.5, 1.5, shape)


def _ints(shape, high):
    return lambda rng: rng.randint(0, high, shape).astype(np.float64)


# name -> (symbol, {input: shape or value maker}, options)
CASES = {
    "conv1d": (mx.sym.Convolution(D, kernel=(3,), stride=(2,), pad=(1,), dilate=(1,),
                                  num_filter=2, name="op"), {"data": (1, 2, 5)}, {}),
    "conv2d_group": (mx.sym.Convolution(D, kernel=(2, 2), num_group=2, num_filter=2,
                                        name="op"), {"data": (1, 2, 3, 3)}, {}),
    "conv3d": (mx.sym.Convolution(D, kernel=(2, 2, 2), pad=(1, 0, 0), num_filter=2,
                                  name="op"), {"data": (1, 1, 2, 3, 2)}, {}),
    "conv2d_nhwc": (mx.sym.Convolution(D, kernel=(2, 2), num_filter=2, layout="NHWC",
                                       name="op"), {"data": (1, 3, 3, 2)}, {}),
    "deconv1d_adj": (mx.sym.Deconvolution(D, kernel=(3,), stride=(2,), pad=(1,), adj=(1,),
                                          num_filter=2, no_bias=False, name="op"),
                     {"data": (1, 2, 3)}, {}),
    "deconv2d_target": (mx.sym.Deconvolution(D, kernel=(3, 3), stride=(2, 2),
                                             target_shape=(4, 5), num_filter=1, name="op"),
                        {"data": (1, 2, 2, 2)}, {}),
    "deconv3d_group": (mx.sym.Deconvolution(D, kernel=(2, 2, 1), stride=(2, 1, 1),
                                            num_group=2, num_filter=2, name="op"),
                       {"data": (1, 2, 2, 2, 1)}, {}),
    "pool_max": (mx.sym.Pooling(D, kernel=(2, 2), stride=(2, 2)), {"data": (1, 2, 4, 4)}, {}),
    "pool1d_max_full": (mx.sym.Pooling(D, kernel=(3,), stride=(2,), pooling_convention="full"),
                        {"data": (1, 2, 6)}, {}),
    "pool3d_avg_pad": (mx.sym.Pooling(D, kernel=(2, 2, 2), pad=(1, 1, 1), stride=(2, 2, 2),
                                      pool_type="avg"), {"data": (1, 1, 3, 3, 2)}, {}),
    "pool_avg_nocount": (mx.sym.Pooling(D, kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                        pool_type="avg", count_include_pad=False),
                         {"data": (1, 1, 4, 4)}, {}),
    "pool_avg_bigpad_nocount": (mx.sym.Pooling(D, kernel=(3, 3), pad=(2, 2), pool_type="avg",
                                               count_include_pad=False),
                                {"data": (1, 1, 2, 3)}, {}),
    "pool1d_avg_full": (mx.sym.Pooling(D, kernel=(3,), stride=(2,), pool_type="avg",
                                       pooling_convention="full"), {"data": (1, 2, 8)}, {}),
    "pool1d_sum": (mx.sym.Pooling(D, kernel=(2,), pool_type="sum"), {"data": (1, 2, 5)}, {}),
    "pool_lp1": (mx.sym.Pooling(D, kernel=(2, 2), pool_type="lp", p_value=1),
                 {"data": (1, 1, 3, 3)}, {}),
    "pool_lp2_pad": (mx.sym.Pooling(D, kernel=(2, 2), stride=(2, 2), pad=(1, 1),
                                    pool_type="lp", p_value=2), {"data": _pos((1, 1, 3, 3))}, {}),
    "pool_lp3": (mx.sym.Pooling(D, kernel=(2, 2), pool_type="lp", p_value=3),
                 {"data": _pos((1, 1, 3, 3))}, {}),
    "pool_global_lp2": (mx.sym.Pooling(D, global_pool=True, pool_type="lp", p_value=2),
                        {"data": _pos((1, 2, 2, 3))}, {}),
    "batchnorm_axis_last": (mx.sym.BatchNorm(D, axis=-1, fix_gamma=False, name="op"),
                            {"data": (3, 2, 2)}, {"aux": True}),
    "instancenorm": (mx.sym.InstanceNorm(D, name="op"), {"data": (2, 2, 3)}, {}),
    "layernorm_axis1": (mx.sym.LayerNorm(D, axis=1, name="op"), {"data": (2, 3, 2)}, {}),
    "groupnorm": (mx.sym.GroupNorm(D, num_groups=2, name="op"), {"data": (2, 4, 2)}, {}),
    "l2norm_instance": (mx.sym.L2Normalization(D), {"data": (2, 3, 2)}, {}),
    "l2norm_channel": (mx.sym.L2Normalization(D, mode="channel"), {"data": (2, 3, 2)}, {}),
    "l2norm_spatial": (mx.sym.L2Normalization(D, mode="spatial"), {"data": (2, 2, 3)}, {}),
    "lrn3": (mx.sym.LRN(D, nsize=3, alpha=0.5), {"data": (1, 4, 2, 1)}, {}),
    "lrn4": (mx.sym.LRN(D, nsize=4, alpha=0.5, beta=0.6, knorm=1.0), {"data": (1, 5, 1, 2)},
             {}),
    "leaky": (mx.sym.LeakyReLU(D, slope=0.1), {"data": (3, 4)}, {}),
    "prelu": (mx.sym.LeakyReLU(D, act_type="prelu", name="op"), {"data": (2, 3, 2)}, {}),
    "elu": (mx.sym.LeakyReLU(D, act_type="elu", slope=0.7), {"data": (3, 4)}, {}),
    "gelu": (mx.sym.LeakyReLU(D, act_type="gelu"), {"data": (3, 4)}, {}),
    # MXNet's SELU gradient below 0 is not the derivative (see test_ops_nn.py's fixtures)
    "selu_positive": (mx.sym.LeakyReLU(D, act_type="selu"), {"data": _pos((3, 4))}, {}),
    # lower_bound == upper_bound makes the training slope deterministic
    "rrelu_train": (mx.sym.LeakyReLU(D, act_type="rrelu", lower_bound=0.3, upper_bound=0.3),
                    {"data": (3, 4)}, {}),
    "softmax_axis0_temp": (mx.sym.softmax(D, axis=0, temperature=2.0), {"data": (3, 2, 2)}, {}),
    "softmax_length": (mx.sym.softmax(D, mx.sym.Variable("length"), axis=1, use_length=True),
                       {"data": (2, 4), "length": np.array([2.0, 4.0])},
                       {"grad_nodes": ["data"]}),
    "log_softmax": (mx.sym.log_softmax(D, temperature=0.7), {"data": (2, 4)}, {}),
    "softmin": (mx.sym.softmin(D, axis=1), {"data": (2, 3, 2)}, {}),
    "softmax_act_instance_2d": (mx.sym.SoftmaxActivation(D), {"data": (2, 4)}, {}),
    "softmax_act_channel": (mx.sym.SoftmaxActivation(D, mode="channel"),
                            {"data": (2, 3, 2)}, {}),
    "embedding": (mx.sym.Embedding(D, input_dim=4, output_dim=2, name="op"),
                  {"data": _ints((2, 3), 4)}, {"grad_nodes": ["op_weight"]}),
}
for _act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    CASES["act_" + _act] = (mx.sym.Activation(D, act_type=_act), {"data": (3, 4)}, {})


def _location(sym, given, rng):
    shapes = {k: v for k, v in given.items() if isinstance(v, tuple)}
    made = {k: v(rng) if callable(v) else v for k, v in given.items()
            if not isinstance(v, tuple)}
    shapes.update({k: v.shape for k, v in made.items()})
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    loc = {n: made[n] if n in made else rng.randn(*s)
           for n, s in zip(sym.list_arguments(), arg_shapes)}
    aux = {n: rng.uniform(0.5, 1.5, s) for n, s in zip(sym.list_auxiliary_states(), aux_shapes)}
    return loc, aux


@pytest.mark.parametrize("name", sorted(CASES))
def test_numeric_gradient(name):
    sym, given, opts = CASES[name]
    loc, aux = _location(sym, given, np.random.RandomState(7))
    check_numeric_gradient(sym, loc, aux_states=aux if opts.get("aux") else None,
                           grad_nodes=opts.get("grad_nodes"), numeric_eps=1e-4,
                           rtol=1e-4, atol=1e-6)
