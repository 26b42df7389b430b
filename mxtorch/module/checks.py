"""Opt-in checks of a training step (``fit(..., check_nan=True)``), each naming the first bad
array: non-finite values in the batch (before forward), labels outside a SoftmaxOutput's
classes (before forward), and non-finite outputs or parameter gradients (after backward,
before the update, so the parameters are not touched). Each check copies a flag to the
host, one sync per batch: this is a debugging aid, off by default.
"""
import json

import torch

from ..base import MXNetValueError

__all__ = ["check_batch", "check_step"]


def _first_nonfinite(named_arrays):
    """``(name, index tuple, value)`` of the first non-finite element, or None."""
    for name, arr in named_arrays:
        t = arr.torch if hasattr(arr, "torch") else arr
        if not (t.is_floating_point() or t.is_complex()):
            continue
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            index = tuple(int(i) for i in bad.nonzero()[0])
            return name, index, float(t[index])
    return None


def _where(epoch, nbatch):
    return f"batch {nbatch} of epoch {epoch}"


def _softmax_heads(symbol):
    """``{label name: (output name, multi_output)}`` of the SoftmaxOutput heads."""
    graph = json.loads(symbol.tojson())
    nodes, heads = graph["nodes"], {}
    for node in nodes:
        if node["op"] != "SoftmaxOutput" or len(node["inputs"]) < 2:
            continue
        label = nodes[node["inputs"][1][0]]
        if label["op"] == "null":
            multi = str(node.get("attrs", {}).get("multi_output", "False")).lower() in ("true", "1")
            heads[label["name"]] = (node["name"] + "_output", multi)
    return heads


def check_batch(module, batch, epoch, nbatch):
    """Refuse a batch with NaN/Inf in its data or labels, or labels outside the classes of
    a SoftmaxOutput head, naming the array, the element and the batch. (A pre-sliced
    batch, a list of per-device batches, is checked device by device.)"""
    if isinstance(batch, list):
        for part in batch:
            check_batch(module, part, epoch, nbatch)
        return
    names = [d.name for d in module.data_shapes] + [d.name for d in module.label_shapes or []]
    arrays = list(batch.data or []) + list(batch.label or [])
    bad = _first_nonfinite(zip(names, arrays))
    if bad is not None:
        name, index, value = bad
        raise MXNetValueError(f"check_nan: input '{name}' holds {value} at index {index} in "
                              f"{_where(epoch, nbatch)}; clean the data (e.g. np.nan_to_num) "
                              "before fitting")
    shapes = dict(module.output_shapes)
    for name, label in zip(names[len(batch.data or []):], batch.label or []):
        head = _softmax_heads(module.symbol).get(name)
        if head is None or head[0] not in shapes:
            continue
        out_name, multi = head
        classes = shapes[out_name][1 if multi else -1]
        t = label.torch
        out = (t < 0) | (t >= classes) | (t != t.floor())
        if bool(out.any()):
            index = tuple(int(i) for i in out.nonzero()[0])
            raise MXNetValueError(
                f"check_nan: label '{name}' holds {float(t[index])} at index {index} in "
                f"{_where(epoch, nbatch)}, but '{out_name}' has {classes} classes: labels "
                f"must be integers in [0, {classes - 1}]")


def check_step(module, epoch, nbatch):
    """After forward/backward: refuse NaN/Inf in the outputs or the parameter gradients
    (Module only), naming the first bad array; call before ``update``."""
    outputs = list(zip(module.output_names, module.get_outputs()))
    bad = _first_nonfinite(outputs)
    what = "output"
    group = getattr(module, "_exec_group", None)
    if bad is None and group is not None and group.grad_arrays is not None:
        grads = [(f"{name} gradient", g) for name, per_dev in zip(group.param_names,
                                                                   group.grad_arrays)
                 for g in per_dev if g is not None]
        bad, what = _first_nonfinite(grads), "parameter"
    if bad is not None:
        name, index, value = bad
        raise MXNetValueError(f"check_nan: {what} '{name}' holds {value} at index {index} "
                              f"after {_where(epoch, nbatch)} (the update was not applied); "
                              "lower the learning rate, clip gradients (clip_gradient=...) "
                              "or check the inputs")
