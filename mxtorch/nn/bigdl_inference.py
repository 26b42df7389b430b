"""Inference with a BigDL module: ``predict``, ``predict_class``, ``evaluate`` with
validation methods, ``predict_image`` on a list or folder of images, ``quantize`` (int8
dynamic quantization through torch) and ``save_onnx`` (through torch.onnx).

Datasets here are an array of features (N, ...), a ``(features, labels)`` pair, an
iterable of ``(features, labels)`` batches, or an ``mx.io.DataIter``. As in BigDL,
predicting and evaluating leave the module in evaluation mode, and labels are 1-based.
``evaluate(..., distributed=True)`` sums the results of every worker's part over
torch.distributed (the summing lives in kvstore/dist.py's all_gather_rows).
"""
import os

import numpy as np
import torch

from ..base import MXNetRuntimeError, MXNetTypeError, MXNetValueError
from . import bigdl_tree as tree
from .bigdl_activity import as_tensor
from .bigdl_api import plain_mode
from .bigdl_validation import AccuracyResult, LossResult, ValidationMethod

__all__ = ["predict", "predict_class", "evaluate", "predict_image", "quantize", "save_onnx"]

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".pgm")


def _batch_size(batch_size):
    if batch_size is None or batch_size == -1:
        return 4 * max(torch.get_num_threads(), 1)   # BigDL: 4 per core
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise MXNetValueError(f"batch_size must be a positive int or -1, got {batch_size!r}")
    return int(batch_size)


def _batches(dataset, batch_size, call, need_labels):
    """Yield ``(features, labels or None)`` batches of ``dataset``."""
    from ..io import DataIter
    if isinstance(dataset, DataIter):
        dataset.reset()
        for b in dataset:
            n = b.data[0].shape[0] - (b.pad or 0)
            label = b.label[0][0:n] if b.label else None
            yield b.data[0][0:n], label
        return
    if isinstance(dataset, tuple) and len(dataset) == 2:
        features, labels = dataset
    elif isinstance(dataset, (np.ndarray, torch.Tensor)) or hasattr(dataset, "_data"):
        features, labels = dataset, None
    elif hasattr(dataset, "__iter__"):
        for item in dataset:
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise MXNetTypeError(f"{call}: an iterable dataset must yield (features, "
                                     f"labels) batches, got {type(item).__name__}")
            yield item
        return
    else:
        raise MXNetTypeError(f"{call}: dataset must be an array, (features, labels), an "
                             f"iterable of batches or a DataIter, got {type(dataset).__name__}")
    if need_labels and labels is None:
        raise MXNetValueError(f"{call}: needs labels; pass (features, labels)")
    features = as_tensor(features)
    labels = None if labels is None else as_tensor(labels)
    if labels is not None and len(labels) != len(features):
        raise MXNetValueError(f"{call}: {len(features)} samples but {len(labels)} labels")
    for i in range(0, len(features), batch_size):
        yield features[i:i + batch_size], None if labels is None else labels[i:i + batch_size]


def _run(module, x):
    with torch.no_grad():
        return module.forward(x)


def predict(module, dataset, batch_size=-1):
    """The module's outputs for every sample, concatenated (a list per output for a
    Table); the module is left in evaluation mode.

    Parameters
    ----------
    dataset : see the module docstring (labels, if any, are ignored)
    batch_size : int, default -1 (4 per CPU thread)
    """
    module.evaluate()
    size = _batch_size(batch_size)
    outs = [_run(module, x) for x, _ in _batches(dataset, size, "predict", False)]
    if not outs:
        raise MXNetValueError("predict: the dataset is empty")
    if isinstance(outs[0], list):
        return [torch.cat([o[i] for o in outs]) for i in range(len(outs[0]))]
    return torch.cat(outs)


def predict_class(module, dataset, batch_size=-1):
    """The 1-based class (argmax) of each sample's output, as an int64 tensor.

    Raises
    ------
    MXNetValueError
        When a sample's output is not 1-D.
    """
    out = predict(module, dataset, batch_size)
    if isinstance(out, list) or out.dim() != 2:
        shape = "a Table" if isinstance(out, list) else f"shape {tuple(out.shape)}"
        raise MXNetValueError(f"predict_class: each sample's output must be 1-D, got an "
                              f"output of {shape}")
    return out.argmax(dim=1) + 1


