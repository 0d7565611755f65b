"""Remembered choices kept with QSettings: recent dataset folders and the project.

The project is what the app reopens at launch: the dataset folder and its validation share,
the run in use, the training settings, the names people gave runs and whether failed runs
are hidden. It lives in the app's own settings store, never in the person's folders. The
settings file can be redirected, so tests never touch the real user's settings: pass a path,
or set the environment variable `ICS_SETTINGS_PATH` to an .ini file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "ImageClassifierStudio"
APPLICATION = "Image Classifier Studio"
SETTINGS_ENV = "ICS_SETTINGS_PATH"
MAX_RECENT_FOLDERS = 8
# What each project (one dataset folder) keeps of its own; run names and "hide failed runs"
# are the app's, shared by every project.
PROJECT_KEYS = ("dataset", "val_split", "run", "training", "augmentation")


class AppSettings:
    """Typed access to the app's QSettings.

    Args:
        path: an .ini file to use instead of the platform's per-user settings store.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        path = path or os.environ.get(SETTINGS_ENV)
        if path:
            self._qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._qsettings = QSettings(ORGANIZATION, APPLICATION)

    def recent_folders(self) -> list[str]:
        """Recently loaded dataset folders that still exist, newest first."""
        value = self._qsettings.value("data/recentFolders", [])
        if isinstance(value, str):  # QSettings returns a lone string for one-item lists
            value = [value]
        return [folder for folder in value or [] if Path(folder).is_dir()]

    def add_recent_folder(self, folder: str | os.PathLike) -> None:
        folder = str(Path(folder).resolve())
        folders = [folder] + [f for f in self.recent_folders() if f != folder]
        self._qsettings.setValue("data/recentFolders", folders[:MAX_RECENT_FOLDERS])
        self._qsettings.sync()

    # -- the project ------------------------------------------------------------------------
    def project(self) -> dict:
        """The remembered project: {"dataset", "val_split", "run", "training", "run_names",
        "hide_failed"} (whatever was saved; missing keys are absent)."""
        return self._json("project/state", {})

    def save_project(self, **values) -> None:
        """Remember some of the project's values (the others stay as they were)."""
        project = self.project() | values
        self._qsettings.setValue("project/state", json.dumps(project))
        self._qsettings.sync()

    # -- recent projects --------------------------------------------------------------------
    def recent_projects(self) -> list[dict]:
        """The projects opened lately, newest first (the current one first): each a dict of
        PROJECT_KEYS with at least "dataset". Folders that are gone are listed too (the
        caller says so and calls `forget_project`); folders only known from the old recent
        folders list come as {"dataset": folder}."""
        current = {key: value for key, value in self.project().items() if key in PROJECT_KEYS}
        entries = ([current] if isinstance(current.get("dataset"), str) else []) + [
            entry for entry in self._json("project/recent", []) if isinstance(entry, dict)]
        value = self._qsettings.value("data/recentFolders", [])
        entries += [{"dataset": folder} for folder in
                    ([value] if isinstance(value, str) else value or [])]
        seen, projects = set(), []
        for entry in entries:
            dataset = entry.get("dataset")
            if isinstance(dataset, str) and dataset and dataset not in seen:
                seen.add(dataset)
                projects.append(entry)
        return projects[:MAX_RECENT_FOLDERS]

    def project_for(self, dataset: str | os.PathLike) -> dict:
        """The remembered project of this dataset folder, or {}."""
        key = _resolved(dataset)
        return next((entry for entry in self.recent_projects()
                     if _resolved(entry["dataset"]) == key), {})

    def remember_project(self, project: dict) -> None:
        """Put `project` (its PROJECT_KEYS) first in the recent projects."""
        entry = {key: value for key, value in project.items() if key in PROJECT_KEYS}
        if not isinstance(entry.get("dataset"), str):
            return
        others = [p for p in self._json("project/recent", []) if isinstance(p, dict)
                  and p.get("dataset") != entry["dataset"]]
        self._qsettings.setValue("project/recent", json.dumps([entry] + others[:MAX_RECENT_FOLDERS]))
        self._qsettings.sync()

    def forget_project(self, dataset: str) -> None:
        """Take a project (a folder that is gone) off the recent projects."""
        others = [p for p in self._json("project/recent", []) if isinstance(p, dict)
                  and p.get("dataset") != dataset]
        self._qsettings.setValue("project/recent", json.dumps(others))
        self._qsettings.setValue("data/recentFolders",
                                 [f for f in self.recent_folders() if f != dataset])
        if self.project().get("dataset") == dataset:
            self._qsettings.setValue("project/state", json.dumps(
                {key: value for key, value in self.project().items()
                 if key not in PROJECT_KEYS}))
        self._qsettings.sync()

    def _json(self, key: str, default):
        text = self._qsettings.value(key, "")
        try:
            value = json.loads(text) if isinstance(text, str) and text else default
        except ValueError:  # a damaged entry is forgotten, not fatal
            value = default
        return value if isinstance(value, type(default)) else default


def same_folder(a, b) -> bool:
    """True when `a` and `b` name the same folder, however spelled (False when one is empty)."""
    return bool(a) and bool(b) and _resolved(a) == _resolved(b)


def _resolved(folder) -> str:
    try:
        return str(Path(folder).resolve())
    except (OSError, RuntimeError):
        return str(folder)
