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

    def _json(self, key: str, default):
        text = self._qsettings.value(key, "")
        try:
            value = json.loads(text) if isinstance(text, str) and text else default
        except ValueError:  # a damaged entry is forgotten, not fatal
            value = default
        return value if isinstance(value, type(default)) else default
