"""Training progress in words: a progress bar with the epoch and the time left, feature
extraction progress in bottleneck modes, and a sentence on what is happening.

It renders the engine's listener calls (relayed as Qt signals); batch updates are coalesced
to a few per second, so fast training costs the GUI thread next to nothing.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from gui.qt_card import QtCard

STAGE_WORDS = {"scan": "Checking the pictures", "extract": "Looking at every picture once",
               "train": "Training", "finetune": "Fine-tuning"}
REFRESH_MS = 200


def format_duration(seconds: float) -> str:
    """'about 5 s', 'about 40 s', 'about 3 min', 'about 1 h 5 min'."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"about {max(1, round(seconds / 5) * 5 if seconds > 10 else round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"


def epoch_sentence(number: int, total: int, logs: dict) -> str:
    """'Epoch 3 of 10: 82% right on training pictures, 79% on validation pictures (...)'."""
    parts = []
    if logs.get("accuracy") is not None:
        parts.append(f"{logs['accuracy']:.0%} right on training pictures")
    if logs.get("val_accuracy") is not None:
        parts.append(f"{logs['val_accuracy']:.0%} on validation pictures")
    text = f"Epoch {number} of {total}: " + ", ".join(parts)
    if logs.get("loss") is not None:
        text += f" (loss {logs['loss']:.3f}"
        text += f" / {logs['val_loss']:.3f})" if logs.get("val_loss") is not None else ")"
    if logs.get("seconds") is not None:
        text += f" \u2013 {logs['seconds']:.1f} s"
    return text


class QtTrainingProgress(QtCard):
    """The progress card (the bar's objectName is trainProgress)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Progress", parent)
        self.bar = QProgressBar()
        self.bar.setObjectName("trainProgress")
        self.bar.setAccessibleName("Training progress")
        self.bar.setToolTip("How far training has got, with an estimate of the time left.")
        self.status = QLabel()
        self.status.setObjectName("mutedNote")
        self.status.setWordWrap(True)
        self.body.addWidget(self.bar)
        self.body.addWidget(self.status)
        self._info: dict = {}
        self._stage = ""
        self._stage_started = 0.0
        self._steps_before_stage = 0
        self._last_batch: tuple[int, int] | None = None
        self._stopping = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._show_batch)
        self.show_idle()

    def epochs(self) -> int:
        return max(1, int(self._info.get("epochs") or 1))

    def steps_per_epoch(self) -> int:
        return max(1, int(self._info.get("steps_per_epoch") or 1))

    # -- states ----------------------------------------------------------------------------
    def show_idle(self) -> None:
        self._set_bar(0, 1, "Not started")
        self.status.setText("Press Train to start. You can keep using the other steps while it runs.")

    def show_starting(self) -> None:
        self._info, self._stage, self._last_batch, self._stopping = {}, "", None, False
        self.bar.setRange(0, 0)
        self.bar.setFormat("Starting\u2026")
        self.status.setText("Starting the engine and preparing the pictures\u2026")

    def show_stopping(self) -> None:
        self._stopping = True
        self.status.setText("Stopping after this batch\u2026 the best model so far is kept.")

    def show_run(self, epochs: int, status: str, text: str = "") -> None:
        """A reopened run: its epochs, how it ended and `text` about it (nothing of the run
        shown before stays)."""
        self._timer.stop()
        self._set_bar(epochs, max(1, epochs), f"{epochs} epochs \u2013 {status}")
        self.status.setText(text or f"A past run: {epochs} epochs, {status}.")

    def show_finished(self, epochs: int, cancelled: bool, text: str) -> None:
        self._timer.stop()
        if cancelled:
            self._set_bar(epochs, self.epochs(), f"Stopped after {epochs} epochs")
        else:
            self._set_bar(1, 1, f"Finished after {epochs} epochs")
        self.status.setText(text)

    def show_failed(self, text: str, bar_text: str = "Did not finish") -> None:
        self._timer.stop()
        self._set_bar(0, 1, bar_text)
        self.status.setText(text)

    def _set_bar(self, value: int, maximum: int, text: str) -> None:
        self.bar.setRange(0, maximum)
        self.bar.setValue(value)
        self.bar.setFormat(text)

    # -- engine events ---------------------------------------------------------------------
    @Slot()
    def on_engine_ready(self) -> None:
        self.status.setText("Preparing the pictures and the model\u2026")

    @Slot(str, object)
    def on_stage(self, name: str, total) -> None:
        self._stage = name
        self._stage_started = time.perf_counter()
        words = STAGE_WORDS.get(name, name.capitalize())
        if name in ("scan", "extract") and total:
            self._set_bar(0, int(total), f"{words}: %v of %m")
        extra = " This is done once; training is quick after it." if name == "extract" else ""
        self.status.setText(f"{words}\u2026{extra}")

    @Slot(int, int)
    def on_step(self, done: int, total: int) -> None:
        if self._stage not in ("scan", "extract"):
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        if 0 < done < total:
            left = (time.perf_counter() - self._stage_started) / done * (total - done)
            self.status.setText(f"{STAGE_WORDS.get(self._stage, self._stage)}: {done} of "
                                f"{total} pictures, {format_duration(left)} left.")

    @Slot(dict)
    def on_train_begin(self, info: dict) -> None:
        self._info = dict(info)
        self._last_batch = None
        self._stage = info.get("stage", "train")
        self._stage_started = time.perf_counter()
        first = int(info.get("initial_epoch") or 0)
        self._steps_before_stage = first * self.steps_per_epoch()
        self._set_bar(self._steps_before_stage, self.epochs() * self.steps_per_epoch(),
                      f"Epoch {first + 1} of {self.epochs()}")
        self.status.setText(f"{STAGE_WORDS.get(self._stage, 'Training')}\u2026 the first batch "
                            "takes a little longer.")

    @Slot(int, int)
    def on_batch(self, epoch: int, batch: int) -> None:
        self._last_batch = (epoch, batch)
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _show_batch(self) -> None:
        if self._last_batch is None:
            return
        epoch, batch = self._last_batch
        steps, epochs = self.steps_per_epoch(), self.epochs()
        done = epoch * steps + batch + 1
        self.bar.setValue(min(done, epochs * steps))
        self.bar.setFormat(f"Epoch {epoch + 1} of {epochs}")
        done_in_stage = done - self._steps_before_stage
        if done_in_stage > 0 and not self._stopping:
            left = (time.perf_counter() - self._stage_started) / done_in_stage * (epochs * steps - done)
            self.status.setText(f"{STAGE_WORDS.get(self._stage, 'Training')}: epoch {epoch + 1} "
                                f"of {epochs}, batch {batch + 1} of {steps} \u2013 "
                                f"{format_duration(left)} left.")


def setting_words(config) -> str:
    """The settings of a training about to start, "chosen by the app" where left to it."""
    def said(value, unit=""):
        return "chosen by the app" if value is None or value == "auto" else f"{value}{unit}"

    return (f"epochs {said(config.epochs)}, input size {said(config.image_size, ' px')}, "
            f"augmentation {'chosen by the app' if config.augment == 'auto' else 'as set'}")


def finish_words(result: dict, kept_a_model: bool) -> tuple[str, str]:
    """(sentence, level) when a training ends: stopped before a model existed, stopped with
    the best model kept, or finished with its score (a warning when close to guessing)."""
    best = result.get("best_val_accuracy")
    if best is None:
        best = result.get("best_accuracy")
    epochs = result.get("epochs_completed", 0)
    if not kept_a_model:
        return ("Training stopped before the first epoch ended, so there is no model to "
                "keep. Press Train to start again.", "warning")
    if result.get("status") == "cancelled":
        kept = f" ({best:.0%} right on validation pictures)" if best is not None else ""
        return (f"Training stopped after {epochs} epoch{'s' if epochs != 1 else ''}; the best "
                f"model so far is kept{kept}.", "info")
    assessment = result.get("assessment")
    if assessment:  # the interval, and a plain warning when it is close to guessing
        return (f"Training finished. Best model: {assessment['text']} Try it in step 4.",
                "warning" if assessment["barely_better"] else "success")
    score = (f"; the best model gets {best:.0%} of the validation pictures right"
             if best is not None else "")
    return f"Training finished{score}. Try it in step 4.", "success"
