"""ONNX export through ``torch.onnx``: MXNet 1.9's ``mx.onnx.export_model`` signature, and
``export_net`` shared with ``Module.export_onnx``.

The graph becomes a ``SymbolNet`` (mxtorch.export) in inference mode, which torch.onnx
traces; this file owns only the MXNet conventions around it: which arguments are inputs,
the ONNX input and output names, shapes, dtypes and dynamic axes.
"""
import importlib.util
import logging
import os
import re

import numpy as np
import torch

from ..base import (MXNetTypeError, MXNetValueError, MXNetRuntimeError,
                    OptionalDependencyError, torch_dtype)
from ..export import SymbolNet, split_params
from ..ndarray import load as nd_load
from ..symbol import Symbol, load as sym_load
from ..util.atomic import atomic_write

__all__ = ["export_model", "export_net", "onnx_output_names"]


def onnx_output_names(symbol):
    """The ONNX output names MXNet's exporter gives: ``list_outputs()`` without the
    ``_output`` suffix (``softmax_output`` -> ``softmax``, ``split_output1`` ->
    ``split1``)."""
    names = []
    for name in symbol.list_outputs():
        if name.endswith("_state_output"):
            names.append(name[:-len("_state_output")] + "1")
        elif name.endswith("_statecell_output"):
            names.append(name[:-len("_statecell_output")] + "2")
        elif name.endswith("_output"):
            names.append(name[:-len("_output")])
        elif re.search(r"_output[0-9]$", name):
            names.append(name[:-len("_output0")] + name[-1])
        else:
            names.append(name)
    return names


def _load_symbol(sym):
    if isinstance(sym, Symbol):
        return sym
    if isinstance(sym, (str, os.PathLike)):
        if not os.path.isfile(sym):
            raise MXNetValueError(f"export_model: symbol file {os.fspath(sym)!r} does not "
                                  "exist; pass a prefix-symbol.json path or an mx.sym.Symbol")
        return sym_load(os.fspath(sym))
    raise MXNetTypeError(f"export_model: sym must be an mx.sym.Symbol or a -symbol.json path, "
                         f"got {type(sym).__name__}")


def _load_params(params):
    """One ``name -> array`` dict from a .params path (``arg:``/``aux:`` prefixes dropped),
    a dict, or a list ``[arg_params, aux_params]``."""
    if isinstance(params, (str, os.PathLike)):
        if not os.path.isfile(params):
            raise MXNetValueError(f"export_model: params file {os.fspath(params)!r} does not "
                                  "exist; pass a prefix-0000.params path or a dict of arrays")
        loaded = nd_load(os.fspath(params))
        if not isinstance(loaded, dict):
            raise MXNetValueError(f"export_model: {os.fspath(params)!r} holds an unnamed list "
                                  "of arrays; parameters need names (arg:<name>/aux:<name>)")
        return {k.split(":", 1)[1] if k.startswith(("arg:", "aux:")) else k: v
                for k, v in loaded.items()}
    if isinstance(params, dict):
        return dict(params)
    if isinstance(params, (list, tuple)) and len(params) == 2 and \
            all(isinstance(p, dict) for p in params):
        merged = dict(params[0])
        merged.update(params[1])
        return merged
    raise MXNetTypeError("export_model: params must be a .params path, a dict of arrays or "
                         f"a list [arg_params, aux_params], got {type(params).__name__}")


def _dynamic_shapes(shapes, dynamic, dynamic_input_shapes):
    """torch.export's ``dynamic_shapes`` for MXNet's ``dynamic``/``dynamic_input_shapes``:
    the None dims of ``dynamic_input_shapes`` must stay dynamic; without them every dim
    that the graph lets vary does."""
    if not dynamic:
        return None
    Dim = torch.export.Dim
    if dynamic_input_shapes is None:  # SymbolNet.forward(*inputs): shapes of "inputs"
        return {"inputs": tuple({d: Dim.AUTO for d in range(len(s))} for s in shapes)}
    if len(dynamic_input_shapes) != len(shapes):
        raise MXNetValueError(f"export_model: {len(dynamic_input_shapes)} dynamic_input_shapes "
                              f"for {len(shapes)} inputs")
    out = []
    for s, dyn in zip(shapes, dynamic_input_shapes):
        if len(dyn) != len(s):
            raise MXNetValueError(f"export_model: dynamic input shape {tuple(dyn)} has not the "
                                  f"rank of the input shape {tuple(s)}")
        out.append({d: Dim.DYNAMIC for d, v in enumerate(dyn) if v is None})
    return {"inputs": tuple(out)}


