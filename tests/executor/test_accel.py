"""The opt-in accelerators (mxtorch/executor/accel.py, Module's compile / autocast /
loss_scale / channels_last / cuda_graphs): each agrees with the default path within its
precision, bad values are refused at construction, fp16 loss scaling skips overflowing
steps; and a float16 Module trains through the optimizer's multi_precision master weights.
The oracle is the default path (and numpy for the loss-scale and master-weight arithmetic).
"""
import numpy as np
import pytest
import torch

import mxtorch as mx
from mxtorch.base import MXNetTypeError, MXNetValueError, StateError

RNG = np.random.RandomState(0)
X_MLP = RNG.randn(64, 8).astype(np.float32)
Y_MLP = X_MLP[:, :3].argmax(axis=1).astype(np.float32)
X_IMG = RNG.randn(32, 3, 10, 10).astype(np.float32)
Y_IMG = RNG.randint(0, 4, 32).astype(np.float32)


def _mlp():
    x = mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc1", num_hidden=32)
    x = mx.sym.Activation(x, act_type="relu")
    x = mx.sym.FullyConnected(x, name="fc2", num_hidden=3)
    return mx.sym.SoftmaxOutput(x, name="softmax")


def _convnet():
    x = mx.sym.Convolution(mx.sym.Variable("data"), name="c1", kernel=(3, 3), num_filter=8,
                           pad=(1, 1))
    x = mx.sym.BatchNorm(x, name="bn1")
    x = mx.sym.Activation(x, act_type="relu")
    x = mx.sym.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max")
    x = mx.sym.Convolution(x, name="c2", kernel=(3, 3), num_filter=8)
    x = mx.sym.FullyConnected(mx.sym.Flatten(x), name="fc", num_hidden=4)
    return mx.sym.SoftmaxOutput(x, name="softmax")


def _train(sym, X, y, steps=None, ctx=None, inputs_need_grad=False, **accel):
    """Bind, init (same seed), run forward/backward/update over the data; returns the
    outputs of every batch, the parameters (args and aux, numpy) and the module."""
    it = mx.io.NDArrayIter(X, y, batch_size=8)
    mod = mx.mod.Module(sym, context=ctx or mx.cpu(), **accel)
    mod.bind(it.provide_data, it.provide_label, inputs_need_grad=inputs_need_grad)
    mx.random.seed(1)
    np.random.seed(1)
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1,
                                                          "momentum": 0.9, "wd": 1e-4})
    outs = []
    for i, batch in enumerate(it):
        if steps is not None and i >= steps:
            break
        mod.forward(batch)
        outs.append(mod.get_outputs()[0].asnumpy())
        mod.backward()
        mod.update()
    args, auxs = mod.get_params()
    return np.concatenate(outs), {k: v.asnumpy() for k, v in {**args, **auxs}.items()}, mod


def _assert_params_close(p, ref, rtol, atol):
    assert p.keys() == ref.keys()
    for k in ref:
        assert p[k].dtype == ref[k].dtype == np.float32, k
        np.testing.assert_allclose(p[k], ref[k], rtol=rtol, atol=atol, err_msg=k)


