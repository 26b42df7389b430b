"""``python -m mxtorch``: train, score, predict, summary and convert from the command line.

Each subcommand is a thin layer over the library: ``Module.fit/score/predict`` on a
network from ``mxtorch.models`` or a ``-symbol.json``, with data from the shipped digits
set or an ``.npz``; checkpoints in MXNet's files (``prefix-symbol.json``,
``prefix-%04d.params``); ``mx.viz.print_summary``; ``mx.onnx.export_model``; and the
``.params`` <-> safetensors conversion. Bad input exits with status 2 and one line naming
the problem and the fix; a library error exits with status 1.
"""
import argparse
import json
import logging
import os
import sys

import numpy as np

__all__ = ["main", "build_parser", "CLIError"]

_NETWORKS = ("mlp", "lenet", "alexnet", "vgg", "resnet", "resnet_v1", "mobilenet",
             "inception_bn")


class CLIError(Exception):
    """Bad command-line input (a missing file, a malformed value): exit status 2."""


# ---------------------------------------------------------------------------- parsing
def _shape(text):
    """``'1,28,28'`` -> ``(1, 28, 28)``."""
    try:
        dims = tuple(int(d) for d in text.split(",") if d.strip())
    except ValueError:
        dims = ()
    if not dims or min(dims) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape: write positive integers "
                                         "separated by commas, e.g. 1,28,28")
    return dims


def _named_shape(text):
    """``'data=1,64'`` -> ``('data', (1, 64))``."""
    name, sep, dims = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: write an input shape as NAME=DIMS, e.g. "
                                         "data=1,1,28,28")
    return name, _shape(dims)


def _key_value(text):
    """``'num_layers=20'`` -> ``('num_layers', 20)`` (ints and floats parsed)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: write KEY=VALUE, e.g. num_layers=20")
    for conv in (int, float):
        try:
            return key, conv(value)
        except ValueError:
            pass
    return key, value


def _existing(path, what, hint):
    if not os.path.isfile(path):
        raise CLIError(f"{what} {path!r} not found; {hint}")
    return path


# ---------------------------------------------------------------------------- data
def load_data(source, data_shape=None, need_label=True):
    """``(X, y)`` from ``'digits'`` (the shipped set) or an ``.npz`` holding ``data`` and
    ``label`` (or ``X`` and ``y``); ``y`` is None when absent and not needed. X is
    reshaped to ``(N,) + data_shape`` when given."""
    if source == "digits":
        from .datasets import load_digits
        X, y = load_digits()
    else:
        _existing(source, "data file", "pass 'digits' or an .npz with arrays 'data' and "
                                       "'label'")
        try:
            with np.load(source, allow_pickle=False) as z:
                arrays = dict(z)
        except (OSError, ValueError) as e:
            raise CLIError(f"data file {source!r} is not a readable .npz ({e})") from e
        X = arrays.get("data", arrays.get("X"))
        y = arrays.get("label", arrays.get("y"))
        if X is None:
            raise CLIError(f"data file {source!r} has arrays {sorted(arrays)}; it needs "
                           "'data' (or 'X'), and 'label' (or 'y') to train or score")
        if y is None and need_label:
            raise CLIError(f"data file {source!r} has no 'label' (or 'y') array, which "
                           "training and scoring need")
        X = X.astype(np.float32) if X.dtype == np.float64 else X
        y = y.astype(np.float32) if y is not None else None
    if data_shape is not None:
        if int(np.prod(X.shape[1:])) != int(np.prod(data_shape)):
            raise CLIError(f"--data-shape {','.join(map(str, data_shape))} does not hold the "
                           f"{int(np.prod(X.shape[1:]))} values of a sample "
                           f"(shape {X.shape[1:]})")
        X = X.reshape((X.shape[0],) + tuple(data_shape))
    return X, y


# ---------------------------------------------------------------------------- checkpoints
def load_checkpoint(prefix, epoch=None):
    """``(symbol, arg_params, aux_params, epoch)``; the newest epoch when None."""
    import mxtorch as mx
    from .snapshot import latest_checkpoint
    _existing(f"{prefix}-symbol.json", "symbol file",
              "pass the checkpoint prefix that 'train' wrote (--prefix)")
    if epoch is None:
        epoch = latest_checkpoint(prefix)
        if epoch is None:
            raise CLIError(f"no readable {prefix}-NNNN.params next to {prefix}-symbol.json; "
                           "train first or pass --epoch")
    _existing("%s-%04d.params" % (prefix, epoch), "parameter file",
              "check --prefix and --epoch")
    sym, arg, aux = mx.model.load_checkpoint(prefix, epoch)
    return sym, arg, aux, epoch


def _label_names(symbol):
    return [n for n in symbol.list_arguments() if n.endswith("_label")]


def _bound_module(args, symbol, arg, aux, X, y):
    """A Module bound for inference with the checkpoint's parameters."""
    import mxtorch as mx
    labels = _label_names(symbol)
    mod = mx.mod.Module(symbol, data_names=[args.data_name], label_names=labels,
                        context=_context(args.context))
    batch = min(args.batch_size, len(X))
    label_shapes = [(n, (batch,) + tuple(y.shape[1:])) for n in labels] \
        if y is not None and labels else None
    mod.bind([(args.data_name, (batch,) + X.shape[1:])], label_shapes, for_training=False)
    mod.set_params(arg, aux)
    return mod, batch


