"""``mx.lr_scheduler``: learning-rate schedules as functions of the update count, with
MXNet 1.9.1's semantics (reference section 4.4), including its statefulness: Factor and
MultiFactor schedulers lower ``base_lr`` in place as ``num_update`` grows.

Attribute names follow MXNet's so that schedulers restored from MXNet ``.states`` files
(and our own) carry over unchanged.
"""
import logging
from math import cos, pi

from .base import MXNetTypeError, MXNetValueError, integer_types

__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler",
           "CosineScheduler"]


class LRScheduler:
    """Base class of a learning rate scheduler: ``scheduler(num_update) -> lr``.

    Parameters
    ----------
    base_lr : float, optional, default 0.01
        The learning rate after warmup.
    warmup_steps : int, optional, default 0
        Number of updates spent warming up before the schedule starts.
    warmup_begin_lr : float, optional, default 0
        The learning rate warmup starts from; must not exceed ``base_lr``.
    warmup_mode : {'linear', 'constant'}, optional, default 'linear'
        'linear' rises in equal increments from ``warmup_begin_lr`` to ``base_lr``;
        'constant' keeps ``warmup_begin_lr`` during warmup.

    Raises
    ------
    MXNetTypeError
        If ``warmup_steps`` is not an int.
    MXNetValueError
        If ``warmup_begin_lr > base_lr``, ``warmup_steps < 0`` or the mode is unknown.
    """

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear'):
        self.base_lr = base_lr
        if not isinstance(warmup_steps, integer_types) or isinstance(warmup_steps, bool):
            raise MXNetTypeError(f"{type(self).__name__}: warmup_steps must be an int, got "
                                 f"{warmup_steps!r}")
        self.warmup_steps = warmup_steps
        self.warmup_final_lr = base_lr
        self.warmup_begin_lr = warmup_begin_lr
        if self.warmup_begin_lr > self.warmup_final_lr:
            raise MXNetValueError(f"{type(self).__name__}: Base lr has to be higher than "
                                  f"warmup_begin_lr (base_lr={base_lr}, warmup_begin_lr="
                                  f"{warmup_begin_lr})")
        if self.warmup_steps < 0:
            raise MXNetValueError(f"{type(self).__name__}: Warmup steps has to be positive or "
                                  f"0, got {warmup_steps}")
        if warmup_mode not in ('linear', 'constant'):
            raise MXNetValueError(f"{type(self).__name__}: Supports only linear and constant "
                                  f"modes of warmup, got {warmup_mode!r}")
        self.warmup_mode = warmup_mode

    def get_warmup_lr(self, num_update):
        """The learning rate at ``num_update < warmup_steps``."""
        if num_update >= self.warmup_steps:
            raise MXNetValueError(f"get_warmup_lr: num_update {num_update} is not below "
                                  f"warmup_steps {self.warmup_steps}")
        if self.warmup_mode == 'linear':
            increase = (self.warmup_final_lr - self.warmup_begin_lr) \
                * float(num_update) / float(self.warmup_steps)
            return self.warmup_begin_lr + increase
        if self.warmup_mode == 'constant':
            return self.warmup_begin_lr
        raise MXNetValueError(f"Invalid warmup mode {self.warmup_mode}")

    def __call__(self, num_update):
        """The learning rate after ``num_update`` updates (the maximum over all weights
        of how often each was updated)."""
        raise NotImplementedError("must override this")

    def __repr__(self):
        return f"{type(self).__name__}(base_lr={self.base_lr})"


def _check_factor(name, factor):
    if factor > 1.0:
        raise MXNetValueError(f"{name}: Factor must be no more than 1 to make lr reduce, "
                              f"got {factor}")


