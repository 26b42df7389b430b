"""``mxtorch.models``: symbol builders of the classic networks, layer for layer and name for
name as MXNet's example/image-classification/symbols (and its bucketing LSTM language
model), so checkpoints trained with MXNet load into them. Each module has
``get_symbol(num_classes, ...)`` with MXNet's arguments.

Every builder also takes ``mx=`` (default mxtorch): passing real ``mxnet`` builds the same
graph there, which is how tools/gen_model_fixtures.py checks them.
"""
from . import alexnet, inception_bn, lenet, lstm_lm, mlp, mobilenet, resnet, resnet_v1, vgg

__all__ = ["alexnet", "inception_bn", "lenet", "lstm_lm", "mlp", "mobilenet", "resnet",
           "resnet_v1", "vgg"]
