"""What every network builder shares: the library it builds with and MXNet's
``image_shape`` strings.

Builders take ``mx`` (default: mxtorch itself) so the very same code can build the graph
with real MXNet too; tools/gen_model_fixtures.py uses that to compare the two graphs.
"""
import importlib

__all__ = ["library", "parse_image_shape", "check_choice", "require_ops", "value_error"]


def library(mx=None):
    """The library to build with: ``mx`` when given, else mxtorch."""
    if mx is not None:
        return mx
    return importlib.import_module("..", __package__)


def parse_image_shape(image_shape, caller):
    """``(channels, height, width)`` from MXNet's ``'3,224,224'`` string (a sequence of
    three ints is accepted too).

    Raises
    ------
    ValueError
        (MXNetValueError under mxtorch) not three positive integers.
    """
    try:
        if isinstance(image_shape, str):
            dims = tuple(int(x) for x in image_shape.split(","))
        else:
            dims = tuple(int(x) for x in image_shape)
    except (TypeError, ValueError):
        dims = ()
    if len(dims) != 3 or min(dims) <= 0:
        raise value_error(f"{caller}: image_shape must be 'channels,height,width' such as "
                           f"'3,224,224', got {image_shape!r}")
    return dims


def value_error(msg):
    """MXNetValueError(msg), or a plain ValueError when this package is loaded outside
    mxtorch (by the fixture generator, under real MXNet)."""
    try:
        from ..base import MXNetValueError
    except ImportError:  # loaded outside the mxtorch package (fixture generator)
        return ValueError(msg)
    return MXNetValueError(msg)


def check_choice(caller, what, value, choices):
    """Raise a ValueError (MXNetValueError under mxtorch) unless ``value`` is in ``choices``."""
    if value not in choices:
        raise value_error(f"{caller}: invalid {what} {value!r}; choose one of "
                           f"{sorted(choices)}")


def require_ops(mx, network, *ops):
    """Raise MXNetNotImplementedError naming the ops of ``network`` that the library
    ``mx`` lacks."""
    missing = [op for op in ops if not hasattr(mx.sym, op)]
    if missing:
        from ..base import MXNetNotImplementedError
        raise MXNetNotImplementedError(f"{network} needs the operator(s) "
                                       f"{', '.join(missing)}, which mxtorch does not have")
