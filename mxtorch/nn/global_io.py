"""``nn.save_parameters`` / ``nn.load_parameters``: parameter files for the current
parameter scope (Module has its own pair in ``module.py``)."""
from collections import OrderedDict

from ..base import MXNetTypeError
from . import param_io
from .parameter import assign_loaded, get_current_parameter_scope, get_parameters
from .variable import Variable

__all__ = ["save_parameters", "load_parameters"]


def save_parameters(path, params=None, extension=None):
    """Save ``params`` (default: every parameter of the current scope) to a file.

    Parameters
    ----------
    path : str, os.PathLike or writable binary file object
        '.h5', '.safetensors' or '.params' (from the file name).
    params : dict of str -> Variable, optional
    extension : str, optional
        The format for a file object (default '.h5').
    """
    params = get_parameters(grad_only=False) if params is None else params
    items = OrderedDict()
    for k, v in params.items():
        if not isinstance(v, Variable):
            raise MXNetTypeError(f"nn.save_parameters: {k!r} is a {type(v).__name__}, not an "
                                 "nn.Variable")
        items[k] = (v.data.tensor.detach().cpu().numpy(), v.need_grad)
    param_io.save_arrays(path, items, extension or ".h5", "nn.save_parameters")


def load_parameters(path, extension=".h5"):
    """Load a parameter file into the current scope: existing parameters are updated in
    place (same Variable objects), missing ones are created.

    Raises
    ------
    MXNetValueError
        If a file entry's shape differs from an existing parameter's (nothing changes).
    """
    items = param_io.load_arrays(path, extension, "nn.load_parameters")
    scope = get_current_parameter_scope()
    assign_loaded([(scope, k, arr, ng, k) for k, (arr, ng) in items.items()],
                  "nn.load_parameters")
