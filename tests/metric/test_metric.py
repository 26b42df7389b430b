"""MXNet 1.9.1's test_metric.py facts, with expected values computed by numpy.

The file uses only the public mx.metric API, so it also runs under real MXNet (swap
the two imports) as a check that the expectations are MXNet's: everything passes there
except the lines marked "mxtorch:" (deliberate differences, listed in those comments).
"""
import json
from copy import deepcopy

import numpy as np
import pytest

import mxtorch as mx
from mxtorch import metric


def check_metric(m, *args, **kwargs):
    m = metric.create(m, *args, **kwargs)
    m2 = metric.create(json.dumps(m.get_config()))
    assert m.get_config() == m2.get_config()
    return m2


def test_metrics_config_round_trip():
    assert check_metric("acc", axis=0).axis == 0
    check_metric("f1")
    check_metric("mcc")
    assert check_metric("perplexity", -1).ignore_label == -1
    check_metric("pearsonr")
    check_metric("pcc")
    check_metric("nll_loss")
    check_metric("loss")
    comp = check_metric(metric.create(["acc", "f1"]))
    assert [type(c).__name__ for c in comp.metrics] == ["Accuracy", "F1"]


def test_average_survives_round_trip():
    # mxtorch: get_config keeps 'average' (MXNet drops it, re-creating a 'macro' metric)
    for name in ("f1", "mcc", "pearsonr"):
        m = metric.create(name, average="micro")
        assert metric.create(json.dumps(m.get_config())).get_config()["average"] == "micro"


def _rand(shape, seed):
    return np.random.RandomState(seed).uniform(size=shape).astype(np.float32)


def _check_global_metric(m, *args, **kwargs):
    shape = kwargs.pop("shape", (10, 10))
    use_same_shape = kwargs.pop("use_same_shape", False)
    m1 = metric.create(m, *args, **kwargs)
    m2 = deepcopy(m1)
    rs = np.random.RandomState(7)
    for _ in range(10):
        pred = mx.nd.array(rs.uniform(size=shape).astype(np.float32))
        if use_same_shape:
            label = mx.nd.array(rs.uniform(size=shape).astype(np.float32))
        else:
            label = mx.nd.array(rs.randint(0, shape[1], size=shape[0]).astype(np.float32))
        m1.update([label], [pred])
        m1.reset_local()
        m2.update([label], [pred])
    assert m1.get_global() == m2.get()
    assert m1.get_global_name_value() == m2.get_name_value()
    assert m2.get_global() == m2.get()


def test_global_metric():
    def custom_metric(label, pred):
        return np.mean(np.abs(label - pred.argmax(axis=1)))
    _check_global_metric("acc")
    _check_global_metric("TopKAccuracy", top_k=3)
    _check_global_metric("f1", shape=(10, 2))
    _check_global_metric("f1", shape=(10, 2), average="micro")
    _check_global_metric("mcc", shape=(10, 2))
    _check_global_metric("mcc", shape=(10, 2), average="micro")
    _check_global_metric("perplexity", -1)
    _check_global_metric("pearsonr", use_same_shape=True)
    # mxtorch: micro Pearson fills its global statistics (MXNet's get_global gives 0.0)
    _check_global_metric("pearsonr", use_same_shape=True, average="micro")
    _check_global_metric("pcc", shape=(10, 2))
    _check_global_metric("nll_loss")
    _check_global_metric("loss")
    _check_global_metric("ce")
    _check_global_metric("mae", use_same_shape=True)
    _check_global_metric("mse", use_same_shape=True)
    _check_global_metric("rmse", use_same_shape=True)
    _check_global_metric(custom_metric)
    _check_global_metric(metric.np(custom_metric))
    _check_global_metric(["acc", "f1"], shape=(10, 2))


def test_nll_loss():
    m = metric.create("nll_loss")
    pred = mx.nd.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    label = mx.nd.array([2, 1])
    m.update([label], [pred])
    _, loss = m.get()
    p = pred.asnumpy()
    expected_loss = -(np.log(p[0][2]) + np.log(p[1][1])) / 2
    assert loss == expected_loss


