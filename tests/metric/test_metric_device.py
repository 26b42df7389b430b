"""Device-side accumulation: the hot metrics' update() reads no tensor value back,
the counters stay settable python attributes for subclasses, and no autograd graph is
kept alive."""
import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch import metric
from mxtorch.ndarray.ndarray import NDArray

HOT = [("acc", {}), ("top_k_accuracy", {"top_k": 2}), ("ce", {}), ("nll_loss", {}),
       ("perplexity", {"ignore_label": -1}), ("perplexity", {"ignore_label": None}),
       ("mse", {}), ("mae", {}), ("rmse", {}), ("loss", {}), ("f1", {"average": "macro"})]
HOT_NO_CHECK = [h for h in HOT if h[0] != "f1"]   # F1 reads the number of distinct labels


def _batch(seed, n=6, c=3):
    rs = np.random.RandomState(seed)
    pred = rs.uniform(0.05, 1, size=(n, c)).astype(np.float32)
    pred /= pred.sum(axis=1, keepdims=True)
    label = rs.randint(0, c, size=n).astype(np.float32)
    return label, pred


def _inputs(name, label, pred):
    """Adapt a classification batch to the metric: regression pairs for MSE/MAE/RMSE,
    an ignored position for Perplexity."""
    if name in ("mse", "mae", "rmse"):
        return pred[:, :1] + 0.5, pred[:, 1]   # (n,1) vs (n,)
    if name == "perplexity":
        label = label.copy()
        label[0] = -1
    return label, pred


@pytest.fixture
def no_host_reads(monkeypatch):
    """Make every way of reading a tensor's value on the host raise."""
    def forbid(name):
        def boom(self, *a, **k):
            raise AssertionError("host read of a tensor: torch.Tensor.%s" % name)
        return boom
    for name in ("item", "cpu", "numpy", "tolist", "__bool__", "__float__", "__int__",
                 "__index__"):
        monkeypatch.setattr(torch.Tensor, name, forbid(name))
    yield
    monkeypatch.undo()


@pytest.mark.parametrize("name,kwargs", HOT_NO_CHECK)
def test_hot_update_does_not_read_values(name, kwargs, no_host_reads):
    batches = [_batch(s) for s in range(3)]
    arrays = []
    with torch.no_grad():
        for label, pred in batches:
            label, pred = _inputs(name, label, pred)
            arrays.append((NDArray(torch.from_numpy(np.array(label))),
                           NDArray(torch.from_numpy(np.array(pred)))))
    m = metric.create(name, **kwargs)
    for label, pred in arrays:
        m.update([label], [pred])
        m.update([label, label], [pred, pred])   # two devices' worth in one call
    m.reset_local()
    m.update([arrays[0][0]], [arrays[0][1]])
    # reading the values is where the sync happens
    with pytest.raises(AssertionError, match="host read"):
        m.get()


@pytest.mark.parametrize("name,kwargs", HOT_NO_CHECK)
def test_ndarray_and_numpy_inputs_agree(name, kwargs):
    """The same batches given as NDArrays and as numpy arrays give the same value."""
    m_t = metric.create(name, **kwargs)
    m_n = metric.create(name, **kwargs)
    for s in range(3):
        label, pred = _inputs(name, *_batch(s))
        m_t.update([NDArray(torch.from_numpy(label))], [NDArray(torch.from_numpy(pred))])
        m_n.update([label], [pred])
    assert m_t.get() == m_n.get()
    assert not np.isnan(m_t.get()[1])


@pytest.mark.parametrize("name,kwargs", HOT)
def test_hot_update_runs_on_meta_device(name, kwargs):
    """On the meta device tensors hold no data: update() succeeding proves it never
    needs a value, and the running total stays a tensor on the predictions' device."""
    if name == "f1":
        pytest.skip("F1 checks the number of distinct labels on the host")
    n, c = 8, 4
    pred = NDArray(torch.empty((n, c), device="meta"))
    label = NDArray(torch.empty((n,), device="meta"))
    if name in ("mse", "mae", "rmse"):
        label = NDArray(torch.empty((n, c), device="meta"))
    m = metric.create(name, **kwargs)
    m.update([label], [pred])
    m.update([label], [pred])
    for key in ("_t_sum", "_t_gsum"):
        pending = m.__dict__[key].dev
        assert pending and {k[0] for k in pending} == {torch.device("meta")}
        assert all(t.device.type == "meta" for ts in pending.values() for t in ts)


