"""What each workload is: its title, what it runs (``fit``, ``predict`` or ``bind``), the
peers that take part, the metrics it reports and its sizes on CPU, on CUDA and in
``--quick``. The orchestrator (run.py) and the workers read this table; nothing here
imports a framework.

Sizes are chosen so that the whole suite on a quiet 2-core CPU finishes in well under
10 minutes (ResNet-18 at batch 128 costs seconds per step there, so it runs one step per
repetition); ``--repeat`` overrides every ``repeat``.
"""

__all__ = ["WORKLOADS", "PEERS", "PEER_LABELS", "ABSENT", "sizes_for", "peers_for", "title",
           "metrics"]

PEERS = ("mxtorch", "torch", "lightning", "mxnet")
PEER_LABELS = {"mxtorch": "mxtorch", "torch": "torch loop", "lightning": "Lightning",
               "mxnet": "MXNet"}

FIT_METRICS = (("samples_per_sec", "samples/s", True),)

WORKLOADS = {
    "a": {
        "title": "MLP 784-128-64-10, batch 100, SGD momentum 0.9",
        "kind": "fit", "model": "mlp", "peers": PEERS, "metrics": FIT_METRICS,
        "sizes": {"cpu": {"batch_size": 100, "batches": 400, "repeat": 5},
                  "cuda": {"batch_size": 100, "batches": 1000, "repeat": 5},
                  "quick": {"batch_size": 100, "batches": 3, "repeat": 1}},
    },
    "b": {
        "title": "LeNet 28x28, batch 128, SGD momentum 0.9 wd 1e-4",
        "kind": "fit", "model": "lenet", "peers": PEERS, "metrics": FIT_METRICS,
        "sizes": {"cpu": {"batch_size": 128, "batches": 40, "repeat": 5},
                  "cuda": {"batch_size": 128, "batches": 400, "repeat": 5},
                  "quick": {"batch_size": 128, "batches": 2, "repeat": 1}},
    },
    "c": {
        "title": "ResNet-18 (v2) 32x32, batch 128, SGD momentum 0.9 wd 1e-4",
        "kind": "fit", "model": "resnet18", "peers": PEERS, "metrics": FIT_METRICS,
        "sizes": {"cpu": {"batch_size": 128, "batches": 1, "repeat": 3},
                  "cuda": {"batch_size": 128, "batches": 100, "repeat": 5},
                  "quick": {"batch_size": 4, "batches": 1, "repeat": 1}},
    },
    "d": {
        "title": "bucketing LSTM LM (2x128, vocab 2000, buckets 10/20/30), batch 32, Adam",
        "kind": "fit", "model": "lstm_lm", "peers": PEERS, "metrics": FIT_METRICS,
        "sizes": {"cpu": {"batch_size": 32, "batches_per_bucket": 12, "repeat": 5},
                  "cuda": {"batch_size": 32, "batches_per_bucket": 60, "repeat": 5},
                  "quick": {"batch_size": 32, "batches_per_bucket": 1, "repeat": 1}},
    },
    "e": {
        "title": "LeNet inference: predict latency at batch 1, throughput at batch 256",
        "kind": "predict", "model": "lenet", "peers": ("mxtorch", "torch", "mxnet"),
        "metrics": (("latency_ms", "b1 latency ms", False),
                    ("samples_per_sec", "b256 samples/s", True)),
        "sizes": {"cpu": {"calls": 100, "batches": 8, "repeat": 5},
                  "cuda": {"calls": 200, "batches": 40, "repeat": 5},
                  "quick": {"calls": 3, "batches": 1, "repeat": 1}},
    },
    "f": {
        "title": "bind: ResNet-{resnet_layers} (224x224, batch 1) and 20 LSTM LM buckets "
                 "(batch 32, lengths {bucket_step}, 2x{bucket_step}, ..., 20x{bucket_step})",
        "kind": "bind", "model": None, "peers": ("mxtorch", "mxnet"),
        "metrics": (("resnet_bind_ms", "ResNet-{resnet_layers} bind ms", False),
                    ("buckets_bind_ms", "20 buckets bind ms", False)),
        "sizes": {"cpu": {"resnet_layers": 152, "batch_size": 32, "bucket_step": 5, "repeat": 3},
                  "cuda": {"resnet_layers": 152, "batch_size": 32, "bucket_step": 5, "repeat": 3},
                  "quick": {"resnet_layers": 50, "batch_size": 32, "bucket_step": 1,
                            "repeat": 1}},
    },
}

# What a peer missing from a workload's row would have measured, and why it is absent.
ABSENT = {
    ("e", "lightning"): "Lightning's Trainer.predict is not part of (e)",
    ("f", "torch"): "PyTorch has no bind step",
    ("f", "lightning"): "Lightning has no bind step",
}


def sizes_for(key, device, quick, repeat=None, overrides=None):
    """The size dict of workload ``key`` for ``device`` ('cpu'/'cuda'); ``quick`` wins;
    ``repeat`` (when given) overrides the repetitions, and ``overrides`` (``{name: int}``)
    every size of that name the workload has."""
    sizes = dict(WORKLOADS[key]["sizes"]["quick" if quick else device])
    for name, value in (overrides or {}).items():
        if name in sizes:
            sizes[name] = value
    if repeat is not None:
        sizes["repeat"] = repeat
    return sizes


def title(key, sizes):
    """The workload's title with its sizes filled in."""
    return WORKLOADS[key]["title"].format(**sizes)


def metrics(key, sizes):
    """``[(metric, label, higher_is_better)]`` of workload ``key``, labels filled in."""
    return [(m, label.format(**sizes), hib) for m, label, hib in WORKLOADS[key]["metrics"]]


def peers_for(key, device):
    """The peers of workload ``key`` on ``device``: MXNet is the CPU-only oracle."""
    return [p for p in WORKLOADS[key]["peers"] if not (p == "mxnet" and device == "cuda")]
