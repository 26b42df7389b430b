"""AlexNet (Krizhevsky et al., 2012) as MXNet's example/image-classification/symbols/alexnet.py:
five convolutions (LRN after the first two), three fully connected layers with dropout,
and the float16 variant."""
import numpy as np

from ._common import library, require_ops

__all__ = ["get_symbol"]


def get_symbol(num_classes, dtype="float32", mx=None, **kwargs):
    """The AlexNet symbol (``conv1``..``conv5``, ``fc1``..``fc3``, ``softmax``; activations,
    LRN, pooling and dropout keep MXNet's automatic names: build in a fresh NameManager).

    Parameters
    ----------
    num_classes : int
    dtype : {'float32', 'float16'}, default 'float32'
    mx : module, optional
        The library to build with (default mxtorch).

    Raises
    ------
    MXNetNotImplementedError
        While mxtorch lacks the LRN op.

    Notes
    -----
    Needs 224x224-like inputs: 11x11/4 then three 3x3/2 poolings leave 6x6 maps at 227.
    """
    mx = library(mx)
    require_ops(mx, "AlexNet", "LRN")
    data = mx.sym.Variable(name="data")
    if dtype == "float16":
        data = mx.sym.Cast(data=data, dtype=np.float16)
    conv1 = mx.sym.Convolution(name="conv1", data=data, kernel=(11, 11), stride=(4, 4),
                               num_filter=96)
    relu1 = mx.sym.Activation(data=conv1, act_type="relu")
    lrn1 = mx.sym.LRN(data=relu1, alpha=0.0001, beta=0.75, knorm=2, nsize=5)
    pool1 = mx.sym.Pooling(data=lrn1, pool_type="max", kernel=(3, 3), stride=(2, 2))
    conv2 = mx.sym.Convolution(name="conv2", data=pool1, kernel=(5, 5), pad=(2, 2),
                               num_filter=256)
    relu2 = mx.sym.Activation(data=conv2, act_type="relu")
    lrn2 = mx.sym.LRN(data=relu2, alpha=0.0001, beta=0.75, knorm=2, nsize=5)
    body = mx.sym.Pooling(data=lrn2, kernel=(3, 3), stride=(2, 2), pool_type="max")
    for k, filters in ((3, 384), (4, 384), (5, 256)):
        body = mx.sym.Convolution(name="conv%d" % k, data=body, kernel=(3, 3), pad=(1, 1),
                                  num_filter=filters)
        body = mx.sym.Activation(data=body, act_type="relu")
    body = mx.sym.Pooling(data=body, kernel=(3, 3), stride=(2, 2), pool_type="max")
    body = mx.sym.Flatten(data=body)
    for k in (1, 2):
        body = mx.sym.FullyConnected(name="fc%d" % k, data=body, num_hidden=4096)
        body = mx.sym.Activation(data=body, act_type="relu")
        body = mx.sym.Dropout(data=body, p=0.5)
    fc3 = mx.sym.FullyConnected(name="fc3", data=body, num_hidden=num_classes)
    if dtype == "float16":
        fc3 = mx.sym.Cast(data=fc3, dtype=np.float32)
    return mx.sym.SoftmaxOutput(data=fc3, name="softmax")