def test_accuracy_item_and_cpu_are_not_called(monkeypatch):
    calls = []
    orig_item, orig_cpu = torch.Tensor.item, torch.Tensor.cpu
    monkeypatch.setattr(torch.Tensor, "item", lambda self: calls.append("item") or orig_item(self))
    monkeypatch.setattr(torch.Tensor, "cpu", lambda self, *a, **k: calls.append("cpu") or
                        orig_cpu(self, *a, **k))
    m = metric.Accuracy()
    label, pred = _batch(0)
    label, pred = mx.nd.array(label), mx.nd.array(pred)
    for _ in range(20):
        m.update([label], [pred])
    assert calls == []
    value = m.get()[1]
    assert 1 <= len(calls) <= 2    # sum and count read once each, at most
    want = (pred.asnumpy().argmax(axis=1) == label.asnumpy()).mean()
    assert value == want


def test_counters_are_settable_python_attributes():
    class Halves(metric.EvalMetric):
        """A third-party style metric written against MXNet's attributes."""
        def __init__(self):
            super().__init__("halves")

        def update(self, labels, preds):
            for label in labels:
                self.sum_metric += 0.5 * label.shape[0]
                self.num_inst += label.shape[0]

    m = Halves()
    m.update([mx.nd.zeros((4,))], [mx.nd.zeros((4,))])
    assert m.get() == ("halves", 0.5)
    assert m.num_inst == 4 and m.sum_metric == 2.0
    assert m.get_global() == m.get()          # no global stats: get_global is get
    m.reset()
    assert np.isnan(m.get()[1])

    acc = metric.Accuracy()
    acc.update([mx.nd.array([0, 1])], [mx.nd.array([[1, 0], [1, 0]])])
    acc.sum_metric += 1          # mixing python writes with device totals
    acc.num_inst += 2
    assert acc.get() == ("accuracy", 0.5)
    assert acc.global_num_inst == 2 and acc.global_sum_metric == 1


def test_subclass_reset_without_super():
    class Legacy(metric.EvalMetric):
        def __init__(self):
            super().__init__("legacy")

        def reset(self):
            self.num_inst = 0
            self.sum_metric = 0.0

        def update(self, labels, preds):
            self.sum_metric += float(len(labels))
            self.num_inst += 1

    m = Legacy()
    m.update([1, 2, 3], [1, 2, 3])
    assert m.get() == ("legacy", 3.0)
    assert m.global_num_inst == 0


def test_no_autograd_graph_is_kept():
    w = torch.ones(3, requires_grad=True)
    pred = NDArray(torch.softmax(torch.arange(12.).reshape(4, 3) * w, dim=1))
    label = mx.nd.array([0, 1, 2, 1])
    for name in ("ce", "loss", "mse"):
        m = metric.create(name)
        m.update([label if name != "mse" else pred], [pred])
        for pending in m.__dict__["_t_sum"].dev.values():
            assert not any(t.requires_grad for t in pending)


def test_deepcopy_keeps_running_totals():
    from copy import deepcopy
    m = metric.CrossEntropy()
    label, pred = _batch(1)
    m.update([mx.nd.array(label)], [mx.nd.array(pred)])
    m2 = deepcopy(m)
    m.update([mx.nd.array(label)], [mx.nd.array(pred)])
    assert m2.num_inst == 6 and m.num_inst == 12
    np.testing.assert_allclose(m.sum_metric, 2 * m2.sum_metric, rtol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name,kwargs", HOT_NO_CHECK)
def test_cuda_update_does_not_sync(name, kwargs):
    dev = torch.device("cuda")
    label, pred = _inputs(name, *_batch(3))
    lt, pt = torch.from_numpy(label).to(dev), torch.from_numpy(pred).to(dev)
    m = metric.create(name, **kwargs)
    ref = metric.create(name, **kwargs)
    ref.update([label], [pred])
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        m.update([NDArray(lt)], [NDArray(pt)])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    np.testing.assert_allclose(m.get()[1], ref.get()[1], rtol=1e-5)

