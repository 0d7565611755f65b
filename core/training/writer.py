"""`RunWriter`: owns a run folder while training (config, labels, history, models), every write atomic.

A folder that already holds a run is never emptied first: the new run is written into a
sibling staging folder (core.runs.staging) that takes the old run's place once the new run
has saved its first model. Until then `published` is False, and a failed, stopped or
killed training leaves the old run as it was."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from core.util import atomic
from core.runs.layout import CONFIG_FILE, HISTORY_FILE, LABELS_FILE, LAST_MODEL, SUMMARY_FILE
from core.runs.archive import stamp_checkpoint
from core.runs.history import write_history
from core.runs.lock import RunLock
from core.runs.run import is_run_dir
from core.runs import staging as _staging


class RunWriter:
    """Owns a run folder while training: config, labels, history and models, all atomic."""

    def __init__(self, path: Path):
        self.target = Path(path)  # the run folder the user asked for
        self.path = self.target  # where files are written now (the staging folder at first)
        self.staging: Path | None = None
        self._staging_lock: RunLock | None = None
        self.history: list[dict] = []
        self.config: dict = {}
        self.best_value: float | None = None
        self.best_epoch: int | None = None

    @property
    def published(self) -> bool:
        """True once the run is in its folder (at once for a new folder; for a folder that
        held a run, when the new run's first model is saved)."""
        return self.staging is None

    def start(self, config: dict, labels: list[str]) -> None:
        """Begin a new run (the caller holds the target folder's lock)."""
        _staging.remove_leftovers(self.target)  # left by trainings killed before a swap
        if is_run_dir(self.target):
            self.staging = _staging.make_staging(self.target)
            self._staging_lock = RunLock(self.staging)
            self._staging_lock.acquire()
            self.path = self.staging
        else:
            self.target.mkdir(parents=True, exist_ok=True)
            atomic.remove_stale_temporaries(self.path)  # left by a process killed mid-write
        self.config = config
        atomic.write_json(self.path / LABELS_FILE, labels)
        self.write_config()
        write_history(self.path / HISTORY_FILE, [])

    def _model_saved(self) -> None:
        """The new run has a model: it takes the old run's place now."""
        if self.staging is not None:
            _staging.swap_into_place(self.staging, self.target)
            self.staging, self.path = None, self.target

    def discard(self) -> None:
        """Drop an unpublished new run (the old run stays as it was)."""
        if self.staging is not None:
            _staging.discard(self.staging)
            self.staging, self.path = None, self.target

    def close(self) -> None:
        """End of training: an unpublished new run is dropped, the staging lock released."""
        self.discard()
        if self._staging_lock is not None:
            self._staging_lock.release()
            self._staging_lock = None

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
        best = config.get("best") if isinstance(config.get("best"), dict) else {}
        value, epoch = best.get("value"), best.get("epoch")
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        self.best_value = value if number else None
        self.best_epoch = epoch if number and isinstance(epoch, int) else None
        write_history(self.path / HISTORY_FILE, self.history)
        self.write_config()

    def save_model(self, model, name: str) -> None:
        with atomic.atomic_path(self.path / name, suffix=".keras") as tmp:
            model.save(tmp)
        self._model_saved()

    def copy_model(self, source: str, name: str) -> None:
        with atomic.atomic_path(self.path / name, suffix=".keras") as tmp:
            shutil.copyfile(self.path / source, tmp)
        self._model_saved()

    def save_checkpoint(self, model, epoch: int, stage: str) -> None:
        """last.keras: the model and its optimizer after `epoch`, for `resume_training`."""
        with atomic.atomic_path(self.path / LAST_MODEL, suffix=".keras") as tmp:
            model.save(tmp)
            stamp_checkpoint(tmp, epoch, stage)
        self._model_saved()

    def write_summary(self, text: str) -> None:
        atomic.write_text(self.path / SUMMARY_FILE, text)
