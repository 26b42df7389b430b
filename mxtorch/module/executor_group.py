"""DataParallelExecutorGroup: one executor per context, each on a slice of the batch.

Owns the per-device executors, the slicing of a batch along each input's batch axis
(from its layout), loading batches into the executors, merging outputs and input
gradients, and the per-device metric update. Gradient aggregation and the optimizer
belong to Module (and the kvstore).
"""
import logging
import torch

from ..base import MXNetValueError, ShapeError, StateError
from ..ndarray.ndarray import NDArray, _as_tensor
from ..ndarray import sparse as _sparse
from ..io import DataDesc
from ..executor import Executor

__all__ = ["DataParallelExecutorGroup", "split_input_slice"]


def split_input_slice(batch_size, work_load_list):
    """Slices of a batch proportional to ``work_load_list`` (MXNet's rounding rules)."""
    total = sum(work_load_list)
    batch_num_list = [round(w * batch_size / total) for w in work_load_list]
    rest = batch_size - sum(batch_num_list)
    if rest > 0:
        batch_num_list[-1] += rest
    slices, end = [], 0
    for n in batch_num_list:
        begin = int(min(end, batch_size))
        end = int(min(begin + n, batch_size))
        if begin >= end:
            raise MXNetValueError(f"Too many slices. Some splits are empty: a batch of "
                                  f"{batch_size} cannot be split over {len(work_load_list)} "
                                  f"contexts with work_load_list {list(work_load_list)}; use "
                                  "a larger batch or fewer contexts")
        slices.append(slice(begin, end))
    return slices


def _load_into(src, dst, name):
    """Make ``dst`` hold ``src``: rebind the handle when no conversion is needed (no copy),
    else copy with a cast to dst's device and dtype."""
    t = src._data if isinstance(src, NDArray) else _as_tensor(src)
    d = dst._data
    if t.shape != d.shape:
        raise ShapeError(f"input {name!r} has shape {tuple(t.shape)} but the module is bound "
                         f"with {tuple(d.shape)}; call reshape() or forward a batch with "
                         "provide_data")
    if t.layout is not d.layout:   # csr batch into a dense input or back (MXNet's copyto)
        dst._data = _sparse.to_stype(t.detach(), _sparse.stype_of(d)).to(device=d.device,
                                                                         dtype=d.dtype)
    elif t.device == d.device and t.dtype == d.dtype:
        dst._data = t if not t.requires_grad else t.detach()
    else:
        dst._data = t.detach().to(device=d.device, dtype=d.dtype, non_blocking=True)


