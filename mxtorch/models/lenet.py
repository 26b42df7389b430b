"""LeNet (LeCun et al., 1998) as MXNet's example/image-classification/symbols/lenet.py:
two tanh convolutions with max pooling, a 500-unit tanh layer and a softmax head, with an
optional spatial-transformer front end (``add_stn``)."""
from ._common import library, require_ops

__all__ = ["get_symbol", "get_loc"]


def get_loc(data, attr=None, mx=None):
    """The localisation net of LeNet-STN: it predicts the 6 affine parameters
    (FullyConnected ``stn_loc``, learning rate scaled by ``attr``, default
    ``{'lr_mult': '0.01'}``)."""
    mx = library(mx)
    attr = {"lr_mult": "0.01"} if attr is None else attr
    loc = mx.sym.Convolution(data=data, num_filter=30, kernel=(5, 5), stride=(2, 2))
    loc = mx.sym.Activation(data=loc, act_type="relu")
    loc = mx.sym.Pooling(data=loc, kernel=(2, 2), stride=(2, 2), pool_type="max")
    loc = mx.sym.Convolution(data=loc, num_filter=60, kernel=(3, 3), stride=(1, 1), pad=(1, 1))
    loc = mx.sym.Activation(data=loc, act_type="relu")
    loc = mx.sym.Pooling(data=loc, global_pool=True, kernel=(2, 2), pool_type="avg")
    loc = mx.sym.Flatten(data=loc)
    return mx.sym.FullyConnected(data=loc, num_hidden=6, name="stn_loc", attr=attr)


def get_symbol(num_classes=10, add_stn=False, mx=None, **kwargs):
    """The LeNet symbol. Layers carry MXNet's automatic names (``convolution0``,
    ``fullyconnected1``, ...), so build it inside a fresh ``mx.name.NameManager()`` to get
    the names of a fresh MXNet process.

    Parameters
    ----------
    num_classes : int, default 10
    add_stn : bool, default False
        Put a SpatialTransformer (28x28 affine target, bilinear sampler) in front.
    mx : module, optional
        The library to build with (default mxtorch).

    Raises
    ------
    MXNetNotImplementedError
        ``add_stn`` while mxtorch lacks the SpatialTransformer op.
    """
    mx = library(mx)
    data = mx.sym.Variable("data")
    if add_stn:
        require_ops(mx, "LeNet(add_stn=True)", "SpatialTransformer")
        data = mx.sym.SpatialTransformer(data=data, loc=get_loc(data, mx=mx),
                                         target_shape=(28, 28), transform_type="affine",
                                         sampler_type="bilinear")
    conv1 = mx.sym.Convolution(data=data, kernel=(5, 5), num_filter=20)
    tanh1 = mx.sym.Activation(data=conv1, act_type="tanh")
    pool1 = mx.sym.Pooling(data=tanh1, pool_type="max", kernel=(2, 2), stride=(2, 2))
    conv2 = mx.sym.Convolution(data=pool1, kernel=(5, 5), num_filter=50)
    tanh2 = mx.sym.Activation(data=conv2, act_type="tanh")
    pool2 = mx.sym.Pooling(data=tanh2, pool_type="max", kernel=(2, 2), stride=(2, 2))
    fc1 = mx.sym.FullyConnected(data=mx.sym.Flatten(data=pool2), num_hidden=500)
    tanh3 = mx.sym.Activation(data=fc1, act_type="tanh")
    fc2 = mx.sym.FullyConnected(data=tanh3, num_hidden=num_classes)
    return mx.sym.SoftmaxOutput(data=fc2, name="softmax")
