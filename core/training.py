"""Training: from a dataset folder to a run folder, with progress, cancellation and best-model keeping.

`train(config, listener, cancel)` scans the data, builds the model, streams batches with
augmentation and fits, writing the run folder as it goes (see core.runs). Training modes are
plain functions registered in `MODE_RUNNERS`; from-scratch CNNs use "scratch", transfer
learning adds its own modes.

Example:
    result = train(TrainingConfig("data/cats_dogs", "runs/first", model="small_cnn", epochs=5))
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
import shutil
import socket
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np

from core import atomic
from core.precision import PRECISIONS
from core.progress import CancelToken, Cancelled, ProgressListener, notify
from core.runs import (BEST_MODEL, CONFIG_FILE, FINAL_MODEL, HISTORY_FILE, LABELS_FILE,
                       LAST_MODEL, RUN_FORMAT_VERSION, SUMMARY_FILE, RunError, RunLock,
                       stamp_checkpoint, write_history)


@dataclass
class TrainingConfig:
    """Everything a training run needs; saved into the run's config.json."""

    data_dir: str
    out_dir: str
    model: str = "small_cnn"
    image_size: int | None = None  # None: the model's default
    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "rmsprop"
    learning_rate: float | None = None  # None: the optimizer's default
    augment: object = "default"  # preset name, JSON file path, dict or AugmentationConfig
    val_split: float = 0.2
    test_split: float = 0.0
    seed: int = 1337
    early_stopping: int = 0  # patience in epochs; 0 turns it off
    class_weights: bool = False
    mode: str | None = None  # None: the model family's default mode
    precision: str = "auto"  # from-scratch models: "auto", "float32" or "mixed_bfloat16"
    extra: dict = field(default_factory=dict)  # mode-specific options (transfer learning)

    def validate(self) -> None:
        checks = [
            (self.epochs >= 1, f"Received epochs={self.epochs}; it must be at least 1."),
            (self.batch_size >= 1, f"Received batch size {self.batch_size}; it must be at least 1."),
            (0 <= self.val_split < 1, f"Received validation split {self.val_split}; "
                                      "expected a fraction between 0 and 1, such as 0.2."),
            (0 <= self.test_split < 1 and self.val_split + self.test_split < 1,
             f"Received test split {self.test_split}; validation + test must stay below 1."),
            (self.early_stopping >= 0, "Early-stopping patience cannot be negative."),
            (self.image_size is None or self.image_size >= 8,
             f"Received image size {self.image_size}; it must be at least 8 pixels."),
            (self.precision in PRECISIONS, f"Received precision {self.precision!r}; expected "
                                           f"one of: {', '.join(PRECISIONS)}."),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_dict(self) -> dict:
        data = asdict(self)
        if not isinstance(data["augment"], (str, dict)):
            data["augment"] = self.augment.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TrainingConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


class TrainingError(ValueError):
    """Training cannot start; the message says why and what to do."""


class RunWriter:
    """Owns a run folder while training: config, labels, history and models, all atomic."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.history: list[dict] = []
        self.config: dict = {}
        self.best_value: float | None = None
        self.best_epoch: int | None = None

    def start(self, config: dict, labels: list[str]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in (BEST_MODEL, FINAL_MODEL, LAST_MODEL, HISTORY_FILE, SUMMARY_FILE):
            # A run folder that is reused starts clean, so old models never pass for new ones.
            (self.path / stale).unlink(missing_ok=True)
        atomic.remove_stale_temporaries(self.path)  # left by a process killed mid-write
        self.config = config
        atomic.write_json(self.path / LABELS_FILE, labels)
        self.write_config()
        write_history(self.path / HISTORY_FILE, [])

    def write_config(self, **updates) -> None:
        self.config.update(updates)
        atomic.write_json(self.path / CONFIG_FILE, self.config)

    def add_epoch(self, row: dict) -> None:
        self.history.append(row)
        write_history(self.path / HISTORY_FILE, self.history)

    def record_epoch(self, row: dict, monitor: str, save_best: Callable[[], None],
                     save_checkpoint: Callable[[], None] | None = None) -> None:
        """Append a finished epoch; when it improves `monitor`, call `save_best()` (which
        writes best.keras) before config.json names it as the best epoch.

        Crash-safe order: history, best, checkpoint (`save_checkpoint()`, last.keras), then
        the config that counts the epoch. The checkpoint records its own epoch, so a kill
        between any two steps still resumes exactly after the last epoch it holds.
        """
        self.add_epoch(row)
        value = row.get(monitor)
        if value is not None and (self.best_value is None or value > self.best_value):
            self.best_value, self.best_epoch = value, row["epoch"]
            save_best()
        if save_checkpoint is not None:
            save_checkpoint()
        self.write_config(epochs_completed=row["epoch"],
                          best={"epoch": self.best_epoch, "monitor": monitor,
                                "value": self.best_value})

    def resume(self, config: dict, history: list[dict]) -> None:
        """Take over an interrupted run: its config and the history up to its checkpoint."""
        atomic.remove_stale_temporaries(self.path)
        self.config, self.history = config, list(history)
        best = config.get("best") or {}
        self.best_value, self.best_epoch = best.get("value"), best.get("epoch")
        write_history(self.path / HISTORY_FILE, self.history)
        self.write_config()

    def save_model(self, model, name: str) -> None:
        with atomic.atomic_path(self.path / name, suffix=".keras") as tmp:
            model.save(tmp)

    def copy_model(self, source: str, name: str) -> None:
        with atomic.atomic_path(self.path / name, suffix=".keras") as tmp:
            shutil.copyfile(self.path / source, tmp)

    def save_checkpoint(self, model, epoch: int, stage: str) -> None:
        """last.keras: the model and its optimizer after `epoch`, for `resume_training`."""
        with atomic.atomic_path(self.path / LAST_MODEL, suffix=".keras") as tmp:
            model.save(tmp)
            stamp_checkpoint(tmp, epoch, stage)

    def write_summary(self, text: str) -> None:
        atomic.write_text(self.path / SUMMARY_FILE, text)


class _StopNow(Exception):
    """Raised from a callback to leave model.fit within one batch."""


def _keras_callback_base():
    import keras

    return keras.callbacks.Callback


def _validation_callback(validation_logs: Callable):
    class ValidationLogs(_keras_callback_base()):
        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs.update(validation_logs(self.model))

    return ValidationLogs()


def make_run_callback(writer: RunWriter, listener: ProgressListener | None,
                      cancel: CancelToken | None, stage: str, monitor: str, epoch_offset: int = 0,
                      save_best: Callable | None = None, checkpoint: bool = False):
    """A Keras callback that reports progress, records history, keeps the best model and
    stops within one batch when cancelled.

    `save_best(model)` replaces writing the fitted model to best.keras when it improves; the
    transfer modes use it when they fit a head on cached features but the run must keep the
    full image -> probabilities model. Epoch numbers in history rows and events start at
    `epoch_offset` + 1, so several stages share one history. With `checkpoint`, the fitted
    model and its optimizer are saved to last.keras after every epoch (see resume_training).
    """
    base = _keras_callback_base()
    if save_best is None:
        def save_best(model):
            writer.save_model(model, BEST_MODEL)

    class RunCallback(base):
        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch
            self._epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            notify(listener, "on_batch_end", epoch_offset + self._epoch, batch, _float_logs(logs))
            if cancel is not None and cancel.cancelled:
                raise _StopNow()

        def on_epoch_end(self, epoch, logs=None):
            logs = _float_logs(logs)
            seconds = time.perf_counter() - self._epoch_start
            learning_rate = _current_learning_rate(self.model)
            row = {"epoch": epoch_offset + epoch + 1, "stage": stage,
                   "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
                   "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_accuracy"),
                   "learning_rate": learning_rate, "seconds": round(seconds, 3)}
            writer.record_epoch(row, monitor, lambda: save_best(self.model),
                                (lambda: writer.save_checkpoint(self.model, row["epoch"], stage))
                                if checkpoint else None)
            notify(listener, "on_epoch_end", epoch_offset + epoch,
                   {**logs, "seconds": seconds, "learning_rate": learning_rate})

    return RunCallback()


def _float_logs(logs) -> dict:
    result = {}
    for key, value in (logs or {}).items():
        try:
            result[key] = float(value)
        except (TypeError, ValueError):
            pass
    return result


def _current_learning_rate(model) -> float | None:
    try:
        return float(np.asarray(model.optimizer.learning_rate))
    except Exception:
        return None


@dataclass
class TrainingSession:
    """What a mode runner gets: the resolved config, the scanned data and the run writer."""

    config: TrainingConfig
    scan: object  # core.datasets.DatasetScan
    writer: RunWriter
    image_size: int
    augmentation: object  # AugmentationConfig
    listener: ProgressListener | None
    cancel: CancelToken
    class_weight: dict | None
    checkpoints: bool = False  # save last.keras every epoch (runs that resume_training supports)

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
        from core.augmentation import build_augmenter
        from core.pipeline import make_dataset

        size = image_size or self.image_size
        train = self.scan.samples("train")
        augmenter = build_augmenter(self.augmentation, seed=self.config.seed) if augment else None
        train_ds = make_dataset([s.path for s in train], [s.label for s in train], size,
                                self.config.batch_size, is_native=self.scan.is_native,
                                shuffle=True, augmenter=augmenter, seed=self.config.seed)
        validation = self.scan.samples("validation")
        val_ds = make_dataset([s.path for s in validation], [s.label for s in validation], size,
                              self.config.batch_size, is_native=self.scan.is_native) \
            if validation else None
        return train_ds, val_ds

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

        steps = steps_per_epoch or math.ceil(len(self.scan.samples("train")) / self.config.batch_size)
        notify(self.listener, "on_stage", stage, epochs)
        notify(self.listener, "on_train_begin", {
            "epochs": epoch_offset + epochs, "initial_epoch": epoch_offset, "stage": stage,
            "steps_per_epoch": steps, "run_dir": str(self.writer.path)})
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
        try:
            with warnings.catch_warnings():
                # Our datasets have no known length until the first epoch ends: expected.
                warnings.filterwarnings("ignore", message=".*ran out of data")
                model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0,
                          shuffle=False, callbacks=callbacks, class_weight=self.class_weight)
        except _StopNow:
            self.log("Stopped by the user; the best model so far is kept.")
            raise Cancelled("Stopped by the user.") from None
        if self.config.early_stopping and getattr(callbacks[-1], "stopped_epoch", 0):
            self.log(f"Early stopping: validation loss did not improve for "
                     f"{self.config.early_stopping} epochs.")


def compile_for_training(model, optimizer, num_classes: int, steps_per_execution: int = 1) -> None:
    """model.compile with our loss and accuracy, creating every variable right now.

    Keras creates the variables of a string metric ("accuracy") and of the optimizer lazily,
    inside the traced train step; TensorFlow then registers `tf.cond` functions for their
    initial values in its process-wide function library. Creating them eagerly here avoids
    that and halves the start-up time of small runs.
    """
    import keras

    from core.models import loss_for

    accuracy = (keras.metrics.BinaryAccuracy(name="accuracy") if num_classes == 2
                else keras.metrics.SparseCategoricalAccuracy(name="accuracy"))
    model.compile(optimizer=optimizer, loss=loss_for(num_classes), metrics=[accuracy],
                  steps_per_execution=steps_per_execution)
    model.optimizer.build(model.trainable_variables)


@contextlib.contextmanager
def released_tensorflow_graphs():
    """Let TensorFlow free the graphs a training traced once it is over.

    TensorFlow's default distribution strategy sums gradients through a `custom_gradient`
    (distribute_lib.ReplicaContext.all_reduce), which registers a gradient function in a
    process-wide registry that is never emptied; that function keeps the whole traced train
    step alive: about 8-12 MB per LeNet run, far more for big backbones, so a GUI session
    that trains many times grows without bound. The entries this training added are dropped
    when it ends (they are only used while tracing gradients *through* the optimizer
    update, which nothing does).
    """
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    before = set(registry) if isinstance(registry, dict) else None
    try:
        yield
    finally:
        if before is not None:
            for name in [name for name in list(registry)
                         if name not in before and str(name).startswith("CustomGradient-")]:
                registry.pop(name, None)


def run_scratch(session: TrainingSession):
    """Train a from-scratch CNN end to end. Returns the trained model."""
    from core.models import build_model, make_optimizer, model_summary

    from core.precision import dtype_policy, training_policy

    config = session.config
    rescale = session.augmentation.rescale or 1.0
    policy = training_policy(config.precision, session.image_size)
    with dtype_policy(policy):
        model = build_model(config.model, session.num_classes, session.image_size,
                            rescale=rescale)
    compile_for_training(model, make_optimizer(config.optimizer, config.learning_rate),
                         session.num_classes)
    session.writer.write_summary(model_summary(model) + "\n\n" + _data_summary(session))
    session.writer.write_config(preprocessing={"input": "RGB pixels 0-255, resized by "
                                               "bilinear with antialias", "rescale": rescale},
                                num_params=int(model.count_params()), dtype_policy=policy)
    train_ds, val_ds = session.datasets()
    session.model = model  # so a cancelled run can still save its final state
    session.checkpoints = True
    session.fit(model, train_ds, val_ds, config.epochs, stage="train")
    return model


MODE_RUNNERS: dict[str, Callable[[TrainingSession], object]] = {"scratch": run_scratch}


def _load_mode_runners() -> None:
    # Transfer-learning modes register themselves in MODE_RUNNERS when imported.
    import importlib.util

    if importlib.util.find_spec("core.transfer") is not None:
        import core.transfer  # noqa: F401


def model_spec(name: str):
    """`core.models.get_model_spec`, also for fusion names such as "resnet50+xception" (whose
    specs core.backbones builds on demand: there are too many combinations to register)."""
    import importlib.util

    from core.models import get_model_spec

    if "+" in name and importlib.util.find_spec("core.backbones") is not None:
        from core import backbones

        return backbones.model_spec(name)
    return get_model_spec(name)


def scan_for_training(config: TrainingConfig, listener: ProgressListener | None = None,
                      cancel: CancelToken | None = None):
    """Scan `config.data_dir` as `train` does when no scan is passed to it: transfer runs reuse
    earlier scans of unchanged files (see core.transfer.scan_dataset_cached), so a run on
    cached features starts in a moment; other runs call core.datasets.scan_dataset."""
    return _scan(config, model_spec(config.model), listener, cancel)


def _scan(config: TrainingConfig, spec, listener, cancel):
    from core.datasets import scan_dataset

    if spec.family == "transfer":
        _load_mode_runners()
        from core.transfer import scan_dataset_cached

        return scan_dataset_cached(config, listener=listener, cancel=cancel)
    return scan_dataset(config.data_dir, val_split=config.val_split,
                        test_split=config.test_split, seed=config.seed,
                        listener=listener, cancel=cancel)


def _data_summary(session: TrainingSession) -> str:
    lines = [f"Dataset: {session.scan.root} ({session.scan.layout})"]
    for split, samples in session.scan.splits.items():
        counts = np.bincount([s.label for s in samples], minlength=session.num_classes)
        lines.append(f"  {split}: {len(samples)} images: " + ", ".join(
            f"{label} {count}" for label, count in zip(session.labels, counts)))
    return "\n".join(lines) + "\n"


def _class_weight(scan, num_classes: int) -> dict:
    counts = np.bincount([s.label for s in scan.samples("train")], minlength=num_classes)
    total = counts.sum()
    return {i: float(total / (num_classes * max(count, 1))) for i, count in enumerate(counts)}


def _check_trainable(scan, config: TrainingConfig) -> list[str]:
    """Raise TrainingError when no classifier can be trained; return warnings (plain sentences)."""
    from core.datasets import DatasetError, check_trainable

    try:
        return check_trainable(scan, config.batch_size)
    except DatasetError as error:
        raise TrainingError(str(error)) from None


def train(config: TrainingConfig, listener: ProgressListener | None = None,
          cancel: CancelToken | None = None, scan=None) -> dict:
    """Train a model as `config` says, writing the run folder `config.out_dir`.

    Returns a dict: run_dir, status ("finished", "cancelled"), epochs_completed,
    best_val_accuracy (or best training accuracy when there is no validation split).
    Raises TrainingError / ValueError before any long work when the inputs are unusable.
    """
    import keras

    from core.augmentation import load_augmentation

    config.validate()
    cancel = cancel or CancelToken()
    spec = model_spec(config.model)
    mode = config.mode or spec.modes[0]
    if mode not in spec.modes:
        raise TrainingError(f"Model {config.model!r} does not support mode {mode!r}; "
                            f"choose one of: {', '.join(spec.modes)}.")
    _load_mode_runners()
    if mode not in MODE_RUNNERS:
        raise TrainingError(f"Training mode {mode!r} is not available in this version.")
    image_size = config.image_size or spec.default_image_size
    if image_size < spec.min_image_size:
        raise TrainingError(f"Received image size {image_size} for model {config.model!r}; it "
                            f"needs at least {spec.min_image_size} px.")
    augmentation = load_augmentation(config.augment)
    out = Path(config.out_dir)
    _check_output_folder(out, Path(config.data_dir))  # before the scan: it needs no data
    if scan is None:
        scan = _scan(config, spec, listener, cancel)
    scan.warnings.extend(warning for warning in _check_trainable(scan, config)
                         if warning not in scan.warnings)  # the CLI may have added them
    for warning in scan.warnings:
        notify(listener, "on_log", "Note: " + warning)

    keras.utils.set_random_seed(config.seed)
    writer = RunWriter(out)
    run_config = {
        "format_version": RUN_FORMAT_VERSION,
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "status": "running",
        "model": config.model,
        "family": spec.family,
        "mode": mode,
        "image_size": image_size,
        "num_classes": len(scan.classes),
        "labels": list(scan.classes),
        "augmentation": augmentation.to_dict(),
        "training": config.to_dict() | {"augment": augmentation.to_dict()},
        "dataset": {"root": str(Path(config.data_dir).resolve()), "layout": scan.layout,
                    "splits": scan.report()["splits"], "num_unreadable": len(scan.unreadable)},
        "versions": _versions(),
        "epochs_completed": 0,
    }
    with _training_lock(out), released_tensorflow_graphs():
        writer.start(run_config | _process_info(), list(scan.classes))
        session = TrainingSession(config=config, scan=scan, writer=writer, image_size=image_size,
                                  augmentation=augmentation, listener=listener, cancel=cancel,
                                  class_weight=_class_weight(scan, len(scan.classes))
                                  if config.class_weights else None)
        return _execute(session, lambda: MODE_RUNNERS[mode](session))


def _execute(session: TrainingSession, run) -> dict:
    """Run a mode runner (or a resumed fit), then record how it ended. Shared by train and
    resume_training."""
    writer, listener = session.writer, session.listener
    session.model = None
    status = "finished"
    started = time.perf_counter()
    try:
        model = run()
    except Cancelled:
        status, model = "cancelled", session.model
    except BaseException as error:
        writer.write_config(status="failed", error=str(error))
        raise
    if model is not None:
        if status == "finished" and writer.best_epoch is not None \
                and writer.best_epoch == writer.config.get("epochs_completed") \
                and (writer.path / BEST_MODEL).is_file():
            # The last epoch was the best: the final model is that same file, and copying it
            # is far cheaper than serialising the model again (noticeable on cached runs).
            writer.copy_model(BEST_MODEL, FINAL_MODEL)
        else:
            writer.save_model(model, FINAL_MODEL)
    best = writer.best_value
    writer.write_config(status=status, seconds=round(time.perf_counter() - started, 2),
                        finished=_dt.datetime.now().isoformat(timespec="seconds"))
    result = {"run_dir": str(writer.path), "status": status,
              "epochs_completed": writer.config.get("epochs_completed", 0),
              "best_epoch": writer.best_epoch, "monitor": session.monitor,
              "best_val_accuracy": best if session.monitor == "val_accuracy" else None,
              "best_accuracy": best, "seconds": writer.config["seconds"]}
    notify(listener, "on_train_end", result)
    return result


@contextlib.contextmanager
def _training_lock(out: Path):
    """Hold the run folder's lock: no second training into it, and a killed run shows as
    "interrupted" (see core.runs.RunLock)."""
    try:
        lock = RunLock(out)
        lock.acquire()
    except RunError as error:
        raise TrainingError(str(error)) from None
    try:
        yield
    finally:
        lock.release()


def _process_info() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def resume_training(run_dir: str | os.PathLike, epochs: int | None = None,
                    listener: ProgressListener | None = None,
                    cancel: CancelToken | None = None) -> dict:
    """Continue an interrupted (or stopped) run from the last epoch it finished.

    The history up to that epoch is kept, the model and its optimizer come from last.keras,
    and the data is scanned again with the run's seed; if the dataset changed, resuming is
    refused (the splits would differ). `epochs` is the new total (default: the run's own).
    From-scratch runs only for now (transfer modes keep no checkpoint).

    Returns the same dict as `train`. Raises TrainingError with a sentence when the run
    cannot be resumed.
    """
    import keras

    from core.augmentation import load_augmentation
    from core.runs import Run, check_model_archive

    cancel = cancel or CancelToken()
    try:
        run = Run.open(run_dir)
    except RunError as error:
        raise TrainingError(str(error)) from None
    out = Path(run_dir)
    checkpoint = run.checkpoint()
    saved = dict(run.config.get("training") or {})
    config = TrainingConfig.from_dict(saved | {"out_dir": str(out)})
    if epochs is not None:
        config.epochs = epochs
    config.validate()
    if checkpoint is None:
        raise TrainingError(f"{out} cannot be resumed: it has no checkpoint ({LAST_MODEL}); it "
                            "was stopped before its first epoch ended, or made by an older "
                            "version or a transfer-learning mode. Train it again instead.")
    path, done, stage = checkpoint
    if run.config.get("mode", "scratch") != "scratch" or stage != "train":
        raise TrainingError(f"{out} was trained with mode {run.config.get('mode')!r}; only "
                            "from-scratch runs can be resumed in this version.")
    if done >= config.epochs:
        raise TrainingError(f"{out} has already finished all {done} epochs; pass --epochs with a "
                            f"larger total (e.g. --epochs {done + 5}) to train it further.")
    _check_output_folder(out, Path(config.data_dir))
    augmentation = load_augmentation(saved.get("augment", config.augment))
    scan = _scan(config, model_spec(config.model), listener, cancel)
    recorded = (run.config.get("dataset") or {}).get("splits")
    if scan.report()["splits"] != recorded or list(scan.classes) != run.labels:
        raise TrainingError(f"The dataset {config.data_dir} changed since this run started (its "
                            "classes or image counts differ), so resuming would mix different "
                            "training and validation images. Start a new run instead.")
    with _training_lock(out), released_tensorflow_graphs():
        try:
            check_model_archive(path)
        except RunError as error:
            raise TrainingError(str(error)) from None
        keras.utils.set_random_seed(config.seed + done)
        model = keras.models.load_model(path, compile=True, safe_mode=True)
        writer = RunWriter(out)
        history = [row for row in run.history if (row.get("epoch") or 0) <= done]
        writer.resume(run.config | _process_info() | {
            "status": "running", "epochs_completed": done,
            "training": run.config.get("training", {}) | {"epochs": config.epochs},
            "resumed": (run.config.get("resumed") or []) + [
                {"at_epoch": done, "when": _dt.datetime.now().isoformat(timespec="seconds")}]},
            history)
        session = TrainingSession(config=config, scan=scan, writer=writer,
                                  image_size=run.image_size, augmentation=augmentation,
                                  listener=listener, cancel=cancel,
                                  class_weight=_class_weight(scan, len(scan.classes))
                                  if config.class_weights else None, checkpoints=True)
        notify(listener, "on_log", f"Resuming {out} after epoch {done} of {config.epochs}.")

        def fit():
            session.model = model
            train_ds, val_ds = session.datasets()
            session.fit(model, train_ds, val_ds, config.epochs - done, stage="train",
                        epoch_offset=done)
            return model

        return _execute(session, fit)


def _check_output_folder(out: Path, data_dir: Path) -> None:
    out_resolved, data_resolved = out.resolve(), data_dir.resolve()
    if out_resolved == data_resolved or data_resolved in out_resolved.parents:
        raise TrainingError(f"The output folder {out} is inside the dataset {data_dir}; choose a "
                            "folder outside it (the dataset is never written to).")
    if out.exists() and not out.is_dir():
        raise TrainingError(f"The output path {out} is a file; choose a folder.")
    if out.is_dir() and any(out.iterdir()) and not (out / CONFIG_FILE).exists():
        raise TrainingError(f"The output folder {out} already holds other files; choose a new or "
                            "empty folder (or an earlier run folder to replace it).")
    try:
        atomic.check_writable(out)  # also right for root and read-only disks, unlike os.access
    except atomic.NotWritableError as error:
        raise TrainingError(str(error)) from None


def _versions() -> dict:
    import keras
    import tensorflow as tf

    from core import __version__

    return {"app": __version__, "keras": keras.__version__, "tensorflow": tf.__version__}
