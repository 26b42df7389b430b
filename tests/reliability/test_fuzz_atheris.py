"""Coverage-guided fuzzing (atheris, libFuzzer) of every file reader for a few seconds each:
tools/fuzz_readers_atheris.py exits non-zero on any input that ends in something other
than the reader's result or an MXNetError. Skipped where atheris does not install.

The runs here are deterministic (fixed seed, fixed number of inputs), so a test run
fails for a change in the readers, never by the luck of the draw; searching for new
findings is a longer run by hand with random seeds (the tool's docstring), whose
findings become the regression tests below."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("atheris")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tools", "fuzz_readers_atheris.py")


@pytest.mark.parametrize("reader", ["params", "states", "symbol_json", "h5", "safetensors",
                                    "h5_states"])
def test_reader_survives_coverage_guided_fuzzing(reader, tmp_path):
    proc = subprocess.run([sys.executable, SCRIPT, reader, "-seed=20261202", "-runs=20000",
                           "-max_total_time=60", f"-artifact_prefix={tmp_path}/"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done" in proc.stderr
    assert not list(tmp_path.glob("crash-*"))


def test_zero_size_array_with_huge_dims_is_refused():
    """atheris' first finding: a shape (0, 2**40, 2**40) has no data, but cannot be made."""
    import struct
    from mxtorch.base import FormatError
    from mxtorch.ndarray import serialize
    rec = struct.pack("<IiI", 0xF993FAC9, 0, 3) + struct.pack("<3q", 0, 2 ** 40, 2 ** 40) + \
        struct.pack("<iii", 1, 0, 0)
    data = struct.pack("<QQQ", 0x112, 0, 1) + rec + struct.pack("<Q", 0)
    with pytest.raises(FormatError, match="impossible shape"):
        serialize.loads(data, source="x.params")


def test_sparse_values_with_huge_empty_storage_shape_are_refused():
    """A later finding: the same impossible shape as a row_sparse record's storage shape."""
    import struct
    from mxtorch.base import FormatError
    from mxtorch.ndarray import serialize
    rec = (struct.pack("<Ii", 0xF993FAC9, 1)                       # V2, row_sparse
           + struct.pack("<I3q", 3, 0, 2 ** 40, 2 ** 40)            # storage shape
           + struct.pack("<I3q", 3, 1, 1, 1)                        # logical shape
           + struct.pack("<iii", 1, 0, 0)                           # cpu, float32
           + struct.pack("<iIq", 6, 1, 0))                          # aux: int64 (0,)
    data = struct.pack("<QQQ", 0x112, 0, 1) + rec + struct.pack("<Q", 0)
    with pytest.raises(FormatError, match="values at byte 24 has an impossible shape"):
        serialize.loads(data, source="x.params")
