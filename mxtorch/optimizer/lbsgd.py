"""LBSGD (``mx.optimizer.LBSGD``), large-batch SGD: gradients accumulated per parameter
over ``batch_scale`` calls, then an SGD step with a warmup (or LARS) learning-rate
multiplier, as MXNet 1.9.1 computes it. One parameter at a time, as MXNet does."""
import logging
import math

import torch

from ..base import MXNetValueError
from .optimizer import Optimizer, _check_number, register
from .sgd import SGD
from ._kernels import zeros_like

__all__ = ["LBSGD"]

_STRATEGIES = ("linear", "power2", "sqrt", "lars")


@register
class LBSGD(Optimizer):
    """Large-batch SGD with momentum, weight decay and learning-rate warmup.

    Each call adds the gradient to this parameter's sum; every ``batch_scale``-th call
    (counting from ``begin_epoch * updates_per_epoch``) runs the SGD update (see
    :class:`SGD`) on ``sum / batch_scale`` with ``lr * mult``, where ``mult`` rises from
    1 to ``batch_scale`` over ``warmup_epochs * updates_per_epoch`` calls ('linear',
    'power2', 'sqrt'), or is the LARS ratio ``sqrt(|w|^2 / (|g|^2 + wd |w|^2))`` clipped
    to [0.01, 100] ('lars'); other calls leave the weight as it is.

    Parameters
    ----------
    momentum : float, optional, default 0.0
    multi_precision : bool, optional, default False
    warmup_strategy : {'linear', 'power2', 'sqrt', 'lars'}, optional, default 'linear'
    warmup_epochs : int, optional, default 5
    batch_scale : int, optional, default 1
    updates_per_epoch : int, optional, default 32
    begin_epoch : int, optional, default 0
    num_epochs : int, optional, default 60
        Stored only (MXNet does not use it).
    **kwargs
        See :class:`Optimizer`.

    Raises
    ------
    MXNetValueError
        For a negative momentum, a batch_scale below 1 or an unknown warmup strategy.

    Notes
    -----
    As in MXNet, the learning rate is read before the update is counted (a scheduler
    sees the previous count), and the accumulated gradients live in the optimizer
    (``cumgrads``), so they are saved with ``dump_optimizer=True``; the first gradient
    of a sum is kept by reference, not copied. The state is the momentum (or None);
    multi-precision ``(weight32, momentum or None)``.
    """

    def __init__(self, momentum=0.0, multi_precision=False, warmup_strategy='linear',
                 warmup_epochs=5, batch_scale=1, updates_per_epoch=32, begin_epoch=0,
                 num_epochs=60, **kwargs):
        _check_number("LBSGD", "momentum", momentum, low=0.0)
        _check_number("LBSGD", "batch_scale", batch_scale, low=1)
        if warmup_strategy not in _STRATEGIES:
            # MXNet falls back to a multiplier of 1 for unknown names; a typo is more likely
            raise MXNetValueError(f"LBSGD: unknown warmup_strategy {warmup_strategy!r}; use "
                                  f"one of {', '.join(_STRATEGIES)}")
        super().__init__(**kwargs)
        logging.info('Running Large-Batch SGD Algorithm')
        logging.info('(Batch_scale=%f, warmup_epochs=%d, warmup_strategy=%s, '
                     'updates_per_epoch=%d)', batch_scale, warmup_epochs, warmup_strategy,
                     updates_per_epoch)
        self.momentum = momentum
        self.multi_precision = multi_precision
        self.warmup_strategy = warmup_strategy
        self.warmup_epochs = warmup_epochs
        self.batch_scale = batch_scale
        self.updates_per_epoch = updates_per_epoch
        self.init_updates = begin_epoch * updates_per_epoch
        self.num_epochs = num_epochs
        self.lbmult = 1
        self.cumgrads = {}
        self.adaptive = False
        self.admult = 1

    def create_state(self, index, weight):
        """A zero momentum like ``weight``, or None when momentum is 0."""
        return zeros_like(weight) if self.momentum != 0.0 else None

    def _get_lbmult(self, nup):
        """The warmup multiplier after ``nup`` accumulated calls."""
        nwup = self.warmup_epochs * self.updates_per_epoch
        maxmult = float(self.batch_scale)
        if nup >= nwup:
            return maxmult
        if nwup <= 1:
            return 1.0
        if self.warmup_strategy == 'linear':
            return 1.0 + (maxmult - 1) * nup / nwup
        if self.warmup_strategy == 'power2':
            return 1.0 + (maxmult - 1) * (nup * nup) / (nwup * nwup)
        if self.warmup_strategy == 'sqrt':
            return 1.0 + (maxmult - 1) * math.sqrt(float(nup) / nwup)
        return 1.0

    def _get_lars(self, weight, g, wd):
        """The LARS multiplier, clipped to [0.01, 100] (reads the norms on the host)."""
        weight2 = float((weight * weight).sum())
        grad2 = float((g * g).sum())
        return min(max(math.sqrt(weight2 / (grad2 + wd * weight2 + 1e-18)), 0.01), 100)

    def _cumulate_gradient(self, grad, index):
        cgrad = self.cumgrads.get(index, {})
        if cgrad and cgrad['num_cums'] > 0:
            cgrad = {'cum_grad': cgrad['cum_grad'] + grad, 'num_cums': cgrad['num_cums'] + 1}
        else:
            cgrad = {'cum_grad': grad, 'num_cums': self.init_updates + 1}
        self.cumgrads[index] = cgrad
        return cgrad

    def update(self, index, weight, grad, state):
        """Accumulate ``grad`` and, every ``batch_scale`` calls, update ``weight``."""
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update(i, w, g, s)
            return
        lr, wd = self._get_lr(index), self._get_wd(index)
        self._update_count(index)
        cgrad = self._cumulate_gradient(grad, index)
        if cgrad['num_cums'] % self.batch_scale != 0:
            return                           # MXNet: sgd_update with lr 0 (no change)
        g = cgrad['cum_grad']._data / self.batch_scale
        with torch.no_grad():
            if self.warmup_strategy == 'lars':
                lr = lr * self._get_lars(weight._data, g, wd)
            else:
                lr = lr * self._get_lbmult(cgrad['num_cums'])
            SGD._reference_step(self, weight._data, g, state, lr, wd, 0)   # SGD's kernel
        self.cumgrads[index]['cum_grad'] = 0
