"""ResNet v2, pre-activation (He et al., "Identity Mappings in Deep Residual Networks",
2016), as MXNet's example/image-classification/symbols/resnet.py, plus the depth table both
ResNet versions share (resnet_v1.py holds the original v1 units).

``get_symbol`` picks the variant from ``image_shape`` as MXNet does: a height of 28 or
less gives the 3-stage CIFAR network (depth 6n+2 basic, or 9n+2 >= 164 bottleneck);
anything larger gives the 4-stage ImageNet table (18, 34, 50, 101, 152, 200, 269), whose
stem is a 3x3 convolution when the height is 32 or less (so '3,32,32' with 18 layers is
the small-image ResNet-18) and 7x7/2 plus max pooling otherwise.
"""
import numpy as np

from ._common import library, parse_image_shape, require_ops, value_error

__all__ = ["get_symbol", "resnet", "residual_unit", "resnet_config"]

_IMAGENET_UNITS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3],
                   152: [3, 8, 36, 3], 200: [3, 24, 36, 3], 269: [3, 30, 48, 8]}


def resnet_config(num_layers, height, caller="resnet.get_symbol"):
    """``(units, num_stages, filter_list, bottle_neck)`` for a depth and image height,
    MXNet's table.

    Raises
    ------
    ValueError
        (MXNetValueError) a depth MXNet has no table entry for.
    """
    if height <= 28:
        if (num_layers - 2) % 9 == 0 and num_layers >= 164:
            per_unit, filter_list, bottle_neck = (num_layers - 2) // 9, [16, 64, 128, 256], True
        elif (num_layers - 2) % 6 == 0 and num_layers < 164:
            per_unit, filter_list, bottle_neck = (num_layers - 2) // 6, [16, 16, 32, 64], False
        else:
            raise value_error(f"{caller}: no configuration for num_layers={num_layers} on "
                               f"images of height {height} (<= 28 takes 6n+2 below 164 or "
                               "9n+2 from 164, e.g. 20, 56, 110, 164)")
        return [per_unit] * 3, 3, filter_list, bottle_neck
    if num_layers not in _IMAGENET_UNITS:
        raise value_error(f"{caller}: no configuration for num_layers={num_layers}; choose "
                           f"one of {sorted(_IMAGENET_UNITS)}")
    if num_layers >= 50:
        filter_list, bottle_neck = [64, 256, 512, 1024, 2048], True
    else:
        filter_list, bottle_neck = [64, 64, 128, 256, 512], False
    return _IMAGENET_UNITS[num_layers], 4, filter_list, bottle_neck


def residual_unit(data, num_filter, stride, dim_match, name, bottle_neck=True, bn_mom=0.9,
                  workspace=256, memonger=False, mx=None):
    """One pre-activation unit: BN-ReLU-conv twice (basic) or three times (bottleneck,
    1x1 - 3x3 - 1x1 at a quarter of the filters), plus the identity or, when the shape
    changes, a 1x1 convolution ``<name>_sc`` of the first activation."""
    mx = library(mx)

    def bn_relu(x, k):
        bn = mx.sym.BatchNorm(data=x, fix_gamma=False, eps=2e-5, momentum=bn_mom,
                              name="%s_bn%d" % (name, k))
        return mx.sym.Activation(data=bn, act_type="relu", name="%s_relu%d" % (name, k))

    def conv(x, k, filters, kernel, conv_stride):
        pad = (1, 1) if kernel == (3, 3) else (0, 0)
        return mx.sym.Convolution(data=x, num_filter=filters, kernel=kernel, stride=conv_stride,
                                  pad=pad, no_bias=True, workspace=workspace,
                                  name="%s_conv%d" % (name, k))

    act1 = bn_relu(data, 1)
    if bottle_neck:
        quarter = int(num_filter * 0.25)
        body = conv(act1, 1, quarter, (1, 1), (1, 1))
        body = conv(bn_relu(body, 2), 2, quarter, (3, 3), stride)
        body = conv(bn_relu(body, 3), 3, num_filter, (1, 1), (1, 1))
    else:
        body = conv(act1, 1, num_filter, (3, 3), stride)
        body = conv(bn_relu(body, 2), 2, num_filter, (3, 3), (1, 1))
    if dim_match:
        shortcut = data
    else:
        shortcut = mx.sym.Convolution(data=act1, num_filter=num_filter, kernel=(1, 1),
                                      stride=stride, no_bias=True, workspace=workspace,
                                      name=name + "_sc")
    if memonger:
        shortcut._set_attr(mirror_stage="True")
    return body + shortcut


def resnet(units, num_stages, filter_list, num_classes, image_shape, bottle_neck=True,
           bn_mom=0.9, workspace=256, dtype="float32", memonger=False, mx=None):
    """The v2 network for an explicit table (see ``resnet_config``): ``id`` (identity, or a
    Cast to float16), ``bn_data`` (fix_gamma), the stem ``conv0`` [``bn0``, ``relu0``, max
    pooling], the stages ``stage<i>_unit<j>``, then ``bn1``, ``relu1``, global average
    ``pool1``, ``fc1`` and ``softmax``."""
    mx = library(mx)
    if len(units) != num_stages:
        raise value_error(f"resnet: {len(units)} unit counts for {num_stages} stages")
    data = _input(mx, dtype, "ResNet v2")
    data = mx.sym.BatchNorm(data=data, fix_gamma=True, eps=2e-5, momentum=bn_mom, name="bn_data")
    height = parse_image_shape(image_shape, "resnet.resnet")[1]
    body = _stem(mx, data, filter_list[0], height, bn_mom, workspace, small_bn=False)
    body = _stages(mx, body, residual_unit, units, num_stages, filter_list, bottle_neck, bn_mom,
                   workspace, memonger)
    bn1 = mx.sym.BatchNorm(data=body, fix_gamma=False, eps=2e-5, momentum=bn_mom, name="bn1")
    relu1 = mx.sym.Activation(data=bn1, act_type="relu", name="relu1")
    return _head(mx, relu1, num_classes, dtype)


