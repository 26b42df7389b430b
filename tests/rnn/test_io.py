"""encode_sentences and BucketSentenceIter against MXNet 1.9.1 (tests/compat/fixtures/rnn/
iter.json from tools/gen_rnn_fixtures.py): vocabularies, bucket assignment, padding, the
shifted label, shapes and, with python random and numpy seeded, the batch order."""
import importlib.util
import json
import os
import random

import numpy as np
import pytest

import mxtorch as mx
import mxtorch.rnn  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("gen_rnn", os.path.join(ROOT, "tools",
                                                                       "gen_rnn_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
with open(os.path.join(ROOT, "tests", "compat", "fixtures", "rnn", "iter.json")) as _f:
    REF = json.load(_f)


def test_encode_sentences_matches_mxnet():
    sents = gen.corpus()
    coded, vocab = mx.rnn.encode_sentences(sents, invalid_label=0, start_label=1)
    assert coded == REF["coded"] and vocab == REF["vocab"]
    c2, v2 = mx.rnn.encode_sentences([["w1", "zzz", "w2"], ["yyy"]], vocab=dict(vocab),
                                     invalid_label=0, unknown_token="<unk>")
    assert c2 == REF["coded_unk"] and v2 == REF["vocab_unk"]
    c3, v3 = mx.rnn.encode_sentences(sents[:5], invalid_label=2, start_label=0)
    assert c3 == REF["coded_skip"] and v3 == REF["vocab_skip"]
    assert 2 not in [i for s in c3 for i in s]  # the invalid label is never given out


def test_encode_sentences_unknown_token_without_fallback_raises():
    with pytest.raises(KeyError, match="zzz"):
        mx.rnn.encode_sentences([["zzz"]], vocab={"a": 1})


@pytest.mark.parametrize("layout,buckets", [("NT", [4, 8, 12]), ("TN", None)])
def test_bucket_sentence_iter_matches_mxnet(layout, buckets, capsys):
    ref = REF["iter_" + layout]
    coded = REF["coded"]
    random.seed(3)
    np.random.seed(3)
    it = mx.rnn.BucketSentenceIter(coded, 4, buckets=buckets, invalid_label=0, layout=layout)
    assert "discarded" in capsys.readouterr().out
    assert it.buckets == ref["buckets"]
    assert it.default_bucket_key == ref["default_bucket_key"]
    assert [[d.name, list(d.shape), d.layout] for d in it.provide_data] == ref["provide_data"]
    assert [[d.name, list(d.shape), d.layout] for d in it.provide_label] == ref["provide_label"]
    for want in ref["epochs"]:
        got = list(it)
        assert len(got) == len(want)
        for b, w in zip(got, want):
            assert b.bucket_key == w["key"] and b.pad == w["pad"]
            np.testing.assert_array_equal(b.data[0].asnumpy(), np.array(w["data"]))
            np.testing.assert_array_equal(b.label[0].asnumpy(), np.array(w["label"]))
            assert [[d.name, list(d.shape), d.layout] for d in b.provide_data] == \
                w["provide_data"]
            assert [[d.name, list(d.shape), d.layout] for d in b.provide_label] == \
                w["provide_label"]
        it.reset()


def test_bucket_sentence_iter_label_is_shifted_data():
    sents = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [1, 1]]
    it = mx.rnn.BucketSentenceIter(sents, 2, buckets=[3, 5], invalid_label=-1)
    for b in it:
        d, lab = b.data[0].asnumpy(), b.label[0].asnumpy()
        np.testing.assert_array_equal(lab[:, :-1], d[:, 1:])
        assert (lab[:, -1] == -1).all()
        assert b.bucket_key == d.shape[1]


def test_bucket_sentence_iter_bad_layout():
    with pytest.raises(ValueError, match="layout"):
        mx.rnn.BucketSentenceIter([[1, 2]], 1, buckets=[2], layout="NTC")
