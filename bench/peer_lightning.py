"""The PyTorch Lightning peer: ``Trainer.fit`` on the same ``Task`` as the hand-written loop
(same model, optimizer, batches, loss and on-device metric), configured as a user who
wants speed would: no logger, no checkpointing, no progress bar, no model summary, no
sanity validation. Epochs are timed by a callback at each training-epoch end.
"""
import logging

import lightning
import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from .measure import Stopwatch, median
from .peer_torch import Task

__all__ = ["fit", "version"]


def version():
    return f"{lightning.__version__} (torch {torch.__version__})"


class _LitTask(LightningModule):
    def __init__(self, task):
        super().__init__()
        self.task = task
        self.model = task.model
        self.metric = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.task.loss(self.model(x), y)

    def on_train_epoch_end(self):
        self.metric.append(self.task.epoch_metric())

    def configure_optimizers(self):
        return self.task.optimizer(self.model.parameters())


class _EpochClock(Callback):
    def __init__(self, watch):
        self.watch = watch

    def on_train_epoch_end(self, trainer, pl_module):
        self.watch.stamp()


def fit(device, cfg, meter):
    """``Trainer.fit`` for warm-up + repeat epochs; samples/s of the median epoch."""
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    task = Task(cfg)
    task.setup(meter, device, move_model=False)  # the Trainer moves the model
    lit = _LitTask(task)
    epochs = cfg["warmup"] + cfg["repeat"]
    sync = (lambda *_: torch.cuda.synchronize()) if device.startswith("cuda") else None
    watch = Stopwatch(sync)
    trainer = Trainer(accelerator="gpu" if device.startswith("cuda") else "cpu", devices=1,
                      max_epochs=epochs, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False,
                      num_sanity_val_steps=0, callbacks=[_EpochClock(watch)])
    watch.start()
    trainer.fit(lit, train_dataloaders=task)
    times = watch.durations()
    if len(times) != epochs:
        raise RuntimeError(f"expected {epochs} epoch ends, got {len(times)}")
    return ({"samples_per_sec": task.num_samples / median(times[cfg["warmup"]:])},
            {"epoch_seconds": times, "samples_per_epoch": task.num_samples,
             "epoch_metric": lit.metric, "torch_threads": torch.get_num_threads()})
