"""MobileNet v1 (Howard et al., 2017) as MXNet's
example/image-classification/symbols/mobilenet.py: depthwise-separable blocks of
conv-BN(fix_gamma)-ReLU with a width multiplier ``alpha``."""
from ._common import library, check_choice, value_error

__all__ = ["get_symbol", "ALPHA_VALUES"]

ALPHA_VALUES = [0.25, 0.50, 0.75, 1.0]

# block index -> (depthwise channels, depthwise stride, pointwise filters), in units of
# the base width 32*alpha
_BLOCKS = [(2, 1, 1, 2), (3, 2, 2, 4), (4, 4, 1, 4), (5, 4, 2, 8), (6, 8, 1, 8), (7, 8, 2, 16),
           (8, 16, 1, 16), (9, 16, 1, 16), (10, 16, 1, 16), (11, 16, 1, 16), (12, 16, 1, 16),
           (13, 16, 2, 32), (14, 32, 1, 32)]


def _conv(mx, data, num_filter=1, kernel=(1, 1), stride=(1, 1), pad=(0, 0), num_group=1,
          name=""):
    """``<name>_conv2d`` (no bias) - ``<name>_batchnorm`` (fix_gamma) - ``<name>_relu``."""
    conv = mx.sym.Convolution(data=data, num_filter=num_filter, kernel=kernel,
                              num_group=num_group, stride=stride, pad=pad, no_bias=True,
                              name="%s_conv2d" % name)
    bn = mx.sym.BatchNorm(data=conv, name="%s_batchnorm" % name, fix_gamma=True)
    return mx.sym.Activation(data=bn, act_type="relu", name="%s_relu" % name)


def get_symbol(num_classes, alpha=1, resolution=224, mx=None, **kwargs):
    """The MobileNet symbol: ``conv_1`` (3x3/2), blocks ``conv_<i>_dw`` (depthwise 3x3) and
    ``conv_<i>`` (pointwise) for i = 2..14, average ``global_pool`` over
    ``resolution/32``, ``flatten``, ``fc`` and ``softmax``.

    Parameters
    ----------
    num_classes : int
    alpha : {0.25, 0.5, 0.75, 1.0}, default 1
        Width multiplier; the base width is ``int(32 * alpha)``.
    resolution : int, default 224
        Input height and width, a multiple of 32.
    mx : module, optional
        The library to build with (default mxtorch).

    Raises
    ------
    ValueError
        (MXNetValueError) ``alpha`` not allowed or ``resolution`` not a multiple of 32
        (MXNet asserts).
    """
    mx = library(mx)
    check_choice("mobilenet.get_symbol", "alpha", alpha, ALPHA_VALUES)
    if resolution % 32 != 0:
        raise value_error(f"mobilenet.get_symbol: resolution must be a multiple of 32, got "
                           f"{resolution}")
    base = int(32 * alpha)
    body = _conv(mx, mx.sym.Variable(name="data"), num_filter=base, kernel=(3, 3), pad=(1, 1),
                 stride=(2, 2), name="conv_1")
    for idx, depth, stride, out in _BLOCKS:
        body = _conv(mx, body, num_group=base * depth, num_filter=base * depth, kernel=(3, 3),
                     pad=(1, 1), stride=(stride, stride), name="conv_%d_dw" % idx)
        body = _conv(mx, body, num_filter=base * out, kernel=(1, 1), pad=(0, 0), stride=(1, 1),
                     name="conv_%d" % idx)
    pool_size = int(resolution / 32)
    pool = mx.sym.Pooling(data=body, kernel=(pool_size, pool_size), stride=(1, 1),
                          pool_type="avg", name="global_pool")
    flatten = mx.sym.Flatten(data=pool, name="flatten")
    fc = mx.sym.FullyConnected(data=flatten, num_hidden=num_classes, name="fc")
    return mx.sym.SoftmaxOutput(data=fc, name="softmax")
