"""Golden fixtures of the loss and vision operators (forward and gradient) from real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_op_fixtures_vision.py [case ...]
Writes tests/compat/fixtures/ops_vision/<case>.npz: inputs, aux before, head gradients,
outputs, input gradients and aux after one forward(is_train)+backward, and the symbol JSON
(the same layout as tools/gen_op_fixtures.py, whose ``run`` does the step). The builders
take the library as an argument, so tests/compat/test_ops_vision.py reruns the very same
code with mxtorch.

Inputs are chosen away from the points where an op's gradient is not defined: distinct
values for ROIPooling's maxima, sampling points off the pixel grid for the bilinear ops,
``|a - b|`` away from 0 for Correlation's subtraction.
"""
import importlib.util
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "compat", "fixtures", "ops_vision")
_spec = importlib.util.spec_from_file_location("gen_op_fixtures",
                                               os.path.join(HERE, "gen_op_fixtures.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

CASES = {}


def case(name, shapes, loss=False, inputs=None, aux=None, no_grad=()):
    """Register a case builder ``build(mx) -> Symbol``.

    shapes: input shapes for simple_bind. inputs / aux: {name: array, or (low, high) for
    uniform values, or ("int", high) for class labels}; the rest are standard normal (aux
    states: normal * 0.1). loss: the head is a loss head (backward takes no head gradient).
    no_grad: inputs bound with grad_req 'null'.
    """
    def deco(build):
        CASES[name] = dict(build=build, shapes=shapes, loss=loss, inputs=inputs or {},
                           aux=aux or {}, no_grad=no_grad)
        return build
    return deco


def V(mx, name="data"):
    return mx.sym.Variable(name)


def _f32(rows):
    return np.array(rows, np.float32)


# ---------------------------------------------------------------- ROIPooling
# rows [batch, x1, y1, x2, y2]: a plain box; 5 * 0.5 = 2.5 (C rounds away from zero, not to
# even); a box reaching past the map (empty bins give 0); a malformed box (x2 < x1, 1x1);
# one on the second image
_ROIS = _f32([[0, 0, 0, 7, 5], [1, 5, 3, 12, 9], [0, 8, 6, 20, 16], [1, 9, 7, 2, 3],
              [1, 1, 1, 9, 11]])
case("roipool_basic", {"data": (2, 3, 8, 9), "rois": (5, 5)}, inputs={"rois": _ROIS})(
    lambda mx: mx.sym.ROIPooling(V(mx), V(mx, "rois"), pooled_size=(2, 3), spatial_scale=0.5,
                                 name="roi"))
case("roipool_scale1", {"data": (1, 2, 6, 7), "rois": (3, 5)},
     inputs={"rois": _f32([[0, 0, 0, 6, 5], [0, 1, 2, 4, 5], [0, 3, 0, 3, 0]])})(
    lambda mx: mx.sym.ROIPooling(V(mx), V(mx, "rois"), pooled_size=(3, 2), spatial_scale=1.0,
                                 name="roi"))

# the usual Fast R-CNN scale 1/16 with image coordinates (x.5 * 1/16 rounds both ways)
case("roipool_frac", {"data": (1, 2, 5, 6), "rois": (3, 5)},
     inputs={"rois": _f32([[0, 8.0, 7.9, 72.4, 56.0], [0, 24.0, 40.1, 88.0, 79.9],
                           [0, 0.0, 0.0, 8.0, 95.9]])})(
    lambda mx: mx.sym.ROIPooling(V(mx), V(mx, "rois"), pooled_size=(2, 2),
                                 spatial_scale=0.0625, name="roi"))

# ---------------------------------------------------------------- GridGenerator
case("gridgen_affine", {"data": (2, 6)})(
    lambda mx: mx.sym.GridGenerator(V(mx), transform_type="affine", target_shape=(3, 4)))
case("gridgen_warp", {"data": (2, 2, 3, 5)})(
    lambda mx: mx.sym.GridGenerator(V(mx), transform_type="warp"))

# ---------------------------------------------------------------- BilinearSampler
case("bilinear_sampler", {"data": (2, 3, 5, 6), "grid": (2, 2, 4, 3)},
     inputs={"grid": (-1.3, 1.3)})(
    lambda mx: mx.sym.BilinearSampler(V(mx), V(mx, "grid")))


def _gridgen_sampler(mx):
    grid = mx.sym.GridGenerator(V(mx, "affine"), transform_type="affine", target_shape=(4, 5))
    return mx.sym.BilinearSampler(V(mx), grid, cudnn_off=True)


_AFFINE = _f32([[0.9, 0.1, 0.05, -0.2, 1.1, 0.1], [1.2, -0.3, -0.1, 0.25, 0.7, 0.3]])
case("gridgen_sampler", {"data": (2, 2, 6, 5), "affine": (2, 6)},
     inputs={"affine": _AFFINE})(_gridgen_sampler)

# ---------------------------------------------------------------- SpatialTransformer
_ST = dict(target_shape=(4, 5), transform_type="affine", sampler_type="bilinear")
case("st_inside", {"data": (2, 3, 6, 7), "loc": (2, 6)},
     inputs={"loc": _f32([[0.7, 0.1, 0.05, -0.1, 0.8, 0.1], [0.6, -0.2, -0.1, 0.15, 0.75, 0.0]])})(
    lambda mx: mx.sym.SpatialTransformer(V(mx), V(mx, "loc"), name="st", **_ST))
case("st_outside", {"data": (2, 2, 5, 6), "loc": (2, 6)}, inputs={"loc": _AFFINE})(
    lambda mx: mx.sym.SpatialTransformer(V(mx), V(mx, "loc"), name="st", **_ST))

# ---------------------------------------------------------------- Correlation
_CORR = {
    "corr_default": ((1, 2, 4, 5), dict()),
    "corr_mul_pad": ((2, 3, 6, 7), dict(kernel_size=1, max_displacement=2, pad_size=2)),
    "corr_k3_strides": ((1, 2, 9, 8), dict(kernel_size=3, max_displacement=2, stride1=2,
                                           stride2=2, pad_size=2)),
    "corr_sub": ((2, 2, 6, 6), dict(kernel_size=3, max_displacement=1, pad_size=1,
                                    is_multiply=False)),
    # (H - 2 * border) / stride1 not whole: MXNet rounds the output size up
    "corr_ceil": ((1, 2, 7, 8), dict(max_displacement=1, stride1=2)),
    # max_displacement not a multiple of stride2: the grid radius rounds down
    "corr_disp3_stride2": ((1, 2, 6, 7), dict(kernel_size=1, max_displacement=3, stride2=2,
                                              pad_size=3)),
}
for _n, (_s, _kw) in _CORR.items():
    case(_n, {"data1": _s, "data2": _s})(
        (lambda kw: lambda mx: mx.sym.Correlation(V(mx, "data1"), V(mx, "data2"), **kw))(_kw))

# ---------------------------------------------------------------- UpSampling
case("upsample_nearest", {"data": (2, 3, 3, 4)})(
    lambda mx: mx.sym.UpSampling(V(mx), scale=2, sample_type="nearest", name="up"))
case("upsample_nearest_concat", {"data": (2, 3, 4, 4), "up_arg1": (2, 2, 2, 2)})(
    lambda mx: mx.sym.UpSampling(V(mx), scale=3, sample_type="nearest", num_args=2, name="up"))
case("upsample_nearest_sum", {"data": (1, 2, 2, 3), "up_arg1": (1, 2, 4, 6),
                              "up_arg2": (1, 2, 2, 3)})(
    lambda mx: mx.sym.UpSampling(V(mx), scale=2, sample_type="nearest", num_args=3,
                                 multi_input_mode="sum", name="up"))
case("upsample_bilinear2", {"data": (2, 3, 3, 4)})(
    lambda mx: mx.sym.UpSampling(V(mx), scale=2, sample_type="bilinear", num_filter=3,
                                 name="up"))
# explicit second inputs: MXNet gives them the bilinear initializer too
case("upsample_nearest_explicit", {"data": (1, 2, 2, 3), "b": (1, 1, 2, 3)})(
    lambda mx: mx.sym.UpSampling(V(mx), V(mx, "b"), scale=2, sample_type="nearest"))
case("upsample_bilinear4_explicit", {"data": (1, 2, 2, 2), "w": (2, 1, 8, 8)})(
    lambda mx: mx.sym.UpSampling(V(mx), V(mx, "w"), scale=4, sample_type="bilinear",
                                 num_filter=2))
case("upsample_bilinear3", {"data": (1, 2, 3, 3)})(
    lambda mx: mx.sym.UpSampling(V(mx), scale=3, sample_type="bilinear", num_filter=2,
                                 name="up"))

# ---------------------------------------------------------------- Pad
_PAD = {
    "pad_constant": ((2, 2, 3, 4), dict(mode="constant", constant_value=1.5,
                                        pad_width=(0, 0, 0, 0, 1, 2, 2, 1))),
    "pad_edge": ((2, 2, 3, 4), dict(mode="edge", pad_width=(0, 0, 0, 0, 2, 1, 0, 3))),
    "pad_reflect": ((2, 2, 3, 4), dict(mode="reflect", pad_width=(0, 0, 0, 0, 2, 1, 3, 1))),
    "pad_constant_5d": ((1, 2, 2, 3, 2), dict(mode="constant",
                                              pad_width=(0, 0, 0, 0, 1, 0, 0, 1, 2, 1))),
    "pad_edge_5d": ((1, 2, 2, 3, 2), dict(mode="edge", pad_width=(0, 0, 0, 0, 1, 2, 1, 0, 0, 2))),
    "pad_reflect_5d": ((1, 2, 3, 3, 2), dict(mode="reflect",
                                             pad_width=(0, 0, 0, 0, 2, 1, 1, 2, 1, 1))),
}
for _n, (_s, _kw) in _PAD.items():
    case(_n, {"data": _s})((lambda kw: lambda mx: mx.sym.Pad(V(mx), **kw))(_kw))

# ---------------------------------------------------------------- Crop
case("crop_hw_offset", {"data": (2, 3, 6, 7)})(
    lambda mx: mx.sym.Crop(V(mx), h_w=(3, 4), offset=(2, 1)))
case("crop_center", {"data": (2, 2, 7, 6)})(
    lambda mx: mx.sym.Crop(V(mx), h_w=(4, 3), center_crop=True))
case("crop_like", {"data": (2, 2, 6, 6), "like": (1, 5, 3, 4)})(
    lambda mx: mx.sym.Crop(V(mx), V(mx, "like"), offset=(1, 2)))
case("crop_like_center", {"data": (1, 2, 7, 8), "like": (1, 1, 4, 3)})(
    lambda mx: mx.sym.Crop(V(mx), V(mx, "like"), center_crop=True))

# ---------------------------------------------------------------- smooth_l1, softmax_cross_entropy
case("smooth_l1_default", {"data": (4, 5)})(lambda mx: mx.sym.smooth_l1(V(mx)))
case("smooth_l1_sigma", {"data": (3, 6)}, inputs={"data": (-1.0, 1.0)})(
    lambda mx: mx.sym.smooth_l1(V(mx), scalar=2.0))
case("softmax_ce", {"data": (4, 5), "label": (4,)}, inputs={"label": ("int", 5)},
     no_grad=("label",))(lambda mx: mx.sym.softmax_cross_entropy(V(mx), V(mx, "label")))

# ---------------------------------------------------------------- SVMOutput
case("svm_l2", {"data": (5, 4)}, loss=True, inputs={"svm_label": ("int", 4)})(
    lambda mx: mx.sym.SVMOutput(V(mx), name="svm"))
case("svm_l1", {"data": (5, 4)}, loss=True, inputs={"svm_label": ("int", 4)})(
    lambda mx: mx.sym.SVMOutput(V(mx), name="svm", use_linear=True, margin=0.5,
                                regularization_coefficient=2.0))
case("svm_l2_3d", {"data": (2, 3, 4)}, loss=True, inputs={"svm_label": ("int", 4)})(
    lambda mx: mx.sym.SVMOutput(V(mx), name="svm", margin=0.8,
                                regularization_coefficient=0.5))

# labels outside [0, classes): no column is the label's
case("svm_label_out_of_range", {"data": (4, 3)}, loss=True,
     inputs={"svm_label": _f32([3, -1, 1, 7])})(
    lambda mx: mx.sym.SVMOutput(V(mx), name="svm"))

# ---------------------------------------------------------------- IdentityAttachKLSparseReg
case("kl_sparse_reg", {"data": (4, 5)}, inputs={"data": (0.1, 0.9)},
     aux={"kl_moving_avg": (0.2, 0.8)})(
    lambda mx: mx.sym.IdentityAttachKLSparseReg(V(mx), name="kl", sparseness_target=0.2,
                                                penalty=0.01, momentum=0.8))
# 3-D data works in MXNet when the last axis has axis 1's size: it averages over the rest
case("kl_sparse_reg_3d", {"data": (2, 3, 3)}, inputs={"data": (0.1, 0.9)},
     aux={"kl_moving_avg": (0.2, 0.8)})(
    lambda mx: mx.sym.IdentityAttachKLSparseReg(V(mx), name="kl", penalty=0.1))
case("kl_sparse_reg_default", {"data": (3, 4)}, inputs={"data": (0.1, 0.9)},
     aux={"kl_moving_avg": (0.2, 0.8)})(
    lambda mx: mx.sym.IdentityAttachKLSparseReg(mx.sym.sigmoid(V(mx)), name="kl"))

# ---------------------------------------------------------------- loss-head options
_SM = {
    "sm_smooth_alpha": ({"data": (4, 5), "softmax_label": (4,)}, dict(smooth_alpha=0.1)),
    "sm_valid_noignore": ({"data": (4, 5), "softmax_label": (4,)},
                          dict(normalization="valid", grad_scale=3.0)),
    "sm_out_grad": ({"data": (3, 4), "softmax_label": (3,)}, dict(out_grad=True)),
    "sm_out_grad_multi": ({"data": (2, 3, 2, 2), "softmax_label": (2, 2, 2)},
                          dict(out_grad=True, multi_output=True, normalization="batch")),
    "sm_multi_smooth_ignore": ({"data": (2, 4, 3), "softmax_label": (2, 3)},
                               dict(multi_output=True, smooth_alpha=0.2, use_ignore=True,
                                    ignore_label=1, normalization="valid")),
    "sm_preserve_ignore_valid": ({"data": (2, 3, 4), "softmax_label": (2, 3)},
                                 dict(preserve_shape=True, use_ignore=True, ignore_label=0,
                                      normalization="valid")),
    "sm_preserve_batch_scale": ({"data": (2, 3, 4), "softmax_label": (2, 3)},
                                dict(preserve_shape=True, normalization="batch",
                                     grad_scale=0.5)),
    "sm_ignore_batch": ({"data": (5, 3), "softmax_label": (5,)},
                        dict(use_ignore=True, ignore_label=2, normalization="batch")),
    "sm_smooth_ignore": ({"data": (6, 4), "softmax_label": (6,)},
                         dict(smooth_alpha=0.3, use_ignore=True, ignore_label=3)),
    "sm_multi_smooth": ({"data": (2, 4, 3), "softmax_label": (2, 3)},
                        dict(multi_output=True, smooth_alpha=0.2)),
    "sm_preserve_smooth_ignore": ({"data": (3, 2, 4), "softmax_label": (3, 2)},
                                  dict(preserve_shape=True, smooth_alpha=0.1, use_ignore=True,
                                       ignore_label=2, normalization="valid")),
}
for _n, (_s, _kw) in _SM.items():
    _classes = _s["data"][-1] if _kw.get("preserve_shape") else _s["data"][1]
    case(_n, _s, loss=True, inputs={"softmax_label": ("int", _classes)})(
        (lambda kw: lambda mx: mx.sym.SoftmaxOutput(V(mx), name="softmax", **kw))(_kw))

case("sm_label_out_of_range", {"data": (4, 3), "softmax_label": (4,)}, loss=True,
     inputs={"softmax_label": _f32([3, -1, 1, 7])})(
    lambda mx: mx.sym.SoftmaxOutput(V(mx), name="softmax"))
case("sm_multi_label_out_of_range", {"data": (2, 3, 2), "softmax_label": (2, 2)}, loss=True,
     inputs={"softmax_label": _f32([[3, 0], [-1, 2]])})(
    lambda mx: mx.sym.SoftmaxOutput(V(mx), name="softmax", multi_output=True))

_REG = {
    "linreg_3d": ("LinearRegressionOutput", (2, 3, 4), dict(grad_scale=1.5)),
    "logreg_3d_scale": ("LogisticRegressionOutput", (2, 2, 3), dict(grad_scale=3.0)),
    "maereg_default": ("MAERegressionOutput", (3, 4), dict()),
}
for _n, (_op, _s, _kw) in _REG.items():
    case(_n, {"data": _s, "reg_label": _s}, loss=True, inputs={"reg_label": (0.0, 1.0)})(
        (lambda op, kw: lambda mx: getattr(mx.sym, op)(V(mx), name="reg", **kw))(_op, _kw))

case("makeloss_valid_scale", {"data": (3, 4)}, loss=True)(
    lambda mx: mx.sym.MakeLoss(V(mx) * 2, normalization="valid", valid_thresh=0.3,
                               grad_scale=2.0))
case("makeloss_batch_scale", {"data": (4, 3)}, loss=True)(
    lambda mx: mx.sym.MakeLoss(mx.sym.square(V(mx)), normalization="batch", grad_scale=0.5))
# make_loss is its own op in MXNet 1.9.1: no parameters (keywords are kept as attributes
# and ignored), gradient ones_like(data)
case("make_loss_ignores_kwargs", {"data": (4, 3)}, loss=True)(
    lambda mx: mx.sym.make_loss(mx.sym.square(V(mx)), normalization="batch", grad_scale=0.5))

# loss ops inside a graph: their backward still ignores the gradient from above
case("make_loss_inner", {"data": (3, 4), "w": (3, 4)})(
    lambda mx: mx.sym.make_loss(V(mx) * 2) * V(mx, "w"))
case("makeloss_inner", {"data": (3, 4), "w": (3, 4)})(
    lambda mx: mx.sym.MakeLoss(V(mx) * 2, grad_scale=3.0) * V(mx, "w"))
case("sm_out_grad_inner", {"data": (3, 4), "softmax_label": (3,), "w": (3, 4)},
     inputs={"softmax_label": ("int", 4)}, no_grad=("softmax_label",))(
    lambda mx: mx.sym.SoftmaxOutput(V(mx), name="softmax", out_grad=True) * V(mx, "w"))
case("svm_inner", {"data": (3, 4), "svm_label": (3,), "w": (3, 4)},
     inputs={"svm_label": ("int", 4)}, no_grad=("svm_label",))(
    lambda mx: mx.sym.SVMOutput(V(mx), name="svm") * V(mx, "w"))


# ---------------------------------------------------------------- running
def build(mx, name):
    """The case's symbol, built under a fresh NameManager."""
    with mx.name.NameManager():
        return CASES[name]["build"](mx)


def _value(spec, shape, rng, default):
    if isinstance(spec, np.ndarray):
        return spec
    if isinstance(spec, tuple) and spec[0] == "int":
        return rng.randint(0, spec[1], shape)
    if isinstance(spec, tuple):
        return rng.uniform(spec[0], spec[1], shape)
    return default(shape)


def make_inputs(name, sym):
    """Seeded numpy inputs, aux states and head gradients of a case."""
    cfg = CASES[name]
    rng = np.random.RandomState(base._seed(name))
    arg_shapes, out_shapes, aux_shapes = sym.infer_shape(**cfg["shapes"])
    inputs = {n: np.asarray(_value(cfg["inputs"].get(n), s, rng, lambda s: rng.randn(*s)),
                            np.float32).reshape(s)
              for n, s in zip(sym.list_arguments(), arg_shapes)}
    aux = {n: np.asarray(_value(cfg["aux"].get(n), s, rng, lambda s: rng.randn(*s) * 0.1),
                         np.float32).reshape(s)
           for n, s in zip(sym.list_auxiliary_states(), aux_shapes)}
    ograds = [] if cfg["loss"] else [rng.randn(*s).astype(np.float32) for s in out_shapes]
    return inputs, aux, ograds


def step(mx, name, sym, inputs, aux, ograds):
    """One forward(is_train)+backward of a case (tools/gen_op_fixtures.py's ``run``)."""
    cfg = CASES[name]
    return base.run(mx, sym, cfg["shapes"], inputs, aux, ograds, True, cfg["no_grad"])


def generate(mx, name):
    sym = build(mx, name)
    inputs, aux, ograds = make_inputs(name, sym)
    res = step(mx, name, sym, inputs, aux, ograds)
    res.update({"in:" + n: v for n, v in inputs.items()})
    res.update({"aux0:" + n: v for n, v in aux.items()})
    res.update({"ograd:%d" % i: g for i, g in enumerate(ograds)})
    res["json"] = np.array(sym.tojson())
    return res


def main(argv):
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    names = argv or list(CASES)
    for name in names:
        np.savez_compressed(os.path.join(OUT, name + ".npz"), **generate(mx, name))
    print(f"wrote {len(names)} fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
