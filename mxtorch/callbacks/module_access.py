"""The one place that knows where the module kinds keep their optimizer and gradients:
Module (``_optimizer``, ``_exec_group``), BucketingModule (``_curr_module``),
SequentialModule (``_modules``). Public accessors on the module classes would replace it.
"""

__all__ = ["optimizer_of", "learning_rate_of", "gradients_of"]


def _submodules(module):
    cur = getattr(module, "_curr_module", None)
    if cur is not None:
        yield cur
    yield from getattr(module, "_modules", ())


def optimizer_of(module):
    """The Optimizer a module updates with, or None (not initialized, or a module kind
    without one)."""
    opt = getattr(module, "_optimizer", None)
    if opt is not None:
        return opt
    for sub in _submodules(module):
        opt = optimizer_of(sub)
        if opt is not None:
            return opt
    return None


def learning_rate_of(module):
    """The current learning rate (a float, no device sync), or None."""
    opt = optimizer_of(module)
    if opt is None:
        return None
    return float(opt.learning_rate)


def gradients_of(module):
    """``{name: torch.Tensor}``: each parameter's gradient from the last backward, summed
    over devices; empty for a module kind that keeps none."""
    group = getattr(module, "_exec_group", None)
    grads = {}
    if group is not None and getattr(group, "grad_arrays", None):
        for name, per_device in zip(group.param_names, group.grad_arrays):
            tensors = [g.torch for g in per_device if g is not None]
            if tensors:
                total = tensors[0].detach()
                for t in tensors[1:]:
                    total = total + t.detach().to(total.device)
                grads[name] = total
    for sub in _submodules(module):
        grads.update(gradients_of(sub))
    return grads
