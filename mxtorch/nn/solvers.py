"""``nnabla.solvers`` (S) on torch: a Solver holds named parameters (Variables) and
their per-parameter states, and updates ``.d`` from ``.g`` with nnabla's formulas.
Parameters whose gradient is still lazily zeroed (``zero_grad()`` and no backward since)
are skipped by update, weight_decay and clip_grad_by_norm, as in nnabla."""
import io
import math
import os
from collections import OrderedDict

import numpy as np
import torch

from ..base import FormatError, MXNetKeyError, MXNetTypeError, MXNetValueError
from ..util.atomic import atomic_write
from .param_io import H5_ERRORS, h5_number
from .variable import Variable

__all__ = ["Solver", "SolverState", "Sgd", "Momentum", "Nesterov", "Adam", "AdamW", "Adagrad",
           "AdaGrad", "RMSprop", "Adadelta"]


class SolverState:
    """A parameter's solver state: ``pstate`` (OrderedDict name -> Variable) and the
    update count ``t``."""

    def __init__(self, pstate=None, t=0):
        self.pstate = OrderedDict(pstate or {})
        self.t = int(t)

    def __repr__(self):
        return f"SolverState(t={self.t}, pstate={list(self.pstate)})"


def _check(name, value, low=0.0, high=None, low_open=False):
    bad = value < low or (low_open and value == low) or (high is not None and value >= high)
    if bad or not math.isfinite(value):
        raise MXNetValueError(f"Invalid {name} value: {value}")
    return float(value)


