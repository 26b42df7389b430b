"""Inception with BatchNorm (Ioffe and Szegedy, 2015) as MXNet's
example/image-classification/symbols/inception-bn.py: the full network for images around
224x224, and the simpler network MXNet uses for images of height 28 or less."""
from ._common import library, parse_image_shape

__all__ = ["get_symbol", "conv_factory", "inception_factory_a", "inception_factory_b",
           "downsample_factory", "simple_factory"]

_EPS = 1e-10 + 1e-5
_BN_MOM = 0.9
_FIX_GAMMA = False


def conv_factory(data, num_filter, kernel, stride=(1, 1), pad=(0, 0), name=None, suffix="",
                 attr=None, mx=None):
    """``conv_<name><suffix>`` - ``bn_<name><suffix>`` - ``relu_<name><suffix>``."""
    mx = library(mx)
    conv = mx.sym.Convolution(data=data, num_filter=num_filter, kernel=kernel, stride=stride,
                              pad=pad, name="conv_%s%s" % (name, suffix))
    bn = mx.sym.BatchNorm(data=conv, fix_gamma=_FIX_GAMMA, eps=_EPS, momentum=_BN_MOM,
                          name="bn_%s%s" % (name, suffix))
    return mx.sym.Activation(data=bn, act_type="relu", name="relu_%s%s" % (name, suffix),
                             attr=attr or {})


def inception_factory_a(data, num_1x1, num_3x3red, num_3x3, num_d3x3red, num_d3x3, pool, proj,
                        name, mx=None):
    """1x1, 1x1-3x3, 1x1-3x3-3x3 and pool-1x1 branches, concatenated on channels."""
    mx = library(mx)
    c1x1 = conv_factory(data, num_1x1, (1, 1), name="%s_1x1" % name, mx=mx)
    c3x3r = conv_factory(data, num_3x3red, (1, 1), name="%s_3x3" % name, suffix="_reduce",
                         mx=mx)
    c3x3 = conv_factory(c3x3r, num_3x3, (3, 3), pad=(1, 1), name="%s_3x3" % name, mx=mx)
    cd3x3r = conv_factory(data, num_d3x3red, (1, 1), name="%s_double_3x3" % name,
                          suffix="_reduce", mx=mx)
    cd3x3 = conv_factory(cd3x3r, num_d3x3, (3, 3), pad=(1, 1), name="%s_double_3x3_0" % name,
                         mx=mx)
    cd3x3 = conv_factory(cd3x3, num_d3x3, (3, 3), pad=(1, 1), name="%s_double_3x3_1" % name,
                         mx=mx)
    pooling = mx.sym.Pooling(data=data, kernel=(3, 3), stride=(1, 1), pad=(1, 1),
                             pool_type=pool, name="%s_pool_%s_pool" % (pool, name))
    cproj = conv_factory(pooling, proj, (1, 1), name="%s_proj" % name, mx=mx)
    return mx.sym.Concat(*[c1x1, c3x3, cd3x3, cproj], name="ch_concat_%s_chconcat" % name)


def inception_factory_b(data, num_3x3red, num_3x3, num_d3x3red, num_d3x3, name, mx=None):
    """The reducing block: strided 3x3 and double-3x3 branches plus 3x3/2 max pooling."""
    mx = library(mx)
    c3x3r = conv_factory(data, num_3x3red, (1, 1), name="%s_3x3" % name, suffix="_reduce",
                         mx=mx)
    c3x3 = conv_factory(c3x3r, num_3x3, (3, 3), pad=(1, 1), stride=(2, 2),
                        name="%s_3x3" % name, mx=mx)
    cd3x3r = conv_factory(data, num_d3x3red, (1, 1), name="%s_double_3x3" % name,
                          suffix="_reduce", mx=mx)
    cd3x3 = conv_factory(cd3x3r, num_d3x3, (3, 3), pad=(1, 1), stride=(1, 1),
                         name="%s_double_3x3_0" % name, mx=mx)
    cd3x3 = conv_factory(cd3x3, num_d3x3, (3, 3), pad=(1, 1), stride=(2, 2),
                         name="%s_double_3x3_1" % name, mx=mx)
    pooling = mx.sym.Pooling(data=data, kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                             pool_type="max", name="max_pool_%s_pool" % name)
    return mx.sym.Concat(*[c3x3, cd3x3, pooling], name="ch_concat_%s_chconcat" % name)


