"""Shared loading of the MXNet 1.9.1 optimizer fixtures (tools/gen_optimizer_fixtures.py)."""
import json
import os

import numpy as np

FIX = os.path.join(os.path.dirname(__file__), "..", "compat", "fixtures", "optimizer")


def load_json(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def load_npz(name):
    with np.load(os.path.join(FIX, name)) as z:
        return {k: z[k] for k in z.files}


def read_bytes(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def split(flat, shapes):
    """Cut a flat concatenation into arrays of ``shapes``."""
    out, pos = [], 0
    for shp in shapes:
        n = int(np.prod(shp)) if shp else 1
        out.append(flat[pos:pos + n].reshape(shp))
        pos += n
    assert pos == flat.size
    return out