def _context(text):
    import mxtorch as mx
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "gpu"):
        raise CLIError(f"--context {text!r}: write cpu or gpu:N")
    return mx.cpu() if kind == "cpu" else mx.gpu(int(index or 0))


# ---------------------------------------------------------------------------- commands
def cmd_train(args):
    """Train a network and write a checkpoint."""
    import mxtorch as mx
    import mxtorch.models
    X, y = load_data(args.data, args.data_shape)
    if args.symbol is not None:
        symbol = mx.sym.load(_existing(args.symbol, "symbol file",
                                       "pass a -symbol.json written by MXNet or mxtorch"))
    else:
        num_classes = args.num_classes or int(y.max()) + 1
        builder = getattr(mxtorch.models, args.network)
        with mx.name.NameManager():
            symbol = builder.get_symbol(num_classes, **dict(args.network_arg))
    labels = _label_names(symbol)
    n_val = int(round(len(X) * args.val_fraction))
    if n_val >= len(X):
        raise CLIError(f"--val-fraction {args.val_fraction} leaves no training sample")
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    label_name = labels[0] if labels else "softmax_label"
    train = mx.io.NDArrayIter({args.data_name: X[:len(X) - n_val]},
                              {label_name: y[:len(X) - n_val]}, batch_size=args.batch_size,
                              shuffle=True)
    val = mx.io.NDArrayIter({args.data_name: X[len(X) - n_val:]},
                            {label_name: y[len(X) - n_val:]},
                            batch_size=args.batch_size) if n_val else None
    mod = mx.mod.Module(symbol, data_names=[args.data_name], label_names=labels,
                        context=_context(args.context))
    opt_params = {"learning_rate": args.lr, "wd": args.wd}
    if args.momentum is not None:
        opt_params["momentum"] = args.momentum
    opt_params.update(dict(args.optimizer_param))
    init = {"xavier": mx.init.Xavier(), "uniform": mx.init.Uniform(0.07),
            "normal": mx.init.Normal(0.01)}[args.init]
    from .base import ShapeError
    try:
        mod.fit(train, eval_data=val, eval_metric=args.metric, optimizer=args.optimizer,
                optimizer_params=opt_params, initializer=init, num_epoch=args.epochs)
    except ShapeError as e:
        raise CLIError(f"{e}; the samples have shape {X.shape[1:]}: --data-shape reshapes "
                       "them (e.g. --data-shape 1,8,8 for a CNN on digits)") from e
    os.makedirs(os.path.dirname(os.path.abspath(args.prefix)), exist_ok=True)
    mod.save_checkpoint(args.prefix, args.epochs)
    print("saved %s-symbol.json and %s-%04d.params" % (args.prefix, args.prefix, args.epochs))
    return 0


def cmd_score(args):
    """Evaluate a checkpoint on labelled data; prints ``metric=value`` lines."""
    symbol, arg, aux, _ = load_checkpoint(args.prefix, args.epoch)
    X, y = load_data(args.data, args.data_shape)
    import mxtorch as mx
    mod, batch = _bound_module(args, symbol, arg, aux, X, y)
    labels = _label_names(symbol)
    it = mx.io.NDArrayIter({args.data_name: X}, {labels[0]: y} if labels else None,
                           batch_size=batch)
    for name, value in mod.score(it, args.metric):
        print(f"{name}={value:.6f}")
    return 0


