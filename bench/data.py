"""Synthetic data, identical in every peer's process (fixed seeds, numpy only, so the MXNet
interpreter runs it too): images of uniform pixels with random labels, and token sentences
already grouped the way ``BucketSentenceIter`` groups them.
"""
import numpy as np

__all__ = ["images", "bucketed_sentences"]


def images(num_rows, shape, num_classes=10, seed=0):
    """``(X, y)``: float32 uniform [0, 1) of ``(num_rows,) + shape`` and float32 labels."""
    rs = np.random.RandomState(seed)
    X = rs.random_sample((num_rows,) + tuple(shape)).astype(np.float32)
    y = rs.randint(0, num_classes, size=num_rows).astype(np.float32)
    return X, y


def bucketed_sentences(buckets, batches_per_bucket, batch_size, vocab_size, seed=0):
    """Token sentences (lists of ints in ``[1, vocab_size)``), ``batches_per_bucket *
    batch_size`` of them per bucket, each long enough to land in that bucket (longer than the
    bucket before it), so every peer sees exactly ``len(buckets) * batches_per_bucket``
    full batches whatever its iterator drops.

    Also returns, per bucket key, the padded ``(data, label)`` int64 arrays that
    BucketSentenceIter builds from them (label = data shifted left by one, padding 0), for
    the PyTorch peers.
    """
    rs = np.random.RandomState(seed)
    sentences, arrays, prev = [], {}, 0
    for key in sorted(buckets):
        n = batches_per_bucket * batch_size
        lengths = rs.randint(prev + 1, key + 1, size=n)
        data = np.zeros((n, key), dtype=np.int64)
        for i, length in enumerate(lengths):
            tokens = rs.randint(1, vocab_size, size=length)
            sentences.append(tokens.tolist())
            data[i, :length] = tokens
        label = np.zeros_like(data)
        label[:, :-1] = data[:, 1:]
        arrays[key] = (data, label)
        prev = key
    return sentences, arrays
