"""BucketingModule: buckets share parameters, gradients and the optimizer (MXNet 1.9.1
tests 11 and 20 of test_module.py, and a trained variable-length model)."""
import numpy as np
import pytest

import mxtorch as mx


def _gen_mean_model(num_classes=3, vocab=20):
    def sym_gen(seq_len):
        data = mx.sym.Variable("data")
        label = mx.sym.Variable("softmax_label")
        embed = mx.sym.Embedding(data, input_dim=vocab, output_dim=8, name="embed")
        pooled = mx.sym.mean(embed, axis=1)
        fc = mx.sym.FullyConnected(pooled, num_hidden=num_classes, name="fc")
        return mx.sym.SoftmaxOutput(fc, label, name="softmax"), ("data",), ("softmax_label",)
    return sym_gen


class _BucketIter(mx.io.DataIter):
    """Batches of token sequences whose class is the most frequent token class."""

    def __init__(self, buckets, batch_size, num_batches, seed=0):
        super().__init__(batch_size)
        rng = np.random.RandomState(seed)
        self.batches = []
        for i in range(num_batches):
            key = buckets[i % len(buckets)]
            x = rng.randint(0, 20, (batch_size, key))
            y = (x % 3 == 0).sum(1) > key / 3
            self.batches.append((key, x.astype(np.float32), y.astype(np.float32)))
        self.default_bucket_key = max(buckets)
        self.provide_data = [mx.io.DataDesc("data", (batch_size, self.default_bucket_key))]
        self.provide_label = [mx.io.DataDesc("softmax_label", (batch_size,))]
        self.cur = 0

    def reset(self):
        self.cur = 0

    def __next__(self):
        if self.cur == len(self.batches):
            raise StopIteration
        key, x, y = self.batches[self.cur]
        self.cur += 1
        return mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)], pad=0, bucket_key=key,
                               provide_data=[mx.io.DataDesc("data", x.shape)],
                               provide_label=[mx.io.DataDesc("softmax_label", y.shape)])


def test_bucketing_trains_and_shares_parameters(tmp_path):
    train = _BucketIter([5, 10, 20], 16, 30)
    mod = mx.mod.BucketingModule(_gen_mean_model(), default_bucket_key=20)
    mod.fit(train, num_epoch=6, optimizer="adam", optimizer_params={"learning_rate": 0.05},
            initializer=mx.init.Xavier())
    assert sorted(mod._buckets) == [5, 10, 20]
    arrays = [m._exec_group.execs[0].arg_dict["fc_weight"] for m in mod._buckets.values()]
    assert all(mx.test_utils.same_array(arrays[0], a) for a in arrays[1:])
    acc = dict(mod.score(train, "acc"))["accuracy"]
    assert acc > 0.8
    prefix = str(tmp_path / "bk")
    mod.save_checkpoint(prefix, 3)
    mod2 = mx.mod.BucketingModule.load(prefix, 3, sym_gen=_gen_mean_model(),
                                       default_bucket_key=20)
    mod2.bind(train.provide_data, train.provide_label, for_training=False)
    assert dict(mod2.score(train, "acc"))["accuracy"] == pytest.approx(acc)
    for k, v in mod.get_params()[0].items():
        np.testing.assert_array_equal(mod2.get_params()[0][k].asnumpy(), v.asnumpy())