class DataParallelExecutorGroup:
    """Executors of one symbol on several contexts, sharing parameters by name.

    Parameters follow MXNet 1.9.1: symbol, contexts, workload, data_shapes,
    label_shapes, param_names, for_training, inputs_need_grad, shared_group=None,
    logger=logging, fixed_param_names=None, grad_req='write', state_names=None,
    group2ctxs=None; and ``accel`` (not in MXNet): the Module's opt-in accelerators
    (``mxtorch.executor.accel.Accelerate``), given to every executor.
    """

    def __init__(self, symbol, contexts, workload, data_shapes, label_shapes, param_names,
                 for_training, inputs_need_grad, shared_group=None, logger=logging,
                 fixed_param_names=None, grad_req="write", state_names=None, group2ctxs=None,
                 accel=None):
        self.param_names = list(param_names)
        self.arg_names = symbol.list_arguments()
        self.aux_names = symbol.list_auxiliary_states()
        self.symbol = symbol
        self.contexts = list(contexts)
        self.workload = list(workload)
        self.group2ctxs = _normalize_group2ctxs(group2ctxs, len(self.contexts))
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self.logger = logger
        self.fixed_param_names = list(fixed_param_names or [])
        self.state_names = list(state_names or [])
        self.shared_data_arrays = (shared_group.shared_data_arrays if shared_group is not None
                                   else [{} for _ in self.contexts])
        self.output_names = symbol.list_outputs()
        self.output_layouts = [DataDesc.get_batch_axis(symbol[i].attr("__layout__"))
                               for i in range(len(self.output_names))]
        self.data_shapes = None
        self.label_shapes = None
        self.execs = []
        self._default_execs = None
        self.accel = accel
        data_names = [x[0] for x in data_shapes]
        self.grad_req = self._grad_reqs(grad_req, data_names)
        self.bind_exec(data_shapes, label_shapes, shared_group)

    def _grad_reqs(self, grad_req, data_names):
        """Per-argument grad_req as MXNet decides it (params, data, labels, states)."""
        if not self.for_training:
            return {name: "null" for name in self.arg_names}
        if isinstance(grad_req, str):
            reqs = {}
            for name in self.arg_names:
                if name in self.param_names:
                    reqs[name] = "null" if name in self.fixed_param_names else grad_req
                elif name in data_names:
                    reqs[name] = grad_req if self.inputs_need_grad else "null"
                else:
                    reqs[name] = "null"
            return reqs
        if isinstance(grad_req, (list, tuple)):
            if len(grad_req) != len(self.arg_names):
                raise MXNetValueError(f"grad_req list has {len(grad_req)} entries for "
                                      f"{len(self.arg_names)} arguments")
            return dict(zip(self.arg_names, grad_req))
        if isinstance(grad_req, dict):
            reqs = self._grad_reqs("write", data_names)
            reqs.update(grad_req)
            return reqs
        raise MXNetValueError(f"grad_req must be a str, list or dict, got {type(grad_req)}")

    # ------------------------------------------------------------------ binding
    def decide_slices(self, data_shapes):
        """Batch size and per-device slices from the data descriptors' batch axes."""
        major_axis = [DataDesc.get_batch_axis(x.layout) for x in data_shapes]
        batch_size = None
        for desc, axis in zip(data_shapes, major_axis):
            if axis == -1:
                continue
            size = desc.shape[axis]
            if batch_size is not None and size != batch_size:
                raise MXNetValueError(f"all data must have the same batch size: batch_size = "
                                      f"{batch_size}, but {desc.name} has shape {desc.shape}")
            batch_size = size
        self.batch_size = batch_size
        self.slices = split_input_slice(batch_size, self.workload)
        return major_axis

    def _sliced_shape(self, shapes, i, major_axis):
        out = []
        for desc, axis in zip(shapes, major_axis):
            shape = list(desc.shape)
            if axis >= 0:
                shape[axis] = self.slices[i].stop - self.slices[i].start
            out.append(DataDesc(desc.name, tuple(shape), desc.dtype, desc.layout))
        return out

    def bind_exec(self, data_shapes, label_shapes, shared_group=None, reshape=False):
        """Bind (or, with reshape=True, reshape) one executor per context."""
        data_shapes = [x if isinstance(x, DataDesc) else DataDesc(*x) for x in data_shapes]
        if label_shapes is not None:
            label_shapes = [x if isinstance(x, DataDesc) else DataDesc(*x) for x in label_shapes]
        self.data_major_axis = self.decide_slices(data_shapes)
        self.label_major_axis = ([DataDesc.get_batch_axis(x.layout) for x in label_shapes]
                                 if label_shapes is not None else None)
        execs = []
        for i, ctx in enumerate(self.contexts):
            dshapes = self._sliced_shape(data_shapes, i, self.data_major_axis)
            lshapes = (self._sliced_shape(label_shapes, i, self.label_major_axis)
                       if label_shapes is not None else [])
            if reshape:
                execs.append(self._default_execs[i].reshape(
                    allow_up_sizing=True, **{d.name: d.shape for d in dshapes + lshapes}))
            else:
                shared_exec = shared_group.execs[i] if shared_group is not None else None
                execs.append(self._bind_ith_exec(i, dshapes + lshapes, shared_exec))
        self.execs = execs
        self.data_shapes, self.label_shapes = data_shapes, label_shapes
        self.data_names = [d.name for d in data_shapes]
        self.label_names = [d.name for d in label_shapes] if label_shapes is not None else []
        self._collect_arrays()

    def _bind_ith_exec(self, i, shapes, shared_exec):
        input_types = {}
        for desc in shapes:
            input_types[desc.name] = desc.dtype
        for name, attrs in self.symbol.attr_dict().items():
            if "__dtype__" in attrs and name in self.arg_names:
                input_types[name] = int(attrs["__dtype__"])
        return Executor.simple_bind(
            self.symbol, self.contexts[i], grad_req=self.grad_req, type_dict=input_types,
            shapes={d.name: d.shape for d in shapes}, shared_exec=shared_exec,
            shared_arg_names=self.param_names, shared_buffer=self.shared_data_arrays[i],
            group2ctx=self.group2ctxs[i], accel=self.accel)

    def _collect_arrays(self):
        execs = self.execs
        self.data_arrays = [[(self.slices[i], e.arg_dict[name]) for i, e in enumerate(execs)]
                            for name in self.data_names]
        self.label_arrays = ([[(self.slices[i], e.arg_dict[name]) for i, e in enumerate(execs)]
                              for name in self.label_names if name in self.arg_names]
                             if self.label_names else None)
        self.state_arrays = [[e.arg_dict[name] for e in execs] for name in self.state_names]
        self.param_arrays = [[e.arg_dict[name] for e in execs] for name in self.param_names]
        if self.for_training:
            self.grad_arrays = [[e.grad_dict[name] for e in execs] for name in self.param_names]
        else:
            self.grad_arrays = None
        self.aux_arrays = [[e.aux_dict[name] for e in execs] for name in self.aux_names]
        if self.inputs_need_grad:
            self.input_grad_arrays = [[e.grad_dict[name] for e in execs]
                                      for name in self.data_names if name in self.arg_names]
        else:
            self.input_grad_arrays = None
        self._data_pos = [self.arg_names.index(n) for n in self.data_names]
        self._label_pos = [self.arg_names.index(n) for n in self.label_names
                           if n in self.arg_names]

    def reshape(self, data_shapes, label_shapes):
        """Rebind the executors for new shapes, sharing parameters; a no-op if unchanged."""
        if data_shapes == self.data_shapes and label_shapes == self.label_shapes:
            return
        if self._default_execs is None:
            self._default_execs = list(self.execs)
        self.bind_exec(data_shapes, label_shapes, reshape=True)

    # ------------------------------------------------------------------ params
    def set_params(self, arg_params, aux_params, allow_extra=False):
        """Copy the given values into every executor."""
        for e in self.execs:
            e.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)

    def get_params(self, arg_params, aux_params):
        """Copy the device values (averaged over devices) into the given CPU arrays."""
        with torch.no_grad():
            for name, block in zip(self.param_names, self.param_arrays):
                _average_into(block, arg_params[name])
            for name, block in zip(self.aux_names, self.aux_arrays):
                _average_into(block, aux_params[name])

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        """Load the batch into the executors and run forward."""
        if is_train is None:
            is_train = self.for_training
        if isinstance(data_batch, list):
            if len(data_batch) != len(self.execs):
                raise MXNetValueError(f"forward: {len(data_batch)} per-device batches for "
                                      f"{len(self.execs)} devices")
            for e, db in zip(self.execs, data_batch):
                self._load(e, db.data, self._data_pos, self.data_names, None)
                if self._label_pos and db.label:
                    self._load(e, db.label, self._label_pos, self.label_names, None)
        else:
            data = data_batch.data
            if len(data) != len(self._data_pos):
                raise MXNetValueError(f"forward: the batch has {len(data)} data arrays but the "
                                      f"module is bound with data names {self.data_names}")
            label = getattr(data_batch, "label", None)
            if len(self.execs) == 1:   # one device: the whole batch, no slicing
                e = self.execs[0]
                args = e.arg_arrays
                for pos, arr, name in zip(self._data_pos, data, self.data_names):
                    _load_into(arr, args[pos], name)
                if self._label_pos and label:
                    for pos, arr, name in zip(self._label_pos, label, self.label_names):
                        _load_into(arr, args[pos], name)
                e.forward(is_train=is_train)
                return
            for i, e in enumerate(self.execs):
                self._load(e, data, self._data_pos, self.data_names,
                           (i, self.data_major_axis))
                if self._label_pos and label:
                    self._load(e, label, self._label_pos, self.label_names,
                               (i, self.label_major_axis))
        for e in self.execs:
            e.forward(is_train=is_train)

    def _load(self, ex, arrays, positions, names, slicing):
        for k, (pos, arr) in enumerate(zip(positions, arrays)):
            if slicing is not None and len(self.execs) > 1:
                i, axes = slicing
                axis = axes[k]
                if axis >= 0:
                    sl = self.slices[i]
                    t = arr._data if isinstance(arr, NDArray) else _as_tensor(arr)
                    arr = (_sparse.csr_rows(t, sl.start, sl.stop) if t.layout is torch.sparse_csr
                           else t.narrow(axis, sl.start, sl.stop - sl.start))
            _load_into(arr, ex.arg_arrays[pos], names[k])

    def backward(self, out_grads=None):
        """Backward on every executor (head gradients sliced per device)."""
        if not self.for_training:
            raise StateError("backward: the module is bound with for_training=False; bind with "
                             "for_training=True to compute gradients")
        if out_grads is not None and not isinstance(out_grads, (list, tuple)):
            out_grads = [out_grads]
        for i, e in enumerate(self.execs):
            grads = None
            if out_grads is not None:
                grads = []
                for g, axis in zip(out_grads, self.output_layouts):
                    if len(self.execs) > 1 and axis >= 0:
                        sl = self.slices[i]
                        t = g._data if isinstance(g, NDArray) else _as_tensor(g)
                        g = t.narrow(axis, sl.start, sl.stop - sl.start)
                    grads.append(g)
            e.backward(out_grads=grads)
        if self.input_grad_arrays and self.accel is not None and self.accel.scaler is not None:
            self._unscale_input_grads()

    def _unscale_input_grads(self):
        """fp16 loss scaling: the data gradients a caller reads are unscaled at once (the
        parameter gradients are unscaled by the update)."""
        inv = 1.0 / self.accel.scaler.scale
        with torch.no_grad():
            for block in self.input_grad_arrays:
                for g in block:
                    if g is not None:
                        g._data.mul_(inv)

    def get_output_shapes(self):
        """(name, shape) of each output with the batch axis set to the whole batch."""
        shapes = []
        for name, out, axis in zip(self.output_names, self.execs[0].outputs or [],
                                   self.output_layouts):
            shape = list(out.shape)
            if axis >= 0:
                shape[axis] = self.batch_size
            shapes.append((name, tuple(shape)))
        if not shapes:
            nodes = self.symbol._topo()
            known = {d.name: d.shape for d in self.data_shapes + (self.label_shapes or [])}
            inferred, _ = self.symbol._infer_shapes(nodes, known, {})
            outs = self.symbol._collect(nodes, inferred, lambda s: s)[1]
            shapes = list(zip(self.output_names, outs))
        return shapes

    def get_outputs(self, merge_multi_context=True, begin=0, end=None):
        """Outputs; merged across devices along each output's batch axis if asked."""
        end = len(self.output_names) if end is None else end
        if merge_multi_context and len(self.execs) == 1:
            return self.execs[0].outputs[begin:end]
        outputs = [[e.outputs[i] for e in self.execs] for i in range(begin, end)]
        if merge_multi_context:
            return _merge(outputs, self.output_layouts[begin:end])
        return outputs

    def get_states(self, merge_multi_context=True):
        if merge_multi_context:
            raise MXNetValueError("merge_multi_context=True is not supported for get_states")
        return self.state_arrays

    def set_states(self, states=None, value=None):
        if states is not None:
            if value is not None:
                raise MXNetValueError("Only one of states & value can be specified.")
            for dst_block, src in zip(self.state_arrays, states):
                srcs = src if isinstance(src, (list, tuple)) else [src] * len(dst_block)
                for d, s in zip(dst_block, srcs):
                    d[:] = s
        else:
            if value is None:
                raise MXNetValueError("At least one of states & value must be specified.")
            for block in self.state_arrays:
                for d in block:
                    d[:] = value

    def get_input_grads(self, merge_multi_context=True):
        if not self.inputs_need_grad:
            raise StateError("get_input_grads: bind with inputs_need_grad=True first")
        if merge_multi_context:
            return _merge(self.input_grad_arrays, self.data_major_axis)
        return self.input_grad_arrays

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Update ``eval_metric`` once per device with that device's outputs and labels."""
        for i, e in enumerate(self.execs):
            if pre_sliced:
                labels_slice = labels[i]
            elif len(self.execs) == 1:
                labels_slice = labels
            else:
                labels_slice = []
                for label, axis in zip(labels, self.label_major_axis or [0] * len(labels)):
                    t = label._data if isinstance(label, NDArray) else _as_tensor(label)
                    if axis >= 0:
                        sl = self.slices[i]
                        t = t.narrow(axis, sl.start, sl.stop - sl.start)
                    labels_slice.append(NDArray(t))
            labels_ = dict(zip(self.label_names, labels_slice))
            preds = dict(zip(self.output_names, e.outputs))
            eval_metric.update_dict(labels_, preds)

    def install_monitor(self, mon):
        for e in self.execs:
            mon.install(e)


