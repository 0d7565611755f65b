"""`resume_training`: continue an interrupted from-scratch run in place, from its checkpoint.

Nothing of the run is deleted: its history up to the checkpoint, best.keras and the
checkpoint itself stay until better ones replace them (atomically). Every setting read back
from config.json is checked first, so a damaged configuration gives a sentence naming the
setting, not a traceback.
"""
from __future__ import annotations

import datetime as _dt
import os
import shutil
from dataclasses import replace
from pathlib import Path

from core.errors import RunError, StudioError, TrainingError
from core.runs.layout import BEST_MODEL, CONFIG_FILE, FINAL_MODEL, LAST_MODEL
from core.training.config import MAX_SEED, TrainingConfig
from core.training.distribute import prepare
from core.training.graphs import released_tensorflow_graphs
from core.training.request import check_output_folder
from core.training.session import TrainingSession, class_weights_for
from core.training.trainer import (_as_worker, _execute, _process_info, _reviewed, _scan,
                                   _training_lock, _worker_folder, worker_run_folder)
from core.training.writer import RunWriter
from core.util import atomic
from core.util.progress import CancelToken, ProgressListener, notify


def resume_training(run_dir: str | os.PathLike, epochs: int | None = None,
                    listener: ProgressListener | None = None,
                    cancel: CancelToken | None = None, strategy: str | None = None,
                    cpu_replicas: int | None = None) -> dict:
    """Continue an interrupted (or stopped) run from the last epoch it finished.

    The history up to that epoch is kept, the model and its optimizer come from last.keras,
    and the data is scanned again with the run's seed, with the review decisions the run
    recorded (not the current ones); if the dataset changed, resuming is refused (the splits
    would differ). `epochs` is the new total (default: the run's own).
    From-scratch runs only for now (transfer modes keep no checkpoint).

    `strategy` and `cpu_replicas` (core.training.distribute): default, the run's own. In a
    multi-worker cluster every worker resumes the same run folder; only the chief writes it.

    Returns the same dict as `train`. Raises TrainingError with a sentence when the run
    cannot be resumed.
    """
    import keras

    from core.data.augmentation.presets import load_augmentation
    from core.runs.archive import check_model_archive
    from core.runs.run import Run

    cancel = cancel or CancelToken()
    try:
        run = Run.open(run_dir)
    except RunError as error:
        raise TrainingError(str(error)) from None
    out = Path(run_dir)
    config, saved = _saved_config(run, out, epochs)
    config = replace(config, strategy=strategy or config.strategy,
                     cpu_replicas=cpu_replicas if cpu_replicas is not None
                     else config.cpu_replicas)
    distribution = prepare(config.strategy, config.cpu_replicas, config.batch_size)
    checkpoint = run.checkpoint()
    if checkpoint is None:
        raise TrainingError(_no_checkpoint(run, out))
    path, done, stage = checkpoint
    if run.config.get("mode", "scratch") != "scratch" or stage != "train":
        raise TrainingError(f"{out} was trained with mode {run.config.get('mode')!r}; only "
                            "from-scratch runs can be resumed in this version.")
    if done >= config.epochs:
        raise TrainingError(f"{out} has already finished all {done} epochs; pass --epochs with a "
                            f"larger total (e.g. --epochs {done + 5}) to train it further.")
    if distribution.is_chief:
        check_output_folder(out, Path(config.data_dir), replace=False)
    try:
        augmentation = load_augmentation(saved.get("augment", config.augment))
    except StudioError as error:
        raise TrainingError(f"{out / CONFIG_FILE} is damaged: {error}") from None
    scan = _scan(config, run.config.get("family", "scratch"), listener, cancel)
    # The review decisions the run started with (config.json "review"), not the current ones:
    # a resumed run goes on learning from the same pictures with the same labels, so its
    # curves before and after the resume measure one training and its validation pictures
    # stay the ones it was checked on. Decisions made since apply to the next new run.
    started_with = run.config.get("review") if isinstance(run.config.get("review"), dict) else {}
    scan, reviewed = _reviewed(scan, started_with)
    missing = len(started_with.get("added") or []) - len((reviewed or {}).get("added") or [])
    if missing > 0:
        raise TrainingError(f"{missing} picture(s) you marked, which this run trained on, are "
                            "no longer in the app's settings folder, so resuming would train "
                            "on other pictures. Start a new run instead.")
    if started_with:
        notify(listener, "on_log", "Resuming with the review decisions this run started with "
                                   f"({_review_counts(started_with)}); decisions made since then "
                                   "apply to the next new run.")
    dataset = run.config.get("dataset")
    recorded = dataset.get("splits") if isinstance(dataset, dict) else None
    if scan.report()["splits"] != recorded or list(scan.classes) != run.labels:
        raise TrainingError(f"The dataset {config.data_dir} changed since this run started (its "
                            "classes or image counts differ), so resuming would mix different "
                            "training and validation images. Start a new run instead.")
    # Only the chief writes the run; another worker keeps its copy in a temporary folder.
    folder = out if distribution.is_chief else worker_run_folder()
    with _training_lock(folder), released_tensorflow_graphs(), \
            _worker_folder(folder, distribution), distribution.scope():
        try:
            check_model_archive(path)
        except RunError as error:
            raise TrainingError(str(error)) from None
        keras.utils.set_random_seed((config.seed + done) % (MAX_SEED + 1))
        model = keras.models.load_model(path, compile=True, safe_mode=True)
        writer = RunWriter(folder)
        history = [row for row in run.history if _epoch(row) <= done]
        resumed = run.config.get("resumed")
        state = run.config | _process_info() | {
            "status": "running", "epochs_completed": done,
            "training": saved | {"epochs": config.epochs, "strategy": config.strategy,
                                 "cpu_replicas": config.cpu_replicas},
            "distribution": distribution.record(),
            "resumed": (resumed if isinstance(resumed, list) else []) + [
                {"at_epoch": done, "when": _dt.datetime.now().isoformat(timespec="seconds")}]}
        repaired = _repair_best(folder, path, done, history, state, check_model_archive) \
            if distribution.is_chief else None
        writer.resume(state, history)
        session = TrainingSession(config=config, scan=scan, writer=writer,
                                  image_size=run.image_size, augmentation=augmentation,
                                  listener=listener, cancel=cancel,
                                  class_weight=class_weights_for(scan, len(scan.classes))
                                  if config.class_weights else None, checkpoints=True,
                                  distribution=distribution)
        if repaired:
            session.log(repaired)
        notify(listener, "on_log", f"Resuming {out} after epoch {done} of {config.epochs}.")

        def fit():
            session.model = model
            train_ds, val_ds = session.datasets()
            session.fit(model, train_ds, val_ds, config.epochs - done, stage="train",
                        epoch_offset=done)
            return model

        return _as_worker(_execute(session, fit), out, distribution)


