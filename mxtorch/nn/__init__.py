"""``mxtorch.nn``: define-by-run modules on torch with nnabla's API (``import
mxtorch.nn as nn``; F, PF and S are ``mxtorch.nn.functions``,
``.parametric_functions`` and ``.solvers``) and BigDL's AbstractModule API on the same
Module class."""
from . import random
from . import initializer
from .state import auto_forward, set_auto_forward, get_auto_forward
from .nd_array import NdArray
from .variable import Variable, Function
from .parameter import (parameter_scope, get_current_parameter_scope, get_parameter_or_create,
                        get_parameters, clear_parameters)
from . import parameter
from .module import Module
from .containers import ModuleList, ModuleDict, Sequential
from .param_io import SUPPORTED as PARAMETER_FORMATS
from .global_io import save_parameters, load_parameters
from . import functions
from . import parametric_functions
from . import solvers
from .bigdl_api import BigDLAPI
from .bigdl_graph import Model, Input
from .bigdl_validation import Top1Accuracy, Top5Accuracy, Loss
from . import bigdl_layers, bigdl_criterion

__all__ = ["BigDLAPI", "Model", "Input", "Top1Accuracy", "Top5Accuracy", "Loss", "bigdl_layers",
           "bigdl_criterion", "Variable", "Function", "NdArray", "Module", "ModuleList", "ModuleDict",
           "Sequential", "auto_forward", "set_auto_forward", "get_auto_forward",
           "parameter_scope", "get_current_parameter_scope", "get_parameter_or_create",
           "get_parameters", "clear_parameters", "save_parameters", "load_parameters",
           "PARAMETER_FORMATS", "functions", "parametric_functions", "solvers", "random",
           "initializer", "parameter"]
