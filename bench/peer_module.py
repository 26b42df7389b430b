"""The Module peers: the same code runs under mxtorch and under real MXNet 1.9.1 (only the
``mx`` passed in differs), as a user's MXNet program would. numpy and ``mx`` only: this
file runs under the MXNet interpreter too.

Each function returns ``(metrics, raw)`` and calls ``meter.start()`` once the synthetic data
exists, so peak memory covers iterator, module, parameters and training state.
"""
import gc
import time

from . import data, symbols
from .measure import Stopwatch, median

__all__ = ["fit", "predict", "bind"]

IMAGE_SHAPES = {"mlp": (784,), "lenet": (1, 28, 28), "resnet18": (3, 32, 32)}
LM = {"buckets": (10, 20, 30), "vocab": 2000, "embed": 128, "hidden": 128, "layers": 2}


def _symbol(mx, model):
    if model == "mlp":
        return symbols.mlp(mx)
    if model == "lenet":
        return symbols.lenet(mx)
    if model == "resnet18":
        return symbols.resnet(mx, 18, 32)
    raise ValueError(f"no symbol for model {model!r}")


def _sgd_params(model):
    if model == "mlp":
        return {"learning_rate": 0.01, "momentum": 0.9}
    return {"learning_rate": 0.05, "momentum": 0.9, "wd": 1e-4}


def fit(mx, ctx, sync, cfg, meter):
    """``Module.fit`` (``BucketingModule.fit`` for the LM) for warm-up + repeat epochs, timed
    between epoch-end callbacks; samples/s from the median timed epoch."""
    watch = Stopwatch(sync)
    epochs = cfg["warmup"] + cfg["repeat"]
    bs = cfg["batch_size"]
    if cfg["model"] == "lstm_lm":
        sentences, _ = data.bucketed_sentences(LM["buckets"], cfg["batches_per_bucket"], bs,
                                               LM["vocab"])
        num_samples = len(sentences)
        meter.start()
        train = mx.rnn.BucketSentenceIter(sentences, bs, buckets=list(LM["buckets"]),
                                          invalid_label=0)
        mod = mx.mod.BucketingModule(
            symbols.lstm_lm_sym_gen(mx, LM["vocab"], LM["embed"], LM["hidden"], LM["layers"]),
            default_bucket_key=train.default_bucket_key, context=ctx)
        watch.start()
        mod.fit(train, eval_metric=mx.metric.Perplexity(0), optimizer="adam",
                optimizer_params={"learning_rate": 0.01},
                initializer=mx.init.Xavier(factor_type="in", magnitude=2.34),
                epoch_end_callback=watch.stamp, num_epoch=epochs)
    else:
        num_samples = cfg["batches"] * bs
        X, y = data.images(num_samples, IMAGE_SHAPES[cfg["model"]])
        meter.start()
        train = mx.io.NDArrayIter(X, y, bs, shuffle=False)
        mod = mx.mod.Module(_symbol(mx, cfg["model"]), context=ctx)
        watch.start()
        mod.fit(train, eval_metric="acc", optimizer="sgd",
                optimizer_params=_sgd_params(cfg["model"]), initializer=mx.init.Xavier(),
                epoch_end_callback=watch.stamp, num_epoch=epochs)
    times = watch.durations()
    if len(times) != epochs:
        raise RuntimeError(f"expected {epochs} epoch-end callbacks, got {len(times)}")
    return ({"samples_per_sec": num_samples / median(times[cfg["warmup"]:])},
            {"epoch_seconds": times, "samples_per_epoch": num_samples})


def predict(mx, ctx, sync, cfg, meter):
    """``Module.predict`` of LeNet: latency of one-sample calls (median over the timed
    calls) and throughput over ``batches`` batches of 256 (median over repetitions)."""
    X, _ = data.images(256 * cfg["batches"], IMAGE_SHAPES["lenet"])
    meter.start()
    mods = {}
    for bs in (1, 256):
        mod = mx.mod.Module(symbols.lenet(mx), context=ctx)
        mod.bind(data_shapes=[("data", (bs,) + IMAGE_SHAPES["lenet"])], for_training=False)
        mod.init_params(initializer=mx.init.Xavier())
        mods[bs] = mod
    one = mx.io.NDArrayIter(X[:1], batch_size=1)
    lat = []
    for _ in range((cfg["warmup"] + cfg["repeat"]) * cfg["calls"]):
        t0 = time.perf_counter()
        out = mods[1].predict(one)
        sync(out)
        lat.append(time.perf_counter() - t0)
    many = mx.io.NDArrayIter(X, batch_size=256)
    thr = []
    for _ in range(cfg["warmup"] + cfg["repeat"]):
        t0 = time.perf_counter()
        out = mods[256].predict(many)
        sync(out)
        thr.append(time.perf_counter() - t0)
    if tuple(out.shape) != (len(X), 10):
        raise RuntimeError(f"predict returned shape {tuple(out.shape)}, expected {(len(X), 10)}")
    timed_lat = lat[cfg["warmup"] * cfg["calls"]:]
    return ({"latency_ms": 1e3 * median(timed_lat),
             "samples_per_sec": len(X) / median(thr[cfg["warmup"]:])},
            {"latency_seconds": timed_lat, "throughput_seconds": thr})


def bind(mx, ctx, sync, cfg, meter):
    """Seconds of ``Module.bind`` of a ResNet (``resnet_layers`` deep, 152 by default;
    training, batch 1, 224x224, 1000 classes; the symbol is built before the clock starts),
    and of binding 20 LSTM LM buckets: ``bind`` of the longest plus ``switch_bucket`` to the
    19 others (``init_params`` between them is not timed). A fresh module each repetition."""
    meter.start()
    reps = cfg["warmup"] + cfg["repeat"]
    resnet_s, build_s = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        sym = symbols.resnet(mx, cfg["resnet_layers"], 224, num_classes=1000)
        mod = mx.mod.Module(sym, context=ctx)
        t1 = time.perf_counter()
        mod.bind(data_shapes=[("data", (1, 3, 224, 224))],
                 label_shapes=[("softmax_label", (1,))])
        sync()
        resnet_s.append(time.perf_counter() - t1)
        build_s.append(t1 - t0)
        del mod, sym
        gc.collect()
    keys = [cfg["bucket_step"] * (i + 1) for i in range(20)]
    bs = cfg["batch_size"]
    bucket_s = []
    for _ in range(reps):
        gen = symbols.lstm_lm_sym_gen(mx, LM["vocab"], LM["embed"], LM["hidden"], LM["layers"])
        mod = mx.mod.BucketingModule(gen, default_bucket_key=keys[-1], context=ctx)
        t0 = time.perf_counter()
        mod.bind(data_shapes=[("data", (bs, keys[-1]))],
                 label_shapes=[("softmax_label", (bs, keys[-1]))])
        t1 = time.perf_counter()
        mod.init_params(initializer=mx.init.Xavier(factor_type="in", magnitude=2.34))
        t2 = time.perf_counter()
        for key in keys[:-1]:
            mod.switch_bucket(key, [("data", (bs, key))], [("softmax_label", (bs, key))])
        sync()
        bucket_s.append((t1 - t0) + (time.perf_counter() - t2))
        del mod, gen
        gc.collect()
    w = cfg["warmup"]
    return ({"resnet_bind_ms": 1e3 * median(resnet_s[w:]),
             "buckets_bind_ms": 1e3 * median(bucket_s[w:])},
            {"resnet_bind_seconds": resnet_s, "resnet_symbol_seconds": build_s,
             "buckets_bind_seconds": bucket_s, "bucket_keys": keys})