class Solver:
    """Base class; subclasses define ``_STATES`` and ``_update(w, g, states, t)``."""

    _STATES = ()
    _LR = "lr"
    foreach = True      # use the fused _update_foreach when the solver has one

    def __init__(self, **info):
        self._info = info
        self._lr = float(info[self._LR])
        self._params = OrderedDict()
        self._states = OrderedDict()

    @property
    def name(self):
        """The solver's class name ('Sgd', 'Adam', ...)."""
        return type(self).__name__

    @property
    def info(self):
        """The constructor arguments as a dict."""
        return dict(self._info)

    # ------------------------------------------------------------------ parameters
    def set_parameters(self, param_dict, reset=True, retain_state=False):
        """Register parameters (name -> Variable) to update.

        Parameters
        ----------
        reset : bool, default True
            Drop every registered parameter and its state first.
        retain_state : bool, default False
            With reset=False, a re-registered name keeps its state if the shape is the
            same.
        """
        for k, v in param_dict.items():
            if not isinstance(v, Variable):
                raise MXNetTypeError(f"{self.name}.set_parameters: {k!r} is a "
                                     f"{type(v).__name__}, expected an nn.Variable")
        if reset:
            self.clear_parameters()
        for k, v in param_dict.items():
            old = self._states.get(k)
            keep = retain_state and old is not None and tuple(self._params[k].shape) == v.shape
            self._params[k] = v
            if not keep:
                self._states[k] = SolverState(OrderedDict(
                    (s, Variable(v.shape)) for s in self._STATES))

    def remove_parameters(self, keys):
        """Unregister the given names."""
        for k in keys:
            self._params.pop(k, None)
            self._states.pop(k, None)

    def clear_parameters(self):
        """Unregister every parameter and drop the states."""
        self._params.clear()
        self._states.clear()

    def get_parameters(self):
        """The registered parameters (OrderedDict name -> Variable)."""
        return OrderedDict(self._params)

    def _active(self):
        for k, p in self._params.items():
            if not p.grad.zeroing:
                yield k, p

    # ------------------------------------------------------------------ gradients
    def zero_grad(self):
        """Zero every registered gradient (lazily: update skips it until written)."""
        for p in self._params.values():
            p.grad.zero()

    def weight_decay(self, decay_rate):
        """g <- g + decay_rate * w for every parameter with a gradient."""
        if decay_rate == 0:
            return
        with torch.no_grad():
            for _, p in self._active():
                p.grad.tensor.add_(p.data.tensor.to(p.grad.tensor.dtype), alpha=decay_rate)

    def clip_grad_by_norm(self, clip_norm):
        """Per parameter: if ||g|| > clip_norm, g <- clip_norm * g / ||g||."""
        with torch.no_grad():
            for _, p in self._active():
                g = p.grad.tensor
                norm = float(torch.linalg.vector_norm(g))
                if norm > clip_norm:
                    g.mul_(clip_norm / norm)

    def scale_grad(self, scale):
        """g <- scale * g."""
        with torch.no_grad():
            for _, p in self._active():
                p.grad.tensor.mul_(scale)

    def _any_grad(self, test):
        return any(bool(test(p.grad.tensor).any()) for _, p in self._active())

    def check_inf_grad(self):
        """Whether some gradient holds an infinity."""
        return self._any_grad(torch.isinf)

    def check_nan_grad(self):
        """Whether some gradient holds a NaN."""
        return self._any_grad(torch.isnan)

    def check_inf_or_nan_grad(self):
        """Whether some gradient holds an infinity or a NaN."""
        return self._any_grad(lambda g: ~torch.isfinite(g))

    # ------------------------------------------------------------------ update
    def update(self):
        """Apply one step to every registered parameter whose gradient was written.

        Solvers with a fused path update all of them with torch ``_foreach_`` kernels;
        set ``solver.foreach = False`` to run the per-parameter reference loop.
        """
        ws, gs, ss, ts = [], [], [], []
        for k, p in self._active():
            st = self._states[k]
            st.t += 1
            w = p.data.tensor
            ws.append(w)
            gs.append(p.grad.tensor.to(w.dtype))
            ss.append({n: v.data.tensor for n, v in st.pstate.items()})
            ts.append(st.t)
        if not ws:
            return
        with torch.no_grad():
            if self.foreach and type(self)._update_foreach is not Solver._update_foreach:
                self._update_foreach(ws, gs, ss, ts)
            else:
                for w, g, s, t in zip(ws, gs, ss, ts):
                    self._update(w, g, s, t)

    def _update(self, w, g, s, t):
        """One parameter: ``w`` and the state tensors ``s`` (dict) updated in place."""
        raise NotImplementedError

    def _update_foreach(self, ws, gs, ss, ts):
        """All active parameters at once (optional; must agree with ``_update``)."""
        raise NotImplementedError

    def set_learning_rate(self, learning_rate):
        """Set the learning rate (``alpha`` for Adam-family solvers)."""
        self._lr = float(learning_rate)

    def learning_rate(self):
        """The learning rate, rounded to float32 as nnabla stores it."""
        return float(np.float32(self._lr))

    # ------------------------------------------------------------------ states
    def get_states(self):
        """OrderedDict name -> SolverState (live: changing it changes the solver)."""
        return OrderedDict(self._states)

    def set_states(self, states):
        """Replace the states of registered parameters.

        Raises
        ------
        MXNetKeyError
            For a name not registered with set_parameters.
        """
        for k in states:
            if k not in self._params:
                raise MXNetKeyError(f"Set weight parameter for {k} first (call "
                                    "solver.set_parameters before set_states)")
        for k, st in states.items():
            self._states[k] = st

    def save_states(self, path):
        """Save the states to an .h5 file: a group per parameter (nested on '/') with
        attr ``index``, a scalar dataset 't', and one dataset per state with attr
        ``index``."""
        import h5py
        _h5_only(path, "save_states")
        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            for i, (k, st) in enumerate(self._states.items()):
                grp = f.create_group(k)
                grp.attrs["index"] = np.int64(i)
                grp["t"] = np.uint32(st.t)
                for j, (n, v) in enumerate(st.pstate.items()):
                    grp[n] = v.data.tensor.cpu().numpy()
                    grp[n].attrs["index"] = np.int64(j)
        atomic_write(path, buf.getvalue())

    def load_states(self, path):
        """Load states saved by :meth:`save_states` for the registered parameters.

        Raises
        ------
        MXNetKeyError
            For a parameter in the file that is not registered.
        FormatError
            If the file is not a states file.
        """
        import h5py
        _h5_only(path, "load_states")
        source = repr(os.fspath(path))

        def index(obj):
            return int(h5_number(obj, source, "index")) if "index" in obj.attrs else 0

        loaded = OrderedDict()
        try:
            with h5py.File(path, "r") as f:
                groups = []
                f.visititems(lambda n, o: groups.append((index(o), n, o))
                             if isinstance(o, h5py.Group) and "t" in o else None)
                for _, name, grp in sorted(groups, key=lambda r: (r[0], r[1])):
                    names = sorted((n for n in grp if n != "t"), key=lambda n: index(grp[n]))
                    loaded[name] = SolverState(
                        OrderedDict((n, Variable.from_numpy_array(h5_number(grp[n], source)))
                                    for n in names), int(h5_number(grp["t"], source)))
        except FormatError:
            raise
        except H5_ERRORS as e:
            raise FormatError(f"{source} is not a readable HDF5 states file ({e})") from e
        self.set_states(loaded)


