"""PyTorch twins of bench/symbols.py: the same layers, sizes and parameter counts written as
an idiomatic PyTorch user would (``nn.Sequential``/``nn.Module``, ``nn.LSTM`` for the
language model), for the hand-written loop and the Lightning peers. Also the loss each
SoftmaxOutput head stands for.
"""
import torch
from torch import nn

from .symbols import resnet_units

__all__ = ["mlp", "lenet", "resnet", "LSTMLM", "xavier_"]


def xavier_(model):
    """Xavier-uniform weights and zero biases, as ``mx.init.Xavier()`` (BatchNorm keeps its
    ones and zeros)."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def mlp(num_classes=10):
    return xavier_(nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                                 nn.Linear(64, num_classes)))


def lenet(num_classes=10):
    return xavier_(nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.Tanh(), nn.MaxPool2d(2, 2),
        nn.Conv2d(20, 50, 5), nn.Tanh(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(800, 500), nn.Tanh(), nn.Linear(500, num_classes)))


def _bn(channels):
    # MXNet's momentum 0.9 (weight of the old running value) is torch's 0.1.
    return nn.BatchNorm2d(channels, eps=2e-5, momentum=0.1)


class _Unit(nn.Module):
    """Pre-activation residual unit, basic or bottleneck (symbols._unit)."""

    def __init__(self, in_ch, out_ch, stride, dim_match, bottle_neck):
        super().__init__()
        mid = out_ch // 4 if bottle_neck else out_ch
        self.bn1 = _bn(in_ch)
        if bottle_neck:
            self.body = nn.Sequential(
                nn.Conv2d(in_ch, mid, 1, bias=False), _bn(mid), nn.ReLU(inplace=True),
                nn.Conv2d(mid, mid, 3, stride, 1, bias=False), _bn(mid), nn.ReLU(inplace=True),
                nn.Conv2d(mid, out_ch, 1, bias=False))
        else:
            self.body = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False), _bn(out_ch),
                nn.ReLU(inplace=True), nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False))
        self.sc = None if dim_match else nn.Conv2d(in_ch, out_ch, 1, stride, bias=False)

    def forward(self, x):
        act = torch.relu(self.bn1(x))
        shortcut = x if self.sc is None else self.sc(act)
        return self.body(act) + shortcut


class _ResNet(nn.Module):
    def __init__(self, num_layers, image_size, num_classes):
        super().__init__()
        units, filters, bottle_neck = resnet_units(num_layers)
        self.bn_data = nn.BatchNorm2d(3, eps=2e-5, momentum=0.1)
        self.bn_data.weight.requires_grad_(False)  # fix_gamma=True
        if image_size <= 32:
            stem = [nn.Conv2d(3, filters[0], 3, 1, 1, bias=False)]
        else:
            stem = [nn.Conv2d(3, filters[0], 7, 2, 3, bias=False), _bn(filters[0]),
                    nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
        layers, in_ch = stem, filters[0]
        for i, count in enumerate(units):
            for j in range(count):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(_Unit(in_ch, filters[i + 1], stride, j > 0, bottle_neck))
                in_ch = filters[i + 1]
        layers += [_bn(in_ch), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(in_ch, num_classes)

    def forward(self, x):
        return self.fc1(self.features(self.bn_data(x)))


def resnet(num_layers, image_size, num_classes=10):
    return xavier_(_ResNet(num_layers, image_size, num_classes))


class LSTMLM(nn.Module):
    """Embedding -> ``num_layers`` LSTM (batch-major) -> ``pred`` Linear over the vocabulary;
    returns logits of shape ``(batch*seq_len, vocab)`` like the symbol's ``pred``."""

    def __init__(self, vocab_size, num_embed=128, num_hidden=128, num_layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, num_embed)
        self.lstm = nn.LSTM(num_embed, num_hidden, num_layers, batch_first=True)
        self.pred = nn.Linear(num_hidden, vocab_size)
        for name, p in self.named_parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
            else:
                nn.init.zeros_(p)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.pred(out.reshape(-1, out.shape[-1]))
