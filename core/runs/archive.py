"""Checking a .keras archive before loading it (no code, no unsafe objects), and the checkpoint stamp inside last.keras."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from core.runs.layout import CHECKPOINT_INFO, MAX_CONFIG_BYTES
from core.errors import RunError, UnsafeModelError


def stamp_checkpoint(archive: str | os.PathLike, epoch: int, stage: str) -> None:
    """Record in a freshly saved .keras file which finished epoch it holds (call it on the
    temporary file, before the atomic rename). Keras ignores the extra member when loading."""
    with zipfile.ZipFile(archive, "a") as handle:
        handle.writestr(CHECKPOINT_INFO, json.dumps({"epoch": int(epoch), "stage": str(stage)}))


def read_checkpoint_info(archive: str | os.PathLike) -> dict | None:
    """What `stamp_checkpoint` recorded, or None for a missing, damaged or unstamped file."""
    try:
        with zipfile.ZipFile(archive) as handle:
            info = json.loads(handle.read(CHECKPOINT_INFO).decode("utf-8"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    epoch = info.get("epoch") if isinstance(info, dict) else None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        return None
    return info


def check_model_archive(path: str | os.PathLike) -> None:
    """Refuse a .keras file that is damaged or would need Python code to load.

    Reads only the archive's JSON (never the weights, never pickle) and checks every object
    it names: Lambda layers and serialized Python functions carry code; classes from outside
    Keras must be ones this program registered.

    Raises:
        RunError: with a sentence saying what was found.
    """
    from core.models.registry import register_custom_objects

    register_custom_objects()  # our own layers (backbone preprocessing) count as known
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise RunError(f"The model {path} is not a model of this program (its "
                               "configuration is far too large).")
            config = json.loads(archive.read(info).decode("utf-8"))
    except RunError:
        raise
    except KeyError:
        raise RunError(f"The model {path} is damaged: the archive has no configuration "
                       "(config.json).") from None
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        reason = "the file is empty" if path.is_file() and path.stat().st_size == 0 else \
            "it is not a complete .keras archive (truncated or damaged)"
        raise RunError(f"The model {path} cannot be loaded: {reason}.") from error
    problem = _unsafe_object(config)
    if problem:
        raise UnsafeModelError(f"{problem} The model {path} was not loaded, for your safety: a shared "
                       "model file could run any program on your computer this way. Models "
                       "trained with Image Classifier Studio never contain code; retrain it "
                       "here, or ask its author for one trained here.")


def _unsafe_object(config) -> str | None:
    """A sentence about the first object in a Keras config that needs Python code, or None."""
    from keras.saving import get_registered_object

    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        class_name = item.get("class_name")
        module = item.get("module")
        if class_name == "Lambda":
            return "This model contains Python code (a Lambda layer) and was not loaded, for your safety."
        if class_name == "__lambda__":
            return "This model contains Python code (a serialized function) and was not loaded, for your safety."
        if isinstance(class_name, str) and isinstance(module, str) and not module.startswith("keras"):
            registered = item.get("registered_name")
            known = registered and get_registered_object(registered) is not None
            if not known and module != "builtins":
                return (f"This model uses a custom component ({module}.{class_name}) that this program "
                        "does not include, and it was not loaded, for your safety.")
        stack.extend(value for value in item.values() if isinstance(value, (dict, list)))
    return None
