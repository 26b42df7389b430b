"""SequentialModule and PythonLossModule runs give MXNet 1.9.1's results (fixtures from
tools/gen_sequential_fixtures.py): fit of a split MLP (auto_wiring, named wiring, two
contexts, BatchNorm aux states), the python_loss example's hinge-gradient chain (SGD
momentum, and Adam over three modules), and hand-driven steps with input gradients."""
import importlib.util
import os

import numpy as np
import pytest

import mxtorch as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "compat", "fixtures", "sequential")
spec = importlib.util.spec_from_file_location("gen_sequential", os.path.join(
    ROOT, "tools", "gen_sequential_fixtures.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


@pytest.mark.parametrize("case", sorted(gen.CASES))
def test_sequential_matches_mxnet(case):
    ref = np.load(os.path.join(FIX, case + ".npz"))
    res = gen.run(mx, case)
    assert sorted(res) == sorted(ref.files)
    for key in ref.files:
        if key.startswith("init"):
            np.testing.assert_array_equal(res[key], ref[key], err_msg=key)
        elif key in ("train_acc", "val_acc"):
            np.testing.assert_allclose(res[key], ref[key], atol=1e-6, err_msg=key)
        else:  # parameters, aux states, outputs, input gradients, predictions
            np.testing.assert_allclose(res[key], ref[key], rtol=1e-4, atol=1e-5, err_msg=key)
    # the run trained: the parameters moved away from their initial values (all but a
    # bias feeding BatchNorm, whose gradient is zero)
    moved = {k[5:]: np.abs(ref["arg:" + k[5:]] - ref[k]).max() for k in ref.files
             if k.startswith("init:")}
    assert all(v > 1e-4 for k, v in moved.items() if not ("bn1_gamma" in moved and
                                                         k == "fc1_bias")), moved


def test_sequential_get_input_grads_matches_first_module_fixture():
    """MXNet's own SequentialModule.get_input_grads asserts (it never records
    inputs_need_grad); ours returns the first module's, which the fixture holds."""
    ref = np.load(os.path.join(FIX, "seq_manual_steps.npz"))
    cfg = gen.CASES["seq_manual_steps"]
    (x, y), _ = gen.digits()
    seq = gen.build(mx, cfg)
    train = mx.io.NDArrayIter(x, y, batch_size=gen.BATCH, shuffle=False)
    seq.bind(train.provide_data, train.provide_label, inputs_need_grad=True)
    seq.init_params(arg_params={k[5:]: mx.nd.array(ref[k]) for k in ref.files
                                if k.startswith("init:")}, aux_params={})
    seq.forward_backward(train.next())
    np.testing.assert_allclose(seq.get_input_grads()[0].asnumpy(), ref["dgrad0"], rtol=1e-4,
                               atol=1e-6)