def test_acc():
    pred = mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])
    label = mx.nd.array([0, 1, 1])
    m = metric.create("acc")
    m.update([label], [pred])
    _, acc = m.get()
    expected = (np.argmax(pred.asnumpy(), axis=1) == label.asnumpy()).sum() / label.size
    assert acc == expected == 2.0 / 3
    assert m.get() == ("accuracy", acc) and m.num_inst == 3 and m.sum_metric == 2


def test_acc_2d_label():
    pred = mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6], [0.8, 0.2], [0.3, 0.5], [0.6, 0.4]])
    label = mx.nd.array([[0, 1, 1], [1, 0, 1]])
    m = metric.create("acc")
    m.update([label], [pred])
    _, acc = m.get()
    expected = (np.argmax(pred.asnumpy(), axis=1) == label.asnumpy().ravel()).sum() / \
        float(label.asnumpy().ravel().size)
    assert acc == expected


def test_acc_length_mismatch_raises():
    m = metric.Accuracy()
    with pytest.raises(ValueError, match="Shape of labels"):
        m.update([mx.nd.array([0, 1])], [mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])])
    with pytest.raises(ValueError, match="Shape of labels"):
        m.update([mx.nd.array([0, 1])], [])


def test_loss_update():
    pred = mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])
    metric1 = metric.create("loss")
    metric2 = metric.create("loss")
    metric1.update(None, [pred])
    metric2.update(None, pred)
    _, acc1 = metric1.get()
    _, acc2 = metric2.get()
    assert acc1 == acc2
    np.testing.assert_allclose(acc1, pred.asnumpy().mean(), rtol=1e-6)


def _f1_batches():
    return ((mx.nd.array([1, 0]), mx.nd.array([[0.1, 0.9], [0.5, 0.5]])),
            (mx.nd.array([1, 0]), mx.nd.array([[0.85, 0.15], [1.0, 0.0]])),
            (mx.nd.array([0]), mx.nd.array([[0.6, 0.4]])),
            (mx.nd.array([1]), mx.nd.array([[0.2, 0.8]])))


def test_f1():
    micro = metric.create("f1", average="micro")
    macro = metric.F1(average="macro")
    assert np.isnan(macro.get()[1]) and np.isnan(micro.get()[1])
    # divide by zero gives 0
    pred = mx.nd.array([[0.9, 0.1], [0.8, 0.2]])
    label = mx.nd.array([0, 0])
    macro.update([label], [pred])
    micro.update([label], [pred])
    assert macro.get()[1] == 0.0 and micro.get()[1] == 0.0
    macro.reset()
    micro.reset()
    (l11, p11), (l12, p12), (l21, p21), (l22, p22) = _f1_batches()
    micro.update([l11, l12], [p11, p12])
    macro.update([l11, l12], [p11, p12])
    assert micro.num_inst == 4
    assert macro.num_inst == 1
    fscore1 = 2. * 1 / (2 * 1 + 1 + 0)
    np.testing.assert_almost_equal(micro.get()[1], fscore1)
    np.testing.assert_almost_equal(macro.get()[1], fscore1)
    micro.update([l21, l22], [p21, p22])
    macro.update([l21, l22], [p21, p22])
    assert micro.num_inst == 6
    assert macro.num_inst == 2
    fscore2 = 2. * 1 / (2 * 1 + 0 + 0)
    fscore_total = 2. * (1 + 1) / (2 * (1 + 1) + (1 + 0) + (0 + 0))
    np.testing.assert_almost_equal(micro.get()[1], fscore_total)
    np.testing.assert_almost_equal(macro.get()[1], (fscore1 + fscore2) / 2.)


def test_f1_rejects_multiclass():
    with pytest.raises(ValueError, match="binary"):
        metric.F1().update([mx.nd.array([0, 1, 2])], [mx.nd.array(np.eye(3, 2))])


def _mcc(tp, fp, fn, tn):
    terms = [t for t in ((tp + fp), (tp + fn), (tn + fp), (tn + fn)) if t]
    return (tp * tn - fp * fn) / np.sqrt(np.prod(terms))


