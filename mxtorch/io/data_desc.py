"""DataDesc (name, shape, dtype, layout of one input) and DataBatch (what an iterator
yields), as in MXNet 1.9.1's ``mx.io``."""
from collections import namedtuple

import numpy as np

from ..base import MXNetTypeError

__all__ = ["DataDesc", "DataBatch", "BatchTypeError"]


class BatchTypeError(MXNetTypeError, AssertionError):
    """DataBatch data/label that are not lists (MXNet asserts here, so this is also
    an AssertionError)."""


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name and shape of a data or label input, with its dtype and layout.

    It is a ``(name, shape)`` tuple (equality and unpacking ignore dtype and layout)
    carrying ``.dtype`` and ``.layout`` attributes.

    Parameters
    ----------
    name : str
    shape : tuple of int
    dtype : numpy type, default numpy.float32
    layout : str, default 'NCHW'
        What each axis means; ``'N'`` marks the batch axis.
    """

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        ret = super().__new__(cls, name, shape)
        ret.dtype = dtype
        ret.layout = layout
        return ret

    def __getnewargs__(self):
        return (self.name, self.shape, self.dtype, self.layout)

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        """The axis of ``'N'`` in ``layout`` (0 when layout is None, -1 when it has no N).

        Parameters
        ----------
        layout : str or None
            e.g. ``'NCHW'`` or ``'TNC'``.

        Returns
        -------
        int
        """
        if layout is None:
            return 0
        return layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """DataDescs from ``[(name, shape), ...]`` and optionally ``[(name, dtype), ...]``.

        Parameters
        ----------
        shapes : list of (str, tuple)
        types : list of (str, dtype) or None

        Returns
        -------
        list of DataDesc
        """
        if types is not None:
            type_dict = dict(types)
            return [DataDesc(x[0], x[1], type_dict[x[0]]) for x in shapes]
        return [DataDesc(x[0], x[1]) for x in shapes]


class DataBatch:
    """One batch of data: lists of arrays plus bookkeeping.

    Parameters
    ----------
    data : list of NDArray
        One array per data input, each holding ``batch_size`` examples.
    label : list of NDArray, optional
        One array per label input.
    pad : int, optional
        How many examples at the end are padding (ignored by ``predict``).
    index : numpy.ndarray, optional
        The example indices in this batch.
    bucket_key : optional
        The bucket key, for BucketingModule.
    provide_data, provide_label : list of DataDesc, optional
        Shapes of this batch when they differ from the iterator's.

    Raises
    ------
    BatchTypeError
        ``data`` or ``label`` is given but is not a list or tuple (wrap a single array
        in a list: ``DataBatch([arr])``). It is a TypeError and an AssertionError.
    """

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None,
                 provide_data=None, provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise BatchTypeError(f"DataBatch: data must be a list of NDArrays, got "
                                 f"{type(data).__name__}; wrap it: DataBatch(data=[x])")
        if label is not None and not isinstance(label, (list, tuple)):
            raise BatchTypeError(f"DataBatch: label must be a list of NDArrays, got "
                                 f"{type(label).__name__}; wrap it: DataBatch(data, label=[y])")
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [l.shape for l in self.label] if self.label else None
        return "{}: data shapes: {} label shapes: {}".format(
            self.__class__.__name__, data_shapes, label_shapes)
