"""A BucketingModule fit (LSTM LM from mx.rnn cells, three bucket lengths) gives MXNet
1.9.1's parameters (fixtures from tools/gen_bucketing_fixtures.py)."""
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "bucketing")
spec = importlib.util.spec_from_file_location("gen_bucketing", os.path.join(
    ROOT, "tools", "gen_bucketing_fixtures.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


@pytest.mark.parametrize("case", sorted(gen.CASES))
def test_bucketing_fit_matches_mxnet(case):
    ref = np.load(os.path.join(FIX, case + ".npz"))
    res = gen.run(mx, case)
    np.testing.assert_array_equal(res["buckets"], ref["buckets"])
    for key in ref.files:
        if key.startswith("init:"):
            np.testing.assert_array_equal(res[key], ref[key], err_msg=key)
    np.testing.assert_allclose(res["perplexity"], ref["perplexity"], rtol=1e-5)
    for key in ref.files:
        if key.startswith("arg:"):
            np.testing.assert_allclose(res[key], ref[key], rtol=1e-4, atol=1e-6, err_msg=key)
