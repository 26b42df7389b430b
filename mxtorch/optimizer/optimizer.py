"""The ``Optimizer`` base class and registry: hyperparameters, learning-rate rules
(scheduler, lr_mult / wd_mult from the symbol), per-device update counters, the
multi-precision wrapper, and the one entry point that updates many parameters at once.

Concrete optimizers (sgd.py, nag.py, adam.py) supply only the arithmetic: ``_fused_step``
on lists of raw tensors with torch ``_foreach_*`` ops and ``_reference_step`` on one
parameter; this file decides lrs, wds and update counts exactly as MXNet 1.9.1 does.
"""
import copy
import math
import warnings
from array import array

import numpy as np
import torch

from ..base import MXNetTypeError, MXNetValueError, numeric_types
from ..ndarray.ndarray import NDArray

__all__ = ["Optimizer", "register", "create"]


class _WatchedDict(dict):
    """A dict that counts its mutations, so per-index caches know when to refresh."""
    __slots__ = ("version",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = 0

    def _bump(name):  # noqa: N805 - helper building mutating methods
        base = getattr(dict, name)

        def method(self, *args, **kwargs):
            self.version += 1
            return base(self, *args, **kwargs)
        method.__name__ = name
        return method

    for _n in ("__setitem__", "__delitem__", "update", "pop", "popitem", "clear",
               "setdefault", "__ior__"):
        locals()[_n] = _bump(_n)
    del _n, _bump

    def copy(self):
        return dict(self)


def _watched_property(name):
    attr = "_" + name

    def getter(self):
        return self.__dict__[attr]

    def setter(self, value):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise MXNetTypeError(f"Optimizer.{name} must be a dict, got {type(value).__name__}")
        self.__dict__[attr] = _WatchedDict(value)
        self.__dict__["_mult_epoch"] = self.__dict__.get("_mult_epoch", 0) + 1
    return property(getter, setter)


def _f32(values):
    """Round Python floats to float32 precision (MXNet passes hyperparameters to its
    kernels as float32), returned as Python floats."""
    return array("f", values).tolist()


def _check_number(opt, name, value, low=None, low_open=False, high=None, high_open=False,
                  allow_none=False):
    """Validate one hyperparameter at construction; the message names the bad value."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numeric_types):
        raise MXNetTypeError(f"{opt}: {name} must be a number, got {value!r}")
    bad = math.isnan(value)
    if low is not None:
        bad = bad or (value <= low if low_open else value < low)
    if high is not None:
        bad = bad or (value >= high if high_open else value > high)
    if bad:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}, "
        hi = "inf)" if high is None else f"{high}" + (")" if high_open else "]")
        raise MXNetValueError(f"{opt}: invalid {name} value: {value} (expected {lo}{hi})")


class Optimizer:
    """The base class of all optimizers.

    Parameters
    ----------
    rescale_grad : float, optional, default 1.0
        Gradients are multiplied by this before the update (often ``1/batch_size``).
    param_idx2name : dict of int to str, optional, default None
        Parameter names by index; used for lr_mult/wd_mult by name and to switch weight
        decay off for names that end neither in ``_weight`` nor ``_gamma``.
    wd : float, optional, default 0.0
        Weight decay (L2) coefficient, >= 0.
    clip_gradient : float, optional, default None
        Clip the (rescaled) gradient to ``[-clip_gradient, clip_gradient]``; None, 0 or a
        negative value turn clipping off.
    learning_rate : float, optional, default None
        The learning rate, >= 0. If given next to ``lr_scheduler`` it overwrites the
        scheduler's ``base_lr``. Without both, 0.01.
    lr_scheduler : LRScheduler, optional, default None
        Gives the learning rate from the number of updates.
    sym : Symbol, optional, default None
        Its ``__lr_mult__`` / ``__wd_mult__`` attributes set per-parameter multipliers.
    begin_num_update : int, optional, default 0
        The update count to start from.
    multi_precision : bool, optional, default False
        For float16 weights, keep a float32 master copy and update that.
    param_dict : dict of int to Parameter, optional, default None
        Objects with ``lr_mult`` / ``wd_mult`` attributes (Gluon style), read at every
        update; they take precedence over the dicts.

    Raises
    ------
    MXNetValueError
        For a negative learning rate, wd or begin_num_update.
    MXNetTypeError
        If ``param_idx2name`` is not a dict or a hyperparameter is not a number.
    """
    opt_registry = {}
    #: updates run through ``_fused_step`` (torch ``_foreach_*``); set False on an
    #: instance to use the per-parameter ``_reference_step`` loop instead
    fused = True
    #: MXNet groups up to this many same-dtype parameters in one update call (SGD: 4)
    aggregate_num = 0
    #: position of the float32 master copy in a multi-precision state (base: first)
    _mp_master_pos = 0
    #: the fused step groups parameters by equal (lr, wd, ...) and runs scalar-argument
    #: foreach ops per group (no temporaries); above this many groups it switches to
    #: per-parameter scalar lists
    _max_scalar_groups = 4

    lr_mult = _watched_property("lr_mult")
    wd_mult = _watched_property("wd_mult")
    idx2name = _watched_property("idx2name")

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0.,
                 clip_gradient=None, learning_rate=None,
                 lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None):
        name = type(self).__name__
        _check_number(name, "learning_rate", learning_rate, low=0.0, allow_none=True)
        _check_number(name, "wd", wd, low=0.0)
        _check_number(name, "rescale_grad", rescale_grad)
        _check_number(name, "clip_gradient", clip_gradient, allow_none=True)
        _check_number(name, "begin_num_update", begin_num_update, low=0)
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise MXNetTypeError(f"{name}: param_idx2name should be a dict of param indexes "
                                 f"to names, got {type(param_idx2name).__name__}")
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if self.lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if self.lr_scheduler is not None and learning_rate is not None:
            if self.lr_scheduler.base_lr != learning_rate:
                print(UserWarning("learning rate from ``lr_scheduler`` has been "
                                  "overwritten by ``learning_rate`` in optimizer."))
                self.lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._all_index_update_counts = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.idx2name = param_idx2name.copy()
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.allow_np_array = False
        self._mult_cache, self._mult_key = {}, None
        self.set_lr_mult({})
        self.set_wd_mult({})

    # ------------------------------------------------------------------ registry
    @staticmethod
    def register(klass):
        """Register an optimizer class under its lower-cased class name, so that
        ``create('name')`` builds it. Returns the class (usable as a decorator)."""
        if not isinstance(klass, type):
            raise MXNetTypeError(f"register expects a class, got {klass!r}")
        name = klass.__name__.lower()
        if name in Optimizer.opt_registry:
            warnings.warn(f"WARNING: New optimizer {klass.__module__}.{klass.__name__} is "
                          f"overriding existing optimizer "
                          f"{Optimizer.opt_registry[name].__module__}."
                          f"{Optimizer.opt_registry[name].__name__}")
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """Instantiate the registered optimizer ``name`` (case-insensitive) with kwargs.

        Raises
        ------
        MXNetValueError
            If no optimizer of that name is registered (the message lists them).
        """
        key = name.lower() if isinstance(name, str) else name
        if key in Optimizer.opt_registry:
            return Optimizer.opt_registry[key](**kwargs)
        known = ", ".join(sorted(Optimizer.opt_registry))
        raise MXNetValueError(f"Cannot find optimizer {name!r}; registered optimizers: "
                              f"{known} (register new ones with mx.optimizer.register)")

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self):
        """The current learning rate: the scheduler's value at ``num_update`` if there
        is a scheduler, else ``lr``."""
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr):
        """Set the learning rate.

        Raises
        ------
        UserWarning
            If the optimizer has an lr_scheduler (change the scheduler instead).
        """
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been "
                              "defined. Note that set_learning_rate can mutate "
                              "the value of the learning rate of the optimizer "
                              "only when the LRScheduler of the optimizer is "
                              "undefined.")
        self.lr = lr

    def set_lr_scale(self, args_lrscale):
        """[DEPRECATED] Use set_lr_mult instead."""
        raise DeprecationWarning("set_lr_scale is deprecated: use set_lr_mult")

    def set_lr_mult(self, args_lr_mult):
        """Set per-parameter learning-rate multipliers: the symbol's ``__lr_mult__``
        attributes (for its arguments), then ``args_lr_mult`` (keys: names or indices)."""
        lr_mult = {}
        if self.sym_info:
            attr, arg_names = self.sym_info
            for name in arg_names:
                if name in attr and '__lr_mult__' in attr[name]:
                    lr_mult[name] = float(attr[name]['__lr_mult__'])
        lr_mult.update(args_lr_mult)
        self.lr_mult = lr_mult

    def set_wd_mult(self, args_wd_mult):
        """Set per-parameter weight-decay multipliers: 0 for every name in idx2name not
        ending in ``_weight`` or ``_gamma``, then the symbol's ``__wd_mult__`` attributes,
        then ``args_wd_mult`` (keys: names or indices)."""
        wd_mult = {}
        for n in self.idx2name.values():
            if not (n.endswith('_weight') or n.endswith('_gamma')):
                wd_mult[n] = 0.0
        if self.sym_info:
            attr, arg_names = self.sym_info
            for name in arg_names:
                if name in attr and '__wd_mult__' in attr[name]:
                    wd_mult[name] = float(attr[name]['__wd_mult__'])
        wd_mult.update(args_wd_mult)
        self.wd_mult = wd_mult

    # ------------------------------------------------------------------ counters
    def load_progress(self, saved):
        """Continue where ``saved`` (an optimizer restored from a states file) stopped:
        take its update counts, learning rate and lr schedule; keep everything else
        (multipliers, names, hyper-parameters) as this optimizer has them."""
        self.begin_num_update = saved.begin_num_update
        self.num_update = saved.num_update
        self._all_index_update_counts = copy.deepcopy(
            getattr(saved, "_all_index_update_counts", {0: dict(saved._index_update_count)}))
        self._index_update_count = self._all_index_update_counts.setdefault(0, {})
        self.lr = saved.lr
        self.lr_scheduler = copy.deepcopy(saved.lr_scheduler)

    def _set_current_context(self, device_id):
        """Select the per-device update counters (MXNet keeps one set per device id)."""
        counts = self._all_index_update_counts.get(device_id)
        if counts is None:
            counts = self._all_index_update_counts[device_id] = {}
        self._index_update_count = counts

    def _update_count(self, index):
        """Count one update of ``index`` (or of each index in a list) on the current
        device and raise ``num_update`` to the largest count."""
        if not isinstance(index, (list, tuple)):
            index = [index]
        counts = self._index_update_count
        for idx in index:
            c = counts.get(idx, self.begin_num_update) + 1
            counts[idx] = c
            if c > self.num_update:
                self.num_update = c

    # ------------------------------------------------------------------ lr / wd
    def _mults(self, index):
        """(lr_mult, wd_mult) of one index, cached until a multiplier dict changes."""
        if self.param_dict and index in self.param_dict:
            p = self.param_dict[index]
            return p.lr_mult, p.wd_mult
        key = (self._mult_epoch, self._lr_mult.version, self._wd_mult.version,
               self._idx2name.version)
        if key != self._mult_key:
            self._mult_cache, self._mult_key = {}, key
        m = self._mult_cache.get(index)
        if m is None:
            m = []
            for table in (self._lr_mult, self._wd_mult):
                if index in table:
                    m.append(table[index])
                elif index in self._idx2name:
                    m.append(table.get(self._idx2name[index], 1.0))
                else:
                    m.append(1.0)
            m = self._mult_cache[index] = tuple(m)
        return m

    def _base_lr(self):
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def _get_lrs(self, indices):
        """Learning rates for ``indices`` (current base lr times each lr_mult)."""
        lr = self._base_lr()
        return [lr * self._mults(i)[0] for i in indices]

    def _get_lr(self, index):
        """The learning rate of one index."""
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        """Weight decays for ``indices`` (wd times each wd_mult)."""
        return [self.wd * self._mults(i)[1] for i in indices]

    def _get_wd(self, index):
        """The weight decay of one index."""
        return self._get_wds([index])[0]

    def _rates(self, indices, weights):
        """Count the updates and return ``(lrs, wds, ts)`` per position, in MXNet's
        order: same-dtype chunks of ``aggregate_num`` when aggregating, else one index at
        a time (this matters only for a scheduler: each call sees ``num_update`` as it
        is after counting its own chunk). ``ts`` are the per-index counts."""
        n = len(indices)
        lrs, wds, ts = [0.0] * n, [0.0] * n, [0] * n
        if self.aggregate_num > 0:
            by_dtype = {}
            for p, w in enumerate(weights):
                by_dtype.setdefault(w._data.dtype, []).append(p)
            step = self.aggregate_num
            chunks = [ps[s:s + step] for ps in by_dtype.values() for s in range(0, len(ps), step)]
        else:
            chunks = [[p] for p in range(n)]
        counts, begin, wd = self._index_update_count, self.begin_num_update, self.wd
        sched = self.lr_scheduler
        lr = self.lr
        for chunk in chunks:
            for p in chunk:
                idx = indices[p]
                c = counts.get(idx, begin) + 1
                counts[idx] = c
                ts[p] = c
                if c > self.num_update:
                    self.num_update = c
            if sched is not None:
                lr = sched(self.num_update)
            for p in chunk:
                lm, wm = self._mults(indices[p])
                lrs[p] = lr * lm
                wds[p] = wd * wm
        return lrs, wds, ts

    # ------------------------------------------------------------------ states
    def create_state(self, index, weight):
        """The auxiliary state of one weight (None, an NDArray or a tuple of them);
        called once per index by the Updater."""
        return None

    def create_state_multi_precision(self, index, weight):
        """Like :meth:`create_state`, adding a float32 master copy for float16 weights
        when ``multi_precision`` is on: ``(weight32, state)`` (SGD and NAG: reversed)."""
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            inner = self.create_state(index, master)
            return (master, inner) if self._mp_master_pos == 0 else (inner, master)
        if weight.dtype == np.float16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to "
                          "poor accuracy or slow convergence. "
                          "Consider using multi_precision=True option of the "
                          f"{type(self).__name__} optimizer")
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        """Update ``weight`` in place from ``grad`` and ``state``. ``index``, ``weight``,
        ``grad`` and ``state`` are single values or equally long lists.

        Raises
        ------
        NotImplementedError
            In a subclass that defines neither ``update`` nor ``_fused_step``.
        """
        if type(self)._fused_step is Optimizer._fused_step:
            raise NotImplementedError(f"{type(self).__name__} must implement update()")
        self._update_many(index, weight, grad, state, allow_mp=False)

    def update_multi_precision(self, index, weight, grad, state):
        """Like :meth:`update`; float16 weights with a multi-precision state are updated
        through their float32 master copy, which is then cast back into the weight."""
        if self._native():
            self._update_many(index, weight, grad, state, allow_mp=True)
            return
        # MXNet's wrapper, for subclasses that define only update()
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update_multi_precision(i, w, g, s)
            return
        if self._is_mp(weight, state):
            pos = self._mp_master_pos
            master, inner = state[pos], state[1 - pos]
            self.update(index, master, grad.astype(np.float32), inner)
            with torch.no_grad():
                weight._data.copy_(master._data)
        else:
            self.update(index, weight, grad, state)

    @classmethod
    def _native(cls):
        """True when this class updates through ``_fused_step`` (update and
        update_multi_precision not overridden), so lists go to one fused call."""
        return (cls._fused_step is not Optimizer._fused_step
                and cls.update is Optimizer.update
                and cls.update_multi_precision is Optimizer.update_multi_precision)

    def _is_mp(self, weight, state):
        if not (self.multi_precision and weight.dtype == np.float16
                and isinstance(state, (tuple, list)) and len(state) == 2):
            return False
        master = state[self._mp_master_pos]
        return isinstance(master, NDArray) and master.dtype == np.float32

    def _update_many(self, indices, weights, grads, states, allow_mp):
        """Count, look up lrs/wds, then update same-(device, dtype, precision) groups of
        parameters with one fused call each."""
        if not isinstance(indices, (list, tuple)):
            indices, weights, grads, states = [indices], [weights], [grads], [states]
        if not indices:
            return
        groups = {}
        for p, w in enumerate(weights):
            t = w._data
            if t.shape != grads[p]._data.shape:    # checked before any counter moves
                raise MXNetValueError(
                    f"{type(self).__name__}.update: gradient shape "
                    f"{tuple(grads[p]._data.shape)} does not match weight shape "
                    f"{tuple(t.shape)} for index {indices[p]!r}")
            mp = allow_mp and t.dtype == torch.float16 and self._is_mp(w, states[p])
            groups.setdefault((t.device, t.dtype, mp), []).append(p)
        lrs, wds, ts = self._rates(indices, weights)
        prev = torch.is_grad_enabled()   # no_grad's effect without its Python calls
        torch._C._set_grad_enabled(False)
        try:
            for (_, _, mp), ps in groups.items():
                W = [weights[p]._data for p in ps]
                G = [grads[p]._data for p in ps]
                S = [states[p] for p in ps]
                hyper = ([lrs[p] for p in ps], [wds[p] for p in ps], [ts[p] for p in ps])
                if mp:
                    pos = self._mp_master_pos
                    masters = [s[pos]._data for s in S]
                    G32 = torch._foreach_mul(masters, 0.0)    # float32 buffers for the cast
                    torch._foreach_copy_(G32, G)
                    self._run(masters, G32, [s[1 - pos] for s in S], *hyper)
                    torch._foreach_copy_(W, masters)
                else:
                    self._run(W, G, S, *hyper)
        finally:
            torch._C._set_grad_enabled(prev)

    def _run(self, W, G, S, lrs, wds, ts):
        if self.fused:
            self._fused_step(W, G, S, lrs, wds, ts)
        else:
            for i in range(len(W)):
                self._reference_step(W[i], G[i], S[i], lrs[i], wds[i], ts[i])

    def _clip_value(self):
        """The clip bound the kernels use, or None when clipping is off (MXNet clips
        only when ``clip_gradient`` is truthy and non-negative)."""
        c = self.clip_gradient
        return _f32([c])[0] if c and c >= 0 else None

    def _scalar_groups(self, *per_param):
        """``{(v1, v2, ...): positions}`` grouping parameters with equal hyperparameters,
        or None when there are more than ``_max_scalar_groups`` distinct tuples."""
        groups = {}
        limit = self._max_scalar_groups
        for p, key in enumerate(zip(*per_param)):
            ps = groups.get(key)
            if ps is None:
                if len(groups) >= limit:
                    return None
                ps = groups[key] = []
            ps.append(p)
        return groups

    @staticmethod
    def _subsets(groups, *lists):
        """For each group: ``(key, sublist, sublist, ...)`` (the lists themselves when
        there is a single group)."""
        if len(groups) == 1:
            key = next(iter(groups))
            yield (key,) + lists
            return
        for key, ps in groups.items():
            yield (key,) + tuple([[lst[p] for p in ps] for lst in lists])

    def _fused_step(self, W, G, S, lrs, wds, ts):
        """Update the float tensors ``W`` in place from ``G`` (never modified) and the
        inner states ``S``, all parameters at once. ``lrs``/``wds`` are per-parameter
        floats, ``ts`` the per-index update counts."""
        raise NotImplementedError

    def _reference_step(self, w, g, state, lr, wd, t):
        """The same update on one parameter, written plainly (checks the fused path)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ copies
    def __getstate__(self):
        ret = self.__dict__.copy()
        ret.pop("param_dict", None)
        return ret

    def __setstate__(self, state):
        self.__dict__ = state
        self.param_dict = {}

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.lr}, wd={self.wd})"


register = Optimizer.register   # pylint: disable=invalid-name
create = Optimizer.create_optimizer  # pylint: disable=invalid-name
