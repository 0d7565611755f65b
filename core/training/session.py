"""`TrainingSession`: what a mode runner gets (resolved settings, scanned data, run writer), and the fit loop they share."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.util.progress import CancelToken, Cancelled, ProgressListener, notify
from core.training.callbacks import _StopNow, _validation_callback, make_run_callback
from core.training.config import TrainingConfig
from core.training.distribute import describe
from core.training.writer import RunWriter


@dataclass
class TrainingSession:
    """What a mode runner gets: the resolved config, the scanned data and the run writer."""

    config: TrainingConfig
    scan: object  # core.data.samples.DatasetScan
    writer: RunWriter
    image_size: int
    augmentation: object  # AugmentationConfig
    listener: ProgressListener | None
    cancel: CancelToken
    class_weight: dict | None
    checkpoints: bool = False  # save last.keras every epoch (runs that resume_training supports)
    distribution: object = None  # core.training.distribute.Distribution (None: one device)

    @property
    def batch_size(self) -> int:
        """The global batch: --batch-size per replica times the replicas (Keras splits each
        batch across them)."""
        return self.distribution.global_batch_size if self.distribution else \
            self.config.batch_size

    @property
    def labels(self) -> list[str]:
        return list(self.scan.classes)

    @property
    def num_classes(self) -> int:
        return len(self.scan.classes)

    @property
    def monitor(self) -> str:
        return "val_accuracy" if self.scan.samples("validation") else "accuracy"

    def log(self, message: str) -> None:
        notify(self.listener, "on_log", message)

    def datasets(self, image_size: int | None = None, augment: bool = True):
        """(train, validation or None) tf.data datasets of raw-pixel batches."""
        from core.data.augmentation.layers import build_augmenter
        from core.data.pipeline import make_dataset

        size = image_size or self.image_size
        train = self.scan.samples("train")
        seed = self.config.seed

        def train_ds(batch_size, shard=None):
            augmenter = build_augmenter(self.augmentation, seed=seed) if augment else None
            return make_dataset([s.path for s in train], [s.label for s in train], size,
                                batch_size, is_native=self.scan.is_native, shuffle=True,
                                augmenter=augmenter, seed=seed, shard=shard)

        validation = self.scan.samples("validation")

        def val_ds(batch_size, shard=None):
            return make_dataset([s.path for s in validation], [s.label for s in validation],
                                size, batch_size, is_native=self.scan.is_native, shard=shard)

        if self.distribution is not None and self.distribution.sharded:
            from core.training.distribute import distributed

            weights = self.class_weight
            return (distributed(self.distribution, train_ds, weights),
                    distributed(self.distribution, val_ds) if validation else None)
        return train_ds(self.batch_size), val_ds(self.batch_size) if validation else None

    def fit(self, model, train_ds, val_ds, epochs: int, stage: str, epoch_offset: int = 0,
            steps_per_epoch: int | None = None, save_best: Callable | None = None,
            validation_logs: Callable | None = None) -> None:
        """model.fit with our callback; raises Cancelled when cancelled, returns normally when
        early-stopped. `save_best` and `epoch_offset`: see make_run_callback.

        `validation_logs(model) -> {"val_loss": ..., "val_accuracy": ...}` replaces `val_ds`
        for data small enough to score eagerly at each epoch end (cached features): Keras
        would otherwise trace a second, separate test function for it.
        """
        import keras

        steps = steps_per_epoch or math.ceil(len(self.scan.samples("train")) / self.batch_size)
        notify(self.listener, "on_stage", stage, epochs)
        notify(self.listener, "on_train_begin", {
            "epochs": epoch_offset + epochs, "initial_epoch": epoch_offset, "stage": stage,
            "steps_per_epoch": steps, "run_dir": str(self.writer.target)})
        callbacks = [make_run_callback(self.writer, self.listener, self.cancel, stage,
                                       self.monitor, epoch_offset, save_best,
                                       checkpoint=self.checkpoints and save_best is None)]
        if validation_logs is not None:
            # First in the list: the other callbacks read the logs it adds.
            callbacks.insert(0, _validation_callback(validation_logs))
        if self.config.early_stopping:
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss" if val_ds is not None or validation_logs else "loss",
                patience=self.config.early_stopping)
            callbacks.append(stopper)
        if self.distribution is not None and self.distribution.workers > 1:
            from core.training.distribute import fit_across_workers

            fit_across_workers(model)
        try:
            with warnings.catch_warnings():
                # Our datasets have no known length until the first epoch ends: expected.
                warnings.filterwarnings("ignore", message=".*ran out of data")
                # A distributed dataset carries its class weights already (Keras cannot map one).
                model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0,
                          shuffle=False, callbacks=callbacks,
                          class_weight=None if _is_distributed(train_ds) else self.class_weight)
        except _StopNow:
            self.log("Stopped by the user; the best model so far is kept.")
            raise Cancelled("Stopped by the user.") from None
        if self.config.early_stopping and getattr(callbacks[-1], "stopped_epoch", 0):
            self.log(f"Early stopping: validation loss did not improve for "
                     f"{self.config.early_stopping} epochs.")


def _is_distributed(dataset) -> bool:
    return type(dataset).__name__.startswith("Distributed")


def compile_for_training(model, optimizer, num_classes: int, steps_per_execution: int = 1) -> None:
    """model.compile with our loss and accuracy, creating every variable right now.

    Keras creates the variables of a string metric ("accuracy") and of the optimizer lazily,
    inside the traced train step; TensorFlow then registers `tf.cond` functions for their
    initial values in its process-wide function library. Creating them eagerly here avoids
    that and halves the start-up time of small runs.
    """
    import keras

    from core.models.outputs import loss_for

    accuracy = (keras.metrics.BinaryAccuracy(name="accuracy") if num_classes == 2
                else keras.metrics.SparseCategoricalAccuracy(name="accuracy"))
    model.compile(optimizer=optimizer, loss=loss_for(num_classes), metrics=[accuracy],
                  steps_per_execution=steps_per_execution)
    model.optimizer.build(model.trainable_variables)


def data_summary(session: TrainingSession) -> str:
    lines = [f"Dataset: {session.scan.root} ({session.scan.layout})"]
    for split, samples in session.scan.splits.items():
        counts = np.bincount([s.label for s in samples], minlength=session.num_classes)
        lines.append(f"  {split}: {len(samples)} images: " + ", ".join(
            f"{label} {count}" for label, count in zip(session.labels, counts)))
    if session.scan.split_note():
        lines.append("  " + session.scan.split_note())
    trained_on = describe(session.writer.config.get("distribution"))
    if trained_on:
        lines += ["", trained_on + " (config.json, \"distribution\")."]
    recipe = session.writer.config.get("recipe") or {}
    if recipe.get("choices"):
        lines += ["", "Choices made for you (see config.json, \"recipe\"):"]
        lines += [f"- {item['why']}" for item in recipe["choices"]]
    return "\n".join(lines) + "\n"


def class_weights_for(scan, num_classes: int) -> dict:
    counts = np.bincount([s.label for s in scan.samples("train")], minlength=num_classes)
    total = counts.sum()
    return {i: float(total / (num_classes * max(count, 1))) for i, count in enumerate(counts)}
