"""``mx.rnn`` text data: ``encode_sentences`` (tokens to ids, building a vocabulary) and
``BucketSentenceIter`` (language-model batches grouped by sentence length)."""
import bisect
import random

import numpy as np

from ..base import MXNetValueError, MXNetKeyError
from ..io import DataIter, DataBatch, DataDesc
from .. import ndarray

__all__ = ["encode_sentences", "BucketSentenceIter"]


def encode_sentences(sentences, vocab=None, invalid_label=-1, invalid_key="\n", start_label=0,
                     unknown_token=None):
    """Encode tokenized sentences as ids, adding unseen tokens to the vocabulary.

    Parameters
    ----------
    sentences : list of list of str
    vocab : dict of str to int, optional
        An existing vocabulary; a new one ``{invalid_key: invalid_label}`` if None.
    invalid_label : int, default -1
        The id of ``invalid_key``; never given to another token.
    invalid_key : str, default '\\n'
    start_label : int, default 0
        The first id given to a new token.
    unknown_token : str, optional
        With a given ``vocab``, unknown tokens map to this token (added if needed);
        without it an unknown token raises.

    Returns
    -------
    (list of list of int, dict of str to int)

    Raises
    ------
    MXNetKeyError
        A token is not in the given ``vocab`` and no ``unknown_token`` is set.
    """
    idx = start_label
    new_vocab = vocab is None
    if new_vocab:
        vocab = {invalid_key: invalid_label}
    res = []
    for sent in sentences:
        coded = []
        for word in sent:
            if word not in vocab:
                if not (new_vocab or unknown_token):
                    raise MXNetKeyError(f"Unknown token {word}: it is not in the given vocab; "
                                        "pass unknown_token=... to map unknown tokens")
                if idx == invalid_label:
                    idx += 1
                if unknown_token:
                    word = unknown_token
                vocab[word] = idx
                idx += 1
            coded.append(vocab[word])
        res.append(coded)
    return res, vocab


class BucketSentenceIter(DataIter):
    """Batches of encoded sentences, each padded to the smallest bucket that holds it;
    the label is the data shifted left by one step (``invalid_label`` at the end).

    Parameters
    ----------
    sentences : list of list of int
    batch_size : int
    buckets : list of int, optional
        Bucket lengths; default: every length that at least ``batch_size`` sentences have.
    invalid_label : int, default -1
        Padding value (and the last label).
    data_name : str, default 'data'
    label_name : str, default 'softmax_label'
    dtype : str, default 'float32'
    layout : {'NT', 'TN'}, default 'NT'

    Notes
    -----
    Sentences longer than the largest bucket are dropped (a warning is printed). Only full
    batches are produced; ``reset`` shuffles the batch order with python's ``random`` and
    each bucket's rows with ``numpy.random``.
    """

    def __init__(self, sentences, batch_size, buckets=None, invalid_label=-1, data_name="data",
                 label_name="softmax_label", dtype="float32", layout="NT"):
        super().__init__()
        if not buckets:
            buckets = [i for i, j in enumerate(np.bincount([len(s) for s in sentences]))
                       if j >= batch_size]
        buckets.sort()
        major_axis = layout.find("N")
        if major_axis not in (0, 1) or sorted(layout) != ["N", "T"]:
            raise MXNetValueError(f"Invalid layout {layout}: must be NT (batch major) or TN "
                                  "(time major)")
        ndiscard = 0
        data = [[] for _ in buckets]
        valid = [0] * (len(buckets) + 1)
        for sent in sentences:
            buck = bisect.bisect_left(buckets, len(sent))
            valid[buck] = 1
            if buck == len(buckets):
                ndiscard += 1
                continue
            buff = np.full((buckets[buck],), invalid_label, dtype=dtype)
            buff[:len(sent)] = sent
            data[buck].append(buff)
        buckets = [j for i, j in enumerate(buckets) if valid[i] == 1]
        self.data = [np.asarray(d, dtype=dtype) for d in data if d]
        if not buckets:
            raise MXNetValueError("BucketSentenceIter: no sentence fits in any bucket")
        print("WARNING: discarded %d sentences longer than the largest bucket." % ndiscard)

        self.batch_size = batch_size
        self.buckets = buckets
        self.data_name = data_name
        self.label_name = label_name
        self.dtype = dtype
        self.invalid_label = invalid_label
        self.nddata = []
        self.ndlabel = []
        self.major_axis = major_axis
        self.layout = layout
        self.default_bucket_key = max(buckets)
        shape = ((batch_size, self.default_bucket_key) if major_axis == 0 else
                 (self.default_bucket_key, batch_size))
        self.provide_data = [DataDesc(name=data_name, shape=shape, layout=layout)]
        self.provide_label = [DataDesc(name=label_name, shape=shape, layout=layout)]
        self.idx = []
        for i, buck in enumerate(self.data):
            self.idx.extend([(i, j) for j in range(0, len(buck) - batch_size + 1, batch_size)])
        self.curr_idx = 0
        self.reset()

    def reset(self):
        """Shuffle the batch order and the rows of each bucket; rebuild the labels."""
        self.curr_idx = 0
        random.shuffle(self.idx)
        for buck in self.data:
            np.random.shuffle(buck)
        self.nddata = []
        self.ndlabel = []
        for buck in self.data:
            label = np.empty_like(buck)
            label[:, :-1] = buck[:, 1:]
            label[:, -1] = self.invalid_label
            self.nddata.append(ndarray.array(buck, dtype=self.dtype))
            self.ndlabel.append(ndarray.array(label, dtype=self.dtype))

    def next(self):
        """The next DataBatch (``bucket_key`` set, ``pad`` 0)."""
        if self.curr_idx == len(self.idx):
            raise StopIteration
        i, j = self.idx[self.curr_idx]
        self.curr_idx += 1
        data = self.nddata[i][j:j + self.batch_size]
        label = self.ndlabel[i][j:j + self.batch_size]
        if self.major_axis == 1:
            data, label = data.T, label.T
        return DataBatch([data], [label], pad=0, bucket_key=self.buckets[i],
                         provide_data=[DataDesc(name=self.data_name, shape=data.shape,
                                                layout=self.layout)],
                         provide_label=[DataDesc(name=self.label_name, shape=label.shape,
                                                 layout=self.layout)])
