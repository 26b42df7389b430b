"""``mx.io``: data descriptions, batches and data iterators (MXNet 1.9.1 semantics)."""
from .data_desc import DataDesc, DataBatch, BatchTypeError
from .data_iter import DataIter, ResizeIter, PrefetchingIter
from .ndarray_iter import NDArrayIter
from .libsvm_iter import LibSVMIter

__all__ = ["DataDesc", "DataBatch", "DataIter", "ResizeIter", "PrefetchingIter", "NDArrayIter",
           "LibSVMIter", "BatchTypeError"]
