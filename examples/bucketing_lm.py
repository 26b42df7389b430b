"""A word-level LSTM language model with BucketingModule, as MXNet's
example/rnn/bucketing/lstm_bucketing.py, on a corpus that every Python install has offline:
the documentation strings of the standard library.

    python examples/bucketing_lm.py [--epochs 8] [--sentences 6000] [--hidden 128]

Sentences are bucketed by length ([10, 20, 30] words); the model is Embedding ->
2 x LSTMCell -> FullyConnected -> SoftmaxOutput (padding ignored), trained with
Module.fit and mx.metric.Perplexity. Exits 1 unless the validation perplexity falls at
least 40% below its value after the first epoch.
"""
import argparse
import importlib
import inspect
import logging
import random
import re
import sys
from collections import Counter

import numpy as np

import mxtorch as mx

MODULES = ("os", "os.path", "collections", "json", "re", "string", "textwrap", "functools",
           "itertools", "random", "math", "statistics", "pathlib", "shutil", "subprocess",
           "argparse", "logging", "datetime", "calendar", "csv", "io", "typing", "inspect",
           "threading", "queue", "heapq", "bisect", "decimal", "fractions", "difflib",
           "unittest", "urllib.parse", "http.client", "email.message", "tarfile", "zipfile",
           "gzip", "sqlite3", "socket", "ssl", "tempfile", "glob", "fnmatch", "pickle",
           "copy", "pprint", "enum", "dataclasses", "contextlib", "abc", "weakref", "struct",
           "codecs", "locale", "time", "base64", "hashlib", "hmac", "secrets", "uuid")
TOKEN = re.compile(r"[a-z]+|[0-9]+|[^\sa-z0-9]")


def docstring_sentences():
    """Lower-cased token lists, one per sentence of the stdlib docstrings (sorted, so the
    corpus is the same on every run of one Python version)."""
    docs = set()
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        for obj in [mod] + [getattr(mod, a, None) for a in sorted(dir(mod)) if not a.startswith("_")]:
            doc = inspect.getdoc(obj) if obj is not None else None
            if doc:
                docs.add(doc)
    sentences = []
    for doc in sorted(docs):
        for sent in re.split(r"(?<=[.!?])\s+|\n\s*\n", doc):
            tokens = TOKEN.findall(sent.lower())
            if 3 <= len(tokens) <= 30:
                sentences.append(tokens)
    return sentences


def build(sentences, vocab_size, buckets, batch_size, seed):
    """Encoded train/validation BucketSentenceIters (rare words become <unk>)."""
    rng = random.Random(seed)
    rng.shuffle(sentences)
    counts = Counter(t for s in sentences for t in s)
    keep = {w for w, _ in counts.most_common(vocab_size - 2)}
    sentences = [[t if t in keep else "<unk>" for t in s] for s in sentences]
    coded, vocab = mx.rnn.encode_sentences(sentences, invalid_label=0, start_label=1)
    n_val = len(coded) // 10
    train = mx.rnn.BucketSentenceIter(coded[n_val:], batch_size, buckets=buckets,
                                      invalid_label=0)
    val = mx.rnn.BucketSentenceIter(coded[:n_val], batch_size, buckets=buckets, invalid_label=0)
    return train, val, len(vocab) + 1


def sym_gen_factory(vocab_size, num_embed, num_hidden, num_layers):
    stack = mx.rnn.SequentialRNNCell()
    for i in range(num_layers):
        stack.add(mx.rnn.LSTMCell(num_hidden=num_hidden, prefix="lstm_l%d_" % i))

    def sym_gen(seq_len):
        data = mx.sym.Variable("data")
        label = mx.sym.Variable("softmax_label")
        embed = mx.sym.Embedding(data=data, input_dim=vocab_size, output_dim=num_embed,
                                 name="embed")
        stack.reset()
        outputs, _ = stack.unroll(seq_len, inputs=embed, merge_outputs=True)
        pred = mx.sym.Reshape(outputs, shape=(-1, num_hidden))
        pred = mx.sym.FullyConnected(data=pred, num_hidden=vocab_size, name="pred")
        label = mx.sym.Reshape(label, shape=(-1,))
        pred = mx.sym.SoftmaxOutput(data=pred, label=label, name="softmax", use_ignore=True,
                                    ignore_label=0)
        return pred, ("data",), ("softmax_label",)

    return sym_gen


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--sentences", type=int, default=6000, help="at most this many sentences")
    p.add_argument("--vocab", type=int, default=2000)
    p.add_argument("--embed", type=int, default=128)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    random.seed(args.seed)
    np.random.seed(args.seed)
    mx.random.seed(args.seed)

    sentences = docstring_sentences()[:args.sentences]
    train, val, vocab_size = build(sentences, args.vocab, [10, 20, 30], args.batch_size,
                                   args.seed)
    logging.info("%d sentences, vocabulary %d, buckets %s", len(sentences), vocab_size,
                 sorted({b.bucket_key for b in train}))
    train.reset()
    model = mx.mod.BucketingModule(
        sym_gen=sym_gen_factory(vocab_size, args.embed, args.hidden, args.layers),
        default_bucket_key=train.default_bucket_key, context=mx.cpu())
    history = []
    model.fit(train_data=train, eval_data=val, eval_metric=mx.metric.Perplexity(0),
              optimizer="adam", optimizer_params={"learning_rate": args.lr},
              initializer=mx.init.Xavier(factor_type="in", magnitude=2.34),
              num_epoch=args.epochs,
              eval_end_callback=lambda param: history.append(param.eval_metric.get()[1]),
              batch_end_callback=mx.callback.Speedometer(args.batch_size, 50))
    first, last = history[0], history[-1]
    print(f"validation perplexity: epoch 1 {first:.2f}, epoch {len(history)} {last:.2f} "
          f"({100 * (1 - last / first):.0f}% lower); buckets used {sorted(model._buckets)}")
    return 0 if last <= 0.6 * first else 1


if __name__ == "__main__":
    sys.exit(main())
