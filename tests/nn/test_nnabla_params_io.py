"""Parameter files (reference sections 3.11-3.12 and 4): nnabla's .h5 layout read back
with h5py, round trips through .h5/.safetensors/.params and file objects, load
semantics and errors."""
import io

import h5py
import numpy as np
import pytest

import mxtorch as mx
import mxtorch.nn as nn
import mxtorch.nn.parametric_functions as PF
from mxtorch.base import FormatError, MXNetValueError


class ConvBn(nn.Module):
    def __init__(self, outmaps):
        self.outmaps = outmaps

    def call(self, x):
        return PF.batch_normalization(PF.convolution(x, self.outmaps, (3, 3), with_bias=False))


class Net(nn.Module):
    def __init__(self):
        self.conv1 = ConvBn(4)

    def call(self, x):
        return PF.affine(self.conv1(x), 3)


def built():
    net = Net()
    net(nn.Variable((2, 2, 5, 5)))
    return net


def test_h5_layout(tmp_path):
    net = built()
    path = tmp_path / "p.h5"
    net.save_parameters(str(path))
    names = list(net.get_parameters())
    assert names == ["@conv1/conv/W", "@conv1/bn/beta", "@conv1/bn/gamma", "@conv1/bn/mean",
                     "@conv1/bn/var", "affine/W", "affine/b"]
    with h5py.File(path, "r") as f:
        assert isinstance(f["@conv1"], h5py.Group) and isinstance(f["@conv1/bn"], h5py.Group)
        assert dict(f["@conv1"].attrs) == {} and dict(f.attrs) == {}
        for i, k in enumerate(names):
            ds = f[k]
            assert ds.dtype == np.float32 and ds.shape == net.get_parameters()[k].shape
            assert ds.attrs["index"] == i and isinstance(ds.attrs["index"], np.int64)
            assert isinstance(ds.attrs["need_grad"], np.bool_)
        assert bool(f["@conv1/bn/mean"].attrs["need_grad"]) is False
        assert bool(f["affine/W"].attrs["need_grad"]) is True
        np.testing.assert_array_equal(f["affine/W"][()], net.get_parameters()["affine/W"].d)


@pytest.mark.parametrize("ext", [".h5", ".safetensors", ".params"])
def test_round_trip(tmp_path, ext):
    src = built()
    path = str(tmp_path / f"p{ext}")
    src.save_parameters(path)
    dst = built()
    before = dst.get_parameters()
    dst.load_parameters(path)
    after = dst.get_parameters()
    assert list(after) == list(src.get_parameters())
    for k, v in src.get_parameters().items():
        np.testing.assert_array_equal(after[k].d, v.d)
        assert after[k].need_grad == v.need_grad
        assert after[k] is before[k]                 # updated in place


def test_params_file_uses_arg_aux_keys(tmp_path):
    path = str(tmp_path / "p.params")
    built().save_parameters(path)
    keys = list(mx.nd.load(path))
    assert keys[0] == "arg:@conv1/conv/W" and keys[3] == "aux:@conv1/bn/mean"


def test_file_object_uses_extension_argument():
    src, buf = built(), io.BytesIO()
    src.save_parameters(buf, extension=".safetensors")
    buf.seek(0)
    dst = built()
    dst.load_parameters(buf, extension=".safetensors")
    np.testing.assert_array_equal(dst.get_parameters()["affine/W"].d,
                                  src.get_parameters()["affine/W"].d)


def test_unsupported_extension(tmp_path):
    with pytest.raises(MXNetValueError, match=r"'\.txt'.*\.h5"):
        built().save_parameters(str(tmp_path / "p.txt"))


def test_load_into_uncalled_module_then_call_uses_file(tmp_path):
    src = built()
    path = str(tmp_path / "p.h5")
    src.save_parameters(path)
    fresh = Net()
    fresh.load_parameters(path)
    fresh(nn.Variable((2, 2, 5, 5)))
    np.testing.assert_array_equal(fresh.get_parameters()["@conv1/conv/W"].d,
                                  src.get_parameters()["@conv1/conv/W"].d)


def test_graph_built_before_load_sees_loaded_values(tmp_path):
    src = built()
    path = str(tmp_path / "p.h5")
    src.save_parameters(path)
    x = nn.Variable.from_numpy_array(np.random.RandomState(0).rand(2, 2, 5, 5))
    dst = Net()
    y = dst(x)
    dst.load_parameters(path)
    y.forward()
    ref = src(x)
    ref.forward()
    np.testing.assert_allclose(y.d, ref.d, rtol=1e-6)


def test_unknown_child_and_shape_mismatch(tmp_path):
    path = str(tmp_path / "p.h5")
    built().save_parameters(path)

    class Other(nn.Module):
        def call(self, x):
            return PF.affine(x, 3)
    o = Other()
    with pytest.raises(MXNetValueError, match="conv1.*raise_if_missing=False"):
        o.load_parameters(path)
    assert o.get_parameters() == {}                      # nothing changed
    o.load_parameters(path, raise_if_missing=False)
    assert list(o.get_parameters()) == ["affine/W", "affine/b"]

    class Small(nn.Module):
        def __init__(self):
            self.conv1 = ConvBn(2)

        def call(self, x):
            return self.conv1(x)
    s = Small()
    s(nn.Variable((2, 2, 5, 5)))
    old = s.get_parameters()["@conv1/bn/beta"].d.copy()
    with pytest.raises(MXNetValueError, match=r"@conv1/conv/W.*\(4, 2, 3, 3\)"):
        s.load_parameters(path)
    np.testing.assert_array_equal(s.get_parameters()["@conv1/bn/beta"].d, old)


def test_h5_without_need_grad_is_a_format_error(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["affine/W"] = np.zeros((2, 2), np.float32)
    with pytest.raises(FormatError, match="need_grad"):
        built().load_parameters(str(path))
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(FormatError):
        built().load_parameters(str(tmp_path / "junk.h5"))


@pytest.mark.parametrize("where", ["need_grad", "index", "dataset"])
def test_h5_values_that_are_not_numbers_are_refused_before_reading(tmp_path, where):
    # libhdf5 can crash reading a damaged variable-length value (an atheris finding), so
    # only integer/float/bool values are read at all
    path = tmp_path / "vlen.h5"
    text = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.create_dataset("affine/W", data=np.array(["a", "b"], dtype=object) if
                         where == "dataset" else np.zeros((2, 2), np.float32),
                         dtype=text if where == "dataset" else None)
        attrs = f["affine/W"].attrs
        attrs.create("need_grad", "yes" if where == "need_grad" else True,
                     dtype=text if where == "need_grad" else None)
        attrs.create("index", "0" if where == "index" else 0,
                     dtype=text if where == "index" else None)
    with pytest.raises(FormatError, match="not a plain number array"):
        built().load_parameters(str(path))


def test_global_save_and_load_in_scope(tmp_path):
    nn.clear_parameters()
    try:
        PF.affine(nn.Variable((2, 3)), 4)
        path = str(tmp_path / "g.h5")
        nn.save_parameters(path)
        w = nn.get_parameters()["affine/W"]
        saved = w.d.copy()
        w.d = 0
        nn.load_parameters(path)
        assert nn.get_parameters()["affine/W"] is w
        np.testing.assert_array_equal(w.d, saved)
        with nn.parameter_scope("pre"):
            nn.load_parameters(path)
        assert "pre/affine/W" in nn.get_parameters()
    finally:
        nn.clear_parameters()
