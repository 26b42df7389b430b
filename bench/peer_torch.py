"""The hand-written PyTorch peer: an idiomatic training loop (torch.optim with ``foreach``,
the loss on logits, the metric accumulated on the device and read once per epoch) and a raw
forward under ``torch.inference_mode`` for (e). ``Task`` (model, optimizer, batches, loss and
metric of a workload) is shared with the Lightning peer so both do the same work.

The data pipeline costs what ``NDArrayIter``/``BucketSentenceIter`` cost a Module user at
least: every batch is a slice of tensors made once from the same numpy arrays (pinned on
CUDA, copied with ``non_blocking``).
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import data, twins
from .measure import Stopwatch, median
from .peer_module import IMAGE_SHAPES, LM

__all__ = ["Task", "fit", "predict"]


class Task:
    """One training workload for the PyTorch peers. Construction makes the numpy data;
    ``setup(meter, device)`` starts the memory meter and builds tensors and the model."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.bs = cfg["batch_size"]
        self.lm = cfg["model"] == "lstm_lm"
        if self.lm:
            sentences, self.np_arrays = data.bucketed_sentences(
                LM["buckets"], cfg["batches_per_bucket"], self.bs, LM["vocab"])
            self.num_samples = len(sentences)
        else:
            self.num_samples = cfg["batches"] * self.bs
            self.np_X, self.np_y = data.images(self.num_samples, IMAGE_SHAPES[cfg["model"]])
        self.rng = np.random.RandomState(1)
        self.stat = None

    def setup(self, meter, device, move_model=True):
        meter.start()
        pin = torch.device(device).type == "cuda"

        def host(a):
            t = torch.from_numpy(a)
            return t.pin_memory() if pin else t
        if self.lm:
            self.arrays = {k: (host(d), host(l)) for k, (d, l) in self.np_arrays.items()}
            self.model = twins.LSTMLM(LM["vocab"], LM["embed"], LM["hidden"], LM["layers"])
        else:
            self.X, self.y = host(self.np_X), host(self.np_y.astype(np.int64))
            model = self.cfg["model"]
            self.model = (twins.mlp() if model == "mlp" else twins.lenet() if model == "lenet"
                          else twins.resnet(18, 32))
        if move_model:
            self.model.to(device)
        return self.model

    def optimizer(self, params):
        if self.lm:
            return torch.optim.Adam(params, lr=0.01, foreach=True)
        if self.cfg["model"] == "mlp":
            return torch.optim.SGD(params, lr=0.01, momentum=0.9, foreach=True)
        return torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-4, foreach=True)

    def __len__(self):
        if self.lm:
            return len(self.arrays) * self.cfg["batches_per_bucket"]
        return self.cfg["batches"]

    def __iter__(self):
        """One epoch of host batches (views); the LM's bucket batches in a fresh random order,
        as BucketSentenceIter shuffles them at every reset."""
        bs = self.bs
        if self.lm:
            order = [(k, j) for k in self.arrays for j in range(self.cfg["batches_per_bucket"])]
            self.rng.shuffle(order)
            for k, j in order:
                d, lab = self.arrays[k]
                yield d[j * bs:(j + 1) * bs], lab[j * bs:(j + 1) * bs]
        else:
            for i in range(self.cfg["batches"]):
                yield self.X[i * bs:(i + 1) * bs], self.y[i * bs:(i + 1) * bs]

    def loss(self, out, y):
        """The loss SoftmaxOutput stands for (mean cross-entropy; for the LM the sum over
        non-padding tokens over the batch size, as rescale_grad=1/batch_size), and the
        epoch's metric accumulated on the device with no sync."""
        if self.stat is None:  # (nll sum, token count) for the LM, else correct count
            self.stat = torch.zeros(2 if self.lm else (), device=out.device)
            self.seen = 0
        if self.lm:
            y = y.reshape(-1)
            nll = F.cross_entropy(out, y, ignore_index=0, reduction="sum")
            with torch.no_grad():
                self.stat[0] += nll.detach()
                self.stat[1] += (y != 0).sum()
            return nll / self.bs
        with torch.no_grad():
            self.stat += (out.argmax(dim=1) == y).sum()
        self.seen += y.shape[0]
        return F.cross_entropy(out, y)

    def epoch_metric(self):
        """Accuracy (perplexity for the LM) of the epoch: the one sync per epoch."""
        if self.lm:
            nll, tokens = self.stat.tolist()
            value = float(np.exp(nll / tokens))
        else:
            value = self.stat.item() / self.seen
            self.seen = 0
        self.stat.zero_()
        return value


def _sync_fn(device):
    if torch.device(device).type == "cuda":
        return lambda *_: torch.cuda.synchronize()
    return lambda *_: None


def fit(device, cfg, meter):
    """The hand-written loop for warm-up + repeat epochs; samples/s of the median epoch."""
    task = Task(cfg)
    model = task.setup(meter, device)
    opt = task.optimizer(model.parameters())
    epochs = cfg["warmup"] + cfg["repeat"]
    watch = Stopwatch(_sync_fn(device))
    metric = []
    model.train()
    watch.start()
    for _ in range(epochs):
        for xb, yb in task:
            xb = xb.to(device, non_blocking=True)
            yb = yb.to(device, non_blocking=True)
            loss = task.loss(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        metric.append(task.epoch_metric())
        watch.stamp()
    times = watch.durations()
    return ({"samples_per_sec": task.num_samples / median(times[cfg["warmup"]:])},
            {"epoch_seconds": times, "samples_per_epoch": task.num_samples,
             "epoch_metric": metric})


def predict(device, cfg, meter):
    """A raw LeNet forward under ``torch.inference_mode`` from host data, as (e)'s peer:
    one-sample latency and throughput over ``batches`` batches of 256 (outputs kept on the
    device and concatenated, as ``predict`` merges them)."""
    X, _ = data.images(256 * cfg["batches"], IMAGE_SHAPES["lenet"])
    sync = _sync_fn(device)
    meter.start()
    pin = torch.device(device).type == "cuda"
    Xt = torch.from_numpy(X)
    Xt = Xt.pin_memory() if pin else Xt
    one = Xt[:1]
    model = twins.lenet().to(device).eval()
    lat, thr = [], []
    with torch.inference_mode():
        for _ in range((cfg["warmup"] + cfg["repeat"]) * cfg["calls"]):
            t0 = time.perf_counter()
            out = model(one.to(device, non_blocking=True))
            sync()
            lat.append(time.perf_counter() - t0)
        for _ in range(cfg["warmup"] + cfg["repeat"]):
            t0 = time.perf_counter()
            out = torch.cat([model(Xt[i:i + 256].to(device, non_blocking=True))
                             for i in range(0, len(Xt), 256)])
            sync()
            thr.append(time.perf_counter() - t0)
    if tuple(out.shape) != (len(X), 10):
        raise RuntimeError(f"forward returned shape {tuple(out.shape)}, expected {(len(X), 10)}")
    timed_lat = lat[cfg["warmup"] * cfg["calls"]:]
    return ({"latency_ms": 1e3 * median(timed_lat),
             "samples_per_sec": len(X) / median(thr[cfg["warmup"]:])},
            {"latency_seconds": timed_lat, "throughput_seconds": thr})
