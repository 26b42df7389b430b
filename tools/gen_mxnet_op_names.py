"""Write mxtorch/symbol/mxnet_op_names.py: the operator names of real MXNet 1.9.1.

Run with the oracle: .mxnet-ref/bin/python tools/gen_mxnet_op_names.py
The generated module holds every op name MXNet registers (canonical names, plus aliases
mapped to the canonical name MXNet writes in symbol JSON, e.g. ``ElementWiseSum -> add_n``)
and the public names of the ``mx.sym`` and ``mx.nd`` namespaces. mxtorch's registry uses
it to tell an MXNet op it does not implement (MXNetNotImplementedError) from a name that
is no MXNet op at all. It also holds three per-op facts of MXNet's JSON loader, measured
by loading probe documents (see probe_loading), which mxtorch/symbol/legacy_json.py
follows. A Python module rather than a data file: it ships with the package and is read
without file I/O.
"""
import ctypes
import json
import os
import textwrap

import mxnet as mx
from mxnet.base import _LIB, check_call, c_str, py_str

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "mxtorch", "symbol", "mxnet_op_names.py")


def _atomic_infos():
    """{op name: (canonical name, [(argument, type text)])} for every registered name."""
    plist = ctypes.POINTER(ctypes.c_char_p)()
    size = ctypes.c_uint()
    check_call(_LIB.MXListAllOpNames(ctypes.byref(size), ctypes.byref(plist)))
    names = sorted(py_str(plist[i]) for i in range(size.value))
    infos = {}
    for name in names:
        handle = ctypes.c_void_p()
        check_call(_LIB.NNGetOpHandle(c_str(name), ctypes.byref(handle)))
        real = ctypes.c_char_p()
        desc, key_var, ret_type = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_char_p()
        num_args = ctypes.c_uint()
        arg_names = ctypes.POINTER(ctypes.c_char_p)()
        arg_types = ctypes.POINTER(ctypes.c_char_p)()
        arg_descs = ctypes.POINTER(ctypes.c_char_p)()
        check_call(_LIB.MXSymbolGetAtomicSymbolInfo(
            handle, ctypes.byref(real), ctypes.byref(desc), ctypes.byref(num_args),
            ctypes.byref(arg_names), ctypes.byref(arg_types), ctypes.byref(arg_descs),
            ctypes.byref(key_var), ctypes.byref(ret_type)))
        infos[name] = (py_str(real.value), [(py_str(arg_names[i]), py_str(arg_types[i]))
                                            for i in range(num_args.value)])
    return infos


def _dummy(type_text):
    """A value MXNet's parameter parser accepts for a parameter of this documented type."""
    t = type_text.split(", required")[0].split(", optional")[0].strip()
    if t.startswith("{"):
        return t[1:].split(",")[0].strip().strip("'")
    table = {"Shape(tuple)": "(1,)", "tuple of <float>": "(1.0,)", "tuple of <long>": "(1,)",
             "tuple of <Shape(tuple)>": "[(1,)]", "string": "x", "boolean": "False"}
    return table.get(t, "1")


