"""A full Module.fit from fixed parameters gives MXNet 1.9.1's parameters after 3 epochs
(fixtures from tools/gen_fit_fixtures.py, run under the real MXNet)."""
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "fit")
spec = importlib.util.spec_from_file_location("gen_fit", os.path.join(ROOT, "tools",
                                                                      "gen_fit_fixtures.py"))
gen_fit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen_fit)


@pytest.mark.parametrize("case", sorted(gen_fit.CASES))
def test_fit_matches_mxnet(case):
    ref = np.load(os.path.join(FIX, case + ".npz"))
    res, js = gen_fit.run(mx, case)
    with open(os.path.join(FIX, case + "-symbol.json")) as f:
        assert js == f.read()
    np.testing.assert_array_equal(res["x"], ref["x"])
    np.testing.assert_allclose(res["train_acc"], ref["train_acc"], rtol=0, atol=1e-6)
    for key in ref.files:
        if key.startswith(("arg:", "aux:")):
            np.testing.assert_allclose(res[key], ref[key], rtol=1e-4, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(res["pred"], ref["pred"], rtol=1e-4, atol=1e-6)
