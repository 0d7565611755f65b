"""The run folder's lock: one training at a time, and "interrupted" when nobody holds it."""
from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from core.runs.layout import LOCK_FILE
from core.errors import RunError


class RunLock:
    """Exclusive lock a training process holds on its run folder (released when it dies).

    Two processes must never train into one folder, and a run whose configuration still says
    "running" while nobody holds the lock was interrupted (killed, crashed, power lost).
    Uses ``fcntl.flock`` on ``.training.lock``; where that is unavailable the lock is a no-op.

    Example:
        with RunLock(run_dir):
            ...  # train
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path) / LOCK_FILE
        self._handle = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        """Raises RunError when another process is training into the folder."""
        try:
            import fcntl
        except ImportError:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise RunError(f"Another training is writing into {self.path.parent} right now; wait "
                           "for it to finish or choose another output folder.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {socket.gethostname()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()  # closing releases the flock
            self._handle = None

    @staticmethod
    def is_held(run_path: str | os.PathLike) -> bool:
        """True when a live process holds the lock of ``run_path``."""
        try:
            import fcntl
        except ImportError:
            return True  # cannot tell: trust the configuration
        try:
            with open(Path(run_path) / LOCK_FILE, "a+", encoding="utf-8") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return True
                fcntl.flock(handle, fcntl.LOCK_UN)
                return False
        except OSError:
            return True  # a read-only shared folder: cannot tell, trust the configuration