def evaluate(module, dataset, methods, batch_size=None, distributed=False):
    """Score ``module`` on ``dataset`` with validation methods.

    Parameters
    ----------
    dataset : (features, labels), iterable of batches, or DataIter (labels 1-based)
    methods : list of ValidationMethod (e.g. ``[Top1Accuracy(), Top5Accuracy(), Loss()]``)
    batch_size : int, optional (default 4 per CPU thread)
        BigDL Python's order ``(dataset, batch_size, methods)`` is accepted too.
    distributed : bool or KVStore, default False
        Evaluate across workers, as BigDL evaluates an RDD whose partitions live on all
        executors: every worker passes its own part of the data (e.g. an
        ``NDArrayIter(..., **mx.kv.data_shard())``, or ``x[rank::world]``; not the whole
        data, which would count each sample once per worker) and gets the one global
        result, the sums of every worker's counts. True uses the default process group
        (torchrun's, or one made with ``torch.distributed.init_process_group``); a KVStore
        from ``mx.kv.create('dist_sync')`` uses its group. Every worker must call it.

    Returns
    -------
    list of (ValidationResult, ValidationMethod)
        One per method, accumulated over the dataset (over every worker's part when
        ``distributed``).

    Raises
    ------
    MXNetTypeError
        For a method that is not a ValidationMethod, or a ``distributed`` that is neither
        a bool nor a KVStore.
    MXNetValueError
        ``distributed`` is a KVStore that is not distributed; the workers pass different
        numbers of methods; or a method's result is not an accuracy or a loss (only those
        can be summed over workers).
    MXNetRuntimeError
        ``distributed=True`` with no process group and no torchrun environment, or a
        worker died or timed out.
    """
    if isinstance(methods, (int, np.integer)) and isinstance(batch_size, (list, tuple)):
        methods, batch_size = batch_size, methods       # BigDL Python's argument order
    methods = list(methods) if isinstance(methods, (list, tuple)) else [methods]
    for m in methods:
        if not isinstance(m, ValidationMethod):
            raise MXNetTypeError(f"evaluate: methods must be ValidationMethods (Top1Accuracy(), "
                                 f"Top5Accuracy(), Loss()), got {type(m).__name__}")
    store = _evaluate_store(distributed)
    module.evaluate()
    results = [None] * len(methods)
    for x, y in _batches(dataset, _batch_size(batch_size), "evaluate", True):
        out = _run(module, x)
        for i, m in enumerate(methods):
            r = m(out, y)
            results[i] = r if results[i] is None else results[i] + r
    if store is not None:
        results = _summed_over_workers(store, results, methods)
    return list(zip(results, methods))


def _evaluate_store(distributed):
    """The DistKVStore whose workers ``evaluate`` sums over, or None."""
    from ..kvstore.kvstore import KVStore, distributed_arg
    distributed = distributed_arg(distributed, "evaluate", "distributed")
    if isinstance(distributed, KVStore):
        return distributed
    if not distributed:
        return None
    from ..kvstore.dist import DistKVStore
    return DistKVStore("dist_sync")   # joins the process group, or says how to start one


# the results that sum over workers: kind code -> (class, its two totals)
_SUMMABLE = {1: (AccuracyResult, ("correct", "count")), 2: (LossResult, ("loss", "count"))}


