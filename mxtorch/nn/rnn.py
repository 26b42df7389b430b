"""``F.lstm``: nnabla's multi-layer (bi)directional LSTM on torch ops. Weights use
nnabla's layout: w0 (D, 4, H, I+H), w (L-1, D, 4, H, D*H+H), b (L, D, 4, H), gates in
the order input, forget, cell, output (nnabla's lstm.cpp); the cell input is
concat(x_t, h_{t-1})."""
import torch
import torch.nn.functional as TF

from ..base import MXNetValueError
from .variable import apply_function

__all__ = ["lstm"]


def _direction(xs, h, c, w, b, reverse):
    """Run one direction over the time steps; returns (outputs in time order, h, c)."""
    wt = w.reshape(-1, w.shape[-1]).t()          # (I+H, 4H)
    bias = None if b is None else b.reshape(-1)
    hs = []
    for xt in (reversed(xs) if reverse else xs):
        gates = torch.cat([xt, h], 1) @ wt
        if bias is not None:
            gates = gates + bias
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return (hs[::-1] if reverse else hs), h, c


def lstm(x, h, c, w_init, w=None, b=None, num_layers=1, dropout=0.0, bidirectional=False,
         training=True):
    """Multi-layer LSTM.

    Parameters
    ----------
    x : Variable (T, B, I)
    h, c : Variable (L, D, B, H)
        Initial hidden and cell states.
    w_init : Variable (D, 4, H, I+H)
        First layer's weights.
    w : Variable (L-1, D, 4, H, D*H+H), optional
        Other layers' weights (required when num_layers > 1).
    b : Variable (L, D, 4, H), optional
    num_layers : int, default 1
    dropout : float, default 0.0
        Dropout between layers, applied when ``training``.
    bidirectional : bool, default False
    training : bool, default True

    Returns
    -------
    (y, h_n, c_n) : y is (T, B, D*H); h_n and c_n are (L, D, B, H).
    """
    D = 2 if bidirectional else 1
    L = int(num_layers)
    if x.ndim != 3 or h.ndim != 4 or tuple(h.shape) != tuple(c.shape):
        raise MXNetValueError(f"F.lstm: x must be (T, B, I) and h, c (L, D, B, H) of one "
                              f"shape; got x {x.shape}, h {h.shape}, c {c.shape}")
    if h.shape[0] != L or h.shape[1] != D:
        raise MXNetValueError(f"F.lstm: h has shape {h.shape} but num_layers={L} and "
                              f"{D} direction(s) need ({L}, {D}, B, H)")
    if L > 1 and w is None:
        raise MXNetValueError("F.lstm: num_layers > 1 needs the weights w of layers 2..L")
    ins = [x, h, c, w_init] + ([w] if w is not None else []) + ([b] if b is not None else [])
    has_w, has_b = w is not None, b is not None

    def fn(xt, h0, c0, w0, *rest):
        wl_rest = rest[0] if has_w else None
        bias = rest[-1] if has_b else None
        xs = list(xt.unbind(0))
        hn, cn = [], []
        for layer in range(L):
            wl = w0 if layer == 0 else wl_rest[layer - 1]
            outs = []
            for d in range(D):
                hs, hl, cl = _direction(xs, h0[layer, d], c0[layer, d], wl[d],
                                        None if bias is None else bias[layer, d], d == 1)
                outs.append(hs)
                hn.append(hl)
                cn.append(cl)
            xs = [torch.cat(step, 1) for step in zip(*outs)] if D == 2 else outs[0]
            if dropout and training and layer < L - 1:
                xs = [TF.dropout(s, dropout, True) for s in xs]
        shape = tuple(h0.shape)
        return torch.stack(xs, 0), torch.stack(hn).reshape(shape), torch.stack(cn).reshape(shape)
    return apply_function("LSTM", fn, ins, dict(num_layers=L, dropout=dropout,
                          bidirectional=bidirectional, training=training), n_outputs=3)