def _h5_only(path, call):
    if os.path.splitext(os.fspath(path))[1] != ".h5":
        raise MXNetValueError(f"Solver.{call}: {path!r}: only .h5 solver state files are "
                              "supported")


class Sgd(Solver):
    """w <- w - lr * g."""

    def __init__(self, lr=1e-3):
        super().__init__(lr=_check("lr", lr))

    def _update(self, w, g, s, t):
        w.sub_(g, alpha=self._lr)

    def _update_foreach(self, ws, gs, ss, ts):
        torch._foreach_add_(ws, gs, alpha=-self._lr)


class Momentum(Solver):
    """v <- momentum * v + lr * g; w <- w - v (state 'm')."""

    _STATES = ("m",)

    def __init__(self, lr=1e-3, momentum=0.9):
        super().__init__(lr=_check("lr", lr), momentum=_check("momentum", momentum))

    def _update(self, w, g, s, t):
        s["m"].mul_(self._info["momentum"]).add_(g, alpha=self._lr)
        w.sub_(s["m"])

    def _update_foreach(self, ws, gs, ss, ts):
        ms = [s["m"] for s in ss]
        torch._foreach_mul_(ms, self._info["momentum"])
        torch._foreach_add_(ms, gs, alpha=self._lr)
        torch._foreach_sub_(ws, ms)


class Nesterov(Solver):
    """v_new <- momentum * v - lr * g; w <- w - momentum * v + (1 + momentum) * v_new
    (state 'm')."""

    _STATES = ("m",)

    def __init__(self, lr=1e-3, momentum=0.9):
        super().__init__(lr=_check("lr", lr), momentum=_check("momentum", momentum))

    def _update(self, w, g, s, t):
        mu, v = self._info["momentum"], s["m"]
        w.sub_(v, alpha=mu)
        v.mul_(mu).sub_(g, alpha=self._lr)
        w.add_(v, alpha=1 + mu)


class Adam(Solver):
    """m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2;
    w <- w - alpha * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps) (states 'mean', 'var')."""

    _STATES = ("mean", "var")
    _LR = "alpha"

    def __init__(self, alpha=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(alpha=_check("alpha", alpha), beta1=_check("beta1", beta1, high=1),
                         beta2=_check("beta2", beta2, high=1), eps=_check("eps", eps))

    def _step_size(self, t):
        b1, b2 = self._info["beta1"], self._info["beta2"]
        return self._lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)

    def _adam_step(self, w, g, s, t):
        b1, b2, eps = self._info["beta1"], self._info["beta2"], self._info["eps"]
        m, v = s["mean"], s["var"]
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        w.addcdiv_(m, v.sqrt().add_(eps), value=-self._step_size(t))

    _update = _adam_step

    def _update_foreach(self, ws, gs, ss, ts):
        b1, b2, eps = self._info["beta1"], self._info["beta2"], self._info["eps"]
        ms, vs = [s["mean"] for s in ss], [s["var"] for s in ss]
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, gs, alpha=1 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, gs, gs, value=1 - b2)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(ws, ms, denom, [-self._step_size(t) for t in ts])


