"""mxtorch: MXNet's Module API on PyTorch. ``import mxtorch as mx``."""
__version__ = "0.1.0"

from . import base
from .base import MXNetError
from . import context
from .context import Context, cpu, gpu, cpu_pinned, current_context, num_gpus
from . import ndarray
from . import ndarray as nd
from . import name
from .attribute import AttrScope
from . import symbol
from . import symbol as sym
from .executor import Executor
