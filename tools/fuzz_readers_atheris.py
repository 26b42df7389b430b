"""Coverage-guided fuzzing of mxtorch's file readers with atheris (libFuzzer).

    python tools/fuzz_readers_atheris.py READER [libFuzzer flags, e.g. -max_total_time=20]

READER is one of: params, states, symbol_json, h5, safetensors, h5_states (nnabla solver
states, read from a file). Every input must end in the reader's result or in an MXNetError
(the library's own clear errors); anything else (another exception, a crash) is a finding
and stops the run with a non-zero status. The seeds are valid files written by mxtorch
itself. tests/reliability/test_fuzz_atheris.py
runs each reader over a fixed seed's first 20000 inputs when atheris is installed (the
same inputs every time); to search for new findings, run longer with random seeds, e.g.

    python tools/fuzz_readers_atheris.py h5 -max_total_time=600 -artifact_prefix=/tmp/fz/
"""
import os
import sys
import tempfile
from collections import OrderedDict

import atheris
import numpy as np
import torch  # noqa: F401  (imported before instrumentation: only mxtorch is instrumented)

with atheris.instrument_imports(include=["mxtorch"]):
    import mxtorch as mx
    from mxtorch.base import MXNetError
    from mxtorch.ndarray import serialize
    from mxtorch.nn import param_io
    from mxtorch.optimizer.states import loads_states


def _params_seed():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.params")
        mx.nd.save(path, {"arg:w": mx.nd.array(np.arange(6).reshape(2, 3))})
        with open(path, "rb") as f:
            return f.read()


def _states_seed():
    upd = mx.optimizer.get_updater(mx.optimizer.create("sgd", momentum=0.9))
    upd(0, mx.nd.ones((3,)), mx.nd.ones((3,)))
    return upd.get_states(dump_optimizer=True)


def _nn_seed(ext):
    items = OrderedDict([("conv/W", (np.arange(6, dtype="f").reshape(2, 3), True))])
    return param_io._WRITERS[ext](items)


def _symbol_json(data):
    sym = mx.sym.load_json(data.decode("utf-8", errors="replace"))
    sym.list_arguments()
    sym.infer_shape_partial()


_STATES_H5 = os.path.join(tempfile.gettempdir(), f"fuzz-h5-states-{os.getpid()}.h5")


def _solver():
    s = mx.nn.solvers.Adam(0.1)
    s.set_parameters({"conv/W": mx.nn.Variable.from_numpy_array(
        np.ones((2, 3), "f"), need_grad=True)})
    return s


def _h5_states_seed():
    s = _solver()
    s.save_states(_STATES_H5)
    with open(_STATES_H5, "rb") as f:
        return f.read()


def _h5_states(data):
    with open(_STATES_H5, "wb") as f:   # the solver reads a path only
        f.write(data)
    _solver().load_states(_STATES_H5)


READERS = {
    "params": (lambda b: serialize.loads(b, source="fuzz"), _params_seed),
    "states": (loads_states, _states_seed),
    "symbol_json": (_symbol_json, lambda: mx.sym.FullyConnected(
        mx.sym.var("data"), num_hidden=3, name="fc").tojson().encode()),
    "h5": (lambda b: param_io._READERS[".h5"](b, "fuzz"), lambda: _nn_seed(".h5")),
    "safetensors": (lambda b: param_io._READERS[".safetensors"](b, "fuzz"),
                    lambda: _nn_seed(".safetensors")),
    "h5_states": (_h5_states, _h5_states_seed),
}


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in READERS:
        sys.exit(f"usage: fuzz_readers_atheris.py {{{','.join(READERS)}}} [libFuzzer flags]")
    read, seed = READERS[name]
    corpus = tempfile.mkdtemp(prefix=f"fuzz-{name}-")
    with open(os.path.join(corpus, "seed"), "wb") as f:
        f.write(seed())

    def one_input(data):
        try:
            read(bytes(data))
        except MXNetError:
            pass

    atheris.Setup([sys.argv[0], corpus] + sys.argv[2:], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
