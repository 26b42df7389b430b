"""Small helpers shared by the op families (shape and type rules)."""
import math

import numpy as np


def prod(shape):
    return math.prod(shape) if shape else 1


def known(shape):
    return shape is not None and all(d > 0 for d in shape)


def same_shape_rule(p, ins, outs):
    """All inputs and the output share one shape (elementwise ops).

    Partial shapes (0 = unknown dim) of the same rank are merged dim by dim, so an RNN
    begin state ``zeros(shape=(0, H))`` gets its batch dim from the other operand.
    """
    shapes = [s for s in list(ins) + list(outs) if s is not None and len(s) > 0]
    if not shapes:
        return ins, outs
    full = next((s for s in shapes if known(s)), None)
    if full is not None and all(len(s) == len(full) for s in shapes):
        for s in shapes:
            if any(a and a != b for a, b in zip(s, full)):
                raise ValueError(f"elementwise operands have different shapes {s} and {full}")
        return [full] * len(ins), [full] * len(outs)
    if full is not None:
        return [full] * len(ins), [full] * len(outs)
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        return ins, outs
    merged = []
    for dims in zip(*shapes):
        nz = {d for d in dims if d}
        if len(nz) > 1:
            raise ValueError(f"elementwise operands have different shapes {shapes}")
        merged.append(nz.pop() if nz else 0)
    merged = tuple(merged)
    return [merged] * len(ins), [merged] * len(outs)


def same_type_rule(p, in_types):
    """One dtype for every input and the output, as MXNet's ``ElemwiseType``: the known
    input types must agree (MXNet refuses ``float32 + float64``); unknown ones take it."""
    found = {np.dtype(t) for t in in_types if t is not None}
    if len(found) > 1:
        raise TypeError(f"the operands have different dtypes {sorted(map(str, found))}; "
                        "cast them to one dtype first (mx.sym.Cast)")
    t = found.pop() if found else None
    return [t] * len(in_types), [t]