# ---------------------------------------------------------------------- options
@pytest.mark.parametrize("kwargs, exc, match", [
    ({"autocast": "fp8"}, MXNetValueError, "autocast"),
    ({"autocast": 16}, MXNetTypeError, "autocast"),
    ({"compile": "yes"}, MXNetTypeError, "compile"),
    ({"compile": {"mode": "default", "warp": 1}}, MXNetValueError, "warp"),
    ({"autocast": "fp16", "loss_scale": -1}, MXNetValueError, "loss_scale"),
    ({"autocast": "fp16", "loss_scale": float("inf")}, MXNetValueError, "loss_scale"),
    ({"autocast": "fp16", "loss_scale": "auto"}, MXNetValueError, "dynamic"),
    ({"autocast": "fp16", "loss_scale": {"init_scale": 8, "step": 2}}, MXNetValueError, "step"),
    ({"autocast": "fp16", "loss_scale": {"growth_interval": 0}}, MXNetValueError,
     "growth_interval"),
    ({"loss_scale": 128.0}, MXNetValueError, "autocast='fp16'"),
    ({"autocast": "bf16", "loss_scale": "dynamic"}, MXNetValueError, "autocast='fp16'"),
    ({"channels_last": 1}, MXNetTypeError, "channels_last"),
    ({"cuda_graphs": True}, MXNetValueError, "GPU"),
    ({"cuda_graphs": True, "compile": True}, MXNetValueError,
     "reduce-overhead"),
])
def test_bad_options_refused_at_construction(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        mx.mod.Module(_mlp(), **kwargs)


def test_default_path_has_no_accelerator():
    mod = mx.mod.Module(_mlp())
    assert mod._accel is None and mod.loss_scaler is None
    mod.bind([("data", (8, 8))], [("softmax_label", (8,))])
    ex = mod._exec_group.execs[0]
    assert ex._run is ex._graph and ex._scale is None
    assert "forward" not in vars(ex)         # no CUDA-graph step installed
    # fp16 defaults to dynamic loss scaling; False turns it off
    assert mx.mod.Module(_mlp(), autocast="fp16").loss_scaler.scale == 2.0 ** 16
    assert mx.mod.Module(_mlp(), autocast="fp16", loss_scale=False).loss_scaler is None


# ---------------------------------------------------------------------- autocast
def test_bf16_autocast_matches_default_within_bf16():
    o0, p0, _ = _train(_mlp(), X_MLP, Y_MLP, steps=1)
    o1, p1, mod = _train(_mlp(), X_MLP, Y_MLP, steps=1, autocast="bf16")
    assert o1.dtype == np.float32
    np.testing.assert_allclose(o1, o0, rtol=2e-2, atol=2e-2)
    _assert_params_close(p1, p0, rtol=2e-2, atol=2e-3)
    ex = mod._exec_group.execs[0]
    assert all(a.dtype == np.float32 for a in ex.arg_arrays)
    assert all(g._data.dtype == torch.float32 for g in ex.grad_arrays if g is not None)


def test_bf16_fit_reaches_the_default_accuracy():
    def fit(**accel):
        it = mx.io.NDArrayIter(X_MLP, Y_MLP, batch_size=8, shuffle=False)
        mod = mx.mod.Module(_mlp(), **accel)
        mx.random.seed(3)
        mod.fit(it, num_epoch=6, optimizer_params={"learning_rate": 0.2},
                initializer=mx.init.Xavier())
        return dict(mod.score(it, "acc"))["accuracy"]
    ref, bf16 = fit(), fit(autocast="bf16")
    assert ref > 0.8
    assert abs(bf16 - ref) <= 0.05


def test_bf16_conv_net_and_checkpoint_stay_float32(tmp_path):
    o0, p0, _ = _train(_convnet(), X_IMG, Y_IMG, steps=1)
    o1, p1, mod = _train(_convnet(), X_IMG, Y_IMG, steps=1, autocast="bf16")
    np.testing.assert_allclose(o1, o0, rtol=2e-2, atol=2e-2)
    mod.save_checkpoint(str(tmp_path / "m"), 1)
    _, args, auxs = mx.model.load_checkpoint(str(tmp_path / "m"), 1)
    assert {v.dtype for v in {**args, **auxs}.values()} == {np.float32}
    np.testing.assert_array_equal(args["fc_weight"].asnumpy(), p1["fc_weight"])


def test_fp16_autocast_with_loss_scale_matches_default_within_fp16():
    o0, p0, _ = _train(_mlp(), X_MLP, Y_MLP)
    o1, p1, mod = _train(_mlp(), X_MLP, Y_MLP, autocast="fp16",
                         loss_scale={"init_scale": 1024.0})
    np.testing.assert_allclose(o1, o0, rtol=5e-3, atol=5e-3)
    _assert_params_close(p1, p0, rtol=5e-3, atol=5e-4)
    assert mod.loss_scaler.skipped == 0 and mod.loss_scaler.scale == 1024.0


def test_static_loss_scale_is_undone_exactly():
    """A power-of-two scale changes no bit of an fp16 gradient that does not overflow, so
    unscaling through rescale_grad gives the unscaled run's parameters."""
    _, p0, _ = _train(_mlp(), X_MLP, Y_MLP, autocast="fp16", loss_scale=False)
    _, p1, mod = _train(_mlp(), X_MLP, Y_MLP, autocast="fp16", loss_scale=64.0)
    _assert_params_close(p1, p0, rtol=1e-6, atol=1e-7)
    assert mod._optimizer.rescale_grad == 1.0 / 8   # restored after each update


def test_input_grads_come_back_unscaled():
    def grads(**accel):
        it = mx.io.NDArrayIter(X_MLP[:8], Y_MLP[:8], batch_size=8)
        mod = mx.mod.Module(_mlp(), **accel)
        mod.bind(it.provide_data, it.provide_label, inputs_need_grad=True)
        mx.random.seed(1)
        mod.init_params(mx.init.Xavier())
        mod.forward_backward(next(iter(it)))
        return mod.get_input_grads()[0].asnumpy()
    ref = grads(autocast="fp16", loss_scale=False)
    np.testing.assert_allclose(grads(autocast="fp16", loss_scale=256.0), ref, rtol=1e-6,
                               atol=1e-8)


def _overflow_module(**loss_scale):
    it = mx.io.NDArrayIter(X_MLP[:8], Y_MLP[:8], batch_size=8)
    mod = mx.mod.Module(_mlp(), autocast="fp16", loss_scale=loss_scale)
    mod.bind(it.provide_data, it.provide_label)
    mx.random.seed(1)
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    return mod, next(iter(it))


def _weights(mod):
    return [w[0].asnumpy().copy() for w in mod._exec_group.param_arrays]


def test_overflow_skips_the_update_and_halves_the_scale():
    mod, batch = _overflow_module(init_scale=512.0, growth_interval=2)
    w0 = _weights(mod)
    mod.forward_backward(batch)
    grad = mod._exec_group.grad_arrays[0][0]
    grad._data[0, 0] = float("inf")                   # injected overflow
    mod.update()
    for a, b in zip(_weights(mod), w0):
        np.testing.assert_array_equal(a, b)           # skipped: nothing moved
    assert mod.loss_scaler.scale == 256.0 and mod.loss_scaler.skipped == 1
    assert mod._optimizer.num_update == 0             # a skipped step is not counted
    mod.forward_backward(batch)
    grad._data[1, 1] = float("nan")
    mod.update()
    assert mod.loss_scaler.scale == 128.0 and mod.loss_scaler.skipped == 2
    # clean steps: applied with the unscaled gradient, and after growth_interval=2 the
    # scale doubles
    mod.forward_backward(batch)
    g = [x[0].asnumpy() / 128.0 for x in mod._exec_group.grad_arrays]
    mod.update()
    for a, b, gi in zip(_weights(mod), w0, g):
        np.testing.assert_allclose(a, b - 0.1 * gi / 8, rtol=1e-5, atol=1e-7)
    assert mod.loss_scaler.scale == 128.0 and mod._optimizer.num_update == 1
    mod.forward_backward(batch)
    mod.update()
    assert mod.loss_scaler.scale == 256.0 and mod.loss_scaler.skipped == 2


def test_scale_too_large_overflows_in_fp16_and_backs_off():
    mod, batch = _overflow_module(init_scale=2.0 ** 24)   # 2**24 * |p - onehot| > 65504
    w0 = _weights(mod)
    mod.forward_backward(batch)
    mod.update()
    assert mod.loss_scaler.scale == 2.0 ** 23 and mod.loss_scaler.skipped == 1
    for a, b in zip(_weights(mod), w0):
        np.testing.assert_array_equal(a, b)


def test_static_loss_scale_skips_without_changing_the_scale():
    scaler = mx.mod.Module(_mlp(), autocast="fp16", loss_scale=32.0).loss_scaler
    assert scaler.dynamic is False
    scaler.step_done(True)
    assert scaler.scale == 32.0 and scaler.skipped == 1


# ---------------------------------------------------------------------- multi_precision
def test_float16_module_updates_float32_master_weights():
    """multi_precision=True on a float16-bound Module: the optimizer keeps a float32
    master copy, updates it with the float16 gradient and casts it into the weight."""
    it = mx.io.NDArrayIter(X_MLP, Y_MLP, batch_size=16)
    mod = mx.mod.Module(_mlp())
    mod.bind([mx.io.DataDesc("data", (16, 8), np.float16)],
             [mx.io.DataDesc("softmax_label", (16,), np.float16)])
    mx.random.seed(1)
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(optimizer="sgd", optimizer_params={
        "learning_rate": 1e-3, "momentum": 0.0, "multi_precision": True})
    group = mod._exec_group
    assert all(w[0].dtype == np.float16 for w in group.param_arrays)
    w0 = [w[0].asnumpy().astype(np.float32) for w in group.param_arrays]
    batch = next(iter(it))
    mod.forward_backward(batch)
    g = [x[0].asnumpy().astype(np.float32) for x in group.grad_arrays]
    mod.update()
    for i, (w, g_, name) in enumerate(zip(w0, g, group.param_names)):
        state = mod._updater.states[i]
        master = [s for s in state if s is not None and s.dtype == np.float32][-1].asnumpy()
        expect = w - np.float32(1e-3) * (g_ / np.float32(16))
        np.testing.assert_allclose(master, expect, rtol=1e-6, atol=1e-8, err_msg=name)
        np.testing.assert_array_equal(group.param_arrays[i][0].asnumpy(),
                                      master.astype(np.float16))
    mod._optimizer.set_learning_rate(0.1)
    metric = mx.metric.create("acc")
    for _ in range(10):
        it.reset()
        metric.reset()
        for b in it:
            mod.forward_backward(b)
            mod.update()
            mod.update_metric(metric, b.label)
    assert metric.get()[1] > 0.8
    assert {v.dtype for v in mod.get_params()[0].values()} == {np.float16}


# ---------------------------------------------------------------------- channels_last
def test_channels_last_matches_default():
    o0, p0, _ = _train(_convnet(), X_IMG, Y_IMG)
    o1, p1, mod = _train(_convnet(), X_IMG, Y_IMG, channels_last=True)
    np.testing.assert_allclose(o1, o0, rtol=1e-5, atol=1e-5)
    _assert_params_close(p1, p0, rtol=1e-5, atol=1e-5)
    ex = mod._exec_group.execs[0]
    cl = torch.channels_last
    assert ex.arg_dict["c1_weight"]._data.is_contiguous(memory_format=cl)
    assert ex.grad_dict["c1_weight"]._data.is_contiguous(memory_format=cl)
    # prediction after a reshape (another batch size) too
    pred0 = _train(_convnet(), X_IMG, Y_IMG)[2].predict(mx.io.NDArrayIter(X_IMG, Y_IMG, 4))
    pred1 = mod.predict(mx.io.NDArrayIter(X_IMG, Y_IMG, 4))
    np.testing.assert_allclose(pred1.asnumpy(), pred0.asnumpy(), rtol=1e-5, atol=1e-5)


def test_accelerators_work_with_a_monitor():
    """The monitor's graph runs under autocast too (and a net with two BatchNorms, whose
    monitored graph once failed to generate)."""
    d = mx.sym.Variable("data")
    x = mx.sym.BatchNorm(mx.sym.FullyConnected(d, num_hidden=6, name="f1"), name="bn1")
    x = mx.sym.BatchNorm(mx.sym.FullyConnected(x, num_hidden=3, name="f2"), name="bn2")
    sym = mx.sym.SoftmaxOutput(x, name="softmax")
    mod = mx.mod.Module(sym, autocast="bf16")
    mod.bind([("data", (8, 8))], [("softmax_label", (8,))])
    mod.init_params()
    seen = {}
    mod._exec_group.execs[0].set_monitor_callback(lambda n, a: seen.setdefault(n, a.torch.dtype))
    mod.forward(mx.io.DataBatch([mx.nd.array(X_MLP[:8])], [mx.nd.array(Y_MLP[:8])]))
    mod.backward()
    assert seen["f1_output"] == torch.bfloat16
    assert seen["softmax_output"] == torch.float32     # loss ops run in float32
    assert mod.get_outputs()[0].dtype == np.float32


# ---------------------------------------------------------------------- compile
def test_compile_matches_default():
    """torch.compile of the bound graph (inductor, needs a C compiler on CPU): training
    steps, then predict at another batch size (a recompile), equal to the default."""
    from torch._dynamo.utils import counters
    o0, p0, m0 = _train(_mlp(), X_MLP, Y_MLP, steps=3)
    counters.clear()
    o1, p1, m1 = _train(_mlp(), X_MLP, Y_MLP, steps=3, compile=True)
    np.testing.assert_allclose(o1, o0, rtol=1e-5, atol=1e-6)
    _assert_params_close(p1, p0, rtol=1e-5, atol=1e-6)
    assert counters["stats"]["unique_graphs"] == 1     # the whole graph, compiled once
    assert not counters["graph_break"]
    it = mx.io.NDArrayIter(X_MLP[:12], Y_MLP[:12], batch_size=12)
    np.testing.assert_allclose(m1.predict(it).asnumpy(), m0.predict(it).asnumpy(),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- CUDA graphs
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_cuda_graphs_match_default_on_gpu():
    o0, p0, m0 = _train(_convnet(), X_IMG, Y_IMG, ctx=mx.gpu(0))
    o1, p1, m1 = _train(_convnet(), X_IMG, Y_IMG, ctx=mx.gpu(0), cuda_graphs=True)
    # 4 steps: 3 eager warm-ups, then one captured and replayed; a second pass replays
    np.testing.assert_allclose(o1, o0, rtol=1e-4, atol=1e-5)
    _assert_params_close(p1, p0, rtol=1e-4, atol=1e-5)
    step = m1._exec_group.execs[0].forward.__self__
    assert True in step.graphs
    it = mx.io.NDArrayIter(X_IMG, batch_size=8)
    for _ in range(2):
        np.testing.assert_allclose(m1.predict(it).asnumpy(), m0.predict(it).asnumpy(),
                                   rtol=1e-4, atol=1e-5)
    assert False in step.graphs


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_cuda_graphs_refuse_a_non_loss_head_with_a_gradient():
    sym = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    mod = mx.mod.Module(sym, label_names=None, context=mx.gpu(0), cuda_graphs=True)
    mod.bind([("data", (4, 8))])
    mod.init_params()
    with pytest.raises(StateError, match="loss head"):
        mod.forward(mx.io.DataBatch([mx.nd.ones((4, 8))]), is_train=True)


class _FakeStream:
    def wait_stream(self, other):
        pass


class _FakeGraph:
    """CUDA-graph semantics on the CPU: replay writes fresh results into the tensors the
    capture returned (the same memory, as a real graph does), reading the static inputs."""

    def pool(self):
        return None

    def replay(self):
        outs, grads = self.body()
        for dst, src in zip(self.result[0] + (self.result[1] or []),
                            outs + (grads or [])):
            if dst is not None:
                dst.copy_(src)


def _fake_record(graph, pool, body):
    """A real capture runs nothing: undo the BatchNorm statistics of the run
    that produced the result tensors."""
    cells = dict(zip(body.__code__.co_freevars, (c.cell_contents for c in body.__closure__)))
    saved = [t.clone() for t in cells["static_x"]]
    graph.body = body
    graph.result = body()
    for t, s in zip(cells["static_x"], saved):
        t.copy_(s)
    return graph.result


def test_cuda_graph_step_logic_emulated_on_cpu(monkeypatch):
    """The CudaGraphStep plumbing (warm-up, static buffers the batches are copied into,
    replayed gradients, BatchNorm statistics) with torch.cuda replaced by a CPU emulation;
    the real capture is only exercised on a GPU (the test above)."""
    import contextlib
    from mxtorch.executor import accel
    monkeypatch.setattr(torch.cuda, "Stream", lambda device=None: _FakeStream())
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: _FakeStream())
    monkeypatch.setattr(torch.cuda, "stream", lambda s: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", _FakeGraph)
    monkeypatch.setattr(accel, "_record", _fake_record)
    real_init = mx.mod.Module.__init__

    def init_with_graphs(self, *args, **kwargs):     # CPU contexts are refused otherwise
        real_init(self, *args, **kwargs)
        self._accel = accel.Accelerate(cuda_graphs=True)
    monkeypatch.setattr(mx.mod.Module, "__init__", init_with_graphs)
    o1, p1, m1 = _train(_convnet(), np.concatenate([X_IMG, X_IMG]),
                        np.concatenate([Y_IMG, Y_IMG]))
    monkeypatch.setattr(mx.mod.Module, "__init__", real_init)
    o0, p0, m0 = _train(_convnet(), np.concatenate([X_IMG, X_IMG]),
                        np.concatenate([Y_IMG, Y_IMG]))
    step = m1._exec_group.execs[0].forward.__self__
    assert isinstance(step, accel.CudaGraphStep) and list(step.graphs) == [True]
    np.testing.assert_allclose(o1, o0, rtol=1e-5, atol=1e-6)
    _assert_params_close(p1, p0, rtol=1e-5, atol=1e-6)
    it = mx.io.NDArrayIter(X_IMG, Y_IMG, batch_size=8)
    for _ in range(2):       # 3 eager inference batches, then captured and replayed ones
        np.testing.assert_allclose(m1.predict(it).asnumpy(), m0.predict(it).asnumpy(),
                                   rtol=1e-5, atol=1e-6)
    assert False in step.graphs


# ---------------------------------------------------------------------- fused LSTM
def _lstm_lm(vocab=16, hidden=8, steps=5):
    """Embedding, two LSTMCell layers unrolled (fused by the executor), SoftmaxOutput."""
    stack = mx.rnn.SequentialRNNCell()
    for i in range(2):
        stack.add(mx.rnn.LSTMCell(hidden, prefix="l%d_" % i))
    embed = mx.sym.Embedding(mx.sym.Variable("data"), input_dim=vocab, output_dim=hidden,
                             name="embed")
    outputs, _ = stack.unroll(steps, embed, merge_outputs=True)
    pred = mx.sym.FullyConnected(mx.sym.Reshape(outputs, shape=(-1, hidden)), num_hidden=vocab,
                                 name="pred")
    return mx.sym.SoftmaxOutput(pred, mx.sym.Reshape(mx.sym.Variable("softmax_label"),
                                                     shape=(-1,)), name="softmax")


_RNG_LM = np.random.RandomState(4)
X_LM = _RNG_LM.randint(0, 16, (32, 5)).astype("f")
Y_LM = _RNG_LM.randint(0, 16, (32, 5)).astype("f")


def test_autocast_bf16_with_fused_lstm_cells_matches_default():
    """The fused torch.lstm under autocast (bf16 input projections and gates) trains like
    the float32 default within bf16 precision; parameters stay float32."""
    o0, p0, m0 = _train(_lstm_lm(), X_LM, Y_LM)
    assert "= L" in m0._exec_group.execs[0]._graph.source        # the cells were fused
    o1, p1, _ = _train(_lstm_lm(), X_LM, Y_LM, autocast="bf16")
    np.testing.assert_allclose(o1, o0, rtol=1e-2, atol=1e-3)
    _assert_params_close(p1, p0, rtol=1e-2, atol=5e-3)
    assert not np.array_equal(o1, o0)     # bf16 did run somewhere


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_fused_lstm_cells_on_gpu_match_cpu_and_replay_in_cuda_graphs():
    """cuDNN's LSTM for the fused cells: the same training as on CPU, and captured in CUDA
    graphs with the same results as eager."""
    o0, p0, _ = _train(_lstm_lm(), X_LM, Y_LM)
    o1, p1, _ = _train(_lstm_lm(), X_LM, Y_LM, ctx=mx.gpu(0))
    np.testing.assert_allclose(o1, o0, rtol=1e-4, atol=1e-5)
    _assert_params_close(p1, p0, rtol=1e-4, atol=1e-5)
    o2, p2, m2 = _train(_lstm_lm(), X_LM, Y_LM, ctx=mx.gpu(0), cuda_graphs=True)
    np.testing.assert_allclose(o2, o1, rtol=1e-4, atol=1e-5)
    _assert_params_close(p2, p1, rtol=1e-4, atol=1e-5)
    assert True in m2._exec_group.execs[0].forward.__self__.graphs
