"""mxtorch.models builders: MXNet's argument checks as clear errors, output shapes for the
ImageNet-sized variants (whose graphs tests/compat/test_models.py compares with MXNet's),
and the bucketing form of the LSTM language model."""
import pytest

import mxtorch as mx
from mxtorch.base import MXNetNotImplementedError, MXNetValueError
from mxtorch.models import (alexnet, inception_bn, lenet, lstm_lm, mlp, mobilenet, resnet,
                            resnet_v1, vgg)


def _build(fn, *args, **kwargs):
    try:
        with mx.name.NameManager():
            return fn(*args, **kwargs)
    except MXNetNotImplementedError as e:
        pytest.skip(str(e))


@pytest.mark.parametrize("module", [resnet, resnet_v1])
def test_resnet_rejects_depths_mxnet_has_no_table_for(module):
    with pytest.raises(MXNetValueError, match="num_layers=19.*18, 34, 50"):
        module.get_symbol(10, 19, "3,224,224")
    with pytest.raises(MXNetValueError, match="num_layers=18 on images of height 28"):
        module.get_symbol(10, 18, "3,28,28")
    with pytest.raises(MXNetValueError, match="image_shape must be 'channels,height,width'"):
        module.get_symbol(10, 18, "3,224")


def test_other_builders_reject_bad_arguments():
    with pytest.raises(MXNetValueError, match="num_layers 12"):
        vgg.get_symbol(10, num_layers=12)
    with pytest.raises(MXNetValueError, match="alpha 0.3"):
        mobilenet.get_symbol(10, alpha=0.3)
    with pytest.raises(MXNetValueError, match="multiple of 32, got 100"):
        mobilenet.get_symbol(10, resolution=100)
    with pytest.raises(MXNetValueError, match="need fused=True"):
        lstm_lm.get_symbol(10, 4, dropout=0.2)
    with pytest.raises(MXNetValueError, match="image_shape"):
        inception_bn.get_symbol(10, "big")


@pytest.mark.parametrize("build,shape,classes", [
    (lambda: resnet.get_symbol(1000, 50, "3,224,224"), (2, 3, 224, 224), 1000),
    (lambda: resnet_v1.get_symbol(1000, 101, "3,224,224"), (2, 3, 224, 224), 1000),
    (lambda: resnet.get_symbol(10, 110, "3,28,28"), (2, 3, 28, 28), 10),
    (lambda: inception_bn.get_symbol(1000, "3,224,224"), (2, 3, 224, 224), 1000),
    (lambda: mobilenet.get_symbol(1000, alpha=0.75), (2, 3, 224, 224), 1000),
    (lambda: alexnet.get_symbol(1000), (2, 3, 224, 224), 1000),
    (lambda: vgg.get_symbol(1000, num_layers=19, batch_norm=True), (2, 3, 224, 224), 1000),
    (lambda: lenet.get_symbol(7, add_stn=True), (2, 1, 28, 28), 7),
    (lambda: mlp.get_symbol(5), (2, 1, 28, 28), 5),
])
def test_full_size_networks_infer_their_output_shape(build, shape, classes):
    """Every layer's shape rule agrees with the next one's at the input size the network
    was designed for (a wrong stride or pad breaks the flatten/FC or the pooling)."""
    sym = _build(build)
    _, out_shapes, _ = sym.infer_shape(data=shape)
    assert out_shapes == [(shape[0], classes)]


def test_builders_default_to_mxtorch_and_accept_a_library():
    sym = _build(mlp.get_symbol, 3)
    assert isinstance(sym, mx.sym.Symbol)
    assert _build(mlp.get_symbol, 3, mx=mx).tojson() == sym.tojson()


def test_lstm_lm_buckets_share_one_set_of_parameters():
    gen = lstm_lm.sym_gen(30, num_embed=8, num_hidden=8, num_layers=2)
    with mx.name.NameManager():
        short, data_names, label_names = gen(4)
        long, _, _ = gen(9)
    assert (data_names, label_names) == (("data",), ("softmax_label",))
    params = [n for n in short.list_arguments() if n not in ("data", "softmax_label")]
    assert params == [n for n in long.list_arguments() if n not in ("data", "softmax_label")]
    assert "lstm_l1_i2h_weight" in params
    _, out, _ = long.infer_shape(data=(3, 9), softmax_label=(3, 9))
    assert out == [(27, 30)]
    mod = mx.mod.BucketingModule(gen, default_bucket_key=9, context=mx.cpu())
    mod.bind(data_shapes=[("data", (3, 9))], label_shapes=[("softmax_label", (3, 9))])
    mod.init_params(mx.init.Xavier())
    mod.switch_bucket(4, [("data", (3, 4))], [("softmax_label", (3, 4))])
    mod.forward(mx.io.DataBatch([mx.nd.zeros((3, 4))], [mx.nd.zeros((3, 4))], bucket_key=4,
                                provide_data=[("data", (3, 4))],
                                provide_label=[("softmax_label", (3, 4))]), is_train=False)
    assert mod.get_outputs()[0].shape == (12, 30)
