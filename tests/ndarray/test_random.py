"""mx.nd.random / mx.random: shapes, dtypes, parameters as NDArrays, out=, seeding, and
sample statistics against the distributions' known moments."""
import numpy as np
import pytest
import torch

import mxtorch as mx
import mxtorch.random  # noqa: F401  (mx.random, until mxtorch/__init__ imports it)
from mxtorch.base import MXNetTypeError, MXNetValueError

N = 200_000


def test_default_shape_dtype_and_context():
    a = mx.nd.random.uniform()
    assert a.shape == (1,) and a.dtype == np.float32 and a.context == mx.cpu(0)
    assert mx.nd.random.normal(shape=3).shape == (3,)
    assert mx.nd.random.randint(0, 5, shape=(2,)).dtype == np.int32
    assert mx.nd.random.randint(0, 5, shape=(2,), dtype="int64").dtype == np.int64
    assert mx.nd.random.uniform(shape=2, dtype="float64").dtype == np.float64
    assert mx.nd.random.normal(shape=2, dtype="float16").dtype == np.float16
    assert mx.nd.random.randn(2, 3).shape == (2, 3)
    assert mx.nd.random.uniform(ctx=mx.cpu(2), shape=1).context == mx.cpu(2)


def test_ndarray_parameters_add_leading_dims():
    low, high = mx.nd.array([0, 10]), mx.nd.array([1, 11])
    s = mx.nd.random.uniform(low, high, shape=(3, 4)).asnumpy()
    assert s.shape == (2, 3, 4)
    assert (s[0] >= 0).all() and (s[0] < 1).all() and (s[1] >= 10).all() and (s[1] < 11).all()
    assert mx.nd.random.uniform(low, high).shape == (2,)
    n = mx.nd.random.normal(mx.nd.array([-100.0, 100.0]), mx.nd.array([1.0, 1.0]), shape=N // 2)
    np.testing.assert_allclose(n.asnumpy().mean(axis=1), [-100, 100], atol=0.02)
    with pytest.raises(MXNetTypeError, match="same type"):
        mx.nd.random.uniform(low, 1.0)
    with pytest.raises(MXNetValueError, match="either NDArray or numbers"):
        mx.nd.random.uniform("0", "1")


@pytest.mark.parametrize("fn,args,mean,var", [
    (mx.nd.random.uniform, (2.0, 5.0), 3.5, 9 / 12),
    (mx.nd.random.normal, (1.0, 2.0), 1.0, 4.0),
    (mx.nd.random.exponential, (3.0,), 3.0, 9.0),
    (mx.nd.random.gamma, (2.0, 1.5), 3.0, 4.5),
    (mx.nd.random.poisson, (4.0,), 4.0, 4.0),
])
def test_sample_moments(fn, args, mean, var):
    mx.random.seed(1)
    x = fn(*args, shape=(N,)).asnumpy().astype(np.float64)
    se = np.sqrt(var / N)
    assert abs(x.mean() - mean) < 6 * se
    assert abs(x.var() - var) < 0.05 * var


def test_randint_range_and_coverage():
    mx.random.seed(2)
    x = mx.nd.random.randint(-3, 4, shape=(10_000,)).asnumpy()
    assert x.min() == -3 and x.max() == 3 and len(np.unique(x)) == 7
    with pytest.raises(MXNetValueError, match="greater than low"):
        mx.nd.random.randint(5, 5)
    with pytest.raises(MXNetTypeError):
        mx.nd.random.randint(0, 5, dtype="float32")
    with pytest.raises(MXNetTypeError):
        mx.nd.random.uniform(dtype="int32")


def test_out_is_filled_in_place():
    out = mx.nd.zeros((3, 2))
    ret = mx.nd.random.uniform(5, 6, out=out)
    assert ret is out
    v = out.asnumpy()
    assert (v >= 5).all() and (v < 6).all()
    with pytest.raises(MXNetValueError, match="out has shape"):
        mx.nd.random.normal(shape=(4,), out=out)


def test_seed_reproduces_and_matches_torch_generator():
    mx.random.seed(128)
    a = mx.nd.random.normal(shape=(2, 2)).asnumpy()
    b = mx.nd.random.normal(shape=(2, 2)).asnumpy()
    mx.random.seed(128)
    np.testing.assert_array_equal(mx.nd.random.normal(shape=(2, 2)).asnumpy(), a)
    assert not np.array_equal(a, b)
    torch.manual_seed(128)
    np.testing.assert_array_equal(torch.randn(2, 2).numpy(), a)
    mx.random.seed(7, ctx=mx.cpu())
    c = mx.random.uniform(shape=5).asnumpy()
    mx.random.seed(7, ctx=mx.cpu(1))
    np.testing.assert_array_equal(mx.random.uniform(shape=5).asnumpy(), c)
    with pytest.raises(ValueError, match="seed_state must be int"):
        mx.random.seed(1.5)


def test_shuffle_permutes_first_axis_only():
    mx.random.seed(3)
    data = mx.nd.array(np.arange(30).reshape(10, 3))
    s = mx.nd.random.shuffle(data).asnumpy()
    np.testing.assert_array_equal(data.asnumpy(), np.arange(30).reshape(10, 3))  # unchanged
    assert sorted(map(tuple, s)) == sorted(map(tuple, np.arange(30).reshape(10, 3)))
    assert not np.array_equal(s, data.asnumpy())
    assert (s[:, 1] - s[:, 0] == 1).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_draws_are_seeded_per_device():
    mx.random.seed(11)
    a = mx.nd.random.uniform(shape=(4,), ctx=mx.gpu(0))
    assert a.torch.is_cuda and a.context == mx.gpu(0)
    mx.random.seed(11, ctx=mx.gpu(0))
    np.testing.assert_array_equal(mx.nd.random.uniform(shape=(4,), ctx=mx.gpu(0)).asnumpy(),
                                  a.asnumpy())