def _normalize_group2ctxs(group2ctxs, num_device):
    """One ``{group: Context}`` (or None) per device, from MXNet's accepted forms: None,
    a dict (group -> Context, 1-element list, or a list with one context per device), or
    a list of such dicts (one per device)."""
    if group2ctxs is None:
        return [None] * num_device
    if isinstance(group2ctxs, list):
        if len(group2ctxs) != num_device:
            raise MXNetValueError(f"group2ctxs has {len(group2ctxs)} entries for {num_device} "
                                  "contexts; give one dict per context")
        return [_normalize_group2ctxs(g, 1)[0] if isinstance(g, dict) else g
                for g in group2ctxs]
    if not isinstance(group2ctxs, dict):
        raise MXNetValueError("group2ctxs must be a dict or a list of dicts, got "
                              f"{type(group2ctxs).__name__}")
    out = [{} for _ in range(num_device)]
    for group, ctxs in group2ctxs.items():
        if not isinstance(ctxs, (list, tuple)):
            ctxs = [ctxs]
        if len(ctxs) == 1:
            ctxs = list(ctxs) * num_device
        if len(ctxs) != num_device:
            raise MXNetValueError(f"group2ctxs[{group!r}] lists {len(ctxs)} contexts for "
                                  f"{num_device} devices; give 1 or {num_device}")
        for i, c in enumerate(ctxs):
            out[i][group] = c
    return out


def _average_into(block, dst):
    if len(block) == 1:
        src = block[0]._data
    else:
        src = sum(w._data.to(block[0]._data.device) for w in block) / len(block)
    if dst.stype == "row_sparse":   # a row_sparse parameter: every row is stored
        _sparse.rebind(dst, _sparse.dense_to_rsp(src.to(device=dst._data.device,
                                                         dtype=dst._data.dtype), all_rows=True))
        return
    dst._data.copy_(src.to(dtype=dst._data.dtype))


def _merge(blocks, axes):
    merged = []
    for block, axis in zip(blocks, axes):
        if len(block) == 1 or axis < 0:
            merged.append(block[0])
            continue
        dev = block[0]._data.device
        merged.append(NDArray(torch.cat([b._data.to(dev) for b in block], dim=axis),
                              block[0]._ctx))
    return merged
