"""The LSTM language model of MXNet's bucketing examples: embedding, stacked LSTM, a
per-step ``pred`` layer over the vocabulary and a softmax head.

``fused=False`` follows example/rnn/bucketing/lstm_bucketing.py (one ``LSTMCell`` per layer,
prefixes ``lstm_l<i>_``, batch-major data 'NT'); ``fused=True`` follows
cudnn_rnn_bucketing.py (one ``FusedRNNCell``, prefix ``lstm_``, time-major data 'TN', with
dropout and bidirectional options). Use ``sym_gen`` with ``mx.mod.BucketingModule``.
"""
from ._common import library, value_error

__all__ = ["get_symbol", "sym_gen", "make_cell"]


def make_cell(num_hidden, num_layers, fused=False, bidirectional=False, dropout=0.0, mx=None):
    """The recurrent stack: a SequentialRNNCell of LSTMCells ``lstm_l<i>_``, or (fused) one
    FusedRNNCell of mode 'lstm'.

    Raises
    ------
    ValueError
        (MXNetValueError) ``bidirectional`` or ``dropout`` without ``fused`` (the cell
        example has neither).
    """
    mx = library(mx)
    if fused:
        return mx.rnn.FusedRNNCell(num_hidden, num_layers=num_layers, dropout=dropout,
                                   mode="lstm", bidirectional=bidirectional)
    if bidirectional or dropout:
        raise value_error("lstm_lm: bidirectional and dropout need fused=True (the LSTMCell "
                           "stack of MXNet's lstm_bucketing example has neither)")
    stack = mx.rnn.SequentialRNNCell()
    for i in range(num_layers):
        stack.add(mx.rnn.LSTMCell(num_hidden=num_hidden, prefix="lstm_l%d_" % i))
    return stack


def get_symbol(num_classes, seq_len, num_embed=200, num_hidden=200, num_layers=2, fused=False,
               bidirectional=False, dropout=0.0, cell=None, mx=None, **kwargs):
    """The language model unrolled over ``seq_len`` steps.

    Parameters
    ----------
    num_classes : int
        The vocabulary size (Embedding ``input_dim`` and ``pred`` outputs).
    seq_len : int
    num_embed, num_hidden, num_layers : int, default 200, 200, 2
    fused : bool, default False
        One FusedRNNCell (data 'TN') instead of an LSTMCell stack (data 'NT').
    bidirectional : bool, default False
        Fused only: ``pred`` then sees ``2*num_hidden`` features.
    dropout : float, default 0
        Fused only: dropout between layers.
    cell : BaseRNNCell, optional
        The stack to unroll (reset first); default ``make_cell(...)``. Pass the same cell to
        every bucket so all share its parameters.
    mx : module, optional
        The library to build with (default mxtorch).

    Returns
    -------
    Symbol
        ``softmax`` over ``(batch*seq_len, num_classes)``; inputs ``data`` and
        ``softmax_label``.
    """
    mx = library(mx)
    if cell is None:
        cell = make_cell(num_hidden, num_layers, fused, bidirectional, dropout, mx=mx)
    data = mx.sym.Variable("data")
    label = mx.sym.Variable("softmax_label")
    embed = mx.sym.Embedding(data=data, input_dim=num_classes, output_dim=num_embed,
                             name="embed")
    cell.reset()
    if fused:
        outputs, _ = cell.unroll(seq_len, inputs=embed, merge_outputs=True, layout="TNC")
    else:
        outputs = cell.unroll(seq_len, inputs=embed, merge_outputs=True)[0]
    pred = mx.sym.Reshape(outputs, shape=(-1, num_hidden * (1 + bool(bidirectional))))
    pred = mx.sym.FullyConnected(data=pred, num_hidden=num_classes, name="pred")
    label = mx.sym.Reshape(label, shape=(-1,))
    return mx.sym.SoftmaxOutput(data=pred, label=label, name="softmax")


def sym_gen(num_classes, num_embed=200, num_hidden=200, num_layers=2, fused=False,
            bidirectional=False, dropout=0.0, mx=None):
    """A ``sym_gen(seq_len) -> (symbol, ('data',), ('softmax_label',))`` for
    BucketingModule; every bucket unrolls the same cell, so parameters are shared."""
    mx = library(mx)
    cell = make_cell(num_hidden, num_layers, fused, bidirectional, dropout, mx=mx)

    def gen(seq_len):
        sym = get_symbol(num_classes, seq_len, num_embed, num_hidden, num_layers, fused,
                         bidirectional, dropout, cell=cell, mx=mx)
        return sym, ("data",), ("softmax_label",)
    return gen