def cmd_predict(args):
    """Run a checkpoint on data; writes the outputs (.npy) or prints the top class."""
    symbol, arg, aux, _ = load_checkpoint(args.prefix, args.epoch)
    X, _ = load_data(args.data, args.data_shape, need_label=False)
    import mxtorch as mx
    mod, batch = _bound_module(args, symbol, arg, aux, X, None)
    out = mod.predict(mx.io.NDArrayIter({args.data_name: X}, batch_size=batch)).asnumpy()
    if args.output:
        np.save(args.output, out)
        print(f"saved outputs of shape {out.shape} to {args.output}")
    else:
        for row in out.reshape(len(out), -1).argmax(axis=1):
            print(int(row))
    return 0


def cmd_summary(args):
    """print_summary of a checkpoint's (or a -symbol.json's) symbol."""
    import mxtorch as mx
    path = args.target if args.target.endswith(".json") else f"{args.target}-symbol.json"
    symbol = mx.sym.load(_existing(path, "symbol file",
                                   "pass a checkpoint prefix or a -symbol.json path"))
    mx.viz.print_summary(symbol, shape=dict(args.shape) if args.shape else None,
                         line_length=args.line_length)
    return 0


def cmd_convert(args):
    """.params <-> .safetensors, and a checkpoint's .params -> .onnx."""
    src, dst = args.input, args.output
    _existing(src, "input file", "check the path")
    kinds = (os.path.splitext(src)[1], os.path.splitext(dst)[1])
    if kinds == (".params", ".safetensors"):
        import mxtorch as mx
        params_to_safetensors(mx.nd.load(src), dst)
    elif kinds == (".safetensors", ".params"):
        import mxtorch as mx
        mx.nd.save(dst, safetensors_to_params(src))
    elif kinds == (".params", ".onnx"):
        import mxtorch as mx
        symbol = args.symbol or src.rsplit("-", 1)[0] + "-symbol.json"
        _existing(symbol, "symbol file", "pass --symbol PATH-symbol.json")
        if not args.shape:
            raise CLIError("converting to ONNX needs the input shapes: --shape data=1,64")
        mx.onnx.export_model(symbol, src, dict(args.shape), args.dtype, dst,
                             dynamic=args.dynamic)
    else:
        raise CLIError(f"cannot convert {kinds[0] or src!r} to {kinds[1] or dst!r}; supported: "
                       ".params -> .safetensors, .safetensors -> .params, .params -> .onnx")
    print(f"wrote {dst}")
    return 0


# ---------------------------------------------------------------------------- safetensors
def params_to_safetensors(arrays, path):
    """Write ``{name: NDArray}`` (keys kept, ``arg:``/``aux:`` prefixes included) as a
    safetensors file, atomically. safetensors sorts its keys, so the .params order goes
    in the metadata (``mxnet_order``) and comes back on the way home."""
    from safetensors.numpy import save
    from .util.atomic import atomic_write
    if not isinstance(arrays, dict):
        raise CLIError("the .params file holds an unnamed list of arrays; safetensors needs "
                       "names")
    atomic_write(path, save({k: np.ascontiguousarray(v.asnumpy()) for k, v in arrays.items()},
                            metadata={"format": "mxnet-params",
                                      "mxnet_order": json.dumps(list(arrays))}))


def safetensors_to_params(path):
    """``{name: NDArray}`` from a safetensors file, dtypes kept, in the .params order when
    the file records it."""
    import mxtorch as mx
    from safetensors import safe_open
    try:
        with safe_open(path, framework="numpy") as f:
            order = json.loads((f.metadata() or {}).get("mxnet_order", "null")) or []
            names = [k for k in order if k in f.keys()]
            names += [k for k in f.keys() if k not in names]
            arrays = {k: f.get_tensor(k) for k in names}
    except Exception as e:  # noqa: BLE001  (safetensors raises its own error types)
        raise CLIError(f"{path!r} is not a readable safetensors file ({e})") from e
    return {k: mx.nd.array(v, dtype=v.dtype) for k, v in arrays.items()}


# ---------------------------------------------------------------------------- parser
def _checkpoint_args(p):
    p.add_argument("--prefix", required=True, help="checkpoint prefix (prefix-symbol.json, "
                   "prefix-NNNN.params)")
    p.add_argument("--epoch", type=int, default=None, help="epoch to load (default: the "
                   "newest readable one)")