def _summed_over_workers(store, results, methods):
    """Every worker's results summed (one all-gather of a row of totals per method, in
    float64: counts stay exact), the same on every worker. A worker without batches sends
    kind 0; an unsummable result kind -1, so that every worker raises."""
    rows = []
    for r in results:
        kind = next((k for k, (cls, _) in _SUMMABLE.items() if type(r) is cls),
                    0 if r is None else -1)
        values = [getattr(r, a) for a in _SUMMABLE[kind][1]] if kind > 0 else [0, 0]
        rows.append([kind] + values)
    mine = torch.tensor(rows, dtype=torch.float64).reshape(len(results), 3)
    every = store.all_gather_rows(mine)
    if every.shape[0] != len(results) * store.num_workers:
        raise MXNetValueError(f"evaluate(distributed=...): the workers passed different "
                              f"numbers of methods ({every.shape[0]} results over "
                              f"{store.num_workers} workers, {len(results)} here); every "
                              "worker must pass the same methods")
    every = every.reshape(store.num_workers, len(results), 3)
    out = []
    for i, m in enumerate(methods):
        kinds = {int(k) for k in every[:, i, 0].tolist()} - {0}
        if -1 in kinds or len(kinds) > 1:
            raise MXNetValueError(f"evaluate(distributed=...): {m.format()} gives a result "
                                  "that cannot be summed over workers (only accuracies and "
                                  "losses can); evaluate it without distributed")
        if not kinds:
            out.append(None)
            continue
        cls, _ = _SUMMABLE[kinds.pop()]
        total = every[:, i, 1:].sum(dim=0).tolist()
        out.append(cls(round(total[0]) if cls is AccuracyResult else total[0],
                       round(total[1])))
    return out


def _load_image(item):
    """``(uri, float32 CHW array in [0, 1])`` of a path, PIL image or array (HW, HWC
    with C <= 4, or CHW)."""
    uri = None
    if isinstance(item, (str, os.PathLike)):
        from PIL import Image
        uri = os.fspath(item)
        with Image.open(uri) as img:
            item = np.asarray(img)
    elif hasattr(item, "getbands"):       # a PIL image
        item = np.asarray(item)
    arr = np.asarray(item)
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    arr = arr.astype(np.float32) / scale
    if arr.ndim == 2:
        arr = arr[None]
    elif arr.ndim == 3 and arr.shape[-1] <= 4 and arr.shape[0] > 4:
        arr = arr.transpose(2, 0, 1)
    elif arr.ndim != 3:
        raise MXNetValueError(f"predict_image: an image must be 2-D or 3-D, got shape "
                              f"{arr.shape}")
    return uri, arr


def predict_image(module, images, output_layer=None, share_buffer=False,
                  batch_per_partition=4, predict_key="predict", transform=None):
    """Predict images: returns one dict per image (BigDL's ImageFeature) with keys
    'uri' (path or None), 'image' (the CHW float input) and ``predict_key``.

    Parameters
    ----------
    images : list of paths, PIL images or arrays, or a folder path (its image files,
        sorted by name)
    output_layer : str, optional
        Name of a layer whose output is the prediction (default: the module's output).
    share_buffer : bool, default False
        Ignored (each prediction is its own tensor).
    batch_per_partition : int, default 4
        Images per forward.
    predict_key : str, default 'predict'
    transform : callable, optional
        Applied to each CHW float32 array before batching (e.g. resizing, normalizing).

    Raises
    ------
    MXNetValueError
        For an empty folder, images of different shapes in a batch (give a
        ``transform``), or an unknown ``output_layer``.
    """
    if isinstance(images, (str, os.PathLike)):
        folder = os.fspath(images)
        if not os.path.isdir(folder):
            raise MXNetValueError(f"predict_image: {folder!r} is not a folder")
        images = [os.path.join(folder, f) for f in sorted(os.listdir(folder))
                  if f.lower().endswith(_IMAGE_EXT)]
        if not images:
            raise MXNetValueError(f"predict_image: no image file in {folder!r}")
    layer = module
    if output_layer is not None:
        layer = tree.find(module, output_layer)
        if layer is None or not tree.is_bigdl(layer):
            raise MXNetValueError(f"predict_image: no layer named {output_layer!r}")
    features = []
    for item in images:
        uri, arr = _load_image(item)
        if transform is not None:
            arr = np.asarray(transform(arr), dtype=np.float32)
        features.append({"uri": uri, "image": arr})
    module.evaluate()
    size = int(batch_per_partition)
    for i in range(0, len(features), size):
        chunk = features[i:i + size]
        shapes = {f["image"].shape for f in chunk}
        if len(shapes) > 1:
            raise MXNetValueError(f"predict_image: images of different shapes {sorted(shapes)} "
                                  "in one batch; pass transform= to resize them")
        _run(module, np.stack([f["image"] for f in chunk]))
        out = layer.output
        for j, f in enumerate(chunk):
            f[predict_key] = [o[j] for o in out] if isinstance(out, list) else out[j]
    return features


