"""The Keras callbacks of a training: progress events, history rows, best-model keeping, stop within one batch."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from core.util.progress import CancelToken, ProgressListener, notify
from core.runs.layout import BEST_MODEL
from core.training.writer import RunWriter


class _StopNow(Exception):
    """Raised from a callback to leave model.fit within one batch."""


def _keras_callback_base():
    import keras

    return keras.callbacks.Callback


def _validation_callback(validation_logs: Callable):
    class ValidationLogs(_keras_callback_base()):
        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs.update(validation_logs(self.model))

    return ValidationLogs()


def make_run_callback(writer: RunWriter, listener: ProgressListener | None,
                      cancel: CancelToken | None, stage: str, monitor: str, epoch_offset: int = 0,
                      save_best: Callable | None = None, checkpoint: bool = False):
    """A Keras callback that reports progress, records history, keeps the best model and
    stops within one batch when cancelled.

    `save_best(model)` replaces writing the fitted model to best.keras when it improves; the
    transfer modes use it when they fit a head on cached features but the run must keep the
    full image -> probabilities model. Epoch numbers in history rows and events start at
    `epoch_offset` + 1, so several stages share one history. With `checkpoint`, the fitted
    model and its optimizer are saved to last.keras after every epoch (see resume_training).
    """
    base = _keras_callback_base()
    if save_best is None:
        def save_best(model):
            writer.save_model(model, BEST_MODEL)

    class RunCallback(base):
        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch
            self._epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            notify(listener, "on_batch_end", epoch_offset + self._epoch, batch, _float_logs(logs))
            if cancel is not None and cancel.cancelled:
                raise _StopNow()

        def on_epoch_end(self, epoch, logs=None):
            logs = _float_logs(logs)
            seconds = time.perf_counter() - self._epoch_start
            learning_rate = current_learning_rate(self.model)
            row = {"epoch": epoch_offset + epoch + 1, "stage": stage,
                   "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
                   "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_accuracy"),
                   "learning_rate": learning_rate, "seconds": round(seconds, 3)}
            writer.record_epoch(row, monitor, lambda: save_best(self.model),
                                (lambda: writer.save_checkpoint(self.model, row["epoch"], stage))
                                if checkpoint else None)
            notify(listener, "on_epoch_end", epoch_offset + epoch,
                   {**logs, "seconds": seconds, "learning_rate": learning_rate})

    return RunCallback()


def _float_logs(logs) -> dict:
    result = {}
    for key, value in (logs or {}).items():
        try:
            result[key] = float(value)
        except (TypeError, ValueError):
            pass
    return result


def current_learning_rate(model) -> float | None:
    try:
        return float(np.asarray(model.optimizer.learning_rate))
    except Exception:
        return None
