"""mx.mon.Monitor: MXNet's test_monitor (21 entries) with the names, order and statistics
of MXNet 1.9.1 (fixture from tools/gen_module_fixtures.py), interval, pattern, formats."""
import importlib.util
import json
import logging
import os

import numpy as np
import pytest

import mxtorch as mx
from mxtorch import monitor as mon
from mxtorch.base import MXNetValueError, MXNetTypeError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "module")
spec = importlib.util.spec_from_file_location("gen_module", os.path.join(
    ROOT, "tools", "gen_module_fixtures.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)

# MXNet reports arrays it never wrote for gradients nobody needs (the label's, and the
# data's without inputs_need_grad): their values are undefined there, zeros here
_UNDEFINED = {"softmax_backward_output1", "fc_0_backward_output0"}


def _fixture():
    with open(os.path.join(FIX, "monitor.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("sort", [False, True])
def test_monitor_matches_mxnet(sort):
    ref = _fixture()["sorted" if sort else "unsorted"]
    res = gen.run_monitor(mx, mon, sort)
    assert len(res) == 21
    assert [k for _, k, _ in res] == [k for _, k, _ in ref]
    for (n, k, v), (rn, rk, rv) in zip(res, ref):
        assert n == rn == 1
        assert v.endswith("\t")
        if k in _UNDEFINED:
            assert float(v) == 0.0
        else:
            np.testing.assert_allclose(float(v), float(rv), rtol=1e-5, err_msg=k)


def test_monitor_prefix_counts():
    """MXNet's own assertion in test_monitor."""
    res = gen.run_monitor(mx, mon, True)
    keys = ["act_0", "act_1", "data", "fc_0", "fc_1", "softmax"]
    counts = [0] * 6
    for _, k, _ in res:
        for i, key in enumerate(keys):
            if k.startswith(key):
                counts[i] += 1
                break
    assert counts == [2, 2, 1, 6, 6, 4]


def _fc_module(ctx=None):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, name="fc", num_hidden=3)
    net = mx.sym.LinearRegressionOutput(net, name="lro")
    mod = mx.mod.Module(net, label_names=["lro_label"], context=ctx or mx.cpu())
    mod.bind(data_shapes=[("data", (4, 2))], label_shapes=[("lro_label", (4, 3))])
    mod.init_params(initializer=mx.init.One())
    batch = mx.io.DataBatch(data=[mx.nd.ones((4, 2))], label=[mx.nd.zeros((4, 3))])
    return mod, batch


def test_interval_pattern_and_default_stat():
    mod, batch = _fc_module()
    m = mon.Monitor(2, pattern="fc_.*")
    mod.install_monitor(m)
    got = []
    for _ in range(4):
        m.tic()
        mod.forward_backward(batch)
        got.append(m.toc())
    assert [len(r) for r in got] == [6, 0, 6, 0]  # every 2nd batch
    assert [r[0][0] for r in got if r] == [1, 3]
    names = [k for _, k, _ in got[0]]
    assert names == ["fc_output", "fc_backward_output0", "fc_backward_output1",
                     "fc_backward_output2", "fc_weight", "fc_bias"]
    stats = {k: float(v) for _, k, v in got[0]}
    # default stat: norm(x)/sqrt(size); One() gives weights 1 and (as for any bias) a zero
    # bias, so every output is 2; LinearRegressionOutput's gradient is (out - label) / 3
    # (MXNet divides by the outputs per sample), summed over 4 rows for the bias
    assert stats["fc_weight"] == pytest.approx(1.0)
    assert stats["fc_bias"] == 0.0
    assert stats["fc_output"] == pytest.approx(2.0)
    assert stats["fc_backward_output2"] == pytest.approx(8.0 / 3)
    # the data gradient (no inputs_need_grad) is reported as zeros
    assert stats["fc_backward_output0"] == 0.0


def test_toc_print_format_and_list_stats(caplog):
    mod, batch = _fc_module()
    m = mon.Monitor(1, stat_func=lambda x: [x.mean().reshape((1,)), x.max().reshape((1, 1))],
                    pattern="fc_weight")
    mod.install_monitor(m)
    m.tic()
    mod.forward_backward(batch)
    with caplog.at_level(logging.INFO):
        m.toc_print()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["Batch: {:7d} {:30s} {:s}".format(1, "fc_weight", "1.0\t[[1.]]\t")]


def test_toc_without_tic_is_empty_and_inference_has_no_backward():
    mod, batch = _fc_module()
    m = mon.Monitor(1, pattern=".*backward.*|fc_output")
    mod.install_monitor(m)
    assert m.toc() == []
    m.tic()
    mod.forward(batch, is_train=False)
    assert [k for _, k, _ in m.toc()] == ["fc_output"]


def test_monitor_on_two_devices_reports_each_executor():
    mod, batch = _fc_module([mx.cpu(0), mx.cpu(1)])
    m = mon.Monitor(1, pattern="fc_output|fc_weight")
    mod.install_monitor(m)
    m.tic()
    mod.forward_backward(batch)
    assert [k for _, k, _ in m.toc()] == ["fc_output", "fc_output", "fc_weight", "fc_weight"]


def test_monitor_errors():
    with pytest.raises(MXNetValueError, match="interval"):
        mon.Monitor(0)
    with pytest.raises(MXNetValueError, match="regular expression"):
        mon.Monitor(1, pattern="(")
    with pytest.raises(MXNetTypeError, match="callable"):
        mon.Monitor(1, stat_func=3)
    mod, batch = _fc_module()
    m = mon.Monitor(1, stat_func=lambda x: 1.0)
    mod.install_monitor(m)
    m.tic()
    mod.forward_backward(batch)
    with pytest.raises(MXNetTypeError, match="stat_func"):
        m.toc()
