"""End to end: examples/nnabla_resunit.py (the seed's modules, listing and solver loop)
learns the digits to >= 95% and its .h5 round trip predicts identically; an MLP trained
with Adam through the same loop also reaches 95%."""
import importlib.util
import os

import numpy as np

import mxtorch.nn as nn
import mxtorch.nn.functions as F
import mxtorch.nn.parametric_functions as PF
import mxtorch.nn.solvers as S
from mxtorch.datasets import load_digits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _example():
    spec = importlib.util.spec_from_file_location(
        "nnabla_resunit", os.path.join(ROOT, "examples", "nnabla_resunit.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_trains_digits(capsys):
    rc = _example().main(["--iters", "300", "--channels", "16"])
    out = capsys.readouterr().out
    assert "conv/W:(2, 32, 1, 1)\nbn/beta:(1, 2, 1, 1)\nbn/gamma:(1, 2, 1, 1)\n" \
           "bn/mean:(1, 2, 1, 1)\nbn/var:(1, 2, 1, 1)" in out
    assert "first @stem/conv/W, last affine/b" in out
    assert "same predictions: True" in out
    assert rc == 0, out


class MLP(nn.Module):
    def call(self, x, y):
        h = F.relu(PF.affine(x, 64, name="fc1"))
        h = F.dropout(PF.batch_normalization(h), 0.1)
        logits = PF.affine(h, 10, name="fc2")
        return logits, F.mean(F.softmax_cross_entropy(logits, y))


def test_mlp_with_adam_and_eval_mode():
    X, Y = load_digits()
    rng = np.random.RandomState(0)
    perm = rng.permutation(len(X))
    X, Y = X[perm], Y[perm]
    net = MLP()
    x, y_ = nn.Variable((64, 64)), nn.Variable((64, 1))
    _, loss = net(x, y_)
    solver = S.Adam(alpha=1e-2)
    solver.set_parameters(net.get_parameters(grad_only=True))
    assert list(solver.get_parameters()) == ["fc1/affine/W", "fc1/affine/b", "bn/beta",
                                             "bn/gamma", "fc2/affine/W", "fc2/affine/b"]
    for _ in range(300):
        b = rng.randint(0, 1400, 64)
        x.d, y_.d = X[b], Y[b].reshape(-1, 1)
        loss.forward()
        solver.zero_grad()
        loss.backward()
        solver.update()
    net.training = False                      # running statistics, no dropout
    logits, _ = net(nn.Variable.from_numpy_array(X[1400:]),
                    nn.Variable.from_numpy_array(Y[1400:].reshape(-1, 1)))
    logits.forward()
    assert (logits.d.argmax(1) == Y[1400:]).mean() >= 0.95
