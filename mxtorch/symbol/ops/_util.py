"""Small helpers shared by the op families (shape arithmetic)."""
import math


def prod(shape):
    return math.prod(shape) if shape else 1


def known(shape):
    return shape is not None and all(d > 0 for d in shape)


def same_shape_rule(p, ins, outs):
    """All inputs and the output share one shape (elementwise ops)."""
    shape = next((s for s in list(ins) + list(outs) if known(s)), None)
    if shape is None:
        return ins, outs
    return [shape] * len(ins), [shape] * len(outs)
