"""The protocol of mxtorch's callback objects: StopTraining, the Callback base class,
CallbackList and FitCallbacks (how fit and score call one slot's callbacks), and the
import of optional packages. The best-value tracker is in tracker.py, the reads of a
module's optimizer and gradients in module_access.py.

How a callback gets what it needs
---------------------------------
A callback object is passed to ``fit`` in one or more of MXNet's four slots, and is
called there with that slot's MXNet arguments:

- ``batch_end_callback``: ``on_batch_end(BatchEndParam)`` after each training batch;
- ``epoch_end_callback``: ``on_epoch_end(epoch, symbol, arg_params, aux_params)`` after
  the training part of an epoch, before validation;
- ``eval_batch_end_callback``: ``on_eval_batch_end(BatchEndParam)`` after each
  validation batch;
- ``eval_end_callback``: ``on_eval_end(BatchEndParam)`` after validation (its
  ``eval_metric`` is the validation metric).

Before the first epoch ``fit`` calls ``attach(module, slot)`` once per slot the object
was passed in (a wrong slot is refused there, before any training), and when fit ends,
normally, by StopTraining or by an error, ``detach(module, error)``. Through the
module a callback reads ``module.history`` (mxtorch.history.History): its ``last``
record already holds the epoch's training values, time and learning rate when the
epoch-end callbacks run, and its validation values when the eval-end callbacks run.
Plain functions keep MXNet's convention and are called as ``cb(...)``.
"""
from ..base import MXNetValueError, MXNetTypeError, OptionalDependencyError, StateError

__all__ = ["StopTraining", "Callback", "CallbackList", "FitCallbacks", "SLOTS",
           "OptionalDependencyError", "require"]

SLOTS = ("batch_end", "epoch_end", "eval_batch_end", "eval_end")


class StopTraining(Exception):
    """Raised by a callback to end ``fit`` cleanly.

    The other callbacks of the same call still run, then fit finishes the current step's
    bookkeeping and returns normally (its History records the reason):

    - from a batch-end callback: the epoch ends after this batch; its log lines,
      epoch-end callbacks and validation still run (no resume snapshot is written for
      the cut epoch);
    - from an epoch-end callback: validation of this epoch still runs;
    - from an eval-end or eval-batch-end callback: scoring stops (after this batch),
      the validation lines are logged, then fit returns.

    ``score`` called on its own also stops after the batch whose callback raised.
    """


def require(package, feature):
    """Import and return ``package``, or raise OptionalDependencyError naming the feature
    and the ``pip install`` that fixes it."""
    import importlib
    try:
        return importlib.import_module(package)
    except ImportError as err:
        top = package.split(".")[0]
        pip_name = {"torch": "tensorboard"}.get(top, top)
        raise OptionalDependencyError(f"{feature} needs {package}, which cannot be imported "
                                      f"({err}); install it: pip install {pip_name}") from err


class Callback:
    """Base class of mxtorch's callback objects (see the module docstring for the slots).

    Subclasses list the slots they work in (``slots``) and override the ``on_<slot>``
    methods they use. ``self.module`` is the module of the fit that attached them.

    Calling the object directly (``cb(param)``, MXNet's convention) dispatches to the
    ``on_<slot>`` method of the one slot it was attached in.
    """

    #: slots the callback may be passed in
    slots = SLOTS

    def __init__(self):
        self.module = None
        self.attached_slots = set()

    def attach(self, module, slot):
        """Called by fit before the first epoch, once per slot the callback was passed in.

        Raises
        ------
        MXNetValueError
            When ``slot`` is not one of this callback's ``slots``.
        """
        if slot not in self.slots:
            raise MXNetValueError(
                f"{type(self).__name__} cannot be passed as {slot}_callback; pass it as "
                + " or ".join(f"{s}_callback" for s in self.slots))
        self.module = module
        self.attached_slots.add(slot)

    def detach(self, module, error=None):
        """Called by fit when it ends; ``error`` is the exception that ended it, or None."""
        self.attached_slots = set()

    def _history(self):
        """The attached module's History (StateError when used outside fit)."""
        history = getattr(self.module, "history", None)
        if history is None:
            raise StateError(f"{type(self).__name__} reads module.history: pass it to "
                             "module.fit(...), which attaches it, instead of calling it "
                             "directly")
        return history

    def __call__(self, *args):
        if len(self.attached_slots) != 1:
            raise StateError(f"{type(self).__name__} was called directly but fit attached it "
                             f"to {sorted(self.attached_slots) or 'no slot'}; pass it to fit "
                             "in one of its slots")
        slot = next(iter(self.attached_slots))
        return getattr(self, "on_" + slot)(*args)

    def on_batch_end(self, param):
        """After each training batch (``BatchEndParam``)."""

    def on_epoch_end(self, epoch, symbol, arg_params, aux_params):
        """After the training part of each epoch, before validation."""

    def on_eval_batch_end(self, param):
        """After each validation batch (``BatchEndParam``)."""

    def on_eval_end(self, param):
        """After validation (``BatchEndParam`` with the validation metric)."""


