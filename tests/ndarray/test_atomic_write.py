"""mxtorch.util.atomic: a file is either fully replaced or left as it was; no temp files
remain either way."""
import os
import stat

import pytest

from mxtorch.util.atomic import atomic_open, atomic_write


def test_atomic_write_creates_and_replaces(tmp_path):
    p = tmp_path / "f.bin"
    atomic_write(p, b"one")
    assert p.read_bytes() == b"one"
    atomic_write(str(p), "twó")
    assert p.read_bytes() == "twó".encode("utf-8")
    assert os.listdir(tmp_path) == ["f.bin"]


def test_writer_raising_leaves_old_file_and_no_temp(tmp_path):
    p = tmp_path / "ck.params"
    atomic_write(p, b"old contents")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_open(p, "wb") as f:
            f.write(b"partial new contents")
            raise RuntimeError("boom")
    assert p.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["ck.params"]


def test_writer_raising_on_new_file_creates_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(tmp_path / "new.json", "w") as f:
            f.write("{")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_permissions_follow_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "p", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "p").st_mode) == 0o644


def test_bad_mode_and_missing_directory(tmp_path):
    with pytest.raises(ValueError, match="mode 'wb' or 'w'"):
        with atomic_open(tmp_path / "x", "ab"):
            pass
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "no" / "such" / "dir.bin", b"x")