def _load_in_child(text):
    """mx.sym.load_json(text) in a forked child (some upgrades crash MXNet on odd input):
    ('ok', re-saved JSON), ('error', message) or ('crash', '')."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            out = ["ok", mx.sym.load_json(text).tojson()]
        except Exception as e:  # noqa: BLE001 (any MXNet failure is a probe result)
            out = ["error", str(e)]
        os.write(write_fd, json.dumps(out).encode())
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while True:
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return tuple(json.loads(b"".join(chunks))) if chunks else ("crash", "")


def _probe_doc(op, attrs, version):
    return json.dumps({
        "nodes": [{"op": "null", "name": "x", "inputs": []},
                  {"op": op, "name": "n", "attrs": attrs, "inputs": [[0, 0, 0]]}],
        "arg_nodes": [0], "heads": [[1, 0, 0]], "attrs": {"mxnet_version": ["int", version]}})


def probe_loading(ops, infos):
    """Three facts of MXNet's JSON loading per op, found by loading probe documents: the
    ops that accept unknown attribute keys (no parameter parser); the ops that keep an old
    file's unmatched ``<x>_lr_mult``-like key (legacy ops, whose parser runs once during
    the upgrade); and the ops without FListInputNames, on which an old file's
    ``<input>_lr_mult`` key is not moved to the input variable. An op whose required
    parameters the probe cannot fill is in none of the sets."""
    lenient, keeps_hidden, no_input_names = [], [], []
    for op in ops:
        args = infos[op]
        params = {a: _dummy(t) for a, t in args if "required" in t and not _is_input(t)}
        kind, out = _load_in_child(_probe_doc(op, dict(params, zzz_probe="1"), 10901))
        if kind == "ok" and "zzz_probe" in out:
            lenient.append(op)
        kind, out = _load_in_child(_probe_doc(op, dict(params, zzz_lr_mult="1"), 10000))
        if kind == "ok" and "zzz_lr_mult" in out:
            keeps_hidden.append(op)
        inputs = [a for a, t in args if _is_input(t)]
        if inputs:
            key = inputs[0] + "_lr_mult"
            kind, out = _load_in_child(_probe_doc(op, dict(params, **{key: "1"}), 10000))
            moved = kind == "ok" and '"__lr_mult__": "1"' in out.split('"name": "n"')[0]
            kept = (kind == "ok" and key in out) or (kind == "error" and key in out)
            if kept and not moved:
                no_input_names.append(op)
    return lenient, keeps_hidden, no_input_names


def _is_input(type_text):
    return type_text.startswith(("NDArray", "Symbol"))


def public_names(module):
    """Public attribute names of an MXNet namespace, without its generated-code modules."""
    return sorted(n for n in dir(module) if not n.startswith(("_", "gen_")))


def _words(names):
    return "\n".join(textwrap.wrap(" ".join(names), width=92))


def main():
    infos = _atomic_infos()
    ops = sorted(n for n, (c, _) in infos.items() if n == c)
    aliases = {n: c for n, (c, _) in infos.items() if n != c}
    args = {n: a for n, (_, a) in infos.items()}
    lenient, keeps_hidden, no_input_names = probe_loading(ops, args)
    alias_lines = "\n".join(f"    {n!r}: {c!r}," for n, c in sorted(aliases.items()))
    text = (
        f'"""Operator names of MXNet {mx.__version__} (generated by tools/gen_mxnet_op_names.py\n'
        'with the real MXNet; do not edit).\n\n'
        'OPS: canonical op names (what symbol JSON stores). ALIASES: other registered names\n'
        'and the canonical op each stands for. LENIENT_ATTR_OPS: ops whose JSON nodes may\n'
        'carry unknown attribute keys (MXNet has no parameter parser for them).\n'
        'KEEPS_HIDDEN_KEY_OPS: ops that keep an unmatched <x>_lr_mult-like key of an\n'
        'old file. NO_INPUT_NAMES_OPS: ops without FListInputNames, so an old file\'s\n'
        '<input>_lr_mult key on them is not moved to the input. SYMBOL_NAMES / NDARRAY_NAMES:\n'
        'public names of the mx.sym and mx.nd namespaces (op functions, helpers, submodules).\n'
        '"""\n'
        f'MXNET_VERSION = "{mx.__version__}"\n\n'
        f'OPS = frozenset("""\n{_words(ops)}\n""".split())\n\n'
        f'ALIASES = {{\n{alias_lines}\n}}\n\n'
        f'LENIENT_ATTR_OPS = frozenset("""\n{_words(lenient)}\n""".split())\n\n'
        f'KEEPS_HIDDEN_KEY_OPS = frozenset("""\n{_words(keeps_hidden)}\n""".split())\n\n'
        f'NO_INPUT_NAMES_OPS = frozenset("""\n{_words(no_input_names)}\n""".split())\n\n'
        f'SYMBOL_NAMES = frozenset("""\n{_words(public_names(mx.sym))}\n""".split())\n\n'
        f'NDARRAY_NAMES = frozenset("""\n{_words(public_names(mx.nd))}\n""".split())\n')
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT}: {len(ops)} ops, {len(aliases)} aliases, {len(lenient)} lenient, "
          f"{len(keeps_hidden)} keeping hidden-like keys, "
          f"{len(no_input_names)} without input names")


if __name__ == "__main__":
    main()
