"""Checkpoint files in MXNet's naming: ``prefix-symbol.json`` and ``prefix-%04d.params``
(keys ``arg:<name>`` / ``aux:<name>``)."""
import logging

from .base import MXNetValueError
from . import ndarray as nd
from . import symbol as sym
from .context import cpu

__all__ = ["save_checkpoint", "load_checkpoint", "load_params", "save_checkpoint_files",
           "BatchEndParam"]


def save_checkpoint_files(prefix, epoch, symbol, arg_params, aux_params):
    """Write the symbol (if given) and the parameters; each file atomically."""
    if symbol is not None:
        symbol.save(f"{prefix}-symbol.json")
    save_dict = {f"arg:{k}": v.as_in_context(cpu()) for k, v in arg_params.items()}
    save_dict.update({f"aux:{k}": v.as_in_context(cpu()) for k, v in aux_params.items()})
    param_name = "%s-%04d.params" % (prefix, epoch)
    nd.save(param_name, save_dict)
    logging.info('Saved checkpoint to "%s"', param_name)


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Save a checkpoint: ``prefix-symbol.json`` and ``prefix-%04d.params``.

    Parameters
    ----------
    prefix : str
    epoch : int
    symbol : Symbol or None
    arg_params, aux_params : dict of str to NDArray
    """
    save_checkpoint_files(prefix, epoch, symbol, arg_params, aux_params)


def load_params(prefix, epoch):
    """``(arg_params, aux_params)`` from ``prefix-%04d.params``; keys without an
    ``arg:``/``aux:`` prefix are ignored (as MXNet does)."""
    save_dict = nd.load("%s-%04d.params" % (prefix, epoch))
    if not isinstance(save_dict, dict):
        raise MXNetValueError(f"{prefix}-{epoch:04d}.params holds an unnamed list of arrays, "
                              "not a checkpoint with arg:/aux: names")
    arg_params, aux_params = {}, {}
    for k, v in save_dict.items():
        tp, _, name = k.partition(":")
        if tp == "arg":
            arg_params[name] = v
        elif tp == "aux":
            aux_params[name] = v
    return arg_params, aux_params


def load_checkpoint(prefix, epoch):
    """``(symbol, arg_params, aux_params)`` of a checkpoint written by MXNet or mxtorch."""
    symbol = sym.load(f"{prefix}-symbol.json")
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params


def __getattr__(name):
    if name == "BatchEndParam":
        from .callback import BatchEndParam
        return BatchEndParam
    raise AttributeError(name)
