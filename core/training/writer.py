"""`RunWriter`: owns a run folder while training (config, labels, history, models), every write atomic."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from core.util import atomic
from core.runs.layout import (BEST_MODEL, CONFIG_FILE, FINAL_MODEL, HISTORY_FILE, LABELS_FILE,
                              LAST_MODEL, SUMMARY_FILE)
from core.runs.archive import stamp_checkpoint
from core.runs.history import write_history


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
