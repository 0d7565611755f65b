"""Progress reporting and cancellation shared by every long-running engine job.

The engine reports through a `ProgressListener` (plain Python, like a Keras callback) and
checks a `CancelToken` between steps. The GUI subclasses the listener to emit Qt signals;
the CLI prints. Listener methods may be called from a worker thread.
"""
from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside a job when its `CancelToken` was cancelled."""


class CancelToken:
    """A thread-safe flag that a job checks between steps (images, batches, epochs)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("Stopped by the user.")


class ProgressListener:
    """Receives progress from engine jobs. Every method is optional; the defaults do nothing.

    Call order during training: on_stage("scan") ... on_stage("train") -> on_train_begin ->
    (on_batch_end* -> on_epoch_end)* -> on_train_end. Feature extraction reports
    on_stage("extract", total) followed by on_step(done, total).
    """

    def on_stage(self, name: str, total: int | None = None) -> None:
        """A new stage began: "scan", "extract", "train", "finetune", "evaluate", "predict"."""

    def on_step(self, done: int, total: int) -> None:
        """Progress inside the current stage (items done out of total)."""

    def on_log(self, message: str) -> None:
        """A human-readable line for the log."""

    def on_train_begin(self, info: dict) -> None:
        """Training starts: info has epochs, steps_per_epoch, run_dir, stage, initial_epoch."""

    def on_batch_end(self, epoch: int, batch: int, logs: dict) -> None:
        """A training batch finished (epoch and batch are 0-based; logs: loss, accuracy)."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        """An epoch finished: logs has loss, accuracy, val_loss, val_accuracy, lr, seconds."""

    def on_train_end(self, result: dict) -> None:
        """Training ended (finished, early-stopped or cancelled); result summarises the run."""


class PrintListener(ProgressListener):
    """Prints stages, epochs and log lines: the CLI's listener."""

    def __init__(self, stream=None) -> None:
        import sys

        self._stream = stream or sys.stderr
        self._last_step_print = -1

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    UNITS = {"scan": "files", "extract": "images", "evaluate": "images", "predict": "images"}

    def on_stage(self, name, total=None):
        unit = self.UNITS.get(name, "epochs")
        self._print(f"[{name}]" + (f" {total} {unit}" if total else ""))
        self._last_step_print = -1

    def on_step(self, done, total):
        # About ten lines per stage, not one per image.
        tenth = max(1, total // 10)
        if done == total or done // tenth != self._last_step_print:
            self._last_step_print = done // tenth
            self._print(f"  {done}/{total}")

    def on_log(self, message):
        self._print(message)

    def on_epoch_end(self, epoch, logs):
        parts = [f"epoch {epoch + 1}"]
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if key in logs and logs[key] is not None:
                parts.append(f"{key} {logs[key]:.4f}")
        if "seconds" in logs:
            parts.append(f"{logs['seconds']:.1f}s")
        self._print("  ".join(parts))


def notify(listener: ProgressListener | None, method: str, *args) -> None:
    """Call `listener.method(*args)` if there is a listener."""
    if listener is not None:
        getattr(listener, method)(*args)