def downsample_factory(data, ch_3x3, name, attr, mx=None):
    """Small-image block: a strided 3x3 convolution beside 3x3/2 max pooling."""
    mx = library(mx)
    conv = conv_factory(data, ch_3x3, (3, 3), stride=(2, 2), pad=(1, 1), name=name + "_conv",
                        attr=attr, mx=mx)
    pool = mx.sym.Pooling(data=data, name=name + "_pool", kernel=(3, 3), stride=(2, 2),
                          pad=(1, 1), pool_type="max", attr=attr)
    return mx.sym.Concat(*[conv, pool], name=name + "_ch_concat")


def simple_factory(data, ch_1x1, ch_3x3, name, attr, mx=None):
    """Small-image block: 1x1 and 3x3 convolutions side by side."""
    mx = library(mx)
    conv1x1 = conv_factory(data, ch_1x1, (1, 1), pad=(0, 0), name=name + "_1x1", attr=attr,
                           mx=mx)
    conv3x3 = conv_factory(data, ch_3x3, (3, 3), pad=(1, 1), name=name + "_3x3", attr=attr,
                           mx=mx)
    return mx.sym.Concat(*[conv1x1, conv3x3], name=name + "_ch_concat")


def get_symbol(num_classes, image_shape, mx=None, **kwargs):
    """The Inception-BN symbol with a ``softmax`` head (its classifier keeps MXNet's
    automatic names ``flatten0``/``fullyconnected0``: build it in a fresh NameManager).

    Parameters
    ----------
    num_classes : int
    image_shape : str
        ``'channels,height,width'``. Height <= 28 builds the small network (28x28 inputs:
        its 7x7 average pooling expects 7x7 maps); otherwise the 224x224 network.
    mx : module, optional
        The library to build with (default mxtorch).
    """
    mx = library(mx)
    _, height, _ = parse_image_shape(image_shape, "inception_bn.get_symbol")
    attr = {}
    data = mx.sym.Variable(name="data")
    if height <= 28:
        body = conv_factory(data, 96, (3, 3), pad=(1, 1), name="1", attr=attr, mx=mx)
        for name, a, b in (("in3a", 32, 32), ("in3b", 32, 48), ("in3c", 80, None),
                           ("in4a", 112, 48), ("in4b", 96, 64), ("in4c", 80, 80),
                           ("in4d", 48, 96), ("in4e", 96, None), ("in5a", 176, 160),
                           ("in5b", 176, 160)):
            if b is None:
                body = downsample_factory(body, a, name, attr, mx=mx)
            else:
                body = simple_factory(body, a, b, name, attr, mx=mx)
        pool = mx.sym.Pooling(data=body, pool_type="avg", kernel=(7, 7), name="global_pool",
                              attr=attr)
    else:
        conv1 = conv_factory(data, 64, (7, 7), stride=(2, 2), pad=(3, 3), name="1", mx=mx)
        pool1 = mx.sym.Pooling(data=conv1, kernel=(3, 3), stride=(2, 2), name="pool_1",
                               pool_type="max")
        conv2red = conv_factory(pool1, 64, (1, 1), stride=(1, 1), name="2_red", mx=mx)
        conv2 = conv_factory(conv2red, 192, (3, 3), stride=(1, 1), pad=(1, 1), name="2", mx=mx)
        body = mx.sym.Pooling(data=conv2, kernel=(3, 3), stride=(2, 2), name="pool_2",
                              pool_type="max")
        body = inception_factory_a(body, 64, 64, 64, 64, 96, "avg", 32, "3a", mx=mx)
        body = inception_factory_a(body, 64, 64, 96, 64, 96, "avg", 64, "3b", mx=mx)
        body = inception_factory_b(body, 128, 160, 64, 96, "3c", mx=mx)
        body = inception_factory_a(body, 224, 64, 96, 96, 128, "avg", 128, "4a", mx=mx)
        body = inception_factory_a(body, 192, 96, 128, 96, 128, "avg", 128, "4b", mx=mx)
        body = inception_factory_a(body, 160, 128, 160, 128, 160, "avg", 128, "4c", mx=mx)
        body = inception_factory_a(body, 96, 128, 192, 160, 192, "avg", 128, "4d", mx=mx)
        body = inception_factory_b(body, 128, 192, 192, 256, "4e", mx=mx)
        body = inception_factory_a(body, 352, 192, 320, 160, 224, "avg", 128, "5a", mx=mx)
        body = inception_factory_a(body, 352, 192, 320, 192, 224, "max", 128, "5b", mx=mx)
        pool = mx.sym.Pooling(data=body, kernel=(7, 7), stride=(1, 1), name="global_pool",
                              pool_type="avg")
    fc1 = mx.sym.FullyConnected(data=mx.sym.Flatten(data=pool), num_hidden=num_classes)
    return mx.sym.SoftmaxOutput(data=fc1, name="softmax")
