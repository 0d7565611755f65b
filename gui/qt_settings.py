"""Remembered choices (recent dataset folders) kept with QSettings.

The settings file can be redirected, so tests never touch the real user's settings: pass a
path, or set the environment variable `ICS_SETTINGS_PATH` to an .ini file.
"""
from __future__ import annotations

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
