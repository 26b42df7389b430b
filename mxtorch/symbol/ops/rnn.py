"""The fused ``RNN`` op (modes lstm, gru, rnn_tanh, rnn_relu; layers, bidirectional,
state outputs) on torch's fused RNN kernels, reading MXNet's flat ``parameters`` vector.

MXNet's layout of ``parameters``: first every weight, by layer, then direction: the
input-to-hidden matrix (gates*H, input size) then the hidden-to-hidden one (gates*H, H);
then every bias in the same order (i2h then h2h, gates*H each). Gate order is MXNet's
(lstm i, f, c, o; gru r, z, n), which is torch's, and both compute GRU as cuDNN does.
"""
import torch

from ...base import MXNetNotImplementedError, MXNetValueError
from ..registry import OpDef, Param, register

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
_KERNELS = {"lstm": "lstm", "gru": "gru", "rnn_tanh": "rnn_tanh", "rnn_relu": "rnn_relu"}


def _proj(p):
    """The projected hidden size (LSTMP), or None."""
    return p.projection_size if p.mode == "lstm" and p.projection_size else None


def param_size(p, input_size):
    """The length of the flat parameter vector for an input feature size."""
    g, h, d = _GATES[p.mode], p.state_size, 2 if p.bidirectional else 1
    r = _proj(p) or h                          # the recurrent (output) size
    size = 0
    for layer in range(p.num_layers):
        in_size = input_size if layer == 0 else d * r
        size += d * (g * h * (in_size + r + 2) + (r * h if _proj(p) else 0))
    return size


def _unpack(p, flat, input_size):
    """torch's parameter list (w_ih, w_hh, b_ih, b_hh[, w_hr] per layer and direction) as
    views of the flat vector: every i2h and h2h matrix (LSTMP: and the projection matrix,
    after them) by layer then direction, then every bias in the same order."""
    g, h, d = _GATES[p.mode], p.state_size, 2 if p.bidirectional else 1
    r = _proj(p) or h
    weights, pos = [], 0
    for layer in range(p.num_layers):
        in_size = input_size if layer == 0 else d * r
        for _ in range(d):
            w_ih = flat[pos:pos + g * h * in_size].view(g * h, in_size)
            pos += g * h * in_size
            w_hh = flat[pos:pos + g * h * r].view(g * h, r)
            pos += g * h * r
            entry = [w_ih, w_hh]
            if _proj(p):
                entry.append(flat[pos:pos + r * h].view(r, h))
                pos += r * h
            weights.append(entry)
    for entry in weights:
        w_hr = entry[2:]
        del entry[2:]
        entry.append(flat[pos:pos + g * h])
        pos += g * h
        entry.append(flat[pos:pos + g * h])
        pos += g * h
        entry.extend(w_hr)
    if pos != flat.numel():
        raise ValueError(f"RNN: parameters has {flat.numel()} values, expected {pos} for "
                         f"input size {input_size}")
    return [t for entry in weights for t in entry]


def _check(p):
    if p.use_sequence_length:
        raise MXNetNotImplementedError(
            "RNN: use_sequence_length is not implemented in mxtorch (MXNet runs it only "
            "with cuDNN); mask the padded steps with SequenceMask / SequenceLast instead")
    if p.projection_size is not None and p.mode != "lstm":
        raise MXNetValueError(f"RNN: projection_size needs mode='lstm', got {p.mode!r}")
    if p.projection_size is not None and not 0 < p.projection_size < p.state_size:
        raise MXNetValueError(f"RNN: projection_size must be in [1, state_size) = [1, "
                              f"{p.state_size}), got {p.projection_size}")
    clip = (p.lstm_state_clip_min, p.lstm_state_clip_max)
    if (clip[0] is None) != (clip[1] is None) or (clip[0] is not None and clip[0] > clip[1]):
        raise MXNetValueError(f"RNN: lstm_state_clip_min and lstm_state_clip_max go together, "
                              f"min <= max; got {clip}")
    if clip[0] is not None and p.mode != "lstm":
        raise MXNetValueError(f"RNN: lstm_state_clip_* needs mode='lstm', got {p.mode!r}")


def _lstm_clipped(p, data, params, h0, c0, is_train):
    """LSTM step by step with the cell state clipped to [lstm_state_clip_min, _max] after
    each update (NaN to the minimum with lstm_state_clip_nan), as MXNet's kernels do."""
    d = 2 if p.bidirectional else 1
    lo, hi = p.lstm_state_clip_min, p.lstm_state_clip_max
    per = 5 if _proj(p) else 4
    x, hs, cs = data, [], []
    for layer in range(p.num_layers):
        outs = []
        for direction in range(d):
            k = layer * d + direction
            w_ih, w_hh, b_ih, b_hh = params[k * per:k * per + 4]
            w_hr = params[k * per + 4] if _proj(p) else None
            h, c = h0[k], c0[k]
            xw = torch.matmul(x, w_ih.t()) + b_ih
            steps = range(x.shape[0]) if direction == 0 else range(x.shape[0] - 1, -1, -1)
            seq = [None] * x.shape[0]
            for t in steps:
                i, f, gate, o = (xw[t] + torch.matmul(h, w_hh.t()) + b_hh).chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gate)
                if p.lstm_state_clip_nan:
                    c = torch.nan_to_num(c, nan=lo)
                c = c.clamp(lo, hi)
                h = torch.sigmoid(o) * torch.tanh(c)
                if w_hr is not None:
                    h = torch.matmul(h, w_hr.t())
                seq[t] = h
            outs.append(torch.stack(seq))
            hs.append(h)
            cs.append(c)
        x = torch.cat(outs, dim=2) if d == 2 else outs[0]
        if is_train and p.p > 0 and layer < p.num_layers - 1:
            x = torch.nn.functional.dropout(x, p.p, training=True)
    return x, torch.stack(hs), torch.stack(cs)


def _rnn_forward(p, is_train, data, parameters, state, *rest):
    _check(p)
    state_cell = rest[0] if p.mode == "lstm" else None
    params = _unpack(p, parameters, data.shape[2])
    dropout = p.p if is_train else 0.0
    if p.mode == "lstm" and p.lstm_state_clip_min is not None:
        out, hn, cn = _lstm_clipped(p, data, params, state, state_cell, is_train)
        return (out, hn, cn) if p.state_outputs else out
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
    r = _proj(p) or p.state_size      # LSTMP: the hidden state is projected
    state = (p.num_layers * d, n, r)
    cell = (p.num_layers * d, n, p.state_size)
    ins[2] = state
    if p.mode == "lstm":
        ins[3] = cell
    if p.use_sequence_length:
        ins[-1] = (n,)
    out = [(t, n, d * r)]
    if p.state_outputs:
        out += [state] + ([cell] if p.mode == "lstm" else [])
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
