"""The benchmark's networks as symbols, built with whichever ``mx`` is passed (mxtorch or
real MXNet 1.9.1), so both Module peers run the very same graph. Layer for layer as
MXNet's examples (example/module/mnist_mlp.py, example/image-classification/symbols/
lenet.py and resnet.py, example/rnn/bucketing/lstm_bucketing.py, as examples/bucketing_lm.py
here); mxtorch.models holds the full builders. Imports nothing but ``mx``: this file runs
under the MXNet interpreter too. The PyTorch twins are in bench/twins.py.
"""

__all__ = ["mlp", "lenet", "resnet", "resnet_units", "lstm_lm_sym_gen"]


def mlp(mx, num_classes=10):
    """MLP 784-128-64-10 with SoftmaxOutput (example/module/mnist_mlp.py)."""
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, name="fc1", num_hidden=128)
    act1 = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(act1, name="fc2", num_hidden=64)
    act2 = mx.sym.Activation(fc2, name="relu2", act_type="relu")
    fc3 = mx.sym.FullyConnected(act2, name="fc3", num_hidden=num_classes)
    return mx.sym.SoftmaxOutput(fc3, name="softmax")


def lenet(mx, num_classes=10):
    """LeNet: two 5x5 tanh convolutions (20, 50 filters) with 2x2 max pooling, a 500-unit
    tanh layer and a softmax head (image-classification/symbols/lenet.py)."""
    data = mx.sym.Variable("data")
    x = mx.sym.Convolution(data, kernel=(5, 5), num_filter=20, name="conv1")
    x = mx.sym.Activation(x, act_type="tanh", name="tanh1")
    x = mx.sym.Pooling(x, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool1")
    x = mx.sym.Convolution(x, kernel=(5, 5), num_filter=50, name="conv2")
    x = mx.sym.Activation(x, act_type="tanh", name="tanh2")
    x = mx.sym.Pooling(x, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool2")
    x = mx.sym.FullyConnected(mx.sym.Flatten(x), num_hidden=500, name="fc1")
    x = mx.sym.Activation(x, act_type="tanh", name="tanh3")
    x = mx.sym.FullyConnected(x, num_hidden=num_classes, name="fc2")
    return mx.sym.SoftmaxOutput(x, name="softmax")


def resnet_units(num_layers):
    """``(units per stage, filter list, bottleneck)`` of MXNet's ImageNet table (used for
    images taller than 28 pixels, so for 32x32 too)."""
    table = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3],
             152: [3, 8, 36, 3]}
    if num_layers not in table:
        raise ValueError(f"resnet: num_layers must be one of {sorted(table)}, got {num_layers}")
    if num_layers >= 50:
        return table[num_layers], [64, 256, 512, 1024, 2048], True
    return table[num_layers], [64, 64, 128, 256, 512], False


