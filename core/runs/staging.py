"""Replacing a run folder without ever losing it: a new training into a folder that holds a
run is written into a sibling staging folder, which takes the old run's place (one atomic
exchange of the two folders) only once it holds a model of its own.

    runs/first                    the old run, untouched while the new one starts
    runs/.first.staging-k2j4x9    the new run until its first model is saved

A staging folder holds its own training lock (core.runs.lock), so one whose lock nobody
holds was left by a killed process: `remove_leftovers` deletes it (and puts back an old run
that a kill caught between the two renames of the fallback swap). Listing runs skips these
folders (`is_transient`).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

from core.runs.lock import RunLock
from core.util import atomic

STAGING_TAG = ".staging-"
RETIRED_TAG = ".retired-"
_TRANSIENT = re.compile(r"^\..+\.(staging|retired)-[A-Za-z0-9_]+$")
_RENAME_EXCHANGE = 2  # linux/fs.h


def is_transient(name: str) -> bool:
    """True for the name of a staging folder or of an old run being retired."""
    return bool(_TRANSIENT.match(name))


def make_staging(target: Path) -> Path:
    """A new, empty staging folder beside `target`."""
    return Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING_TAG}", dir=target.parent))


def swap_into_place(staging: Path, target: Path) -> None:
    """Put the run in `staging` at `target` and delete the run that was there.

    Linux exchanges the two folders in one step (renameat2 RENAME_EXCHANGE), so `target`
    always holds a whole run; elsewhere the old run is renamed aside first, and a kill
    between the two renames is repaired by `remove_leftovers`.
    """
    retired = target.parent / (f".{target.name}{RETIRED_TAG}" + staging.name.rsplit("-", 1)[-1])
    if _exchange(staging, target):
        os.rename(staging, retired)  # the old run, now under the staging name
    else:
        os.rename(target, retired)
        os.rename(staging, target)
    atomic.fsync_folder(target.parent)
    shutil.rmtree(retired, ignore_errors=True)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def remove_leftovers(target: Path) -> list[str]:
    """Clean up after killed trainings into `target`: staging folders nobody trains into are
    deleted; an old run renamed aside by an interrupted fallback swap is put back when
    `target` is missing (else deleted). Returns the names of the folders removed or restored.
    """
    target = Path(target)
    done = []
    prefix = f".{target.name}"
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(target.parent), key=lambda e: e.name):
            name = entry.name
            if not (name.startswith(prefix) and is_transient(name)
                    and name[len(prefix):].startswith((STAGING_TAG, RETIRED_TAG))):
                continue
            path = Path(entry.path)
            if not entry.is_dir(follow_symlinks=False) or RunLock.is_held(path):
                continue
            if RETIRED_TAG in name and not target.exists():
                os.rename(path, target)
            else:
                shutil.rmtree(path, ignore_errors=True)
            done.append(name)
    return done


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux 3.15+ and a file system that supports it)."""
    libc = _libc()
    function = getattr(libc, "renameat2", None) if libc is not None else None
    if function is None:
        return False
    at_fdcwd = -100
    result = function(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system or kernel cannot: fall back to two renames
    raise OSError(code, os.strerror(code), str(b))


_LIBC: list = []


def _libc():
    if not _LIBC:
        library = None
        if os.name == "posix":
            with contextlib.suppress(OSError):
                library = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                                      use_errno=True)
        _LIBC.append(library)
    return _LIBC[0]


