"""mx.lr_scheduler against MXNet 1.9.1: the numbers of MXNet's scheduler tests (reference
section 4.4), full sequences recorded from the oracle, and argument validation."""
import math

import pytest

from mxtorch import lr_scheduler
from mxtorch.base import MXNetTypeError, MXNetValueError

from ._fixtures import load_json

SCHED = load_json("schedulers.json")["schedules"]


@pytest.mark.parametrize("spec", SCHED, ids=[f"{s['kind']}{i}" for i, s in enumerate(SCHED)])
def test_sequence_matches_mxnet(spec):
    s = getattr(lr_scheduler, spec["kind"])(**spec["kwargs"])
    got = [s(n) for n in spec["n"]]
    for n, a, b in zip(spec["n"], got, spec["lr"]):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), f"num_update {n}"


def test_factor_scheduler_numbers():
    s = lr_scheduler.FactorScheduler(step=100, factor=0.1, stop_factor_lr=1e-4, base_lr=1,
                                     warmup_steps=20, warmup_begin_lr=0.1,
                                     warmup_mode='constant')
    assert s(0) == 0.1 and s(10) == 0.1
    assert s(21) == pytest.approx(1)
    assert s(101) == pytest.approx(0.1)
    assert s(201) == pytest.approx(0.01)
    assert s(1000) == pytest.approx(1e-4)


def test_multifactor_scheduler_numbers():
    s = lr_scheduler.MultiFactorScheduler(step=[15, 25], factor=0.1, base_lr=0.1,
                                          warmup_steps=10, warmup_begin_lr=0.05,
                                          warmup_mode='linear')
    assert s(0) == pytest.approx(0.05) and s(5) == pytest.approx(0.075)
    assert s(15) == pytest.approx(0.1) and s(16) == pytest.approx(0.01)
    assert s(20) == pytest.approx(0.01) and s(26) == pytest.approx(0.001)
    assert s(100) == pytest.approx(0.001)


def test_poly_scheduler_numbers():
    s = lr_scheduler.PolyScheduler(max_update=1000, base_lr=3, warmup_steps=100,
                                   warmup_begin_lr=0, warmup_mode='linear')
    assert s(0) == 0 and s(50) == pytest.approx(1.5) and s(100) == pytest.approx(3)
    assert s(101) < s(100)
    assert s(500) < 1.6
    assert s(1000) == pytest.approx(0)
    assert s(2000) == pytest.approx(0)      # kept after max_update


def test_cosine_scheduler_numbers():
    s = lr_scheduler.CosineScheduler(max_update=1000, base_lr=3, final_lr=0.1)
    assert s(0) == pytest.approx(3)
    assert s(1000) == pytest.approx(0.1)
    assert s(500) > 1.5
    assert s(500) == pytest.approx(0.1 + 2.9 * (1 + math.cos(math.pi / 2)) / 2)


@pytest.mark.parametrize("make,err,msg", [
    (lambda: lr_scheduler.FactorScheduler(step=0), MXNetValueError, "got 0"),
    (lambda: lr_scheduler.FactorScheduler(step=2, factor=1.5), MXNetValueError, "1.5"),
    (lambda: lr_scheduler.MultiFactorScheduler(step=[5, 5]), MXNetValueError, "increasing"),
    (lambda: lr_scheduler.MultiFactorScheduler(step=[0, 5]), MXNetValueError, "greater"),
    (lambda: lr_scheduler.MultiFactorScheduler(step=5), MXNetTypeError, "list"),
    (lambda: lr_scheduler.PolyScheduler(max_update=0), MXNetValueError, "positive"),
    (lambda: lr_scheduler.CosineScheduler(max_update=10.0), MXNetTypeError, "int"),
    (lambda: lr_scheduler.LRScheduler(warmup_steps=2.0), MXNetTypeError, "warmup_steps"),
    (lambda: lr_scheduler.LRScheduler(base_lr=0.1, warmup_begin_lr=0.2), MXNetValueError,
     "warmup_begin_lr"),
    (lambda: lr_scheduler.LRScheduler(warmup_steps=-1), MXNetValueError, "-1"),
    (lambda: lr_scheduler.LRScheduler(warmup_mode='cubic'), MXNetValueError, "cubic"),
])
def test_validation(make, err, msg):
    with pytest.raises(err, match=msg):
        make()


def test_base_call_is_abstract():
    with pytest.raises(NotImplementedError):
        lr_scheduler.LRScheduler()(3)