def _unit(mx, data, num_filter, stride, dim_match, name, bottle_neck, bn_mom=0.9):
    """One pre-activation residual unit (resnet.py ``residual_unit``)."""
    def bn_relu(x, k):
        x = mx.sym.BatchNorm(x, fix_gamma=False, eps=2e-5, momentum=bn_mom,
                             name="%s_bn%d" % (name, k))
        return mx.sym.Activation(x, act_type="relu", name="%s_relu%d" % (name, k))

    def conv(x, filters, kernel, stride_, k):
        pad = (kernel // 2, kernel // 2)
        return mx.sym.Convolution(x, num_filter=filters, kernel=(kernel, kernel),
                                  stride=stride_, pad=pad, no_bias=True,
                                  name="%s_conv%d" % (name, k))

    act1 = bn_relu(data, 1)
    if bottle_neck:
        body = conv(act1, num_filter // 4, 1, (1, 1), 1)
        body = conv(bn_relu(body, 2), num_filter // 4, 3, stride, 2)
        body = conv(bn_relu(body, 3), num_filter, 1, (1, 1), 3)
    else:
        body = conv(act1, num_filter, 3, stride, 1)
        body = conv(bn_relu(body, 2), num_filter, 3, (1, 1), 2)
    if dim_match:
        shortcut = data
    else:
        shortcut = mx.sym.Convolution(act1, num_filter=num_filter, kernel=(1, 1), stride=stride,
                                      no_bias=True, name=name + "_sc")
    return body + shortcut


def resnet(mx, num_layers, image_size, num_classes=10, bn_mom=0.9):
    """ResNet v2 (pre-activation) of MXNet's resnet.py for ``(3, image_size, image_size)``
    images: a 3x3 stem up to 32 pixels, 7x7/2 + max pooling above; ``identity`` node
    omitted (it computes nothing)."""
    units, filter_list, bottle_neck = resnet_units(num_layers)
    data = mx.sym.Variable("data")
    data = mx.sym.BatchNorm(data, fix_gamma=True, eps=2e-5, momentum=bn_mom, name="bn_data")
    if image_size <= 32:
        body = mx.sym.Convolution(data, num_filter=filter_list[0], kernel=(3, 3), stride=(1, 1),
                                  pad=(1, 1), no_bias=True, name="conv0")
    else:
        body = mx.sym.Convolution(data, num_filter=filter_list[0], kernel=(7, 7), stride=(2, 2),
                                  pad=(3, 3), no_bias=True, name="conv0")
        body = mx.sym.BatchNorm(body, fix_gamma=False, eps=2e-5, momentum=bn_mom, name="bn0")
        body = mx.sym.Activation(body, act_type="relu", name="relu0")
        body = mx.sym.Pooling(body, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    for i, count in enumerate(units):
        stride = (1, 1) if i == 0 else (2, 2)
        body = _unit(mx, body, filter_list[i + 1], stride, False,
                     "stage%d_unit1" % (i + 1), bottle_neck, bn_mom)
        for j in range(count - 1):
            body = _unit(mx, body, filter_list[i + 1], (1, 1), True,
                         "stage%d_unit%d" % (i + 1, j + 2), bottle_neck, bn_mom)
    body = mx.sym.BatchNorm(body, fix_gamma=False, eps=2e-5, momentum=bn_mom, name="bn1")
    body = mx.sym.Activation(body, act_type="relu", name="relu1")
    body = mx.sym.Pooling(body, global_pool=True, kernel=(7, 7), pool_type="avg", name="pool1")
    fc1 = mx.sym.FullyConnected(mx.sym.Flatten(body), num_hidden=num_classes, name="fc1")
    return mx.sym.SoftmaxOutput(fc1, name="softmax")


def lstm_lm_sym_gen(mx, vocab_size, num_embed=128, num_hidden=128, num_layers=2):
    """``sym_gen(seq_len)`` of the bucketing LSTM language model (examples/bucketing_lm.py):
    Embedding, a stack of LSTMCells unrolled over ``seq_len``, ``pred`` over the vocabulary,
    SoftmaxOutput ignoring the padding label 0."""
    stack = mx.rnn.SequentialRNNCell()
    for i in range(num_layers):
        stack.add(mx.rnn.LSTMCell(num_hidden=num_hidden, prefix="lstm_l%d_" % i))

    def sym_gen(seq_len):
        data = mx.sym.Variable("data")
        label = mx.sym.Variable("softmax_label")
        embed = mx.sym.Embedding(data=data, input_dim=vocab_size, output_dim=num_embed,
                                 name="embed")
        stack.reset()
        outputs, _ = stack.unroll(seq_len, inputs=embed, merge_outputs=True)
        pred = mx.sym.Reshape(outputs, shape=(-1, num_hidden))
        pred = mx.sym.FullyConnected(data=pred, num_hidden=vocab_size, name="pred")
        label = mx.sym.Reshape(label, shape=(-1,))
        pred = mx.sym.SoftmaxOutput(data=pred, label=label, name="softmax", use_ignore=True,
                                    ignore_label=0)
        return pred, ("data",), ("softmax_label",)

    return sym_gen
