"""The ``FusedRNN`` initializer and the per-gate layout of the fused ``RNN`` op's flat
parameter vector (MXNet's order), which both the initializer and ``mx.rnn.FusedRNNCell``
(pack/unpack) read.

The layout lives here rather than in ``rnn`` because the initializer layer sits above the
RNN cells: cells import it, never the other way round.
"""
from ..base import MXNetValueError
from ..ndarray import NDArray
from .base import InitDesc, Initializer, register, create, _tensor

__all__ = ["FusedRNN", "slice_fused_weights", "fused_gate_names", "fused_num_input"]

_GATES = {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"],
          "gru": ["_r", "_z", "_o"]}


def fused_gate_names(mode):
    """The gate suffixes of ``mode`` in MXNet's order (``['_i', '_f', '_c', '_o']`` for lstm).

    Raises
    ------
    MXNetValueError
        ``mode`` is not 'lstm', 'gru', 'rnn_tanh' or 'rnn_relu'.
    """
    if mode not in _GATES:
        raise MXNetValueError(f"fused RNN: unknown mode {mode!r}; use 'lstm', 'gru', "
                              "'rnn_tanh' or 'rnn_relu'")
    return _GATES[mode]


def fused_num_input(size, num_layers, num_directions, num_gates, num_hidden):
    """The input size implied by a flat parameter vector of ``size`` entries (MXNet's
    formula in ``FusedRNNCell.unpack_weights``)."""
    b, m, h = num_directions, num_gates, num_hidden
    return size // b // h // m - (num_layers - 1) * (h + b * h + 2) - h - 2


def slice_fused_weights(flat, prefix, num_layers, directions, gate_names, num_input, num_hidden):
    """``{name: view}`` of the 1-D tensor ``flat`` in MXNet's order: all weights, then all
    biases; per layer and direction, i2h then h2h, per gate. Names are
    ``<prefix><dir><layer>_<i2h|h2h><gate>_<weight|bias>``; weights are (hidden, cols) views.

    Raises
    ------
    MXNetValueError
        ``flat`` does not hold exactly the parameters of such an RNN.
    """
    b, m, lh, li = len(directions), len(gate_names), num_hidden, num_input
    total = flat.numel()
    expected = b * m * lh * (li + lh) + (num_layers - 1) * b * m * lh * (b * lh + lh) \
        + num_layers * b * 2 * m * lh
    if li <= 0 or total != expected:
        raise MXNetValueError(f"invalid parameters size {total} for a fused RNN of "
                              f"{num_layers} layer(s), {b} direction(s), {num_hidden} hidden "
                              f"and input size {num_input} (expected {expected})")
    views, p = {}, 0
    for layer in range(num_layers):
        cols = li if layer == 0 else b * lh
        for d in directions:
            for group, width in (("i2h", cols), ("h2h", lh)):
                for gate in gate_names:
                    views["%s%s%d_%s%s_weight" % (prefix, d, layer, group, gate)] = \
                        flat[p:p + lh * width].view(lh, width)
                    p += lh * width
    for layer in range(num_layers):
        for d in directions:
            for group in ("i2h", "h2h"):
                for gate in gate_names:
                    views["%s%s%d_%s%s_bias" % (prefix, d, layer, group, gate)] = \
                        flat[p:p + lh]
                    p += lh
    return views


@register
class FusedRNN(Initializer):
    """Initialize the flat parameter vector of the fused ``RNN`` op piece by piece.

    As MXNet: the vector is cut into its per-gate weights and biases (named like
    ``l0_i2h_f_bias``); each piece goes through ``init`` (or, when ``init`` is None, the
    global initializer) with the usual name rules, so weights get ``_init_weight`` and
    biases 0. For 'lstm' every forget-gate bias, i2h and h2h alike, is set to
    ``forget_bias`` (the effective forget bias is therefore twice that value).

    Parameters
    ----------
    init : Initializer, str or None
        Applied to each piece; a str is an initializer's JSON (``dumps()``) or name.
        (MXNet 1.9.1 raises KeyError for any str here, as it looks the name up in the wrong
        registry, so its FusedRNN with an init cannot be recreated from its own JSON; ours
        can.)
    num_hidden : int
    num_layers : int
    mode : {'lstm', 'gru', 'rnn_tanh', 'rnn_relu'}
    bidirectional : bool, default False
    forget_bias : float, default 1.0

    Raises
    ------
    MXNetValueError
        Unknown mode, or (when filling) an array whose size fits no such RNN.
    """

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False,
                 forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        fused_gate_names(mode)
        super().__init__(init=init.dumps() if init is not None else None,
                         num_hidden=num_hidden, num_layers=num_layers, mode=mode,
                         bidirectional=bidirectional, forget_bias=forget_bias)
        self._init = init
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._forget_bias = forget_bias

    def _init_weight(self, desc, arr):
        gates = fused_gate_names(self._mode)
        dirs = ["l", "r"] if self._bidirectional else ["l"]
        flat = _tensor(arr).view(-1)
        num_input = fused_num_input(flat.numel(), self._num_layers, len(dirs), len(gates),
                                    self._num_hidden)
        views = slice_fused_weights(flat, "", self._num_layers, dirs, gates, num_input,
                                    self._num_hidden)
        global_init = getattr(desc, "global_init", None) or self
        for name, view in views.items():
            piece_desc = InitDesc(name, global_init=global_init)
            if self._mode == "lstm" and name.endswith("_f_bias"):
                view.fill_(self._forget_bias)
            elif self._init is None:
                global_init(piece_desc, NDArray(view, arr.context))
            else:
                self._init(piece_desc, NDArray(view, arr.context))
