"""The per-gate views of a fused RNN parameter vector (MXNet's layout, see the RNN op)
and the ``FusedRNN`` initializer that fills each piece with its own rule."""
from ..initializer import InitDesc, Initializer, register, create
from ..ndarray import NDArray

__all__ = ["FusedRNN", "slice_fused_weights"]


def slice_fused_weights(flat, prefix, num_layers, directions, gate_names, num_input, num_hidden):
    """``{name: view}`` of the 1-D tensor ``flat``, in MXNet's order (all weights, then all
    biases; per layer, direction, i2h then h2h, per gate). Names are
    ``<prefix><dir><layer>_<i2h|h2h><gate>_<weight|bias>``."""
    b, lh, li = len(directions), num_hidden, num_input
    views, p = {}, 0
    for layer in range(num_layers):
        for d in directions:
            for gate in gate_names:
                cols = li if layer == 0 else b * lh
                views["%s%s%d_i2h%s_weight" % (prefix, d, layer, gate)] = \
                    flat[p:p + lh * cols].view(lh, cols)
                p += lh * cols
            for gate in gate_names:
                views["%s%s%d_h2h%s_weight" % (prefix, d, layer, gate)] = \
                    flat[p:p + lh * lh].view(lh, lh)
                p += lh * lh
    for layer in range(num_layers):
        for d in directions:
            for group in ("i2h", "h2h"):
                for gate in gate_names:
                    views["%s%s%d_%s%s_bias" % (prefix, d, layer, group, gate)] = flat[p:p + lh]
                    p += lh
    if p != flat.numel():
        raise ValueError(f"invalid parameters size {flat.numel()} for a fused RNN of "
                         f"{num_layers} layer(s), {num_hidden} hidden and input size "
                         f"{num_input} (expected {p})")
    return views


@register
class FusedRNN(Initializer):
    """Initialize the flat parameter vector of a FusedRNNCell piece by piece.

    Parameters
    ----------
    init : Initializer, str or None
        Applied to each unpacked weight and bias; None falls back to the global initializer.
    num_hidden, num_layers, mode, bidirectional, forget_bias
        As given to FusedRNNCell; for 'lstm' the forget-gate biases get ``forget_bias``.
    """

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        super().__init__(init=init.dumps() if init is not None else None, num_hidden=num_hidden,
                         num_layers=num_layers, mode=mode, bidirectional=bidirectional,
                         forget_bias=forget_bias)
        self._init = init
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._forget_bias = forget_bias

    def _init_weight(self, desc, arr):
        gates = {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"],
                 "gru": ["_r", "_z", "_o"]}[self._mode]
        dirs = ["l", "r"] if self._bidirectional else ["l"]
        b, m, h = len(dirs), len(gates), self._num_hidden
        num_input = arr.size // b // h // m - (self._num_layers - 1) * (h + b * h + 2) - h - 2
        views = slice_fused_weights(arr._data.view(-1), "", self._num_layers, dirs, gates,
                                    num_input, h)
        for name, view in views.items():
            piece = NDArray(view, arr.context)
            if self._mode == "lstm" and name.endswith("_f_bias"):
                view.fill_(self._forget_bias)
            elif self._init is None:
                desc.global_init(InitDesc(name, global_init=desc.global_init), piece)
            else:
                self._init(InitDesc(name, global_init=desc.global_init), piece)
