"""The loss and vision operators give MXNet 1.9.1's outputs, input gradients and aux states
after one forward(is_train)+backward step (fixtures from tools/gen_op_fixtures_vision.py,
run under the real MXNet). Every case is rebuilt from Python calls and from MXNet's JSON,
and must save the same JSON."""
import importlib.util
import os
import warnings

import numpy as np
import pytest

import mxtorch as mx
from mxtorch.base import MXNetError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "ops_vision")
_spec = importlib.util.spec_from_file_location(
    "gen_op_vision", os.path.join(ROOT, "tools", "gen_op_fixtures_vision.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

CASES = sorted(gen.CASES)
RTOL, ATOL = 1e-5, 1e-6  # fp32; every case passes at this tolerance (the bilinear
# samplers too: MXNet's and torch's sampling positions round alike on these inputs)


def _build(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gen.build(mx, name)


def _check(opcase, name, sym):
    ref, inputs, aux0, ograds = opcase.load(FIX, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # make_loss's ignored keywords (tested below)
        res = gen.step(mx, name, sym, inputs, aux0, ograds)
    opcase.compare(name, ref, res, RTOL, ATOL)


@pytest.mark.parametrize("name", CASES)
def test_op_from_python(opcase, name):
    _check(opcase, name, _build(name))


@pytest.mark.parametrize("name", CASES)
def test_op_from_mxnet_json(opcase, name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    _check(opcase, name, mx.sym.load_json(str(ref["json"])))


@pytest.mark.parametrize("name", CASES)
def test_op_json_identical(name):
    ref = np.load(os.path.join(FIX, name + ".npz"))
    assert _build(name).tojson() == str(ref["json"])


def test_all_fixtures_have_a_case():
    names = {f[:-4] for f in os.listdir(FIX) if f.endswith(".npz")}
    assert names == set(CASES)


def test_make_loss_warns_that_it_ignores_keywords():
    """MXNet 1.9.1's make_loss has no parameters; it keeps keywords as attributes."""
    with pytest.warns(UserWarning, match="grad_scale"):
        sym = mx.sym.make_loss(mx.sym.Variable("data"), grad_scale=2.0)
    assert sym.list_attr() == {"grad_scale": "2.0"}


def _sym(op, *inputs, **kw):
    return getattr(mx.sym, op)(*[mx.sym.Variable(n) for n in inputs], **kw)


# inputs MXNet 1.9.1 rejects too (checked with the oracle while writing these ops)
_BAD_SHAPES = {
    "pad_3d": (lambda: _sym("Pad", "data", mode="constant", pad_width=(0, 0, 0, 0, 1, 1)),
               {"data": (2, 3, 4)}, "4-D and 5-D"),
    "pad_batch_axis": (lambda: _sym("Pad", "data", mode="edge",
                                    pad_width=(0, 0, 1, 1, 1, 1, 1, 1)),
                       {"data": (2, 3, 4, 4)}, "batch and channel"),
    "pad_reflect_wide": (lambda: _sym("Pad", "data", mode="reflect",
                                      pad_width=(0, 0, 0, 0, 4, 1, 1, 1)),
                         {"data": (2, 3, 4, 4)}, "smaller than the axis"),
    "pad_width_length": (lambda: _sym("Pad", "data", mode="constant",
                                      pad_width=(0, 0, 0, 0, 1, 1)),
                         {"data": (2, 3, 4, 4)}, "2 values per axis"),
    "gridgen_no_target": (lambda: _sym("GridGenerator", "data", transform_type="affine"),
                          {"data": (2, 6)}, "target_shape"),
    "roi_box_width": (lambda: _sym("ROIPooling", "data", "rois", pooled_size=(2, 2),
                                   spatial_scale=1.0),
                      {"data": (1, 2, 6, 6), "rois": (3, 4)}, "num_rois, 5"),
    "sce_2d_label": (lambda: _sym("softmax_cross_entropy", "data", "label"),
                     {"data": (2, 3), "label": (2, 3)}, "1-D label"),
    "crop_outside": (lambda: _sym("Crop", "data", h_w=(3, 3), offset=(4, 4)),
                     {"data": (1, 1, 5, 5)}, "does not fit"),
    "bilinear_channels": (lambda: _sym("UpSampling", "data", scale=2, sample_type="bilinear",
                                       num_filter=3),
                          {"data": (1, 4, 3, 3)}, "num_filter=3"),
    # MXNet accepts these shapes but fails (or reads past the input) when it runs
    "nearest_uneven": (lambda: _sym("UpSampling", "a", "b", scale=2, sample_type="nearest"),
                       {"a": (1, 2, 2, 3), "b": (1, 1, 1, 3)}, "one whole factor"),
    "corr_even_kernel": (lambda: _sym("Correlation", "a", "b", kernel_size=2),
                         {"a": (1, 2, 6, 6), "b": (1, 2, 6, 6)}, "odd"),
}


@pytest.mark.parametrize("name", sorted(_BAD_SHAPES))
def test_bad_shapes_raise_a_clear_error(name):
    build, shapes, match = _BAD_SHAPES[name]
    with pytest.raises(MXNetError, match=match):
        build().infer_shape(**shapes)


def test_softmax_cross_entropy_refuses_a_label_gradient():
    sym = _sym("softmax_cross_entropy", "data", "label")
    ex = sym.simple_bind(mx.cpu(), data=(3, 4), label=(3,))  # grad_req 'write' for the label
    ex.arg_dict["label"][:] = np.array([0, 1, 3], np.float32)
    ex.forward(is_train=True)
    with pytest.raises(MXNetError, match="grad_req='null'"):
        ex.backward(mx.nd.ones((1,)))


def test_kl_sparse_reg_gradient_needs_matching_last_axis():
    sym = mx.sym.IdentityAttachKLSparseReg(mx.sym.Variable("data"), name="kl")
    ex = sym.simple_bind(mx.cpu(), data=(2, 3, 2, 2))
    ex.aux_dict["kl_moving_avg"][:] = 0.5
    ex.forward(is_train=True)
    with pytest.raises(MXNetError, match="flatten the data"):
        ex.backward(mx.nd.ones((2, 3, 2, 2)))


def test_roi_batch_index_outside_the_batch():
    sym = _sym("ROIPooling", "data", "rois", pooled_size=(2, 2), spatial_scale=1.0)
    ex = sym.simple_bind(mx.cpu(), data=(2, 1, 4, 4), rois=(1, 5))
    ex.arg_dict["rois"][:] = np.array([[2, 0, 0, 3, 3]], np.float32)
    with pytest.raises(MXNetError, match="batch index"):
        ex.forward()