def test_mcc():
    micro = metric.create("mcc", average="micro")
    macro = metric.MCC(average="macro")
    assert np.isnan(macro.get()[1]) and np.isnan(micro.get()[1])
    pred = mx.nd.array([[0.9, 0.1], [0.8, 0.2]])
    label = mx.nd.array([0, 0])
    macro.update([label], [pred])
    micro.update([label], [pred])
    assert macro.get()[1] == 0.0 and micro.get()[1] == 0.0
    macro.reset()
    micro.reset()
    (l11, p11), (l12, p12), (l21, p21), (l22, p22) = _f1_batches()
    micro.update([l11, l12], [p11, p12])
    macro.update([l11, l12], [p11, p12])
    assert micro.num_inst == 4 and macro.num_inst == 1
    mcc1 = _mcc(tp=1, fp=0, fn=1, tn=2)
    np.testing.assert_almost_equal(micro.get()[1], mcc1)
    np.testing.assert_almost_equal(macro.get()[1], mcc1)
    micro.update([l21, l22], [p21, p22])
    macro.update([l21, l22], [p21, p22])
    assert micro.num_inst == 6 and macro.num_inst == 2
    mcc2 = _mcc(tp=1, fp=0, fn=0, tn=1)
    np.testing.assert_almost_equal(micro.get()[1], _mcc(tp=2, fp=0, fn=1, tn=3))
    np.testing.assert_almost_equal(macro.get()[1], (mcc1 + mcc2) / 2.)


def test_perplexity():
    pred = mx.nd.array([[0.8, 0.2], [0.2, 0.8], [0, 1.]])
    label = mx.nd.array([0, 1, 1])
    p = pred.asnumpy()[np.arange(label.size), label.asnumpy().astype("int32")]
    expected = np.exp(-np.log(p).sum() / label.size)
    m = metric.create("perplexity", -1)
    m.update([label], [pred])
    _, perplexity = m.get()
    assert perplexity == expected


def test_perplexity_ignore_label():
    pred = mx.nd.array([[0.8, 0.2], [0.2, 0.8], [0.5, 0.5], [0.3, 0.7]])
    label = mx.nd.array([0, 1, -1, 1])
    m = metric.Perplexity(ignore_label=-1)
    m.update([label], [pred])
    assert m.num_inst == 3
    np.testing.assert_allclose(m.get()[1], np.exp(-(2 * np.log(0.8) + np.log(0.7)) / 3),
                               rtol=1e-6)


def test_pearsonr():
    pred1 = mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])
    label1 = mx.nd.array([[1, 0], [0, 1], [0, 1]])
    expected1 = np.corrcoef(pred1.asnumpy().ravel(), label1.asnumpy().ravel())[0, 1]
    macro = metric.create("pearsonr", average="macro")
    micro = metric.create("pearsonr", average="micro")
    assert np.isnan(macro.get()[1]) and np.isnan(micro.get()[1])
    macro.update([label1], [pred1])
    micro.update([label1], [pred1])
    np.testing.assert_almost_equal(macro.get()[1], expected1)
    np.testing.assert_almost_equal(micro.get()[1], expected1)
    pred2 = mx.nd.array([[1, 2], [3, 2], [4, 6]])
    label2 = mx.nd.array([[1, 0], [0, 1], [0, 1]])
    pred12 = np.concatenate([pred1.asnumpy(), pred2.asnumpy()])
    label12 = np.concatenate([label1.asnumpy(), label2.asnumpy()])
    expected12 = np.corrcoef(pred12.ravel(), label12.ravel())[0, 1]
    macro.reset()
    micro.update([label2], [pred2])
    macro.update([mx.nd.array(label12)], [mx.nd.array(pred12)])
    np.testing.assert_almost_equal(macro.get()[1], expected12)
    np.testing.assert_almost_equal(micro.get()[1], expected12)


def cm_batch(cm):
    n = len(cm)
    ident = np.identity(n)
    labels, preds = [], []
    for i in range(n):
        for j in range(n):
            labels += [i] * cm[i][j]
            preds += [ident[j]] * cm[i][j]
    return ([mx.nd.array(labels, dtype="int32")], [mx.nd.array(preds)])


