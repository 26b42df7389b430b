"""The issue's bar for BigDL: a BigDL-style LeNet (examples/bigdl_lenet.py) trains on the
8x8 digits with forward/backward/update_parameters alone to >= 95% validation accuracy;
``freeze`` keeps the named layers bit-identical through training; ``get_times``
reports per-module times whose sum is the wall-clock time of the calls within 10%."""
import importlib.util
import os
import time

import numpy as np
import torch

from mxtorch.nn.bigdl_criterion import ClassNLLCriterion
from mxtorch.nn.bigdl_validation import Loss, Top1Accuracy, Top5Accuracy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _example():
    spec = importlib.util.spec_from_file_location(
        "bigdl_lenet", os.path.join(ROOT, "examples", "bigdl_lenet.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_lenet_trains_with_forward_backward_update():
    ex = _example()
    Xtr, ytr, Xva, yva = ex.data(0)
    torch.manual_seed(0)
    model = ex.train_bigdl(ex.lenet(), Xtr, ytr + 1, epochs=15, batch_size=32, lr=0.2)
    results = model.evaluate((Xva, yva + 1), [Top1Accuracy(), Top5Accuracy(), Loss()])
    (top1, m1), (top5, m5), (loss, m3) = results
    assert [m.format() for m in (m1, m5, m3)] == ["Top1Accuracy", "Top5Accuracy", "Loss"]
    predicted = model.predict_class(Xva).numpy()
    assert top1.result() == ((predicted == yva + 1).mean(), len(yva))
    assert top1.result()[0] >= 0.95
    assert top5.result()[0] >= top1.result()[0]
    assert 0 < loss.result()[0] < 0.3
    assert not model.is_training()          # evaluate leaves eval mode, as BigDL


def test_freeze_keeps_named_layers_bit_identical():
    ex = _example()
    Xtr, ytr, _, _ = ex.data(0)
    torch.manual_seed(1)
    model = ex.lenet()
    model.freeze(["conv1", "fc2"])
    frozen = {n: [t.detach().clone() for t in (model.get_parameters_table()[n]["weight"],
                                                model.get_parameters_table()[n]["bias"])]
              for n in ("conv1", "fc2")}
    before_conv2 = model.get_parameters_table()["conv2"]["weight"].detach().clone()
    ex.train_bigdl(model, Xtr[:320], ytr[:320] + 1, epochs=2, batch_size=32, lr=0.2)
    table = model.get_parameters_table()
    for name, (w, b) in frozen.items():
        assert torch.equal(table[name]["weight"], w) and torch.equal(table[name]["bias"], b)
        assert float(table[name]["gradWeight"].abs().sum()) == 0
    assert not torch.equal(table["conv2"]["weight"], before_conv2)
    model.unfreeze(["conv1"])
    ex.train_bigdl(model, Xtr[:64], ytr[:64] + 1, epochs=1, batch_size=32, lr=0.2)
    assert not torch.equal(model.get_parameters_table()["conv1"]["weight"], frozen["conv1"][0])
    assert torch.equal(model.get_parameters_table()["fc2"]["weight"], frozen["fc2"][0])


def test_get_times_sum_to_wall_clock():
    ex = _example()
    Xtr, ytr, _, _ = ex.data(0)
    torch.manual_seed(2)
    model = ex.lenet()
    criterion = ClassNLLCriterion()
    x, y = Xtr[:64], ytr[:64] + 1
    model.forward(x)                          # warm-up, then count from zero
    model.reset_times()
    fwd_wall = bwd_wall = 0
    for _ in range(20):
        t0 = time.perf_counter_ns()
        out = model.forward(x)
        fwd_wall += time.perf_counter_ns() - t0
        criterion.forward(out, y)
        grad = criterion.backward(out, y)
        t0 = time.perf_counter_ns()
        model.backward(x, grad)
        bwd_wall += time.perf_counter_ns() - t0
    times = model.get_times()
    assert len(times) == len(model.layers) + 1
    layer_times = times[:-1]
    assert all(f > 0 and b > 0 for _, f, b in layer_times)
    fwd = sum(f for _, f, _ in times)
    bwd = sum(b for _, _, b in times)
    assert abs(fwd - fwd_wall) <= 0.1 * fwd_wall
    assert abs(bwd - bwd_wall) <= 0.1 * bwd_wall
    # the layers themselves account for most of it: the container's overhead is small
    assert sum(f + b for _, f, b in layer_times) >= 0.5 * (fwd + bwd)
    assert np.isclose(sum(f for _, f, _ in model.get_times_group_by_module_type()), fwd)
