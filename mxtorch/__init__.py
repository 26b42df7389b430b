"""mxtorch: MXNet 1.x's Module API on PyTorch. ``import mxtorch as mx``.

The layers, top to bottom (each imports only from those above it): context, ndarray,
symbol, executor, then io / metric / initializer / optimizer / callback, module, model.
"""
__version__ = "0.1.0"

from . import base
from .base import MXNetError
from . import context
from .context import Context, cpu, gpu, cpu_pinned, current_context, num_gpus
from . import ndarray
from . import ndarray as nd
from . import random
from . import name
from . import attribute
from .attribute import AttrScope
from . import symbol
from . import symbol as sym
from . import executor
from .executor import Executor
from . import io
from . import metric
from . import initializer
from . import initializer as init
from . import lr_scheduler
from . import optimizer
from . import optimizer as opt
from . import callback
from . import callbacks
from . import history
from . import kvstore
from . import kvstore as kv
from . import monitor
from . import monitor as mon
from . import model
from . import snapshot
from . import visualization
from . import visualization as viz
from . import onnx
from . import rnn
from . import models
from . import nn
from . import module
from . import module as mod
from . import test_utils