def _quantized(mod):
    """The int8 dynamic quantized version of a Linear or Conv2d (subclasses too)."""
    import torch.ao.nn.quantized.dynamic as qd
    from torch.ao.quantization import default_dynamic_qconfig
    if isinstance(mod, torch.nn.Linear):
        plain = torch.nn.Linear(mod.in_features, mod.out_features, bias=mod.bias is not None)
        kind = qd.Linear
    else:
        plain = torch.nn.Conv2d(mod.in_channels, mod.out_channels, mod.kernel_size,
                                stride=mod.stride, padding=mod.padding, dilation=mod.dilation,
                                groups=mod.groups, bias=mod.bias is not None)
        kind = qd.Conv2d
    plain.load_state_dict(torch.nn.Module.state_dict(mod))
    plain.qconfig = default_dynamic_qconfig
    return kind.from_float(plain)


def quantize(module):
    """A new module (``module`` is unchanged) whose Linear and Conv2d layers are int8
    dynamically quantized with torch (weights int8, activations quantized per batch), in
    evaluation mode; quantized layers keep their BigDL names. Inference only."""
    from .bigdl_layers import Container, TorchLayer
    clone = module.clone_module()
    targets = (torch.nn.Linear, torch.nn.Conv2d)
    if isinstance(clone, targets):
        raise MXNetValueError("quantize: wrap a single layer in a Sequential to quantize it")
    for _, parent in tree.walk(clone):
        if not isinstance(parent, torch.nn.Module):
            continue
        for name, child in list(parent.named_children()):
            if not isinstance(child, targets):
                continue
            q = _quantized(child)
            if isinstance(parent, Container) or tree.is_bigdl(child):
                wrapped = TorchLayer(q)
                if tree.is_bigdl(child):
                    wrapped.set_name(child.get_name())
                q = wrapped
            parent.add_module(name, q)
    return clone.evaluate()


class _Exported(torch.nn.Module):
    """A BigDL module as a plain torch module for export (no caches, no timing graph)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *inputs):
        with plain_mode():
            return self.module.forward(list(inputs) if len(inputs) > 1 else inputs[0])


def save_onnx(module, path, input_shape, input_type="float32", opset_version=None):
    """Export ``module`` for inference (evaluation mode) to an ONNX file with torch.onnx.

    Parameters
    ----------
    path : str
    input_shape : tuple, or list of tuples for several inputs (batch first)
    input_type : dtype, default float32
    opset_version : int, optional

    Returns
    -------
    str
        ``path`` (written atomically).

    Raises
    ------
    ImportError
        onnx or onnxscript is missing.
    MXNetRuntimeError
        torch.onnx cannot export the module (the message says why).
    """
    import importlib.util
    from ..base import torch_dtype
    from ..util.atomic import atomic_write
    missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"save_onnx needs the packages {missing}: pip install onnx onnxscript")
    shapes = input_shape if input_shape and isinstance(input_shape[0], (list, tuple)) \
        else [input_shape]
    like = module._bigdl_like()
    args = tuple(torch.zeros(tuple(int(d) for d in s), dtype=torch_dtype(input_type),
                             device=None if like is None else like.device) for s in shapes)
    was_training = module.is_training()
    module.evaluate()
    try:
        program = torch.onnx.export(_Exported(module).eval(), args,
                                    input_names=[f"input{i}" if len(args) > 1 else "input"
                                                 for i in range(len(args))],
                                    opset_version=opset_version, dynamo=True, verbose=False)
    except Exception as e:  # torch.onnx wraps its many failure types
        raise MXNetRuntimeError(f"save_onnx: torch.onnx could not export "
                                f"{module.get_name()} ({type(e).__name__}: {e})") from e
    finally:
        module.set_training(was_training)
    atomic_write(path, program.model_proto.SerializeToString())
    return path
