"""The engine's user-facing errors: one Qt-free base whose message is the sentence to show.

Every error a person can act on (bad settings, unusable data, a damaged run folder, an image
that cannot be read) derives from `StudioError`; its `str()` is one plain sentence that says
what is wrong and what to do. The command line prints it and exits with status 2; the GUI
shows it as it is (gui/qt_errors.py). Anything else is a bug or the machine's trouble and is
explained differently.

Each class also derives from the built-in exception that code (and tests) caught before the
base existed (ValueError, PermissionError), so `except ValueError` keeps working.
"""
from __future__ import annotations


class StudioError(Exception):
    """A problem the user can act on; `str(error)` is the sentence to show."""

    @property
    def sentence(self) -> str:
        return (str(self).strip().splitlines() or [type(self).__name__])[0]


class ConfigError(StudioError, ValueError):
    """A setting or argument is unusable: model, mode, sizes, augmentation, options, ..."""


class DatasetError(StudioError, ValueError):
    """A dataset folder cannot be used as asked."""


class TrainingError(StudioError, ValueError):
    """Training cannot start (or resume); the message says why and what to do."""


class RunError(StudioError, ValueError):
    """A run folder is missing, damaged, too new, or busy."""


class UnsafeModelError(RunError):
    """A model file asks to run code or to load objects we do not know: refused."""


class EvaluationError(StudioError, ValueError):
    """A run cannot be evaluated on the given data."""


class ImageReadError(StudioError):
    """An image file could not be read. ``reason`` is a plain sentence for users.

    Args:
        reason: What is wrong, e.g. ``"file is empty"`` or ``"image data is truncated"``.
        path: The file, when known; ``str(error)`` then reads ``"<path>: <reason>"``.
    """

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)


class NotWritableError(StudioError, PermissionError):
    """A folder or file cannot be written; the message names it."""


class ExportError(StudioError, ValueError):
    """A run cannot be exported as asked (format, output folder, a failed parity check)."""


class ExportToolMissingError(ExportError):
    """The converter or runtime an export format needs is not installed; the message names
    the one command that adds it."""
