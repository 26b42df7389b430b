"""Atomic file writes: every file mxtorch writes goes to a temporary name in the
target's directory, is flushed and fsynced, then renamed over the target, so a
crash or an exception never leaves a partial file behind."""
import contextlib
import os
import tempfile

from ..base import MXNetValueError

__all__ = ["atomic_write", "atomic_open"]


@contextlib.contextmanager
def atomic_open(path, mode="wb"):
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.
    mode : str, default 'wb'
        ``'wb'`` (bytes) or ``'w'`` (text, UTF-8).

    Yields
    ------
    file object
        Write to it inside the ``with`` block. If the block raises, the temporary
        file is removed, ``path`` is left as it was, and the exception propagates.

    Raises
    ------
    MXNetValueError
        If ``mode`` is not a write mode.
    """
    if mode not in ("wb", "w"):
        raise MXNetValueError(f"atomic_open supports mode 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        kwargs = {} if mode == "wb" else {"encoding": "utf-8"}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path, data):
    """Write ``data`` (bytes, or str as UTF-8) to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
    data : bytes, bytearray, memoryview or str

    Raises
    ------
    OSError
        If the directory is not writable; ``path`` is then untouched.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_open(path, "wb") as f:
        f.write(data)