def test_pcc():
    labels, preds = cm_batch([[7, 3], [2, 5]])
    met_pcc = metric.create("pcc")
    met_pcc.update(labels, preds)
    _, pcc = met_pcc.get()
    met_mcc = metric.create("mcc")
    met_mcc.update(labels, preds)
    np.testing.assert_almost_equal(pcc, met_mcc.get()[1])
    met_pear = metric.create("pearsonr")
    met_pear.update(labels, [mx.nd.array(p.asnumpy().argmax(axis=1)) for p in preds])
    np.testing.assert_almost_equal(pcc, met_pear.get()[1])
    met_pcc.reset()
    met_pcc.update(labels, [mx.nd.array(p.asnumpy().argmax(axis=1)) for p in preds])
    np.testing.assert_almost_equal(pcc, met_pcc.get()[1])

    cm = [[23, 13, 3], [7, 19, 11], [2, 5, 17]]
    k = 3
    ref = sum(cm[a][a] * cm[b][c] - cm[a][b] * cm[c][a]
              for a in range(k) for b in range(k) for c in range(k)) / (
        sum(sum(cm[a][b] for b in range(k)) *
            sum(sum(cm[f][g] for g in range(k)) for f in range(k) if f != a)
            for a in range(k)) *
        sum(sum(cm[b][a] for b in range(k)) *
            sum(sum(cm[f][g] for f in range(k)) for g in range(k) if g != a)
            for a in range(k))) ** 0.5
    labels, preds = cm_batch(cm)
    met_pcc.reset()
    met_pcc.update(labels, preds)
    _, pcc = met_pcc.get()
    np.testing.assert_almost_equal(pcc, ref)
    # order, batch size and update frequency do not change the score
    lab = labels[0].asnumpy()
    prd = preds[0].asnumpy()
    met_pcc.reset()
    for i in reversed(range(len(lab))):
        met_pcc.update([mx.nd.array(lab[i:i + 1], dtype="int32")], [mx.nd.array(prd[i:i + 1])])
    assert pcc == met_pcc.get()[1]
    assert met_pcc.num_inst == len(lab)


def test_single_array_input():
    pred = mx.nd.array([[1, 2, 3, 4]])
    label = pred + 0.1
    for name, want in (("mse", 0.01), ("mae", 0.1), ("rmse", 0.1)):
        m = metric.create(name)
        m.update(label, pred)
        np.testing.assert_almost_equal(m.get()[1], want)


def test_regression_counts_one_per_pair():
    """MSE averages per-pair means: two pairs of different sizes weigh the same."""
    l1, p1 = np.zeros((4, 1), np.float32), np.ones((4, 1), np.float32)
    l2, p2 = np.zeros((1, 1), np.float32), np.full((1, 1), 3, np.float32)
    m = metric.MSE()
    m.update([mx.nd.array(l1), mx.nd.array(l2)], [mx.nd.array(p1), mx.nd.array(p2)])
    assert m.num_inst == 2
    np.testing.assert_allclose(m.get()[1], (1.0 + 9.0) / 2)


def test_top_k():
    rs = np.random.RandomState(999)
    label = np.array([2, 6, 9, 2, 3, 4, 7, 8, 9, 6], np.float32)
    pred = rs.rand(10, 10).astype(np.float32)
    m = metric.TopKAccuracy(top_k=3)
    m.update([mx.nd.array(label)], [mx.nd.array(pred)])
    top3 = np.argsort(-pred, axis=1)[:, :3]
    expected = np.mean([label[i] in top3[i] for i in range(10)])
    assert m.get() == ("top_k_accuracy_3", expected)
    with pytest.raises(ValueError):   # mxtorch: ValueError (MXNet asserts)
        metric.TopKAccuracy(top_k=1)


def test_cross_entropy():
    pred = np.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]], np.float32)
    label = np.array([0, 1, 1], np.float32)
    m = metric.create("ce")
    m.update([mx.nd.array(label)], [mx.nd.array(pred)])
    expected = -np.log(pred[np.arange(3), label.astype(np.int64)] + np.float32(1e-12)).sum() / 3
    np.testing.assert_allclose(m.get()[1], expected, rtol=1e-6)
    assert m.get()[0] == "cross-entropy"


