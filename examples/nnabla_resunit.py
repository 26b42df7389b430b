"""The nnabla Module seed, run as written on mxtorch: ConvBn and ResUnit modules, the
parameter listing, static and dynamic (auto_forward) execution, then a residual network
trained on the shipped 8x8 digits with the seed's solver loop.

    python examples/nnabla_resunit.py [--iters 300] [--channels 32] [--solver momentum]

Prints the parameter names, the test accuracy, and checks that an .h5 round trip of
the parameters gives the same predictions. Exits 1 unless the accuracy is >= 95%.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

import mxtorch.nn as nn
import mxtorch.nn.functions as F
import mxtorch.nn.parametric_functions as PF
import mxtorch.nn.solvers as S
from mxtorch.datasets import load_digits


# ---------------------------------------------------------------- the seed's modules
class ConvBn(nn.Module):
    def __init__(self, outmaps, kernel=1, stride=1, act=None):
        self.outmaps = outmaps
        self.kernel = kernel
        self.stride = stride
        self.act = act

    def call(self, x, training=True):
        kernel = (self.kernel, self.kernel)
        pad = (self.kernel // 2, self.kernel // 2)
        stride = (self.stride, self.stride)
        h = PF.convolution(x, self.outmaps, kernel,
                           pad, stride, with_bias=False)
        h = PF.batch_normalization(h, batch_stat=training)
        if self.act is None:
            return h
        return self.act(h)


class ResUnit(nn.Module):
    def __init__(self, channels, stride=1, skip_by_conv=True):
        self.conv1 = ConvBn(channels // 4, 1, 1,
                            act=lambda x: F.relu(x, inplace=True))
        self.conv2 = ConvBn(channels // 4, 3, stride,
                            act=lambda x: F.relu(x, inplace=True))
        self.conv3 = ConvBn(channels, 1)
        self.skip_by_conv = skip_by_conv
        self.skip = ConvBn(channels, 1, stride)

    def call(self, x, training=True):
        h = self.conv1(x)
        h = self.conv2(h)
        h = self.conv3(h)

        s = x
        if self.skip_by_conv:
            s = self.skip(s)
        h = F.relu(F.add2(h, s, inplace=True), inplace=True)
        return h


# ---------------------------------------------------------------- a network on digits
class DigitsResNet(nn.Module):
    """ConvBn stem (3x3, relu) -> ResUnit -> ResUnit(stride 2) -> affine(10) on the
    (channels, 4, 4) map; returns the mean softmax cross entropy when given labels, else
    the logits."""

    def __init__(self, channels):
        self.stem = ConvBn(channels, 3, act=F.relu)
        self.res1 = ResUnit(channels)
        self.res2 = ResUnit(channels, stride=2)

    def call(self, x, y=None):
        h = self.res2(self.res1(self.stem(x)))
        logits = PF.affine(h, 10)
        if y is None:
            return logits
        return F.mean(F.softmax_cross_entropy(logits, y))


class Batches:
    """An endless shuffled iterator over (images, labels) with ``next()``."""

    def __init__(self, X, y, batch_size, seed=0):
        self.X, self.y, self.bs = X, y, batch_size
        self.rng = np.random.RandomState(seed)
        self.order, self.pos = self.rng.permutation(len(X)), 0

    def next(self):
        if self.pos + self.bs > len(self.X):
            self.order, self.pos = self.rng.permutation(len(self.X)), 0
        idx = self.order[self.pos:self.pos + self.bs]
        self.pos += self.bs
        return self.X[idx], self.y[idx].reshape(-1, 1)


SOLVERS = {"sgd": lambda: S.Sgd(lr=0.1), "momentum": lambda: S.Momentum(lr=0.05),
           "adam": lambda: S.Adam(alpha=3e-3)}


def seed_examples():
    """The seed's snippets (shapes reduced to run in a moment on a CPU)."""
    res_unit = ResUnit(64)
    x = nn.Variable((8, 3, 16, 16))
    x.d = np.random.random(x.shape)
    y = res_unit(x)
    y.forward(clear_buffer=True)
    print("static ResUnit output", y.shape)

    with nn.auto_forward():
        x = nn.Variable.from_numpy_array(np.random.random((1, 3, 16, 16)))
        y = res_unit(x)
        print("dynamic ResUnit output", y.d.shape)

    x = nn.Variable.from_numpy_array((np.random.random((8, 32, 16, 16))))
    conv_bn = ConvBn(2)
    y = conv_bn(x)
    params = conv_bn.get_parameters()
    for parameter_name, parameter_value in params.items():
        print("{}:{}".format(parameter_name, parameter_value.shape))


def accuracy(net, X, y):
    logits = net(nn.Variable.from_numpy_array(X.reshape(-1, 1, 8, 8)))
    logits.forward(clear_buffer=True)
    return float((logits.d.argmax(1) == y).mean()), logits.d.copy()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--solver", choices=sorted(SOLVERS), default="momentum")
    p.add_argument("--skip-seed", action="store_true", help="skip the seed's snippets")
    args = p.parse_args(argv)
    if not args.skip_seed:
        seed_examples()

    X, Y = load_digits()
    perm = np.random.RandomState(42).permutation(len(X))
    X, Y = X[perm], Y[perm]
    n_train = 1400
    data = Batches(X[:n_train].reshape(-1, 1, 8, 8), Y[:n_train], args.batch_size)

    resnet = DigitsResNet(args.channels)
    x = nn.Variable((args.batch_size, 1, 8, 8))
    y_ = nn.Variable((args.batch_size, 1))
    loss = resnet(x, y_)

    solver = SOLVERS[args.solver]()
    solver.set_parameters(resnet.get_parameters(grad_only=True))
    for it in range(args.iters):
        x.d, y_.d = data.next()
        loss.forward()
        solver.zero_grad()
        loss.backward()
        solver.weight_decay(1e-5)
        solver.update()
        if (it + 1) % 100 == 0:
            print(f"iter {it + 1} loss {float(loss.d):.4f}")

    names = list(resnet.get_parameters())
    print(f"{len(names)} parameters, first {names[0]}, last {names[-1]}")
    acc, logits = accuracy(resnet, X[n_train:], Y[n_train:])
    print(f"test accuracy {acc:.4f}")

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "digits_resnet.h5")
        resnet.save_parameters(path)
        copy = DigitsResNet(args.channels)
        copy.load_parameters(path)
        acc2, logits2 = accuracy(copy, X[n_train:], Y[n_train:])
    same = np.allclose(logits, logits2, rtol=1e-5, atol=1e-5)
    print(f"reloaded from .h5: accuracy {acc2:.4f}, same predictions: {same}")
    return 0 if acc >= 0.95 and same else 1


if __name__ == "__main__":
    sys.exit(main())