class _StopState:
    """The first StopTraining raised by any callback of one fit (or one score)."""
    __slots__ = ("reason", "slot")

    def __init__(self):
        self.reason = None
        self.slot = None

    @property
    def requested(self):
        return self.slot is not None


class CallbackList:
    """The callbacks of one slot, called the way the slot defines.

    Callback objects get ``on_<slot>(*args)``; anything else is called as ``cb(*args)``
    (MXNet's convention). A StopTraining from one of them is recorded in ``stop`` (shared
    by the lists of one fit) and the rest still run.

    Parameters
    ----------
    slot : str
        One of SLOTS.
    callbacks : callable, list of callables, or None
    stop : _StopState, optional
        Shared stop state; a new one by default.
    """

    def __init__(self, slot, callbacks, stop=None):
        if slot not in SLOTS:
            raise MXNetValueError(f"CallbackList: unknown slot {slot!r}; one of {SLOTS}")
        if callbacks is None:
            callbacks = []
        elif not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        for cb in callbacks:
            if not callable(cb):
                raise MXNetTypeError(f"{slot}_callback: {cb!r} is not callable; pass a "
                                     "function, a Callback object, or a list of them")
        self.slot = slot
        self.callbacks = list(callbacks)
        self.stop = _StopState() if stop is None else stop
        self._method = "on_" + slot

    @classmethod
    def of(cls, slot, callbacks, stop=None):
        """``callbacks`` itself when it already is a CallbackList, else a new one."""
        if isinstance(callbacks, CallbackList):
            return callbacks
        return cls(slot, callbacks, stop)

    def __bool__(self):
        return bool(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def __iter__(self):
        return iter(self.callbacks)

    def attach(self, module):
        """``attach(module, slot)`` on every Callback object of the list."""
        for cb in self.callbacks:
            if isinstance(cb, Callback):
                cb.attach(module, self.slot)

    def __call__(self, *args):
        for cb in self.callbacks:
            try:
                if isinstance(cb, Callback):
                    getattr(cb, self._method)(*args)
                else:
                    cb(*args)
            except StopTraining as stop:
                if not self.stop.requested:
                    self.stop.reason = str(stop) or type(cb).__name__
                    self.stop.slot = self.slot


class FitCallbacks:
    """The four callback slots of one fit, sharing one StopTraining state. The eval-end
    list starts with ``record_validation`` (fit's), so the history holds the validation
    values before the user's eval-end callbacks run."""

    def __init__(self, batch_end, epoch_end, eval_batch_end, eval_end, record_validation):
        self.batch_end = CallbackList("batch_end", batch_end)
        self.stop = self.batch_end.stop
        self.epoch_end = CallbackList("epoch_end", epoch_end, self.stop)
        self.eval_batch_end = CallbackList("eval_batch_end", eval_batch_end, self.stop)
        user_eval_end = CallbackList("eval_end", eval_end, self.stop)
        self.eval_end = CallbackList("eval_end", [record_validation] + user_eval_end.callbacks,
                                     self.stop)
        self._lists = (self.batch_end, self.epoch_end, self.eval_batch_end, user_eval_end)

    def _objects(self):
        seen = {}
        for lst in self._lists:
            for cb in lst:
                if isinstance(cb, Callback):
                    seen.setdefault(id(cb), cb)
        return list(seen.values())

    def attach(self, module):
        """``attach(module, slot)`` on every Callback object; if one refuses, those
        already attached are detached again and the error propagates."""
        try:
            for lst in self._lists:
                lst.attach(module)
        except BaseException as err:
            self.detach(module, err)
            raise

    def detach(self, module, error):
        """``detach(module, error)`` once on every attached Callback object."""
        for cb in self._objects():
            if cb.attached_slots:
                cb.detach(module, error)
