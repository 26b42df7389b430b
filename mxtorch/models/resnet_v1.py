"""ResNet v1, the original post-activation network (He et al., "Deep Residual Learning for
Image Recognition", 2015), as MXNet's example/image-classification/symbols/resnet-v1.py.

It shares the depth table, stem, stages and head with v2 (resnet.py); the differences, kept
as MXNet has them: conv-BN-ReLU units with the ReLU after the addition, a projection
shortcut ``<name>_conv1sc`` followed by BatchNorm ``<name>_sc``, no ``bn_data`` and no final
BN-ReLU, and on small images a ``bn0`` after ``conv0`` with no ReLU.
"""

from ._common import library, parse_image_shape, value_error
from .resnet import resnet_config, _input, _stem, _stages, _head

__all__ = ["get_symbol", "resnet", "residual_unit"]


def residual_unit(data, num_filter, stride, dim_match, name, bottle_neck=True, bn_mom=0.9,
                  workspace=256, memonger=False, mx=None):
    """One v1 unit: (conv-BN-ReLU) x 1 or 2, conv-BN, plus the shortcut, then ReLU
    ``<name>_relu3``. Bottleneck units stride in their first 1x1 convolution."""
    mx = library(mx)

    def conv_bn(x, k, filters, kernel, conv_stride):
        pad = (1, 1) if kernel == (3, 3) else (0, 0)
        conv = mx.sym.Convolution(data=x, num_filter=filters, kernel=kernel, stride=conv_stride,
                                  pad=pad, no_bias=True, workspace=workspace,
                                  name="%s_conv%d" % (name, k))
        return mx.sym.BatchNorm(data=conv, fix_gamma=False, eps=2e-5, momentum=bn_mom,
                                name="%s_bn%d" % (name, k))

    def relu(x, k):
        return mx.sym.Activation(data=x, act_type="relu", name="%s_relu%d" % (name, k))

    if bottle_neck:
        quarter = int(num_filter * 0.25)
        body = relu(conv_bn(data, 1, quarter, (1, 1), stride), 1)
        body = relu(conv_bn(body, 2, quarter, (3, 3), (1, 1)), 2)
        body = conv_bn(body, 3, num_filter, (1, 1), (1, 1))
    else:
        body = relu(conv_bn(data, 1, num_filter, (3, 3), stride), 1)
        body = conv_bn(body, 2, num_filter, (3, 3), (1, 1))
    if dim_match:
        shortcut = data
    else:
        conv1sc = mx.sym.Convolution(data=data, num_filter=num_filter, kernel=(1, 1),
                                     stride=stride, no_bias=True, workspace=workspace,
                                     name=name + "_conv1sc")
        shortcut = mx.sym.BatchNorm(data=conv1sc, fix_gamma=False, eps=2e-5, momentum=bn_mom,
                                    name=name + "_sc")
    if memonger:
        shortcut._set_attr(mirror_stage="True")
    return relu(body + shortcut, 3)


def resnet(units, num_stages, filter_list, num_classes, image_shape, bottle_neck=True,
           bn_mom=0.9, workspace=256, dtype="float32", memonger=False, mx=None):
    """The v1 network for an explicit table (see ``resnet.resnet_config``)."""
    mx = library(mx)
    if len(units) != num_stages:
        raise value_error(f"resnet_v1: {len(units)} unit counts for {num_stages} stages")
    data = _input(mx, dtype, "ResNet v1")
    height = parse_image_shape(image_shape, "resnet_v1.resnet")[1]
    body = _stem(mx, data, filter_list[0], height, bn_mom, workspace, small_bn=True)
    body = _stages(mx, body, residual_unit, units, num_stages, filter_list, bottle_neck, bn_mom,
                   workspace, memonger)
    return _head(mx, body, num_classes, dtype)


def get_symbol(num_classes, num_layers, image_shape, conv_workspace=256, dtype="float32",
               mx=None, **kwargs):
    """The ResNet v1 symbol; parameters (and the ignored ``memonger``) as
    ``resnet.get_symbol``.

    Raises
    ------
    ValueError
        (MXNetValueError) a bad image_shape or an unsupported depth.
    MXNetNotImplementedError
        While mxtorch lacks the ``identity`` op (dtype 'float32').
    """
    mx = library(mx)
    image_shape = parse_image_shape(image_shape, "resnet_v1.get_symbol")
    units, num_stages, filter_list, bottle_neck = resnet_config(num_layers, image_shape[1],
                                                                "resnet_v1.get_symbol")
    return resnet(units=units, num_stages=num_stages, filter_list=filter_list,
                  num_classes=num_classes, image_shape=image_shape, bottle_neck=bottle_neck,
                  workspace=conv_workspace, dtype=dtype, mx=mx)
