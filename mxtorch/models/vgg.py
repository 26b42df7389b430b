"""VGG (Simonyan and Zisserman, 2014) as MXNet's example/image-classification/symbols/vgg.py:
VGG-11/13/16/19, optionally with BatchNorm after every convolution, and the float16 variant
(Cast in, Cast out)."""
import numpy as np

from ._common import library, check_choice

__all__ = ["get_symbol", "get_feature", "get_classifier", "VGG_SPEC"]

# num_layers -> (convolutions per group, filters per group)
VGG_SPEC = {11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
            13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
            16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
            19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512])}


def get_feature(data, layers, filters, batch_norm=False, mx=None):
    """The convolution groups: ``conv<g>_<i>`` (3x3, pad 1) [``bn<g>_<i>``] ``relu<g>_<i>``,
    then ``pool<g>`` (2x2 max, stride 2) after each group."""
    mx = library(mx)
    body = data
    for i, num in enumerate(layers):
        for j in range(num):
            suffix = "%s_%s" % (i + 1, j + 1)
            body = mx.sym.Convolution(data=body, kernel=(3, 3), pad=(1, 1),
                                      num_filter=filters[i], name="conv" + suffix)
            if batch_norm:
                body = mx.sym.BatchNorm(data=body, name="bn" + suffix)
            body = mx.sym.Activation(data=body, act_type="relu", name="relu" + suffix)
        body = mx.sym.Pooling(data=body, pool_type="max", kernel=(2, 2), stride=(2, 2),
                              name="pool%s" % (i + 1))
    return body


def get_classifier(data, num_classes, mx=None):
    """``flatten`` - ``fc6`` (4096) - ``relu6`` - ``drop6`` - ``fc7`` (4096) - ``relu7`` -
    ``drop7`` - ``fc8`` (num_classes); dropout 0.5."""
    mx = library(mx)
    body = mx.sym.Flatten(data=data, name="flatten")
    for k in (6, 7):
        body = mx.sym.FullyConnected(data=body, num_hidden=4096, name="fc%d" % k)
        body = mx.sym.Activation(data=body, act_type="relu", name="relu%d" % k)
        body = mx.sym.Dropout(data=body, p=0.5, name="drop%d" % k)
    return mx.sym.FullyConnected(data=body, num_hidden=num_classes, name="fc8")


def get_symbol(num_classes, num_layers=11, batch_norm=False, dtype="float32", mx=None,
               **kwargs):
    """The VGG symbol with a ``softmax`` head.

    Parameters
    ----------
    num_classes : int
    num_layers : {11, 13, 16, 19}, default 11
    batch_norm : bool, default False
        BatchNorm (MXNet's defaults) after every convolution.
    dtype : {'float32', 'float16'}, default 'float32'
        'float16' casts the data to float16 and the logits back to float32.
    mx : module, optional
        The library to build with (default mxtorch).

    Raises
    ------
    ValueError
        (MXNetValueError) ``num_layers`` not one of 11, 13, 16, 19.
    """
    mx = library(mx)
    check_choice("vgg.get_symbol", "num_layers", num_layers, VGG_SPEC)
    layers, filters = VGG_SPEC[num_layers]
    data = mx.sym.Variable(name="data")
    if dtype == "float16":
        data = mx.sym.Cast(data=data, dtype=np.float16)
    feature = get_feature(data, layers, filters, batch_norm, mx=mx)
    logits = get_classifier(feature, num_classes, mx=mx)
    if dtype == "float16":
        logits = mx.sym.Cast(data=logits, dtype=np.float32)
    return mx.sym.SoftmaxOutput(data=logits, name="softmax")
