"""What the op fixture tests share (tests/compat/test_ops*.py, test_rnn_ops.py): reading
a case's ``.npz`` written by a tools/gen_*_fixtures.py script under MXNet 1.9.1, and
comparing a run's results with it. Given to the tests as the ``opcase`` fixture."""
import os
import types

import numpy as np
import pytest

RESULT_KEYS = ("out", "grad", "auxfwd", "aux", "post")


def load(fix, name):
    """``(ref, inputs, aux0, ograds)`` of case ``name``: the whole npz, then the arrays
    tagged ``in:``, ``aux0:`` (by name) and ``ograd:<i>`` (in order)."""
    ref = np.load(os.path.join(fix, name + ".npz"))
    pick = lambda tag: {k[len(tag):]: ref[k] for k in ref.files if k.startswith(tag)}  # noqa
    ograds = [ref[f"ograd:{i}"] for i in range(len(pick("ograd:")))]
    return ref, pick("in:"), pick("aux0:"), ograds


def compare(name, ref, res, rtol, atol, keys=RESULT_KEYS, skip=()):
    """Every fixture array under ``keys`` (but those in ``skip``) is in ``res`` with the
    same shape and dtype and equal values within the tolerances."""
    expected = [k for k in ref.files if k.split(":")[0] in keys and k not in skip]
    missing = sorted(set(expected) - set(res))
    assert not missing, f"{name}: results missing {missing}"
    for key in expected:
        got, want = res[key], ref[key]
        assert got.shape == want.shape, f"{name} {key}: shape {got.shape} != {want.shape}"
        assert got.dtype == want.dtype, f"{name} {key}: dtype {got.dtype} != {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name} {key}")


@pytest.fixture
def opcase():
    return types.SimpleNamespace(load=load, compare=compare)