def test_bucket_grad_req_add_shares_gradients():
    """MXNet test 20: with 'add', the other bucket's backward accumulates into the same
    gradient array."""
    batch_size = 2

    def sym_gen(key):
        data = mx.sym.Variable("data")
        a = mx.sym.Variable("a", shape=(1,), init=mx.init.One())
        return mx.sym.make_loss(mx.sym.broadcast_mul(data, a)), ("data",), None

    for req, second in (("write", batch_size), ("add", 2 * batch_size)):
        mod = mx.mod.BucketingModule(sym_gen=sym_gen, default_bucket_key=10)
        mod.bind(data_shapes=[["data", (batch_size,)]], for_training=True, grad_req=req)
        mod.init_params()
        mod.forward_backward(mx.io.DataBatch(data=[mx.nd.ones((batch_size,))], label=None,
                                             provide_data=[mx.io.DataDesc("data",
                                                                          (batch_size,))],
                                             bucket_key=10))
        grad = mod._curr_module._exec_group.execs[0].grad_dict["a"].asscalar()
        assert grad == batch_size
        mod.forward_backward(mx.io.DataBatch(data=[mx.nd.ones((batch_size,))], label=None,
                                             provide_data=[mx.io.DataDesc("data",
                                                                          (batch_size,))],
                                             bucket_key=5))
        assert mod._curr_module._exec_group.execs[0].grad_dict["a"].asscalar() == second
        assert mod._curr_module._grad_req == req


def test_bucketing_errors():
    with pytest.raises(ValueError, match="default_bucket_key"):
        mx.mod.BucketingModule(_gen_mean_model())
    mod = mx.mod.BucketingModule(_gen_mean_model(), default_bucket_key=10)
    with pytest.raises(mx.MXNetError, match="bind"):
        mod.switch_bucket(5, [("data", (2, 5))])

    def bad_gen(key):
        data = mx.sym.Variable("data")
        fc = mx.sym.FullyConnected(data, num_hidden=key, name="fc")
        return mx.sym.SoftmaxOutput(fc, name="softmax"), ("data",), ("softmax_label",)

    mod = mx.mod.BucketingModule(bad_gen, default_bucket_key=10)
    mod.bind([("data", (2, 4))], [("softmax_label", (2,))])
    mod.init_params()
    with pytest.raises(ValueError, match="fc_weight"):
        mod.switch_bucket(5, [("data", (2, 4))], [("softmax_label", (2,))])


def test_sym_gen_failure_names_the_bucket():
    def sym_gen(key):
        if key not in (10, 20):
            raise KeyError(key)
        return _gen_mean_model()(key)

    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=20)
    mod.bind([("data", (2, 20))], [("softmax_label", (2,))])
    mod.init_params()
    with pytest.raises(ValueError, match="bucket key 7"):
        mod.switch_bucket(7, [("data", (2, 7))], [("softmax_label", (2,))])
    assert mod._curr_bucket_key == 20 and 7 not in mod._buckets


def test_batch_smaller_than_contexts():
    mod = mx.mod.Module(_gen_mean_model()(5)[0], context=[mx.cpu(0), mx.cpu(1), mx.cpu(2)])
    with pytest.raises(ValueError, match="batch of 2 cannot be split over 3 contexts"):
        mod.bind([("data", (2, 5))], [("softmax_label", (2,))])
    assert not mod.binded


def test_accelerators_reach_every_bucket_and_share_one_loss_scale():
    def fit(**accel):
        mx.random.seed(0)
        np.random.seed(0)
        mod = mx.mod.BucketingModule(_gen_mean_model(), default_bucket_key=20, **accel)
        mod.fit(_BucketIter([5, 10, 20], 16, 12), num_epoch=2, optimizer="sgd",
                optimizer_params={"learning_rate": 0.1}, initializer=mx.init.Xavier())
        return mod

    plain, bf16 = fit(), fit(autocast="bf16")
    assert all(m._accel is bf16._accel for m in bf16._buckets.values())
    assert bf16._accel is not None and plain._accel is None
    for k, v in plain.get_params()[0].items():
        np.testing.assert_allclose(bf16.get_params()[0][k].asnumpy(), v.asnumpy(), rtol=0.05,
                                   atol=0.02, err_msg=k)
    fp16 = fit(autocast="fp16", loss_scale=2.0 ** 8)
    scalers = {id(m.loss_scaler) for m in fp16._buckets.values()}
    assert scalers == {id(fp16.loss_scaler)} and fp16.loss_scaler.scale == 2.0 ** 8
    with pytest.raises(mx.base.MXNetValueError):
        mx.mod.BucketingModule(_gen_mean_model(), default_bucket_key=20, autocast="fp8")
