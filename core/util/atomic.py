"""Atomic file writes: write to a temporary file in the same folder, then rename.

A crash or kill mid-write leaves either the old file or the new one, never half of one; at
worst a hidden temporary file (``.<name>.<random><suffix>``) stays behind, which readers
ignore and `remove_stale_temporaries` cleans up. Written files get the permissions a plain
``open(path, "w")`` would give them (or keep those of the file they replace), so a run
folder can be shared with other users.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from core.errors import NotWritableError

TEMP_PREFIX = "."
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}(\.[^.]+)+$")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path beside `path`; on success it replaces `path` atomically.

    `suffix` keeps the file extension that some writers (Keras, OpenCV) need.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.",
                               suffix=suffix or path.suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(path))  # mkstemp makes 0600 files: others could not read them
        os.replace(tmp, path)
        fsync_folder(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    # surrogateescape: a file name that is not UTF-8 is written back as the bytes it came from.
    write_bytes(path, text.encode("utf-8", "surrogateescape"))


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, dumps_json(obj) + "\n")


def dumps_json(obj, indent: int | None = 2) -> str:
    """JSON text that is always valid UTF-8: non-ASCII stays readable, while the lone
    surrogates that stand for undecodable bytes in file names are written as ``\\udcXX``
    escapes (`json.loads` turns them back into the same string)."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False)
    return re.sub("[\ud800-\udfff]", lambda match: f"\\u{ord(match.group()):04x}", text)


def write_csv(path: str | os.PathLike, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def is_temporary(name: str) -> bool:
    """True for the name of a temporary file left by an interrupted atomic write."""
    return bool(_TEMP_NAME.match(name))


def remove_stale_temporaries(folder: str | os.PathLike) -> list[str]:
    """Delete temporary files that interrupted atomic writes left in ``folder``; returns their names.

    Only call this for a folder no other process is writing to.
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and is_temporary(entry.name):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(entry.name)
    return removed


def check_writable(folder: str | os.PathLike) -> Path:
    """Make sure files can be created in ``folder`` (or the nearest existing parent).

    Asks the operating system (``os.access``) and, because that answer is wrong for root
    and for read-only mounts, also creates and deletes a temporary file there. Creates no
    folders. Returns the folder that was checked.

    Raises:
        NotWritableError: with a sentence naming the folder and what to do.
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise NotWritableError(f"Cannot write to {folder}: {existing} is a file, not a folder. "
                               "Choose another output folder.")
    reason = None
    if _read_only_disk(existing):
        reason = "the disk is read-only"  # os.access would call it "permission denied"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = "permission denied"
    else:
        try:
            with tempfile.TemporaryFile(prefix=".ics-write-test.", dir=existing):
                pass
        except OSError as error:
            reason = _plain_os_reason(error)
    if reason:
        raise NotWritableError(f"Cannot write to {existing} ({reason}). Choose an output folder "
                               "you can write to, such as one in your home folder.")
    return existing


def _read_only_disk(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False


def _plain_os_reason(error: OSError) -> str:
    return {errno.EROFS: "the disk is read-only", errno.ENOSPC: "the disk is full",
            errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.EDQUOT: "your disk quota is used up"}.get(error.errno,
                                                            error.strerror or str(error))


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)  # keep the mode of the file being replaced
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022  # the common default; setting and restoring os.umask is not thread-safe


def fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (power loss right after it keeps the new file)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
