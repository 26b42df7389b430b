"""``mx.mod``: BaseModule, Module, BucketingModule, SequentialModule, Python modules,
TorchModule (define-by-run networks: mxtorch.nn or torch.nn) and the executor group."""
from .base_module import BaseModule
from .module import Module
from .bucketing_module import BucketingModule
from .executor_group import DataParallelExecutorGroup
from .fit_params import FitParams
from .sequential_module import SequentialModule
from .python_module import PythonModule, PythonLossModule
from .torch_module import TorchModule

__all__ = ["BaseModule", "Module", "BucketingModule", "DataParallelExecutorGroup", "FitParams",
           "SequentialModule", "PythonModule", "PythonLossModule", "TorchModule"]
