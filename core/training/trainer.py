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
import os
import socket
import time
from pathlib import Path

import numpy as np

from core.util.progress import CancelToken, Cancelled, ProgressListener, notify
from core.inference.confidence import assess_accuracy
from core.runs.layout import BEST_MODEL, FINAL_MODEL, LAST_MODEL, RUN_FORMAT_VERSION, SUMMARY_FILE
from core.errors import RunError
from core.runs.lock import RunLock
from core.training.config import TrainingConfig
from core.errors import TrainingError
from core.training.graphs import released_tensorflow_graphs
from core.training.modes import MODE_RUNNERS
from core.training.request import TrainingRequest, build_request, check_output_folder
from core.training.session import TrainingSession, class_weights_for
from core.training.writer import RunWriter


def scan_for_training(request, listener: ProgressListener | None = None,
                      cancel: CancelToken | None = None):
    """Scan the request's data as `train` does when no scan is passed to it: transfer runs
    keep scan records in the feature cache folder (see core.data.scan_records), so a run on
    cached features starts in a moment. `request`: a TrainingRequest (or a TrainingConfig)."""
    if isinstance(request, TrainingConfig):
        request = build_request(request)
    return _scan(request.config, request.family, listener, cancel)


def _scan(config: TrainingConfig, family: str, listener, cancel):
    from core.data.scanning import scan_dataset
    from core.training.transfer.options import TransferOptions, cache_dir

    record_dir = None
    if family == "transfer":
        options = TransferOptions.from_extra(config.extra)
        if options.use_cache:
            record_dir = cache_dir(options) / "scans"
    return scan_dataset(config.data_dir, val_split=config.val_split,
                        test_split=config.test_split, seed=config.seed,
                        listener=listener, cancel=cancel, record_dir=record_dir)


def train(request: TrainingRequest | TrainingConfig, listener: ProgressListener | None = None,
          cancel: CancelToken | None = None, scan=None) -> dict:
    """Train as `request` says (a TrainingRequest, or a TrainingConfig to build one from),
    writing the run folder `out_dir`. `scan`: the data as the user saw it (else scanned here).

    Returns a dict: run_dir, status ("finished", "cancelled"), epochs_completed,
    best_val_accuracy (or best training accuracy when there is no validation split).
    Raises a core.errors.StudioError before any long work when the inputs are unusable.
    """
    import keras

    if not isinstance(request, TrainingRequest):
        request = build_request(request)
    cancel = cancel or CancelToken()
    if scan is None:
        scan = _scan(request.config, request.family, listener, cancel)
    request, warnings = request.resolve(scan)
    for warning in warnings:
        notify(listener, "on_log", "Note: " + warning)
    config = request.config
    out = Path(config.out_dir)

    keras.utils.set_random_seed(config.seed)
    writer = RunWriter(out)
    run_config = {
        "format_version": RUN_FORMAT_VERSION,
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "status": "running",
        **request.settings(),
        "num_classes": len(scan.classes),
        "labels": list(scan.classes),
        "dataset": {"root": str(Path(config.data_dir).resolve()), "layout": scan.layout,
                    "splits": scan.report()["splits"], "num_unreadable": len(scan.unreadable),
                    **_kept_together(scan)},
        "versions": _versions(),
        "epochs_completed": 0,
    }
    with _training_lock(out), released_tensorflow_graphs():
        writer.start(run_config | _process_info(), list(scan.classes))
        session = TrainingSession(config=config, scan=scan, writer=writer,
                                  image_size=request.image_size,
                                  augmentation=request.augmentation(), listener=listener,
                                  cancel=cancel,
                                  class_weight=class_weights_for(scan, len(scan.classes))
                                  if config.class_weights else None)
        return _execute(session, lambda: MODE_RUNNERS[request.mode](session))


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
    assessment = _assess(session, best)
    writer.write_config(status=status, seconds=round(time.perf_counter() - started, 2),
                        finished=_dt.datetime.now().isoformat(timespec="seconds"),
                        **({"validation_assessment": assessment} if assessment else {}))
    if assessment and (writer.path / SUMMARY_FILE).is_file():
        summary = (writer.path / SUMMARY_FILE).read_text(encoding="utf-8")
        writer.write_summary(summary.rstrip("\n") + "\n\nBest validation accuracy: "
                             + assessment["text"] + "\n")
    result = {"run_dir": str(writer.path), "status": status,
              "epochs_completed": writer.config.get("epochs_completed", 0),
              "best_epoch": writer.best_epoch, "monitor": session.monitor,
              "best_val_accuracy": best if session.monitor == "val_accuracy" else None,
              "best_accuracy": best, "seconds": writer.config["seconds"],
              "assessment": assessment}
    notify(listener, "on_train_end", result)
    return result


def _kept_together(scan) -> dict:
    """What a proposed split kept on one side (counts and the sentence), for config.json."""
    near = scan.near_duplicates
    if not near:
        return {}
    return {"near_duplicates": {"num_groups": near["num_groups"],
                                "num_pictures": near["num_pictures"]},
            "split_note": scan.split_note()}


def _assess(session: TrainingSession, best) -> dict | None:
    """The best validation accuracy's 95% interval and whether it beats guessing, or None
    without a validation split."""
    validation = session.scan.samples("validation")
    if best is None or session.monitor != "val_accuracy" or not validation:
        return None
    counts = np.bincount([sample.label for sample in validation], minlength=len(session.labels))
    return assess_accuracy(float(best), len(validation),
                           dict(zip(session.labels, (int(count) for count in counts))))


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

    from core.data.augmentation.presets import load_augmentation
    from core.runs.run import Run
    from core.runs.archive import check_model_archive

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
    check_output_folder(out, Path(config.data_dir))
    augmentation = load_augmentation(saved.get("augment", config.augment))
    scan = _scan(config, run.config.get("family", "scratch"), listener, cancel)
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
                                  class_weight=class_weights_for(scan, len(scan.classes))
                                  if config.class_weights else None, checkpoints=True)
        notify(listener, "on_log", f"Resuming {out} after epoch {done} of {config.epochs}.")

        def fit():
            session.model = model
            train_ds, val_ds = session.datasets()
            session.fit(model, train_ds, val_ds, config.epochs - done, stage="train",
                        epoch_offset=done)
            return model

        return _execute(session, fit)


def _versions() -> dict:
    import keras
    import tensorflow as tf

    from core import __version__

    return {"app": __version__, "keras": keras.__version__, "tensorflow": tf.__version__}