class AdamW(Adam):
    """Adam followed by the decoupled decay w <- w - (alpha / alpha_0) * wd * w. ``wd``
    is the constructor's value unless weight_decay(rate) set one for the next update."""

    def __init__(self, alpha=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, wd=1e-4):
        Solver.__init__(self, alpha=_check("alpha", alpha), beta1=_check("beta1", beta1, high=1),
                        beta2=_check("beta2", beta2, high=1), eps=_check("eps", eps),
                        wd=_check("wd", wd))
        self._wd = self._info["wd"]

    def weight_decay(self, decay_rate):
        """Set the decay of the next update (fused into it, not added to g)."""
        self._wd = float(decay_rate)

    def update(self):
        super().update()
        self._wd = self._info["wd"]

    _update_foreach = Solver._update_foreach     # the decay is per parameter: no fused path

    def _update(self, w, g, s, t):
        decay = (self._lr / self._info["alpha"]) * self._wd
        w_old = w.clone() if decay else None
        self._adam_step(w, g, s, t)
        if decay:
            w.sub_(w_old, alpha=decay)


class Adagrad(Solver):
    """v <- v + g^2; w <- w - lr * g / (sqrt(v) + eps) (state 'v')."""

    _STATES = ("v",)

    def __init__(self, lr=1e-2, eps=1e-8):
        super().__init__(lr=_check("lr", lr), eps=_check("eps", eps))

    def _update(self, w, g, s, t):
        s["v"].addcmul_(g, g)
        w.addcdiv_(g, s["v"].sqrt().add_(self._info["eps"]), value=-self._lr)


AdaGrad = Adagrad


class RMSprop(Solver):
    """v <- decay v + (1-decay) g^2; w <- w - lr * g / (sqrt(v) + eps) (state 'v')."""

    _STATES = ("v",)

    def __init__(self, lr=1e-3, decay=0.9, eps=1e-8):
        super().__init__(lr=_check("lr", lr), decay=_check("decay", decay, high=1),
                         eps=_check("eps", eps))

    def _update(self, w, g, s, t):
        d = self._info["decay"]
        s["v"].mul_(d).addcmul_(g, g, value=1 - d)
        w.addcdiv_(g, s["v"].sqrt().add_(self._info["eps"]), value=-self._lr)


class Adadelta(Solver):
    """e_g <- decay e_g + (1-decay) g^2; delta = sqrt((e_d + eps)/(e_g + eps)) g;
    e_d <- decay e_d + (1-decay) delta^2; w <- w - lr * delta
    (states 'e_sqr_grad', 'e_sqr_delta')."""

    _STATES = ("e_sqr_grad", "e_sqr_delta")

    def __init__(self, lr=1.0, decay=0.95, eps=1e-6):
        super().__init__(lr=_check("lr", lr), decay=_check("decay", decay, high=1),
                         eps=_check("eps", eps))

    def _update(self, w, g, s, t):
        d, eps = self._info["decay"], self._info["eps"]
        eg, ed = s["e_sqr_grad"], s["e_sqr_delta"]
        eg.mul_(d).addcmul_(g, g, value=1 - d)
        delta = ((ed + eps) / (eg + eps)).sqrt_().mul_(g)
        ed.mul_(d).addcmul_(delta, delta, value=1 - d)
        w.sub_(delta, alpha=self._lr)
