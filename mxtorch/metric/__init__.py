"""``mx.metric``: online evaluation metrics as MXNet 1.9.1 defines them, accumulating
on the device (``update`` does not synchronize; ``get`` and reading the counters do).
"""
from .base import EvalMetric, check_label_shapes, register, alias, create, get_registry
from .classification import Accuracy, TopKAccuracy, F1, MCC, PCC
from .regression import MAE, MSE, RMSE, PearsonCorrelation
from .loss import Perplexity, CrossEntropy, NegativeLogLikelihood, Loss, Torch, Caffe
from .composite import CompositeEvalMetric, CustomMetric, np

__all__ = ["EvalMetric", "check_label_shapes", "register", "alias", "create", "get_registry",
           "Accuracy", "TopKAccuracy", "F1", "MCC", "PCC", "MAE", "MSE", "RMSE",
           "PearsonCorrelation", "Perplexity", "CrossEntropy", "NegativeLogLikelihood",
           "Loss", "Torch", "Caffe", "CompositeEvalMetric", "CustomMetric", "np"]
