"""Deleting a run folder, for the app's runs list: only a run, never while it trains."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.errors import RunError
from core.runs.lock import RunLock
from core.runs.run import _looks_like_run


def delete_run(path: str | os.PathLike) -> None:
    """Delete the run folder at `path` and everything in it.

    Raises:
        RunError: `path` is not a run folder (nothing is deleted), a training is writing into
            it, or it could not be removed completely.
    """
    path = Path(path)
    if not path.exists():
        return
    if not _looks_like_run(path):
        raise RunError(f"{path} does not look like a training run, so it was not deleted.")
    if RunLock.is_held(path):
        raise RunError(f"{path.name} is being trained right now; stop the training before "
                       "deleting it.")
    errors: list[str] = []
    shutil.rmtree(path, onerror=lambda function, name, info: errors.append(name))
    if errors or path.exists():
        raise RunError(f"{path.name} could not be deleted completely (is a file in it open in "
                       f"another program?); what is left is in {path}.")
