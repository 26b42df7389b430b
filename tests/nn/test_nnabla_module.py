"""nn.Module (reference section 3 and the seed): the seed's ConvBn/ResUnit, parameter
names and order, lazy state without super().__init__(), training propagation and its
effect on dropout/BN, containers, set_parameters routing, zero_grad."""
import numpy as np
import pytest

import mxtorch.nn as nn
import mxtorch.nn.functions as F
import mxtorch.nn.parametric_functions as PF
from mxtorch.base import MXNetNotImplementedError, MXNetTypeError, MXNetValueError


class ConvBn(nn.Module):
    def __init__(self, outmaps, kernel=1, stride=1, act=None):
        self.outmaps = outmaps
        self.kernel = kernel
        self.stride = stride
        self.act = act

    def call(self, x, training=True):
        kernel = (self.kernel, self.kernel)
        pad = (self.kernel // 2, self.kernel // 2)
        stride = (self.stride, self.stride)
        h = PF.convolution(x, self.outmaps, kernel,
                           pad, stride, with_bias=False)
        h = PF.batch_normalization(h, batch_stat=training)
        if self.act is None:
            return h
        return self.act(h)


class ResUnit(nn.Module):
    def __init__(self, channels, stride=1, skip_by_conv=True):
        self.conv1 = ConvBn(channels // 4, 1, 1,
                            act=lambda x: F.relu(x, inplace=True))
        self.conv2 = ConvBn(channels // 4, 3, stride,
                            act=lambda x: F.relu(x, inplace=True))
        self.conv3 = ConvBn(channels, 1)
        self.skip_by_conv = skip_by_conv
        self.skip = ConvBn(channels, 1, stride)

    def call(self, x, training=True):
        h = self.conv1(x)
        h = self.conv2(h)
        h = self.conv3(h)

        s = x
        if self.skip_by_conv:
            s = self.skip(s)
        h = F.relu(F.add2(h, s, inplace=True), inplace=True)
        return h


def test_seed_convbn_parameter_listing():
    x = nn.Variable.from_numpy_array((np.random.random((8, 32, 6, 6))))
    conv_bn = ConvBn(2)
    conv_bn(x)
    got = [f"{k}:{v.shape}" for k, v in conv_bn.get_parameters().items()]
    assert got == ["conv/W:(2, 32, 1, 1)", "bn/beta:(1, 2, 1, 1)", "bn/gamma:(1, 2, 1, 1)",
                   "bn/mean:(1, 2, 1, 1)", "bn/var:(1, 2, 1, 1)"]
    assert nn.get_parameters(grad_only=False) == {}          # the global scope stays clean


def test_seed_resunit_static_and_dynamic():
    res_unit = ResUnit(16)
    x = nn.Variable((2, 3, 8, 8))
    x.d = np.random.random(x.shape)
    y = res_unit(x)
    y.forward(clear_buffer=True)
    assert y.shape == (2, 16, 8, 8) and (y.d >= 0).all() and y.d.any()
    keys = list(res_unit.get_parameters())
    assert keys[:5] == ["@conv1/conv/W", "@conv1/bn/beta", "@conv1/bn/gamma", "@conv1/bn/mean",
                        "@conv1/bn/var"]
    assert [k.split("/")[0] for k in keys[::5]] == ["@conv1", "@conv2", "@conv3", "@skip"]
    assert len(keys) == 20
    with nn.auto_forward():
        x = nn.Variable.from_numpy_array(np.random.random((1, 3, 8, 8)))
        y = res_unit(x)
        assert y.d.shape == (1, 16, 8, 8) and y.d.any()
    assert len(res_unit.get_parameters()) == 20                # reused, not re-created


def test_nested_names_and_paths():
    class Net(nn.Module):
        def __init__(self):
            self.res1 = ResUnit(8)

        def call(self, x):
            return self.res1(x)
    net = Net()
    net(nn.Variable((1, 3, 4, 4)))
    assert next(iter(net.get_parameters())) == "@res1/@conv1/conv/W"
    assert net.name == "net" and ResUnit(8).name == "res_unit"
    assert net.res1.conv1.get_path_name() == "@net/@res1/@conv1"
    assert net.get_scope_name() == "@res1/@conv1"
    assert net.res1.parent is net and net.is_root() and len(net.res1) == 4
    assert [p for p, _ in net.named_modules()][:3] == ["", "@res1", "@res1/@conv1"]


def test_own_parameters_come_after_submodules():
    class M(nn.Module):
        def __init__(self):
            self.first = None
            self.sub = ConvBn(2)

        def call(self, x):
            h = PF.affine(F.reshape(x, (x.shape[0], -1)), 3)   # created before sub's
            return self.sub(x), h
    m = M()
    m(nn.Variable((2, 1, 2, 2)))
    assert list(m.get_parameters())[-2:] == ["affine/W", "affine/b"]
    assert list(m.get_parameters(recursive=False)) == ["affine/W", "affine/b"]
    assert list(m.get_parameters(grad_only=True))[:3] == ["@sub/conv/W", "@sub/bn/beta",
                                                          "@sub/bn/gamma"]


def test_training_propagates_to_existing_submodules_only():
    r = ResUnit(8)
    assert r.training is True
    r.training = False
    assert r.conv1.training is False and r.skip.training is False
    r.extra = ConvBn(2)
    assert r.extra.training is True
    r.conv1.training = True
    assert r.training is False


def test_training_flag_switches_dropout_and_batch_stat():
    class Net(nn.Module):
        def call(self, x):
            return F.dropout(PF.batch_normalization(x), 0.5)
    net = Net()
    x = nn.Variable.from_numpy_array(np.random.RandomState(0).rand(64, 4) + 1)
    train_y = net(x)
    net.training = False
    eval_y = net(x)
    assert train_y.parent.info.type_name == "Dropout"
    assert eval_y.parent.info.type_name == "Identity"
    eval_y.forward()
    # running stats mean=0 var=1: BN is x/sqrt(1+eps), no dropout
    np.testing.assert_allclose(eval_y.d, x.d / np.sqrt(1 + 1e-5), rtol=1e-5)
    train_y.forward()
    assert (train_y.d == 0).mean() > 0.3
    assert net.get_parameters()["bn/mean"].d.any()          # batch stats updated


def test_lists_and_dicts_of_modules():
    class M(nn.Module):
        def __init__(self):
            self.blocks = [ConvBn(k) for k in (2, 3)]
            self.heads = {"a": ConvBn(4)}

        def call(self, x):
            return [b(x) for b in self.blocks] + [self.heads["a"](x)]
    m = M()
    outs = m(nn.Variable((2, 1, 3, 3)))
    assert [o.shape[1] for o in outs] == [2, 3, 4]
    keys = list(m.get_parameters())
    assert "@blocks/@0/conv/W" in keys and "@blocks/@1/bn/var" in keys
    assert "@heads/@a/conv/W" in keys and len(keys) == 15
    assert len(m.blocks) == 2 and m.blocks[1].outmaps == 3
    with pytest.raises(MXNetTypeError, match="mixing modules"):
        m.bad = [ConvBn(1), 3]


def test_sequential():
    seq = nn.Sequential(ConvBn(2), ("last", ConvBn(3)))
    assert list(seq.submodules) == ["conv_bn_0", "last"]
    y = seq(nn.Variable((1, 1, 2, 2)))
    assert y.shape == (1, 3, 2, 2)
    with pytest.raises(TypeError, match="argument 0"):
        nn.Sequential(3)


def test_shared_module_listed_once():
    class M(nn.Module):
        def __init__(self):
            c = ConvBn(2)
            self.a = c
            self.b = c

        def call(self, x):
            return self.a(x)
    m = M()
    m(nn.Variable((1, 1, 2, 2)))
    assert all(k.startswith("@a/") for k in m.get_parameters()) and len(m.get_parameters()) == 5


def test_variables_are_not_parameters_and_getattr_errors():
    class M(nn.Module):
        def __init__(self):
            self.w = nn.Variable((2,), need_grad=True)
    m = M()
    assert m.get_parameters() == {}
    assert not hasattr(m, "missing")
    with pytest.raises(AttributeError, match="missing"):
        m.missing  # noqa: B018


def test_call_must_be_implemented():
    class Empty(nn.Module):
        pass
    with pytest.raises(MXNetNotImplementedError, match="call"):
        Empty()(nn.Variable((1,)))


def test_zero_grad_clears_every_parameter():
    c = ConvBn(2)
    y = F.sum(c(nn.Variable.from_numpy_array(np.random.rand(2, 1, 2, 2))))
    y.forward()
    y.backward()
    params = c.get_parameters()
    params["bn/mean"].g = 1.0
    assert params["conv/W"].g.any()
    c.zero_grad()
    assert all(not v.g.any() for v in params.values())


def test_set_parameters_routes_to_children():
    r = ResUnit(8)
    r(nn.Variable((1, 3, 4, 4)))
    new = nn.Variable((2, 3, 1, 1), need_grad=True)
    r.set_parameter("@conv1/conv/W", new)
    assert r.get_parameters()["@conv1/conv/W"] is new
    r.set_parameter("@nochild/W", new)                      # ignored by default
    with pytest.raises(MXNetValueError, match="nochild"):
        r.set_parameters({"@nochild/W": new}, raise_if_missing=True)
    with pytest.raises(MXNetValueError, match="no parameter"):
        r.set_parameter("@conv1", new)


def test_modules_built_in_threads_keep_their_own_scopes():
    import threading
    errors, mods = [], {}

    def build(tag, outmaps):
        try:
            for i in range(20):
                m = ConvBn(outmaps)
                m(nn.Variable((1, 2, 3, 3)))
                mods[(tag, i)] = m
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)
    threads = [threading.Thread(target=build, args=(t, t + 1)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for (tag, _), m in mods.items():
        p = m.get_parameters()
        assert list(p) == ["conv/W", "bn/beta", "bn/gamma", "bn/mean", "bn/var"]
        assert p["conv/W"].shape == (tag + 1, 2, 1, 1)
    assert nn.get_parameters(grad_only=False) == {}


def test_parameters_created_in_init_live_in_the_module_scope():
    class WithInit(nn.Module):
        def __init__(self):
            self.scale = nn.get_parameter_or_create("scale", (1,), np.full(1, 2.0, np.float32))

        def call(self, x):
            return F.mul2(x, self.scale)
    with nn.parameter_scope("outer"):                 # a surrounding scope has no effect
        m = WithInit()
    assert list(m.get_parameters()) == ["scale"]      # present before the first call
    assert nn.get_parameters(grad_only=False) == {}
    y = m(nn.Variable.from_numpy_array(np.ones(3, np.float32)))
    y.forward()
    np.testing.assert_array_equal(y.d, [2, 2, 2])
