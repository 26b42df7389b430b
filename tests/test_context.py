"""Context: labels, equality, torch devices, the default context and gpu() errors."""
import pytest
import torch

import mxtorch as mx


def test_cpu_contexts_are_labels_on_host():
    assert mx.cpu(1) != mx.cpu(0)
    assert mx.cpu(1) == mx.Context("cpu", 1)
    assert mx.cpu(3).torch_device == torch.device("cpu")
    assert str(mx.cpu(2)) == "cpu(2)"
    assert {mx.cpu(0): 1}[mx.Context(mx.cpu(0))] == 1


def test_current_context_scope():
    assert mx.current_context() == mx.cpu(0)
    with mx.cpu(4):
        assert mx.current_context() == mx.cpu(4)
        assert mx.nd.zeros((2,)).context == mx.cpu(4)
    assert mx.current_context() == mx.cpu(0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_gpu_without_cuda_is_clear_error():
    assert mx.num_gpus() == 0
    with pytest.raises(mx.MXNetError, match="CUDA is not available"):
        mx.gpu(0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_context_maps_to_cuda():
    assert mx.gpu(0).torch_device == torch.device("cuda", 0)
    a = mx.nd.ones((2, 2), ctx=mx.gpu(0))
    assert a.context == mx.gpu(0)
    assert a.as_in_context(mx.cpu()).context == mx.cpu()
