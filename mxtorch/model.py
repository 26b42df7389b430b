"""Checkpoint files in MXNet's naming: ``prefix-symbol.json`` and ``prefix-%04d.params``
(keys ``arg:<name>`` / ``aux:<name>``)."""
import logging

from .base import MXNetValueError
from . import ndarray as nd
from . import symbol as sym
from .context import cpu
from .callback import BatchEndParam  # noqa: F401  (MXNet exposes it as mx.model.BatchEndParam)

__all__ = ["save_checkpoint", "load_checkpoint", "load_params", "save_checkpoint_files",
           "save_params_file", "load_params_file", "BatchEndParam"]


def save_params_file(fname, arg_params, aux_params):
    """Write parameters as ``arg:<name>``/``aux:<name>`` in MXNet's .params format."""
    save_dict = {f"arg:{k}": v.as_in_context(cpu()) for k, v in arg_params.items()}
    save_dict.update({f"aux:{k}": v.as_in_context(cpu()) for k, v in aux_params.items()})
    nd.save(fname, save_dict)


def load_params_file(fname, strict=False):
    """``(arg_params, aux_params)`` from a .params file. Keys without an ``arg:``/``aux:``
    prefix are ignored (as ``mx.model`` does), or raise when ``strict`` (as
    ``Module.load_params`` does)."""
    save_dict = nd.load(fname)
    if not isinstance(save_dict, dict):
        raise MXNetValueError(f"Invalid param file {fname}: it holds an unnamed list of "
                              "arrays, not arg:/aux: names")
    arg_params, aux_params = {}, {}
    for k, v in save_dict.items():
        tp, _, name = k.partition(":")
        if tp == "arg":
            arg_params[name] = v
        elif tp == "aux":
            aux_params[name] = v
        elif strict:
            raise MXNetValueError(f"Invalid param file {fname}: key {k!r} has no arg:/aux: "
                                  "prefix")
    return arg_params, aux_params


def save_checkpoint_files(prefix, epoch, symbol, arg_params, aux_params):
    """Write the symbol (if given) and the parameters; each file atomically."""
    if symbol is not None:
        symbol.save(f"{prefix}-symbol.json")
    param_name = "%s-%04d.params" % (prefix, epoch)
    save_params_file(param_name, arg_params, aux_params)
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
    return load_params_file("%s-%04d.params" % (prefix, epoch))


def load_checkpoint(prefix, epoch):
    """``(symbol, arg_params, aux_params)`` of a checkpoint written by MXNet or mxtorch."""
    symbol = sym.load(f"{prefix}-symbol.json")
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params

