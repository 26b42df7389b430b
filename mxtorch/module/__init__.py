"""``mx.mod``: BaseModule, Module, BucketingModule and the executor group."""
from .base_module import BaseModule
from .module import Module
from .bucketing_module import BucketingModule
from .executor_group import DataParallelExecutorGroup
from .fit_params import FitParams

__all__ = ["BaseModule", "Module", "BucketingModule", "DataParallelExecutorGroup", "FitParams"]