def _saved_config(run, out: Path, epochs: int | None) -> tuple[TrainingConfig, dict]:
    """The run's training settings, checked: TrainingError naming a damaged setting."""
    saved = run.config.get("training")
    where = f"{out / CONFIG_FILE} is damaged"
    if not isinstance(saved, dict):
        raise TrainingError(f"{where}: its training settings are {type(saved).__name__} data, "
                            "not a table of settings; train a new run instead.")
    for name in ("dataset", "best"):
        value = run.config.get(name)
        if value is not None and not isinstance(value, dict):
            raise TrainingError(f"{where}: its {name} is {type(value).__name__} data, not a "
                                "table; train a new run instead.")
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int)
                               or epochs < 1):
        raise TrainingError(f"Received --epochs {epochs}; expected a total of at least 1.")
    try:
        config = TrainingConfig.from_dict(saved | {"out_dir": str(out)}
                                          | ({"epochs": epochs} if epochs is not None else {}))
    except StudioError as error:
        raise TrainingError(f"{where}: {error}") from None
    return config, saved


def _review_counts(review: dict) -> str:
    return (f"{len(review.get('excluded') or [])} excluded, "
            f"{len(review.get('relabelled') or {})} moved to another class, "
            f"{len(review.get('added') or [])} added")


def _epoch(row: dict) -> int:
    value = row.get("epoch")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _no_checkpoint(run, out: Path) -> str:
    best = run.config.get("best") if isinstance(run.config.get("best"), dict) else {}
    saved = [name for name in (BEST_MODEL, FINAL_MODEL) if (out / name).is_file()]
    if saved:
        epoch = best.get("epoch")
        return (f"{out} cannot be resumed: it has no checkpoint ({LAST_MODEL}; it was stopped "
                "while saving the first one, or made by an older version or a transfer-learning "
                f"mode), but its {saved[0]}"
                + (f" (epoch {epoch})" if isinstance(epoch, int) else "")
                + " can be used as it is; train a new run to go further.")
    return (f"{out} cannot be resumed: it has no checkpoint ({LAST_MODEL}); it was stopped "
            "before its first epoch ended, or made by an older version or a transfer-learning "
            "mode. Train it again instead.")


def _repair_best(out: Path, checkpoint: Path, done: int, history: list[dict], state: dict,
                 check_model_archive) -> str | None:
    """A best.keras that is missing or damaged (the checkpoint is fine) is replaced by the
    checkpoint's model, and `state` names that epoch as the best. Returns the log line."""
    best_file = out / BEST_MODEL
    if best_file.is_file():
        try:
            check_model_archive(best_file)
            return None
        except RunError:
            pass
    with atomic.atomic_path(best_file, suffix=".keras") as tmp:
        shutil.copyfile(checkpoint, tmp)
    monitor = (state.get("best") or {}).get("monitor") or "val_accuracy"
    row = next((r for r in history if _epoch(r) == done), {})
    value = row.get(monitor) if isinstance(row.get(monitor), (int, float)) else None
    state["best"] = {"epoch": done, "monitor": monitor, "value": value}
    return (f"{BEST_MODEL} was missing or damaged; it is replaced by the checkpoint of epoch "
            f"{done}.")