def export_net(net, onnx_file_path, in_shapes, in_types=np.float32, dynamic=False,
               dynamic_input_shapes=None, run_shape_inference=False, verbose=False,
               opset_version=None):
    """Export a ``SymbolNet`` to ONNX with torch.onnx (the torch.export-based exporter).

    Parameters
    ----------
    net : SymbolNet
        Exported in inference mode (``eval()`` is called).
    onnx_file_path : str
    in_shapes : list of tuple
        One shape per ``net.input_names``.
    in_types : dtype or list of dtype, default float32
    dynamic, dynamic_input_shapes, run_shape_inference, verbose
        As in ``export_model``.
    opset_version : int, optional
        The ONNX opset (default: torch.onnx's).

    Returns
    -------
    str
        ``onnx_file_path``, written atomically.

    Raises
    ------
    OptionalDependencyError
        onnx or onnxscript is not installed (an ImportError).
    MXNetValueError
        The number of shapes or types does not match the inputs.
    MXNetRuntimeError
        torch.onnx cannot export the graph (the message says why).
    """
    missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:  # torch.onnx's exporter needs onnxscript
        raise OptionalDependencyError(f"ONNX export needs the packages {missing}: pip install "
                                      "onnx onnxscript")
    import onnx
    names = net.input_names
    if in_shapes is None or len(in_shapes) != len(names):
        raise MXNetValueError(f"export_model: give one input shape per input {names}, got "
                              f"in_shapes={in_shapes!r}")
    if not isinstance(in_types, (list, tuple)):
        in_types = [in_types] * len(names)
    if len(in_types) != len(names):
        raise MXNetValueError(f"export_model: {len(in_types)} in_types for the inputs {names}; "
                              "the lengths of in_types and in_shapes must be equal")
    args = tuple(torch.zeros(tuple(int(d) for d in s), dtype=torch_dtype(t))
                 for s, t in zip(in_shapes, in_types))
    net.eval()
    out_names = onnx_output_names(net.symbol)
    try:
        program = torch.onnx.export(
            net, args, input_names=list(names), output_names=out_names,
            dynamic_shapes=_dynamic_shapes(in_shapes, dynamic, dynamic_input_shapes),
            opset_version=opset_version, dynamo=True, verbose=verbose)
    except Exception as e:  # torch.onnx wraps its many failure types
        raise MXNetRuntimeError(f"export_model: torch.onnx could not export the graph "
                                f"({type(e).__name__}: {e})") from e
    model = program.model_proto
    if run_shape_inference:
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception:  # noqa: BLE001  (MXNet too keeps the model when this fails)
            logging.info("Shape inference failed, original export is kept.")
    atomic_write(onnx_file_path, model.SerializeToString())
    logging.info("Input shape of the model %s ", in_shapes)
    logging.info("Exported ONNX file %s saved to disk", onnx_file_path)
    return onnx_file_path


def export_model(sym, params, in_shapes=None, in_types=np.float32,
                 onnx_file_path="model.onnx", verbose=False, dynamic=False,
                 dynamic_input_shapes=None, run_shape_inference=False, input_type=None,
                 input_shape=None, opset_version=None):
    """Export a symbol and its parameters to an ONNX file (MXNet 1.9's ``mx.onnx``).

    The inputs are the arguments that are not in ``params``, in ``list_arguments()``
    order, except the label of the last output (``<last node>_label``), as MXNet decides.
    Outputs are named as MXNet names them (``onnx_output_names``). The model computes
    what ``Module.predict`` computes (inference: Dropout off, BatchNorm on its moving
    statistics, loss heads as their forward, e.g. SoftmaxOutput as softmax).

    Parameters
    ----------
    sym : Symbol or str
        The symbol, or the path of a ``-symbol.json`` file.
    params : dict, list or str
        ``{name: NDArray}`` holding arg and aux parameters, ``[arg_params, aux_params]``, or
        the path of a ``.params`` file.
    in_shapes : list of tuple
        One shape per input, e.g. ``[(1, 3, 224, 224)]`` (not in MXNet: or a dict
        ``{input name: shape}``).
    in_types : numpy dtype or list of them, default np.float32
    onnx_file_path : str, default 'model.onnx'
    verbose : bool, default False
        Log torch.onnx's progress.
    dynamic : bool, default False
        Let input dims vary: those that are None in ``dynamic_input_shapes`` (which must
        then stay dynamic), else every dim the graph allows.
    dynamic_input_shapes : list of tuple, optional
    run_shape_inference : bool, default False
        Run onnx's shape inference on the result (kept as is when it fails).
    input_type, input_shape : optional
        MXNet's old names of ``in_types`` and ``in_shapes``.
    opset_version : int, optional
        Not in MXNet: the ONNX opset (default: torch.onnx's).

    Returns
    -------
    str
        ``onnx_file_path``.

    Raises
    ------
    MXNetTypeError, MXNetValueError
        A bad ``sym``/``params`` (a missing file, a missing parameter), or shapes/types
        that do not match the inputs.
    MXNetRuntimeError
        torch.onnx cannot export the graph.
    """
    if input_type is not None:
        in_types = input_type
    if input_shape is not None:
        in_shapes = input_shape
    symbol = _load_symbol(sym)
    params = _load_params(params)
    internals = symbol.get_internals()
    output_label = internals[len(internals) - 1].name + "_label"
    arg_params, aux_params = split_params(symbol, params)
    arg_params = {k: v for k, v in arg_params.items() if k in symbol.list_arguments()}
    inputs = [n for n in symbol.list_arguments() if n not in params and n != output_label]
    labels = [output_label] if output_label in symbol.list_arguments() and \
        output_label not in params else []
    if isinstance(in_shapes, dict):
        if sorted(in_shapes) != sorted(inputs):
            raise MXNetValueError(f"export_model: in_shapes names {sorted(in_shapes)}, the "
                                  f"inputs are {inputs}; give one shape per input")
        in_shapes = [in_shapes[n] for n in inputs]
    net = SymbolNet(symbol, arg_params, aux_params, input_names=inputs, label_names=labels)
    return export_net(net, onnx_file_path, in_shapes, in_types, dynamic=dynamic,
                      dynamic_input_shapes=dynamic_input_shapes,
                      run_shape_inference=run_shape_inference, verbose=verbose,
                      opset_version=opset_version)
