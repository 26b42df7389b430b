"""2-bit gradient compression with error feedback on the 'device' kvstore matches MXNet
1.9.1 exactly (fixtures from tools/gen_kvstore_fixtures.py); parameter errors; packing."""
import importlib.util
import os

import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.kvstore.compression import TwoBitCompression

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "gen_kvstore", os.path.join(ROOT, "tools", "gen_kvstore_fixtures.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def test_two_bit_compression_matches_mxnet():
    ref = np.load(os.path.join(ROOT, "tests", "compat", "fixtures", "kvstore",
                               "compression.npz"))
    got = gen.run(mx)
    assert sorted(got) == sorted(ref.files)
    for k in ref.files:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)


def test_compression_parameter_errors():
    kv = mx.kv.create("device")
    for bad, msg in [({"type": "1bit"}, "use '2bit'"), ({"threshold": 1}, "'type'"),
                     ({"type": "2bit", "threshold": 0}, "positive threshold"),
                     ({"type": "2bit", "thresh": 1}, "unknown keys")]:
        with pytest.raises(ValueError, match=msg):
            kv.set_gradient_compression(bad)


def test_pack_unpack_roundtrip():
    codes = torch.tensor([0, 1, 2, 1, 2, 0, 0], dtype=torch.int8)
    packed = TwoBitCompression.pack(codes)
    assert packed.dtype == torch.uint8 and packed.numel() == 2
    assert torch.equal(TwoBitCompression.unpack(packed, 7), codes)


def test_row_sparse_pull_dense_fallback():
    kv = mx.kv.create("local")
    kv.init("w", mx.nd.array(np.arange(12, dtype="f").reshape(4, 3)))
    out = mx.nd.full((4, 3), 9.0)
    kv.row_sparse_pull("w", out=out, row_ids=mx.nd.array([2, 0, 2]))
    want = np.zeros((4, 3), "f")
    want[[0, 2]] = np.arange(12, dtype="f").reshape(4, 3)[[0, 2]]
    np.testing.assert_array_equal(out.asnumpy(), want)
    with pytest.raises(ValueError, match="row_ids"):
        kv.row_sparse_pull("w", out=[out, out], row_ids=[mx.nd.array([0])] * 3)
