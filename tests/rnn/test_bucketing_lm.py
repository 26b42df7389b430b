"""A small bucketing LSTM language model (MXNet's lstm_bucketing recipe) trains with
mx.rnn cells, BucketSentenceIter and BucketingModule: perplexity falls."""
import random

import numpy as np

import mxtorch as mx
import mxtorch.rnn  # noqa: F401


def _sentences(n, vocab, rng):
    """Learnable sentences: each starts anywhere and counts up (mod vocab) by its step."""
    out = []
    for _ in range(n):
        length, start, step = rng.randint(3, 12), rng.randint(1, vocab), rng.randint(1, 3)
        out.append([1 + (start + step * k) % (vocab - 1) for k in range(length)])
    return out


def test_bucketing_lstm_lm_perplexity_falls():
    random.seed(0)
    np.random.seed(0)
    mx.random.seed(0)
    rng = np.random.RandomState(0)
    vocab, hidden, batch = 12, 24, 16
    train = mx.rnn.BucketSentenceIter(_sentences(600, vocab, rng), batch, buckets=[6, 12],
                                      invalid_label=0)
    val = mx.rnn.BucketSentenceIter(_sentences(200, vocab, rng), batch, buckets=[6, 12],
                                    invalid_label=0)
    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.LSTMCell(hidden, prefix="lstm_l0_"))

    def sym_gen(seq_len):
        data, label = mx.sym.Variable("data"), mx.sym.Variable("softmax_label")
        embed = mx.sym.Embedding(data, input_dim=vocab, output_dim=hidden, name="embed")
        stack.reset()
        outputs, _ = stack.unroll(seq_len, inputs=embed, merge_outputs=True)
        pred = mx.sym.FullyConnected(mx.sym.Reshape(outputs, shape=(-1, hidden)),
                                     num_hidden=vocab, name="pred")
        pred = mx.sym.SoftmaxOutput(pred, mx.sym.Reshape(label, shape=(-1,)), name="softmax",
                                    use_ignore=True, ignore_label=0)
        return pred, ("data",), ("softmax_label",)

    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=train.default_bucket_key)
    assert mod._default_bucket_key == 12
    mod.bind(train.provide_data, train.provide_label)
    mod.init_params(mx.init.Xavier(factor_type="in", magnitude=2.34))
    metric = mx.metric.Perplexity(0)
    first = mod.score(val, metric)[0][1]
    mod.init_optimizer(optimizer="adam", optimizer_params={"learning_rate": 0.02})
    mod.fit(train, num_epoch=3, eval_metric=mx.metric.Perplexity(0))
    last = mod.score(val, mx.metric.Perplexity(0))[0][1]
    assert last < 0.6 * first, (first, last)
    assert sorted(mod._buckets) == [6, 12]
    args = mod.get_params()[0]
    assert sorted(args) == ["embed_weight", "lstm_l0_h2h_bias", "lstm_l0_h2h_weight",
                            "lstm_l0_i2h_bias", "lstm_l0_i2h_weight", "pred_bias",
                            "pred_weight"]
