"""Run folders: everything one training run leaves behind, and how to reopen it.

A run folder holds:
    config.json   all that is needed to rebuild the model and predict (sizes, labels, preprocessing)
    labels.json   class names in output order
    history.csv   one row per finished epoch (both stages of a fine-tuning run)
    best.keras    the model at its best validation accuracy
    final.keras   the model when training ended (finished, stopped or early-stopped)
    summary.txt   the model summary with parameter counts and the dataset counts
    last.keras    the model and optimizer after the last finished epoch (resumable runs)
    .training.lock  locked by the process training into the folder
Every file is written atomically, so a run killed at any moment can still be reopened; a run
whose configuration says "running" while nobody holds the lock reports "interrupted".

Run folders are shared between people, so opening one trusts nothing in it: the
configuration is validated, models are loaded in Keras safe mode after their archive has
been checked for Python code (Lambda layers, unknown custom classes), the model's outputs
must match labels.json, and nothing is ever unpickled. Every problem is a `RunError`
whose message is one sentence for the user.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.runs.archive import check_model_archive, read_checkpoint_info
from core.runs.history import read_history
from core.runs.layout import (MAX_CONFIG_BYTES, BEST_MODEL, CONFIG_FILE, FINAL_MODEL,
                              HISTORY_FILE, LABELS_FILE, LAST_MODEL, LOCK_FILE, MAX_IMAGE_SIZE,
                              OLDEST_FORMAT_VERSION, RUN_FORMAT_VERSION)
from core.errors import RunError, UnsafeModelError
from core.runs.lock import RunLock
from core.runs.staging import is_transient


_LEGACY_MODEL_FILES = ("best.h5", "final.h5", "model.h5", "best_model.h5", "saved_model.pb")


def is_run_dir(path: str | os.PathLike) -> bool:
    try:
        return Path(path).is_dir() and (Path(path) / CONFIG_FILE).is_file()
    except OSError:  # e.g. a folder we may not enter
        return False


@dataclass
class Run:
    """A reopened run folder."""

    path: Path
    config: dict
    labels: list[str]
    history: list[dict]

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Run":
        """Reopen a run folder.

        Raises:
            RunError: the folder is missing, not a run, damaged, or from an unsupported
                (newer or older) version of the program.
        """
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"{path} is not a run folder (it does not exist). "
                           "Pass the --out folder of a training run.")
        config = _read_json(path / CONFIG_FILE, "run configuration")
        if not isinstance(config, dict) or not isinstance(config.get("model"), str):
            raise RunError(f"{path / CONFIG_FILE} is not a run configuration of this program.")
        _check_version(path, config)
        if (path / LABELS_FILE).exists():
            labels = _read_json(path / LABELS_FILE, "class labels")
            if isinstance(config.get("labels"), list) and config["labels"] != labels:
                raise RunError(f"{path} is inconsistent: {LABELS_FILE} and {CONFIG_FILE} list "
                               "different classes (were files copied from another run?).")
        else:
            labels = config.get("labels")
        if (not isinstance(labels, list) or len(labels) < 2
                or not all(isinstance(label, str) and label for label in labels)):
            raise RunError(f"{path} has no usable class labels ({LABELS_FILE} is missing or wrong: "
                           "expected a list of at least 2 class names).")
        if len(set(labels)) != len(labels):
            raise RunError(f"{path} has duplicated class names in {LABELS_FILE}; the run folder is "
                           "damaged.")
        size = config.get("image_size")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_IMAGE_SIZE:
            raise RunError(f"{path / CONFIG_FILE} is damaged: its image_size ({size!r}) is not a "
                           "size in pixels.")
        return cls(path=path, config=config, labels=list(labels),
                   history=read_history(path / HISTORY_FILE))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def dataset_root(self) -> str:
        """The folder of pictures the run was trained on, or "" when the run does not say."""
        dataset = self.config.get("dataset")
        root = dataset.get("root") if isinstance(dataset, dict) else None
        return root if isinstance(root, str) else ""

    @property
    def image_size(self) -> int:
        return int(self.config["image_size"])

    @property
    def status(self) -> str:
        """finished, cancelled, failed, running, or interrupted: "running" in the configuration
        while no process holds the run's training lock (killed, crashed, laptop closed)."""
        status = self.config.get("status", "unknown")
        if status == "running" and (self.path / LOCK_FILE).exists() and not RunLock.is_held(self.path):
            return "interrupted"
        return status if isinstance(status, str) else "unknown"

    @property
    def best_val_accuracy(self) -> float | None:
        values = [row.get("val_accuracy") for row in self.history
                  if row.get("val_accuracy") is not None]
        return max(values) if values else None

    def model_path(self, which: str = "best") -> Path:
        """The best model, falling back to the final one (a run stopped before its first epoch
        ended has no best model yet) and to the last checkpoint of an interrupted run."""
        order = {"best": (BEST_MODEL, FINAL_MODEL, LAST_MODEL),
                 "final": (FINAL_MODEL, LAST_MODEL, BEST_MODEL)}[which]
        for name in order:
            if (self.path / name).is_file():
                return self.path / name
        legacy = [name for name in _LEGACY_MODEL_FILES if (self.path / name).exists()]
        if legacy:
            raise RunError(f"{self.path} holds a model in an older format ({legacy[0]}, from Keras 2 "
                           "or an older version of this program); this version opens .keras models "
                           "only. Train the model again with this version.")
        raise RunError(f"{self.path} holds no trained model yet ({BEST_MODEL} and {FINAL_MODEL} "
                       "are missing): the run was stopped or crashed before its first epoch ended.")

    def checkpoint(self) -> tuple[Path, int, str] | None:
        """(path, epoch, stage) of the resumable checkpoint (last.keras), or None.

        The epoch is read from inside the file, which is replaced atomically, so it is exact
        whatever moment training was killed at.
        """
        path = self.path / LAST_MODEL
        info = read_checkpoint_info(path)
        if info is None:
            return None
        return path, info["epoch"], info.get("stage", "train")

    def load_model(self, which: str = "best"):
        """Load the run's model safely: no Python code from the file is ever run.

        Raises:
            RunError: the model is missing, damaged, contains Python code (a Lambda layer or
                an unknown custom class) or does not match the run's labels and image size.
        """
        import keras

        from core.models.registry import register_custom_objects

        register_custom_objects()
        path = self.model_path(which)
        try:
            check_model_archive(path)
        except UnsafeModelError:
            raise
        except RunError as error:
            raise RunError(f"{error}{self._alternative(path) or ' Train the model again.'}") from None
        try:
            # safe_mode refuses models that would run arbitrary Python code (Lambda layers);
            # check_model_archive has already refused those with a plainer explanation.
            model = keras.models.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many types for a broken archive
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise RunError(f"Cannot load the model {path}: {first_line[:300].rstrip('.')}. "
                           f"The file may be damaged or come from an incompatible version"
                           f"{self._saved_with()}.{self._alternative(path)}") from error
        self._check_model_matches(model, path)
        return model

    def _saved_with(self) -> str:
        versions = self.config.get("versions")
        if isinstance(versions, dict) and versions.get("keras"):
            return f" (it was saved with Keras {versions['keras']})"
        return ""

    def _alternative(self, broken: Path) -> str:
        others = [name for name in (BEST_MODEL, FINAL_MODEL, LAST_MODEL)
                  if name != broken.name and (self.path / name).is_file()]
        if not others:
            return ""
        which = "final" if others[0] in (FINAL_MODEL, LAST_MODEL) else "best"
        return f" The run also has {others[0]}; try that one (--which {which})."

    def _check_model_matches(self, model, path: Path) -> None:
        try:
            output_shape = model.output_shape
            input_shape = model.input_shape
        except (AttributeError, ValueError):
            raise RunError(f"The model {path} does not have one image input and one class "
                           "output, so it is not a classifier of this program.") from None
        if not (isinstance(output_shape, tuple) and len(output_shape) == 2
                and isinstance(input_shape, tuple) and len(input_shape) == 4):
            raise RunError(f"The model {path} does not have one image input and one class "
                           "output, so it is not a classifier of this program.")
        units = output_shape[-1]
        expected = 1 if len(self.labels) == 2 else len(self.labels)
        if units != expected and not (units == 2 and len(self.labels) == 2):
            classes = 2 if units == 1 else units
            raise RunError(f"The model {path} predicts {classes} classes but {LABELS_FILE} lists "
                           f"{len(self.labels)} ({', '.join(self.labels[:5])}); the run folder "
                           "mixes files from different runs. Use the folder as training left it.")
        if input_shape[1:3] not in ((self.image_size, self.image_size), (None, None)):
            raise RunError(f"The model {path} takes {input_shape[1]} x {input_shape[2]} px images "
                           f"but {CONFIG_FILE} says {self.image_size} px; the run folder mixes "
                           "files from different runs.")


