"""Turn exceptions from engine jobs into sentences a non-programmer can act on.

Engine errors (`core.errors.StudioError` and its subclasses) are already written as plain
sentences; they are shown with the command-line flags they name said in the app's words
(`gui.qt_plain_words`). Everything else gets a short explanation and
the traceback goes behind a "Details" button.
"""
from __future__ import annotations

import errno
import traceback
from dataclasses import dataclass

from core.errors import StudioError
from gui.qt_plain_words import plain_message



@dataclass(frozen=True)
class ErrorReport:
    """What went wrong, for people (`message`) and for bug reports (`details`)."""

    message: str
    details: str = ""


def describe_error(exc: BaseException, doing: str = "") -> ErrorReport:
    """Return a readable `ErrorReport` for `exc`.

    Args:
        exc: the exception raised by a job.
        doing: what the job was doing, as a gerund phrase ("loading the folder"); it prefixes
            messages that are not already written for people.
    """
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ErrorReport(_message_for(exc, doing), details)


def _message_for(exc: BaseException, doing: str) -> str:
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc).strip()
    where = f" while {doing}" if doing else ""
    if isinstance(exc, StudioError) and text:
        return plain_message(text)
    # TensorFlow's own class, recognised by name so that showing an error never imports it.
    if isinstance(exc, MemoryError) or "ResourceExhaustedError" in names:
        return (f"The computer ran out of memory{where}. Try a smaller batch size or a smaller "
                "input size, or close other programs.")
    if isinstance(exc, FileNotFoundError):
        return f"Could not find {exc.filename or 'a file'}{where}. Was it moved or deleted?"
    if isinstance(exc, PermissionError):
        return (f"The app may not read or write {exc.filename or 'a file'}{where}. "
                "Check the folder's permissions or choose another folder.")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"The disk is full{where}. Free some space and try again."
    if isinstance(exc, ModuleNotFoundError):
        return (f"A part of the app is missing ({exc.name}){where}. "
                "Reinstall the app, or ask whoever installed it.")
    summary = text.splitlines()[0] if text else type(exc).__name__
    return f"Something unexpected went wrong{where}: {summary}"
