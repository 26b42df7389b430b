"""The multilayer perceptron of MXNet's example/image-classification/symbols/mlp.py:
flatten, 128 and 64 ReLU units, then ``num_classes`` with a softmax head."""
from ._common import library

__all__ = ["get_symbol"]


def get_symbol(num_classes=10, mx=None, **kwargs):
    """The MLP symbol: ``fc1`` (128) - ``relu1`` - ``fc2`` (64) - ``relu2`` - ``fc3`` -
    ``softmax``.

    Parameters
    ----------
    num_classes : int, default 10
    mx : module, optional
        The library to build with (default mxtorch; real ``mxnet`` builds the same graph).
    **kwargs
        Ignored, as in MXNet (the training scripts pass all their options).

    Returns
    -------
    Symbol
        Inputs ``data`` and ``softmax_label``.
    """
    mx = library(mx)
    data = mx.sym.Flatten(data=mx.sym.Variable("data"))
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(data=fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(data=act1, name="fc2", num_hidden=64)
    act2 = mx.sym.Activation(data=fc2, name="relu2", act_type="relu")
    fc3 = mx.sym.FullyConnected(data=act2, name="fc3", num_hidden=num_classes)
    return mx.sym.SoftmaxOutput(data=fc3, name="softmax")