def _check_version(path: Path, config: dict) -> None:
    version = config.get("format_version")
    if version is None:
        raise RunError(f"{path} was written by an older version of Image Classifier Studio (its "
                       "configuration has no format version) and cannot be opened; train the "
                       "model again with this version.")
    if isinstance(version, bool) or not isinstance(version, int):
        raise RunError(f"{path / CONFIG_FILE} is damaged: its format_version ({version!r}) is not a "
                       "number.")
    if version > RUN_FORMAT_VERSION:
        raise RunError(f"{path} was written by a newer version of Image Classifier Studio "
                       f"(run format {version}); please update the program to open it.")
    if version < OLDEST_FORMAT_VERSION:
        raise RunError(f"{path} was written by an older version of Image Classifier Studio (run "
                       f"format {version}) and cannot be opened; train the model again with this "
                       "version.")


def _read_json(path: Path, what: str):
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise RunError(f"{path} is not a {what} file of this program (it is far too large).")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path.parent} is not a run folder: its {what} ({path.name}) is missing.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"{path} is damaged ({what} is not valid JSON: {error}).") from None
    except OSError as error:
        raise RunError(f"{path} cannot be read ({error.strerror or error}).") from None


def _looks_like_run(path: Path) -> bool:
    if is_run_dir(path):
        return True
    try:
        return path.is_dir() and any((path / name).is_file()
                                     for name in (LABELS_FILE, BEST_MODEL, FINAL_MODEL, LAST_MODEL))
    except OSError:
        return False


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
    dataset: str = ""  # the folder of pictures it was trained on ("" when unknown)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "name": self.name, "model": self.model,
                "status": self.status, "epochs": self.epochs,
                "best_val_accuracy": self.best_val_accuracy, "created": self.created,
                "error": self.error, "dataset": self.dataset}


def list_runs(root: str | os.PathLike) -> list[RunSummary]:
    """Runs inside `root` (or `root` itself if it is a run), newest first; a new run still
    staged beside the run it will replace (core.runs.staging) is not listed. Broken runs (also
    folders holding a run's model or labels without a usable configuration) are listed with
    an error rather than hidden, so no trained model goes missing from the list."""
    root = Path(root)
    if is_run_dir(root):
        candidates = [root]
    else:
        try:
            candidates = sorted((p for p in root.iterdir()
                                 if not is_transient(p.name) and _looks_like_run(p)),
                                key=lambda p: p.name)
        except OSError:  # missing, not a folder, or not readable: no runs to show
            candidates = []
    summaries = []
    for path in candidates:
        try:
            run = Run.open(path)
            summaries.append(RunSummary(path, path.name, run.config.get("model", "?"), run.status,
                                        len(run.history), run.best_val_accuracy,
                                        str(run.config.get("created", "")),
                                        dataset=run.dataset_root))
        except RunError as error:
            summaries.append(RunSummary(path, path.name, "?", "broken", 0, None, "", str(error)))
    summaries.sort(key=lambda s: s.created, reverse=True)
    return summaries
