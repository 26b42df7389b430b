"""BigDL layers and containers on torch: ``Sequential`` (``add``), ``Linear``,
``SpatialConvolution``, ``SpatialMaxPooling``, ``SpatialBatchNormalization``,
``BatchNormalization``, ``ReLU``, ``Tanh``, ``Sigmoid``, ``LogSoftMax``, ``SoftMax``,
``Dropout``, ``Reshape``, ``Identity`` and ``TorchLayer`` (a plain torch module as a
BigDL layer), with BigDL's constructor arguments and default initialization.

Each layer is the torch layer with :class:`BigDLAPI` mixed in; containers chain their
children's forward and backward (BigDL's Sequential), so times are per layer.
"""
import math

import torch
import torch.nn.functional as tF

from ..base import MXNetTypeError, MXNetValueError
from .bigdl_api import BigDLAPI
from . import bigdl_tree as tree

__all__ = ["Container", "Sequential", "TorchLayer", "Identity", "Linear", "SpatialConvolution",
           "SpatialMaxPooling", "SpatialBatchNormalization", "BatchNormalization", "ReLU",
           "Tanh", "Sigmoid", "LogSoftMax", "SoftMax", "Dropout", "Reshape"]


class Container(BigDLAPI, torch.nn.Module):
    """A module holding layers (``add``); forward/backward are its subclass's."""

    _bigdl_container = True

    def __init__(self):
        torch.nn.Module.__init__(self)

    @property
    def layers(self):
        """The layers, in order."""
        return list(self._modules.values())

    def add(self, module):
        """Append ``module`` (a plain ``torch.nn.Module`` is wrapped in a
        :class:`TorchLayer`); returns self.

        Raises
        ------
        MXNetTypeError
            For something that is not a module.
        """
        self.add_module(str(len(self._modules)), as_layer(module))
        return self

    def _bigdl_attach(self, name, child):
        self.add_module(name, as_layer(child))

    def flattened_layers(self):
        """The non-container layers of the subtree, in order."""
        out = []
        for layer in self.layers:
            out.extend(layer.flattened_layers() if isinstance(layer, Container) else [layer])
        return out


def as_layer(module):
    """``module`` as a BigDL layer (plain torch modules wrapped in TorchLayer)."""
    if tree.is_bigdl(module):
        return module
    if isinstance(module, torch.nn.Module):
        return TorchLayer(module)
    raise MXNetTypeError(f"add: expected a BigDL layer or a torch.nn.Module, got "
                         f"{type(module).__name__}")


class Sequential(Container):
    """Layers run one after another; backward goes in reverse, each layer fed the previous
    layer's cached ``output`` as its input (BigDL's Sequential).

    Parameters
    ----------
    *layers : modules to ``add`` at once (BigDL's takes none; ``add`` returns self)
    """

    def __init__(self, *layers):
        super().__init__()
        for layer in layers:
            self.add(layer)

    def update_output(self, input):
        x = input
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def to_graph(self):
        """The same layers as a graph :class:`~mxtorch.nn.bigdl_graph.Model` (sharing the
        layers, as BigDL's toGraph does)."""
        from .bigdl_graph import Input, Model
        start = node = Input()
        for layer in self.layers:
            node = layer.inputs(node)
        return Model(start, node)

    def _inputs(self, input):
        layers = self.layers
        return [input] + [layer.output for layer in layers[:-1]]

    def _bigdl_backward(self, input, grad_output):
        g = grad_output
        layers = self.layers
        for layer, x in zip(reversed(layers), reversed(self._inputs(input))):
            g = layer.backward(x, g)
        return g

    def update_grad_input(self, input, grad_output):
        g = grad_output
        for layer, x in zip(reversed(self.layers), reversed(self._inputs(input))):
            g = layer.update_grad_input(x, g)
        return g

    def acc_grad_parameters(self, input, grad_output):
        g = grad_output
        for layer, x in zip(reversed(self.layers), reversed(self._inputs(input))):
            layer.acc_grad_parameters(x, g)
            g = layer.grad_input


class TorchLayer(BigDLAPI, torch.nn.Module):
    """A plain ``torch.nn.Module`` as a BigDL layer (its parameters stay its own).

    Parameters
    ----------
    module : torch.nn.Module
    """

    def __init__(self, module):
        torch.nn.Module.__init__(self)
        if not isinstance(module, torch.nn.Module):
            raise MXNetTypeError(f"TorchLayer: expected a torch.nn.Module, got "
                                 f"{type(module).__name__}")
        self.layer = module

    def update_output(self, input):
        out = self.layer(*input) if isinstance(input, (list, tuple)) else self.layer(input)
        return list(out) if isinstance(out, tuple) else out


class Identity(BigDLAPI, torch.nn.Module):
    """Output = input."""

    def __init__(self):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return input


def _uniform_(tensors, bound):
    with torch.no_grad():
        for t in tensors:
            if t is not None:
                t.uniform_(-bound, bound)


class Linear(BigDLAPI, torch.nn.Linear):
    """``y = x W^T + b``; W is (output_size, input_size). Weight and bias start
    U(-1/sqrt(input_size), 1/sqrt(input_size)) (BigDL's default).

    Parameters
    ----------
    input_size, output_size : int
    with_bias : bool, default True
    """

    def __init__(self, input_size, output_size, with_bias=True):
        torch.nn.Linear.__init__(self, int(input_size), int(output_size), bias=bool(with_bias))

    def reset_parameters(self):
        _uniform_([self.weight, self.bias], 1.0 / math.sqrt(self.in_features))