def _input(mx, dtype, network):
    """The ``data`` variable, through ``identity`` (float32) or a float16 Cast."""
    data = mx.sym.Variable(name="data")
    if dtype == "float32":
        require_ops(mx, network, "identity")
        return mx.sym.identity(data=data, name="id")
    if dtype == "float16":
        return mx.sym.Cast(data=data, dtype=np.float16)
    return data


def _stem(mx, data, filters, height, bn_mom, workspace, small_bn):
    """3x3/1 ``conv0`` for heights up to 32 (followed by ``bn0`` when ``small_bn``, as v1
    does), else 7x7/2 ``conv0``, ``bn0``, ``relu0`` and 3x3/2 max pooling."""
    if height <= 32:
        body = mx.sym.Convolution(data=data, num_filter=filters, kernel=(3, 3), stride=(1, 1),
                                  pad=(1, 1), no_bias=True, name="conv0", workspace=workspace)
        if small_bn:
            body = mx.sym.BatchNorm(data=body, fix_gamma=False, eps=2e-5, momentum=bn_mom,
                                    name="bn0")
        return body
    body = mx.sym.Convolution(data=data, num_filter=filters, kernel=(7, 7), stride=(2, 2),
                              pad=(3, 3), no_bias=True, name="conv0", workspace=workspace)
    body = mx.sym.BatchNorm(data=body, fix_gamma=False, eps=2e-5, momentum=bn_mom, name="bn0")
    body = mx.sym.Activation(data=body, act_type="relu", name="relu0")
    return mx.sym.Pooling(data=body, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")


def _stages(mx, body, unit, units, num_stages, filter_list, bottle_neck, bn_mom, workspace,
            memonger):
    """The residual stages; the first unit of each stage after the first strides by 2."""
    for i in range(num_stages):
        stride = (1, 1) if i == 0 else (2, 2)
        body = unit(body, filter_list[i + 1], stride, False, name="stage%d_unit%d" % (i + 1, 1),
                    bottle_neck=bottle_neck, bn_mom=bn_mom, workspace=workspace,
                    memonger=memonger, mx=mx)
        for j in range(units[i] - 1):
            body = unit(body, filter_list[i + 1], (1, 1), True,
                        name="stage%d_unit%d" % (i + 1, j + 2), bottle_neck=bottle_neck,
                        bn_mom=bn_mom, workspace=workspace, memonger=memonger, mx=mx)
    return body


def _head(mx, body, num_classes, dtype):
    """Global average ``pool1`` (kernel 7x7 recorded, unused), flatten, ``fc1``, [Cast back
    to float32], ``softmax``."""
    pool1 = mx.sym.Pooling(data=body, global_pool=True, kernel=(7, 7), pool_type="avg",
                           name="pool1")
    fc1 = mx.sym.FullyConnected(data=mx.sym.Flatten(data=pool1), num_hidden=num_classes,
                                name="fc1")
    if dtype == "float16":
        fc1 = mx.sym.Cast(data=fc1, dtype=np.float32)
    return mx.sym.SoftmaxOutput(data=fc1, name="softmax")


def get_symbol(num_classes, num_layers, image_shape, conv_workspace=256, dtype="float32",
               mx=None, **kwargs):
    """The ResNet v2 symbol.

    Parameters
    ----------
    num_classes : int
    num_layers : int
        18, 34, 50, 101, 152, 200 or 269 for images taller than 28 pixels; 6n+2 (basic
        units, below 164) or 9n+2 (bottleneck, 164 and up) for smaller ones.
    image_shape : str
        ``'channels,height,width'``, e.g. ``'3,224,224'`` or ``'3,32,32'``.
    conv_workspace : int, default 256
    dtype : {'float32', 'float16'}, default 'float32'
    mx : module, optional
        The library to build with (default mxtorch).
    **kwargs
        Ignored, as in MXNet; ``memonger`` in particular is not passed on (MXNet's
        get_symbol drops it too): call ``resnet(...)`` with ``memonger=True`` instead.

    Raises
    ------
    ValueError
        (MXNetValueError) a bad image_shape or an unsupported depth.
    MXNetNotImplementedError
        While mxtorch lacks the ``identity`` op (dtype 'float32').
    """
    mx = library(mx)
    image_shape = parse_image_shape(image_shape, "resnet.get_symbol")
    units, num_stages, filter_list, bottle_neck = resnet_config(num_layers, image_shape[1])
    return resnet(units=units, num_stages=num_stages, filter_list=filter_list,
                  num_classes=num_classes, image_shape=image_shape, bottle_neck=bottle_neck,
                  workspace=conv_workspace, dtype=dtype, mx=mx)
