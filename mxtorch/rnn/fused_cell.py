"""``FusedRNNCell``: every layer and step of an RNN in one fused ``RNN`` op (torch's fused
kernels), with MXNet's parameter vector, its per-gate unpacking and ``unfuse``."""
import warnings

import torch

from .. import symbol
from ..base import MXNetValueError, MXNetNotImplementedError
from ..ndarray import NDArray, zeros as nd_zeros
from .fused_init import FusedRNN, slice_fused_weights
from .rnn_cell import BaseRNNCell, RNNCell, LSTMCell, GRUCell, _normalize_sequence
from .stack_cell import SequentialRNNCell, BidirectionalCell, DropoutCell

__all__ = ["FusedRNNCell"]

class FusedRNNCell(BaseRNNCell):
    """All layers and steps in one fused ``RNN`` op (torch's fused kernels, CPU or GPU).

    Parameters
    ----------
    num_hidden : int
    num_layers : int, default 1
    mode : {'lstm', 'gru', 'rnn_tanh', 'rnn_relu'}, default 'lstm'
    bidirectional : bool, default False
    dropout : float, default 0
        Dropout between layers in training.
    get_next_state : bool, default False
        Also return the final states.
    forget_bias : float, default 1.0
    prefix : str, default '<mode>_'
    params : RNNParams, optional
    """

    def __init__(self, num_hidden, num_layers=1, mode="lstm", bidirectional=False,
                 dropout=0., get_next_state=False, forget_bias=1.0, prefix=None, params=None):
        if mode not in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
            raise MXNetValueError(f"FusedRNNCell: unknown mode {mode!r}; use 'lstm', 'gru', "
                                  "'rnn_tanh' or 'rnn_relu'")
        if prefix is None:
            prefix = "%s_" % mode
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._dropout = dropout
        self._get_next_state = get_next_state
        self._directions = ["l", "r"] if bidirectional else ["l"]
        initializer = FusedRNN(None, num_hidden, num_layers, mode, bidirectional, forget_bias)
        self._parameter = self.params.get("parameters", init=initializer)

    @property
    def state_info(self):
        b = self._bidirectional + 1
        n = (self._mode == "lstm") + 1
        return [{"shape": (b * self._num_layers, 0, self._num_hidden), "__layout__": "LNC"}
                for _ in range(n)]

    @property
    def _gate_names(self):
        return {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"],
                "gru": ["_r", "_z", "_o"]}[self._mode]

    def _slice(self, flat, num_input):
        return slice_fused_weights(flat, self._prefix, self._num_layers, self._directions,
                                   self._gate_names, num_input, self._num_hidden)

    def unpack_weights(self, args):
        args = args.copy()
        arr = args.pop(self._parameter.name)
        b, m, h = len(self._directions), len(self._gate_names), self._num_hidden
        num_input = arr.size // b // h // m - (self._num_layers - 1) * (h + b * h + 2) - h - 2
        views = self._slice(arr._data, num_input)
        args.update({name: NDArray(t.clone(), arr.context) for name, t in views.items()})
        return args

    def pack_weights(self, args):
        args = args.copy()
        b, m, h = self._bidirectional + 1, len(self._gate_names), self._num_hidden
        w0 = args["%sl0_i2h%s_weight" % (self._prefix, self._gate_names[0])]
        num_input = w0.shape[1]
        total = (num_input + h + 2) * h * m * b + (self._num_layers - 1) * m * h * (h + b * h + 2) * b
        arr = nd_zeros((total,), ctx=w0.context, dtype=w0.dtype)
        with torch.no_grad():
            for name, view in self._slice(arr._data, num_input).items():
                src = args.pop(name)
                view.copy_(src._data if isinstance(src, NDArray) else torch.as_tensor(src))
        args[self._parameter.name] = arr
        return args

    def __call__(self, inputs, states):
        raise MXNetNotImplementedError("FusedRNNCell cannot be stepped. Please use unroll")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, axis = _normalize_sequence(length, inputs, layout, True)
        if axis == 1:
            warnings.warn("NTC layout detected. Consider using TNC for FusedRNNCell for "
                          "faster speed")
            inputs = symbol.swapaxes(inputs, dim1=0, dim2=1)
        elif axis != 0:
            raise MXNetValueError(f"FusedRNNCell: unsupported layout {layout}")
        if begin_state is None:
            begin_state = self.begin_state()
        if self._mode == "lstm":
            states = {"state": begin_state[0], "state_cell": begin_state[1]}
        else:
            states = {"state": begin_state[0]}
        rnn = symbol.RNN(data=inputs, parameters=self._parameter, state_size=self._num_hidden,
                         num_layers=self._num_layers, bidirectional=self._bidirectional,
                         p=self._dropout, state_outputs=self._get_next_state, mode=self._mode,
                         name=self._prefix + "rnn", **states)
        if not self._get_next_state:
            outputs, states = rnn, []
        elif self._mode == "lstm":
            rnn[1]._set_attr(__layout__="LNC")
            rnn[2]._set_attr(__layout__="LNC")
            outputs, states = rnn[0], [rnn[1], rnn[2]]
        else:
            rnn[1]._set_attr(__layout__="LNC")
            outputs, states = rnn[0], [rnn[1]]
        if axis == 1:
            outputs = symbol.swapaxes(outputs, dim1=0, dim2=1)
        outputs, _ = _normalize_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def unfuse(self):
        """The same network as a SequentialRNNCell of unfused cells (same weight names
        after ``unpack_weights``)."""
        stack = SequentialRNNCell()
        make = {"rnn_relu": lambda p: RNNCell(self._num_hidden, activation="relu", prefix=p),
                "rnn_tanh": lambda p: RNNCell(self._num_hidden, activation="tanh", prefix=p),
                "lstm": lambda p: LSTMCell(self._num_hidden, prefix=p),
                "gru": lambda p: GRUCell(self._num_hidden, prefix=p)}[self._mode]
        for i in range(self._num_layers):
            if self._bidirectional:
                stack.add(BidirectionalCell(make("%sl%d_" % (self._prefix, i)),
                                            make("%sr%d_" % (self._prefix, i)),
                                            output_prefix="%sbi_l%d_" % (self._prefix, i)))
            else:
                stack.add(make("%sl%d_" % (self._prefix, i)))
            if self._dropout > 0 and i != self._num_layers - 1:
                stack.add(DropoutCell(self._dropout, prefix="%s_dropout%d_" % (self._prefix, i)))
        return stack