class SpatialConvolution(BigDLAPI, torch.nn.Conv2d):
    """2-D convolution over NCHW input (BigDL's argument order: width before height).
    Weight and bias start U(-1/sqrt(kW*kH*nInputPlane/nGroup), same) as in Torch7.

    Parameters
    ----------
    n_input_plane, n_output_plane : int
    kernel_w, kernel_h : int
    stride_w, stride_h : int, default 1
    pad_w, pad_h : int, default 0
    n_group : int, default 1
    with_bias : bool, default True
    """

    def __init__(self, n_input_plane, n_output_plane, kernel_w, kernel_h, stride_w=1,
                 stride_h=1, pad_w=0, pad_h=0, n_group=1, with_bias=True):
        torch.nn.Conv2d.__init__(self, n_input_plane, n_output_plane, (kernel_h, kernel_w),
                                 stride=(stride_h, stride_w), padding=(pad_h, pad_w),
                                 groups=n_group, bias=bool(with_bias))

    def reset_parameters(self):
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        _uniform_([self.weight, self.bias], 1.0 / math.sqrt(fan_in))


class SpatialMaxPooling(BigDLAPI, torch.nn.MaxPool2d):
    """2-D max pooling (BigDL's argument order: width before height).

    Parameters
    ----------
    kw, kh : int
    dw, dh : int, optional
        Strides (default: the kernel).
    pad_w, pad_h : int, default 0
    to_ceil : bool, default False
    """

    def __init__(self, kw, kh, dw=None, dh=None, pad_w=0, pad_h=0, to_ceil=False):
        torch.nn.MaxPool2d.__init__(self, (kh, kw), stride=(dh or kh, dw or kw),
                                    padding=(pad_h, pad_w), ceil_mode=bool(to_ceil))


class SpatialBatchNormalization(BigDLAPI, torch.nn.BatchNorm2d):
    """Batch normalization of NCHW input over N, H, W (running mean/var are the extra
    parameters).

    Parameters
    ----------
    n_output : int
    eps : float, default 1e-5
    momentum : float, default 0.1
    affine : bool, default True
    """

    def __init__(self, n_output, eps=1e-5, momentum=0.1, affine=True):
        torch.nn.BatchNorm2d.__init__(self, n_output, eps=eps, momentum=momentum, affine=affine)


class BatchNormalization(BigDLAPI, torch.nn.BatchNorm1d):
    """Batch normalization of (N, C) input (see SpatialBatchNormalization)."""

    def __init__(self, n_output, eps=1e-5, momentum=0.1, affine=True):
        torch.nn.BatchNorm1d.__init__(self, n_output, eps=eps, momentum=momentum, affine=affine)


class ReLU(BigDLAPI, torch.nn.Module):
    """``max(x, 0)``. ``ip`` (in place) is accepted and ignored: the input is kept for
    backward."""

    def __init__(self, ip=False):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return torch.relu(input)


class Tanh(BigDLAPI, torch.nn.Module):
    """``tanh(x)``."""

    def __init__(self):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return torch.tanh(input)


class Sigmoid(BigDLAPI, torch.nn.Module):
    """``1 / (1 + exp(-x))``."""

    def __init__(self):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return torch.sigmoid(input)


class LogSoftMax(BigDLAPI, torch.nn.Module):
    """``log(softmax(x))`` over the last dimension."""

    def __init__(self):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return tF.log_softmax(input, dim=-1)


class SoftMax(BigDLAPI, torch.nn.Module):
    """``softmax(x)`` over the last dimension."""

    def __init__(self):
        torch.nn.Module.__init__(self)

    def update_output(self, input):
        return tF.softmax(input, dim=-1)


class Dropout(BigDLAPI, torch.nn.Module):
    """Zero each element with probability ``init_p`` in training mode, scaling the rest
    by ``1/(1-init_p)``; identity in evaluation mode.

    Raises
    ------
    MXNetValueError
        For ``init_p`` outside [0, 1).
    """

    def __init__(self, init_p=0.5):
        torch.nn.Module.__init__(self)
        if not 0.0 <= float(init_p) < 1.0:
            raise MXNetValueError(f"Dropout: init_p must be in [0, 1), got {init_p}")
        self.p = float(init_p)

    def update_output(self, input):
        return tF.dropout(input, self.p, self.training)


class Reshape(BigDLAPI, torch.nn.Module):
    """Reshape each sample to ``size``.

    Parameters
    ----------
    size : sequence of int
        The shape without the batch dimension (when batched).
    batch_mode : bool, optional
        True: the first dimension is the batch and is kept; False: reshape the whole
        input to ``size``; None (default): batch mode unless the input has exactly
        ``prod(size)`` elements.
    """

    def __init__(self, size, batch_mode=None):
        torch.nn.Module.__init__(self)
        self.size = [int(s) for s in size]
        self.batch_mode = batch_mode

    def update_output(self, input):
        batch = self.batch_mode
        if batch is None:
            batch = input.numel() != math.prod(self.size)
        shape = ([input.shape[0]] if batch else []) + self.size
        if math.prod(shape) != input.numel():
            raise MXNetValueError(f"Reshape: cannot reshape an input of shape "
                                  f"{tuple(input.shape)} to {tuple(shape)}")
        return input.reshape(shape)

    def extra_repr(self):
        return f"size={self.size}"
