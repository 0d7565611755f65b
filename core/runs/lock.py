"""The run folder's lock: one training at a time, and "interrupted" when nobody holds it."""
from __future__ import annotations

import os
from pathlib import Path

import filelock

from core.errors import RunError
from core.runs.layout import LOCK_FILE


class RunLock:
    """Exclusive lock a training process holds on its run folder (released when it dies).

    Two processes must never train into one folder, and a run whose configuration still says
    "running" while nobody holds the lock was interrupted (killed, crashed, power lost). The
    lock is the operating system's (`filelock`: flock on Linux and macOS, msvcrt on Windows),
    so it dies with its process; the file ``.training.lock`` stays behind on purpose: its
    presence says a training started here.

    Example:
        with RunLock(run_dir):
            ...  # train
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path) / LOCK_FILE
        self._lock = _file_lock(self.path)

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        """Raises RunError when another process is training into the folder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise self._busy() from None
        if not self._holds_current_file():
            # The folder was replaced (core.runs.staging) between opening the lock file and
            # locking it: the lock taken belongs to the old run, which is being deleted.
            self._lock.release()
            raise self._busy()

    def _busy(self) -> RunError:
        return RunError(f"Another training is writing into {self.path.parent} right now; wait "
                        "for it to finish or choose another output folder.")

    def _holds_current_file(self) -> bool:
        fd = getattr(getattr(self._lock, "_context", None), "lock_file_fd", None)
        if not isinstance(fd, int):
            return True  # cannot tell with this filelock: trust it
        try:
            held, current = os.fstat(fd), os.stat(self.path)
        except OSError:
            return False
        return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    @staticmethod
    def is_held(run_path: str | os.PathLike) -> bool:
        """True when a live process holds the lock of ``run_path``."""
        probe = _file_lock(Path(run_path) / LOCK_FILE)
        try:
            probe.acquire()
        except filelock.Timeout:
            return True
        except OSError:
            return True  # a read-only shared folder: cannot tell, trust the configuration
        probe.release()
        return False


def _file_lock(path: Path) -> filelock.FileLock:
    # timeout=0: never wait. fallback_to_soft=False: a "soft" lock (the file's mere existence)
    # would outlive a killed run and refuse the next training; without a real lock, acquiring
    # fails instead.
    return filelock.FileLock(path, timeout=0, fallback_to_soft=False, preserve_lock_file=True)