class FactorScheduler(LRScheduler):
    """Multiply the learning rate by ``factor`` every ``step`` updates:
    ``base_lr * factor ** floor((num_update - 1) / step)``, never below ``stop_factor_lr``.

    Parameters
    ----------
    step : int
        Updates between two changes (>= 1).
    factor : float, optional, default 1
        The multiplier (<= 1).
    stop_factor_lr : float, optional, default 1e-8
        The learning rate stops decreasing at this value.
    base_lr, warmup_steps, warmup_begin_lr, warmup_mode
        See :class:`LRScheduler`.

    Raises
    ------
    MXNetValueError
        If ``step < 1`` or ``factor > 1``.
    """

    def __init__(self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01,
                 warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if step < 1:
            raise MXNetValueError(f"FactorScheduler: Schedule step must be greater or equal "
                                  f"than 1 round, got {step}")
        _check_factor("FactorScheduler", factor)
        self.step = step
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        # a while, not an if: resuming at a later num_update catches up in one call
        while num_update > self.count + self.step:
            self.count += self.step
            self.base_lr *= self.factor
            if self.base_lr < self.stop_factor_lr:
                self.base_lr = self.stop_factor_lr
                logging.info("Update[%d]: now learning rate arrived at %0.5e, will not "
                             "change in the future", num_update, self.base_lr)
            else:
                logging.info("Update[%d]: Change learning rate to %0.5e",
                             num_update, self.base_lr)
        return self.base_lr


class MultiFactorScheduler(LRScheduler):
    """Multiply the learning rate by ``factor`` once each time ``num_update`` passes one
    of the boundaries in ``step``.

    Parameters
    ----------
    step : list of int
        Increasing boundaries, each >= 1.
    factor : float, optional, default 1
        The multiplier (<= 1).
    base_lr, warmup_steps, warmup_begin_lr, warmup_mode
        See :class:`LRScheduler`.

    Raises
    ------
    MXNetTypeError
        If ``step`` is not a non-empty list.
    MXNetValueError
        If the steps do not increase, a step is < 1, or ``factor > 1``.
    """

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(step, list) or len(step) < 1:
            raise MXNetTypeError(f"MultiFactorScheduler: step must be a non-empty list of "
                                 f"ints, got {step!r}")
        for i, _step in enumerate(step):
            if i != 0 and step[i] <= step[i - 1]:
                raise MXNetValueError(f"MultiFactorScheduler: Schedule step must be an "
                                      f"increasing integer list, got {step}")
            if _step < 1:
                raise MXNetValueError(f"MultiFactorScheduler: Schedule step must be greater "
                                      f"or equal than 1 round, got {step}")
        _check_factor("MultiFactorScheduler", factor)
        self.step = step
        self.cur_step_ind = 0
        self.factor = factor
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while self.cur_step_ind <= len(self.step) - 1:
            if num_update > self.step[self.cur_step_ind]:
                self.count = self.step[self.cur_step_ind]
                self.cur_step_ind += 1
                self.base_lr *= self.factor
                logging.info("Update[%d]: Change learning rate to %0.5e",
                             num_update, self.base_lr)
            else:
                return self.base_lr
        return self.base_lr


def _check_max_update(name, max_update):
    if not isinstance(max_update, integer_types) or isinstance(max_update, bool):
        raise MXNetTypeError(f"{name}: max_update must be an int, got {max_update!r}")
    if max_update < 1:
        raise MXNetValueError(f"{name}: maximum number of updates must be strictly positive, "
                              f"got {max_update}")


class PolyScheduler(LRScheduler):
    """Polynomial decay after warmup: for ``n <= max_update``, with
    ``x = (n - warmup_steps) / (max_update - warmup_steps)``,
    ``final_lr + (base_lr - final_lr) * (1 - x) ** pwr``; the last value is kept after.

    Parameters
    ----------
    max_update : int
        The update count at which ``final_lr`` is reached (>= 1).
    base_lr : float, optional, default 0.01
    pwr : float, optional, default 2
        The power of the decay.
    final_lr : float, optional, default 0
    warmup_steps, warmup_begin_lr, warmup_mode
        See :class:`LRScheduler`.
    """

    def __init__(self, max_update, base_lr=0.01, pwr=2, final_lr=0,
                 warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        _check_max_update("PolyScheduler", max_update)
        self.power = pwr
        self.base_lr_orig = self.base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = self.max_update - self.warmup_steps

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * \
                pow(1 - float(num_update - self.warmup_steps) / float(self.max_steps),
                    self.power)
        return self.base_lr


class CosineScheduler(LRScheduler):
    """Cosine decay after warmup: for ``n <= max_update``, with
    ``x = (n - warmup_steps) / (max_update - warmup_steps)``,
    ``final_lr + (base_lr - final_lr) * (1 + cos(pi * x)) / 2``; the last value is kept
    after.

    Parameters
    ----------
    max_update : int
        The update count at which ``final_lr`` is reached (>= 1).
    base_lr : float, optional, default 0.01
    final_lr : float, optional, default 0
    warmup_steps, warmup_begin_lr, warmup_mode
        See :class:`LRScheduler`.
    """

    def __init__(self, max_update, base_lr=0.01, final_lr=0,
                 warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        _check_max_update("CosineScheduler", max_update)
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = self.max_update - self.warmup_steps

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * \
                (1 + cos(pi * (num_update - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr
