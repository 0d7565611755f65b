"""Run folders: everything one training run leaves behind, and how to reopen it.

A run folder holds:
    config.json   all that is needed to rebuild the model and predict (sizes, labels, preprocessing)
    labels.json   class names in output order
    history.csv   one row per finished epoch (both stages of a fine-tuning run)
    best.keras    the model at its best validation accuracy
    final.keras   the model when training ended (finished, stopped or early-stopped)
    summary.txt   the model summary with parameter counts and the dataset counts
Every file is written atomically, so a run killed at any moment can still be reopened.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from core import atomic

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
HISTORY_FILE = "history.csv"
BEST_MODEL = "best.keras"
FINAL_MODEL = "final.keras"
SUMMARY_FILE = "summary.txt"
RUN_FORMAT_VERSION = 1


class RunError(ValueError):
    """A run folder that cannot be used, with a sentence saying why."""


def is_run_dir(path: str | os.PathLike) -> bool:
    return (Path(path) / CONFIG_FILE).is_file()


@dataclass
class Run:
    """A reopened run folder."""

    path: Path
    config: dict
    labels: list[str]
    history: list[dict]

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Run":
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"{path} is not a run folder (it does not exist). "
                           "Pass the --out folder of a training run.")
        config = _read_json(path / CONFIG_FILE, "run configuration")
        if not isinstance(config, dict) or "model" not in config:
            raise RunError(f"{path / CONFIG_FILE} is not a run configuration of this program.")
        version = config.get("format_version", 0)
        if version > RUN_FORMAT_VERSION:
            raise RunError(f"{path} was written by a newer version of Image Classifier Studio "
                           f"(run format {version}); please update the program to open it.")
        labels = _read_json(path / LABELS_FILE, "class labels") if (path / LABELS_FILE).exists() \
            else config.get("labels")
        if not isinstance(labels, list) or len(labels) < 2:
            raise RunError(f"{path} has no usable class labels ({LABELS_FILE} is missing or wrong).")
        return cls(path=path, config=config, labels=[str(label) for label in labels],
                   history=read_history(path / HISTORY_FILE))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def image_size(self) -> int:
        return int(self.config["image_size"])

    @property
    def status(self) -> str:
        return self.config.get("status", "unknown")

    @property
    def best_val_accuracy(self) -> float | None:
        values = [row.get("val_accuracy") for row in self.history
                  if row.get("val_accuracy") is not None]
        return max(values) if values else None

    def model_path(self, which: str = "best") -> Path:
        """The best model, falling back to the final one (a run stopped before its first epoch
        ended has no best model yet)."""
        order = {"best": (BEST_MODEL, FINAL_MODEL), "final": (FINAL_MODEL, BEST_MODEL)}[which]
        for name in order:
            if (self.path / name).is_file():
                return self.path / name
        raise RunError(f"{self.path} holds no trained model yet ({BEST_MODEL} and {FINAL_MODEL} "
                       "are missing): the run was stopped or crashed before its first epoch ended.")

    def load_model(self, which: str = "best"):
        import keras

        from core.models import register_custom_objects

        register_custom_objects()
        path = self.model_path(which)
        try:
            # safe_mode refuses models that would run arbitrary Python code (Lambda layers).
            return keras.models.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many types for a broken archive
            raise RunError(f"Cannot load the model {path}: {str(error).splitlines()[0]} "
                           "The file may be damaged or come from an incompatible version.") from error


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path.parent} is not a run folder: its {what} ({path.name}) is missing.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"{path} is damaged ({what} is not valid JSON: {error}).") from None


HISTORY_COLUMNS = ["epoch", "stage", "loss", "accuracy", "val_loss", "val_accuracy",
                   "learning_rate", "seconds"]


def read_history(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            row = {}
            for key, value in raw.items():
                if key is None:
                    continue
                if key == "stage":
                    row[key] = value
                elif key == "epoch":
                    row[key] = int(value) if value not in ("", None) else None
                else:
                    try:
                        row[key] = float(value) if value not in ("", None) else None
                    except ValueError:
                        row[key] = None
            rows.append(row)
    return rows


def write_history(path: Path, rows: list[dict]) -> None:
    atomic.write_csv(path, HISTORY_COLUMNS,
                     [["" if row.get(col) is None else row.get(col) for col in HISTORY_COLUMNS]
                      for row in rows])


@dataclass
class RunSummary:
    path: Path
    name: str
    model: str
    status: str
    epochs: int
    best_val_accuracy: float | None
    created: str
    error: str | None = None

    def to_dict(self) -> dict:
        return {"path": str(self.path), "name": self.name, "model": self.model,
                "status": self.status, "epochs": self.epochs,
                "best_val_accuracy": self.best_val_accuracy, "created": self.created,
                "error": self.error}


def list_runs(root: str | os.PathLike) -> list[RunSummary]:
    """Runs inside `root` (or `root` itself if it is a run), newest first. Broken runs are
    listed with an error rather than hidden."""
    root = Path(root)
    candidates = [root] if is_run_dir(root) else sorted(
        (p for p in root.iterdir() if p.is_dir() and is_run_dir(p)), key=lambda p: p.name) \
        if root.is_dir() else []
    summaries = []
    for path in candidates:
        try:
            run = Run.open(path)
            summaries.append(RunSummary(path, path.name, run.config.get("model", "?"), run.status,
                                        len(run.history), run.best_val_accuracy,
                                        run.config.get("created", "")))
        except RunError as error:
            summaries.append(RunSummary(path, path.name, "?", "broken", 0, None, "", str(error)))
    summaries.sort(key=lambda s: s.created, reverse=True)
    return summaries