def _data_args(p, default="digits"):
    p.add_argument("--data", default=default, help="'digits' (shipped 8x8 digits, 64 "
                   "features) or an .npz with arrays 'data' and 'label' (default: %(default)s)")
    p.add_argument("--data-shape", type=_shape, default=None, help="reshape each sample, "
                   "e.g. 1,8,8 for a CNN on digits")
    p.add_argument("--data-name", default="data", help="the symbol's data input "
                   "(default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=32, help="default: %(default)s")
    p.add_argument("--context", default="cpu", help="cpu or gpu:N (default: %(default)s)")


def build_parser():
    """The argparse parser of ``python -m mxtorch``."""
    parser = argparse.ArgumentParser(prog="mxtorch", description="MXNet Module workflows "
                                     "on PyTorch: train, score, predict, summary, convert.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("train", help="train a network and write a checkpoint",
                       description="Train a network from mxtorch.models (or a -symbol.json) "
                       "with Module.fit and write prefix-symbol.json and prefix-EPOCHS.params.")
    net = p.add_mutually_exclusive_group()
    net.add_argument("--network", choices=_NETWORKS, default="mlp",
                     help="a builder of mxtorch.models (default: %(default)s)")
    net.add_argument("--symbol", help="a -symbol.json to train instead")
    p.add_argument("--network-arg", type=_key_value, action="append", default=[],
                   metavar="KEY=VALUE", help="extra get_symbol argument, e.g. num_layers=20 "
                   "or image_shape=1,28,28 (repeatable)")
    p.add_argument("--num-classes", type=int, default=None, help="default: max label + 1")
    _data_args(p)
    p.add_argument("--epochs", type=int, default=10, help="default: %(default)s")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default: %(default)s)")
    p.add_argument("--optimizer", default="sgd", help="any mx.optimizer name "
                   "(default: %(default)s)")
    p.add_argument("--momentum", type=float, default=None)
    p.add_argument("--wd", type=float, default=0.0, help="weight decay (default: %(default)s)")
    p.add_argument("--optimizer-param", type=_key_value, action="append", default=[],
                   metavar="KEY=VALUE", help="other optimizer arguments (repeatable)")
    p.add_argument("--init", choices=("xavier", "uniform", "normal"), default="xavier")
    p.add_argument("--metric", default="acc", help="default: %(default)s")
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="hold out this last fraction of the data for validation")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.add_argument("--prefix", default="model", help="checkpoint prefix (default: %(default)s)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("score", help="evaluate a checkpoint on labelled data",
                       description="Module.score of a checkpoint; prints metric=value lines.")
    _checkpoint_args(p)
    _data_args(p)
    p.add_argument("--metric", default="acc", help="default: %(default)s")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("predict", help="run a checkpoint on data",
                       description="Module.predict of a checkpoint: writes the outputs to an "
                       ".npy file, or prints the top class of each sample.")
    _checkpoint_args(p)
    _data_args(p)
    p.add_argument("--output", help="an .npy file for the outputs")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("summary", help="print a symbol's layer table",
                       description="mx.viz.print_summary of a checkpoint's symbol.")
    p.add_argument("target", help="a checkpoint prefix or a -symbol.json path")
    p.add_argument("--shape", type=_named_shape, action="append", default=[],
                   metavar="NAME=DIMS", help="an input shape with the batch, e.g. "
                   "data=1,1,28,28 (repeatable); without it no shapes are shown")
    p.add_argument("--line-length", type=int, default=120)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("convert", help="convert parameters or export to ONNX",
                       description="MXNet .params <-> safetensors (names kept), or a "
                       "checkpoint's .params (with its -symbol.json) -> ONNX.")
    p.add_argument("input", help="a .params or .safetensors file")
    p.add_argument("output", help="a .safetensors, .params or .onnx file")
    p.add_argument("--symbol", help="the -symbol.json for ONNX (default: from the .params "
                   "name, prefix-NNNN.params -> prefix-symbol.json)")
    p.add_argument("--shape", type=_named_shape, action="append", default=[],
                   metavar="NAME=DIMS", help="ONNX input shape, e.g. data=1,64 (repeatable)")
    p.add_argument("--dtype", default="float32", help="ONNX input dtype (default: %(default)s)")
    p.add_argument("--dynamic", action="store_true", help="ONNX: let the dims vary")
    p.set_defaults(func=cmd_convert)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from .base import MXNetError
    try:
        return args.func(args)
    except CLIError as e:
        print(f"mxtorch {args.command}: error: {e}", file=sys.stderr)
        return 2
    except MXNetError as e:
        print(f"mxtorch {args.command}: error: {e}", file=sys.stderr)
        return 1
