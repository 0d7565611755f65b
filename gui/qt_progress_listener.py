"""The engine's `ProgressListener` re-emitted as Qt signals.

Engine jobs call listener methods on their worker thread; signals carry those calls to slots
on the GUI thread (queued, because the receivers live there). Nothing here touches a widget.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.util.progress import ProgressListener


class QtProgressListener(QObject, ProgressListener):
    """A `ProgressListener` whose every callback becomes a signal of the same name.

    Example::

        listener = QtProgressListener()
        listener.step.connect(progress_bar.setValue)
        runner.submit("data", scan_dataset, folder, listener=listener)
    """

    stage = Signal(str, object)  # name, total or None
    step = Signal(int, int)  # done, total
    log = Signal(str)
    trainBegin = Signal(dict)
    batchEnd = Signal(int, int, dict)  # epoch, batch, logs
    epochEnd = Signal(int, dict)  # epoch, logs
    trainEnd = Signal(dict)

    def on_stage(self, name, total=None):
        self.stage.emit(name, total)

    def on_step(self, done, total):
        self.step.emit(int(done), int(total))

    def on_log(self, message):
        self.log.emit(str(message))

    def on_train_begin(self, info):
        self.trainBegin.emit(dict(info))

    def on_batch_end(self, epoch, batch, logs):
        self.batchEnd.emit(int(epoch), int(batch), dict(logs or {}))

    def on_epoch_end(self, epoch, logs):
        self.epochEnd.emit(int(epoch), dict(logs or {}))

    def on_train_end(self, result):
        self.trainEnd.emit(dict(result or {}))
