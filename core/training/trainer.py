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
import shutil
import socket
import tempfile
import time
from pathlib import Path

import numpy as np

from core.util.progress import CancelToken, Cancelled, ProgressListener, notify
from core.inference.confidence import assess_accuracy
from core.runs.layout import BEST_MODEL, FINAL_MODEL, RUN_FORMAT_VERSION, SUMMARY_FILE
from core.errors import RunError
from core.runs.lock import RunLock
from core.training.config import TrainingConfig
from core.training.distribute import describe, prepare
from core.data.review_apply import review_note
from core.errors import TrainingError
from core.training.graphs import released_tensorflow_graphs
from core.training.modes import MODE_RUNNERS
from core.training.request import TrainingRequest, build_request
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
    scan, review = _reviewed(scan)
    request, warnings = request.resolve(scan)
    warnings += [review_note(review)] if review_note(review) else []
    for warning in warnings:
        notify(listener, "on_log", "Note: " + warning)
    config = request.config
    distribution = prepare(config.strategy, config.cpu_replicas, config.batch_size)
    target = Path(config.out_dir)
    # Only the chief of a cluster writes the run folder; the other workers write theirs into
    # a temporary folder that is deleted at the end (Keras's pattern for multi-worker saving).
    out = target if distribution.is_chief else worker_run_folder()

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
        "distribution": distribution.record(),
        **({"review": review} if review else {}),
    }
    with _training_lock(out), released_tensorflow_graphs(), _worker_folder(out, distribution):
        try:
            writer.start(run_config | _process_info(), list(scan.classes))
            session = TrainingSession(config=config, scan=scan, writer=writer,
                                      image_size=request.image_size,
                                      augmentation=request.augmentation(), listener=listener,
                                      cancel=cancel,
                                      class_weight=class_weights_for(scan, len(scan.classes))
                                      if config.class_weights else None,
                                      distribution=distribution)
            # Every model is built, compiled and fitted inside the strategy's scope.
            result = _execute(session, lambda: _in_scope(distribution,
                                                         MODE_RUNNERS[request.mode], session))
            return _as_worker(result, target, distribution)
        finally:
            writer.close()  # a new run that never saved a model leaves the old one in place


def _in_scope(distribution, runner, session):
    if distribution.several:
        session.log(describe(distribution.record()) + ".")
    with distribution.scope():
        return runner(session)


WORKERS_FOLDER = "ics-workers"  # in the temporary folder: the other workers' run copies
# A copy unlocked and untouched this long was left by a killed worker (a new one is locked
# within seconds of being made, by its worker or by one started beside it on this machine).
STALE_WORKER_SECONDS = 120


def worker_run_folder() -> Path:
    """A new temporary run folder for a worker of a cluster other than the chief. Copies
    that killed workers left behind (no live process holds their lock) are removed first,
    so killing and resuming a cluster does not fill the disk."""
    parent = Path(tempfile.gettempdir()) / WORKERS_FOLDER
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob("run-*"):
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > STALE_WORKER_SECONDS \
                    and not RunLock.is_held(old):
                shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=parent))


def _as_worker(result: dict, target: Path, distribution) -> dict:
    """A worker other than the chief reports the cluster's run folder (which the chief
    wrote), not its own temporary one."""
    if distribution.is_chief:
        return result
    return result | {"run_dir": str(target), "worker": distribution.worker_index}


@contextlib.contextmanager
def _worker_folder(out: Path, distribution):
    """A worker's temporary run folder is removed at the end; the chief's is the run."""
    try:
        yield
    finally:
        if not distribution.is_chief:
            shutil.rmtree(out, ignore_errors=True)


def _reviewed(scan, recorded: dict | None = None):
    """The scan with the person's review decisions applied (core.data.review: excluded
    pictures left out, relabelled ones in their class, the pictures they marked from outside
    the dataset added to the training split; their folders untouched), and the summary.
    `recorded`: a run's config.json "review" to apply instead of the current decisions."""
    from core.data.review import ReviewStore
    from core.data.review_apply import recorded_decisions
    from core.models.weights_store import settings_dir

    store = ReviewStore(scan.root, settings_dir())
    if recorded is None:
        return store.apply(scan, with_added=True)
    return store.apply(scan, with_added=True, decisions=recorded_decisions(recorded))


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
        if not writer.published:
            return _old_run_kept(session, started)
    except KeyboardInterrupt:  # Ctrl-C: stopped by the user, not a failure
        _record_end(writer, status="cancelled")
        raise
    except BaseException as error:
        plain = plain_training_error(error, session)
        _record_end(writer, status="failed", error=str(plain or error))
        if plain is not None:
            raise plain from error
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


def _record_end(writer: RunWriter, **status) -> None:
    """Say how a published run ended, as far as the disk lets us (when it is full, the run
    reads as "interrupted" instead); an unpublished new run is dropped by `train`."""
    if writer.published:
        with contextlib.suppress(OSError):
            writer.write_config(**status)


def _old_run_kept(session: TrainingSession, started: float) -> dict:
    """Stopped before the new run saved any model: it is dropped, the old run stays."""
    writer = session.writer
    writer.discard()
    session.log(f"Stopped before the new run saved a model; the earlier run in {writer.target} "
                "is kept as it was.")
    result = {"run_dir": str(writer.target), "status": "cancelled", "epochs_completed": 0,
              "best_epoch": None, "monitor": session.monitor, "best_val_accuracy": None,
              "best_accuracy": None, "seconds": round(time.perf_counter() - started, 2),
              "kept_previous_run": True}
    notify(session.listener, "on_train_end", result)
    return result


def plain_training_error(error: BaseException, session) -> TrainingError | None:
    """The sentence for a failure the user can act on (out of memory, a full or read-only
    disk), or None for anything else."""
    import errno

    name = type(error).__name__
    if isinstance(error, MemoryError) or name == "ResourceExhaustedError":  # TensorFlow's
        return TrainingError(
            f"Ran out of memory training at {session.image_size} px with batches of "
            f"{session.config.batch_size}; pass a smaller --image-size (models train well at "
            "a few hundred px, such as 224) or a smaller --batch-size.")
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        what = {errno.ENOSPC: "is full", errno.EDQUOT: "is over your quota",
                errno.EROFS: "is read-only"}[error.errno]
        folder = session.writer.target
        return TrainingError(f"The disk holding {folder} {what}, so the run could not be saved; "
                             "free some space (or choose an output folder on another disk) "
                             "and train again.")
    return None


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


def _versions() -> dict:
    import keras
    import tensorflow as tf

    from core import __version__

    return {"app": __version__, "keras": keras.__version__, "tensorflow": tf.__version__}
