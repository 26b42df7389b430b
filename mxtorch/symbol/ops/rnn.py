"""The fused ``RNN`` op (modes lstm, gru, rnn_tanh, rnn_relu; layers, bidirectional,
state outputs) on torch's fused RNN kernels, reading MXNet's flat ``parameters`` vector.

MXNet's layout of ``parameters``: first every weight, by layer, then direction: the
input-to-hidden matrix (gates*H, input size) then the hidden-to-hidden one (gates*H, H);
then every bias in the same order (i2h then h2h, gates*H each). Gate order is MXNet's
(lstm i, f, c, o; gru r, z, n), which is torch's, and both compute GRU as cuDNN does.
"""
import torch

from ...base import MXNetNotImplementedError
from ..registry import OpDef, Param, register

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
_KERNELS = {"lstm": "lstm", "gru": "gru", "rnn_tanh": "rnn_tanh", "rnn_relu": "rnn_relu"}


def param_size(p, input_size):
    """The length of the flat parameter vector for an input feature size."""
    g, h, d = _GATES[p.mode], p.state_size, 2 if p.bidirectional else 1
    first = g * h * (input_size + h + 2)
    rest = g * h * (d * h + h + 2)
    return d * (first + (p.num_layers - 1) * rest)


def _unpack(p, flat, input_size):
    """torch's parameter list (w_ih, w_hh, b_ih, b_hh per layer and direction) as views of
    the flat vector."""
    g, h, d = _GATES[p.mode], p.state_size, 2 if p.bidirectional else 1
    weights, pos = [], 0
    for layer in range(p.num_layers):
        in_size = input_size if layer == 0 else d * h
        for _ in range(d):
            w_ih = flat[pos:pos + g * h * in_size].view(g * h, in_size)
            pos += g * h * in_size
            w_hh = flat[pos:pos + g * h * h].view(g * h, h)
            pos += g * h * h
            weights.append([w_ih, w_hh])
    for entry in weights:
        entry.append(flat[pos:pos + g * h])
        pos += g * h
        entry.append(flat[pos:pos + g * h])
        pos += g * h
    if pos != flat.numel():
        raise ValueError(f"RNN: parameters has {flat.numel()} values, expected {pos} for "
                         f"input size {input_size}")
    return [t for entry in weights for t in entry]


def _check(p):
    if p.projection_size is not None or p.use_sequence_length or \
            p.lstm_state_clip_min is not None or p.lstm_state_clip_max is not None:
        raise MXNetNotImplementedError(
            "RNN: projection_size, use_sequence_length and lstm_state_clip_* are not "
            "implemented in mxtorch; use the unfused mx.rnn cells")


def _rnn_forward(p, is_train, data, parameters, state, state_cell=None):
    _check(p)
    params = _unpack(p, parameters, data.shape[2])
    dropout = p.p if is_train else 0.0
    fn = getattr(torch._VF, _KERNELS[p.mode])
    if p.mode == "lstm":
        out, hn, cn = fn(data, (state, state_cell), params, True, p.num_layers, dropout,
                         is_train, p.bidirectional, False)
        return (out, hn, cn) if p.state_outputs else out
    out, hn = fn(data, state, params, True, p.num_layers, dropout, is_train,
                 p.bidirectional, False)
    return (out, hn) if p.state_outputs else out


def _inputs(p):
    names = ["data", "parameters", "state"]
    if p.mode == "lstm":
        names.append("state_cell")
    if p.use_sequence_length:
        names.append("sequence_length")
    return names


def _outputs(p):
    if not p.state_outputs:
        return ["output"]
    return ["output", "state_output"] + (["statecell_output"] if p.mode == "lstm" else [])


def _rnn_shape(p, ins, outs):
    data = ins[0]
    d = 2 if p.bidirectional else 1
    if data is None or len(data) != 3:
        if data is not None and len(data) not in (0, 3):
            raise ValueError(f"RNN: data must be 3-D (seq_len, batch, input size), got {data}")
        return ins, outs
    t, n, i = data
    if i:
        ins[1] = (param_size(p, i),)
    state = (p.num_layers * d, n, p.state_size)
    ins[2] = state
    if p.mode == "lstm":
        ins[3] = state
    if p.use_sequence_length:
        ins[-1] = (n,)
    out = [(t, n, d * p.state_size)]
    if p.state_outputs:
        out += [state] * (2 if p.mode == "lstm" else 1)
    return ins, out


register(OpDef(
    "RNN", _rnn_forward,
    params={"state_size": Param("int"), "num_layers": Param("int"),
            "bidirectional": Param("bool", False),
            "mode": Param("str", choices=set(_GATES)), "p": Param("float", 0.0),
            "state_outputs": Param("bool", False),
            "projection_size": Param("int_or_none", None),
            "lstm_state_clip_min": Param("float_or_none", None),
            "lstm_state_clip_max": Param("float_or_none", None),
            "lstm_state_clip_nan": Param("bool", False),
            "use_sequence_length": Param("bool", False)},
    inputs=_inputs, outputs=_outputs, infer_shape=_rnn_shape))