def test_custom_metric_and_np():
    pred = mx.nd.array(np.array([3, -0.5, 2, 7]).reshape(4, 1))
    label = mx.nd.array(np.array([2.5, 0.0, 2, 8]).reshape(4, 1))
    m = metric.CustomMetric(feval=lambda x, y: (x + y).mean())
    m.update([label], [pred])
    assert m.get() == ("custom(<lambda>)", 6.0)
    with pytest.raises(NotImplementedError):
        m.get_config()

    def my_mae(label, pred):
        return np.abs(label - pred).mean()
    m2 = metric.np(my_mae)
    assert m2.name == "my_mae"
    m2.update([label, label], [pred, pred])
    assert m2.num_inst == 2
    np.testing.assert_allclose(m2.get()[1], 0.5)
    m3 = metric.CustomMetric(my_mae, allow_extra_outputs=True)
    m3.update([label], [pred, pred])     # the extra output is ignored
    assert m3.num_inst == 1


def test_create_forms():
    assert isinstance(metric.create("ACC"), metric.Accuracy)
    assert isinstance(metric.create("Accuracy"), metric.Accuracy)
    acc = metric.Accuracy()
    assert metric.create(acc) is acc
    assert metric.create('["acc", {"axis": 0}]').axis == 0
    assert metric.create('{"metric": "perplexity", "ignore_label": 3}').ignore_label == 3
    assert metric.create({"metric": "top_k_acc", "top_k": 4}).name == "top_k_accuracy_4"
    comp = metric.create(["acc", "ce", metric.MSE()])
    assert isinstance(comp, metric.CompositeEvalMetric)
    assert comp.get()[0] == ["accuracy", "cross-entropy", "mse"]
    assert isinstance(metric.create("nll_loss"), metric.NegativeLogLikelihood)
    assert isinstance(metric.create("composite"), metric.CompositeEvalMetric)
    assert metric.create("torch").name == "torch" and metric.create("caffe").name == "caffe"
    # mxtorch: ValueError (MXNet asserts)
    with pytest.raises(ValueError, match="not a registered metric"):
        metric.create("no_such_metric")


def test_register_alias():
    @metric.register
    @metric.alias("half_acc")
    class HalfAccuracy(metric.Accuracy):
        def get(self):
            name, value = super().get()
            return name, value / 2
    m = metric.create("HALF_ACC")
    assert isinstance(m, HalfAccuracy)
    m.update([mx.nd.array([0, 1])], [mx.nd.array([[1, 0], [0, 1]])])
    assert m.get()[1] == 0.5


def test_composite():
    comp = metric.CompositeEvalMetric()
    comp.add(metric.Accuracy())
    comp.add("f1")
    pred = [mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])]
    label = [mx.nd.array([0, 1, 1])]
    comp.update(label, pred)
    names, values = comp.get()
    assert names == ["accuracy", "f1"]
    np.testing.assert_allclose(values, [2.0 / 3, 0.8])
    assert comp.get_metric(1).name == "f1"
    with pytest.raises(ValueError):   # mxtorch: MXNet returns the error instead of raising
        comp.get_metric(5)
    assert str(comp) == "EvalMetric: {}".format(dict(zip(names, values)))
    comp.reset_local()
    assert all(np.isnan(v) for v in comp.get()[1])
    np.testing.assert_allclose(comp.get_global()[1], [2.0 / 3, 0.8])


def test_update_dict_selects_by_name():
    from collections import OrderedDict
    good = mx.nd.array([[0, 1], [1, 0]])
    bad = mx.nd.array([[1, 0], [0, 1]])
    label = OrderedDict([("softmax_label", mx.nd.array([1, 0]))])
    preds = OrderedDict([("other_output", bad), ("softmax_output", good)])
    m = metric.Accuracy(output_names=["softmax_output"])
    m.update_dict(label, preds)
    assert m.get()[1] == 1.0
    comp = metric.CompositeEvalMetric(output_names=["softmax_output"])
    comp.add("acc")
    comp.update_dict(label, preds)
    assert comp.get()[1] == [1.0]


def test_empty_metric_is_nan():
    for name in ("acc", "ce", "mse", "loss", "f1", "mcc", "pcc", "pearsonr"):
        m = metric.create(name)
        assert np.isnan(m.get()[1]) and np.isnan(m.get_global()[1])
    assert np.isnan(metric.Perplexity(-1).get()[1])


def test_update_dict_missing_name_is_a_key_error():
    m = metric.Accuracy(output_names=["softmax_output"])
    with pytest.raises(KeyError, match="softmax_output"):
        m.update_dict({"softmax_label": mx.nd.array([0])}, {"fc_output": mx.nd.array([[1, 0]])})
