"""Training off the GUI thread: the engine's listener callbacks become Qt signals.

`QtTrainingWorker` is a `core.util.progress.ProgressListener` (through `QtProgressListener`), moved
to its own `QThread` as in superqt's `new_worker_qthread`. The training itself runs in a child
process (`TrainingProcess`, see qt_training_process for why); the worker relays the child's
listener calls to its own methods, which emit signals. `stop()` cancels through the engine's
`CancelToken` mechanism; the engine stops within one batch and keeps the best model.
"""
from __future__ import annotations

import queue

from PySide6.QtCore import QThread, Signal, Slot

from core.util.progress import CancelToken
from gui.qt_errors import ErrorReport, describe_error
from gui.qt_plain_words import plain_message
from gui.qt_progress_listener import QtProgressListener
from gui.qt_training_process import LISTENER_METHODS, ResumeJob, TrainingProcess

POLL_SECONDS = 0.1


class QtTrainingWorker(QtProgressListener):
    """Runs one `core.training.train` job in a child process and reports on the GUI thread.

    Signals (besides the listener's stage/step/log/trainBegin/batchEnd/epochEnd/trainEnd):
        engineReady(): the child process has loaded the engine; training starts.
        succeeded(dict): {"result": train()'s result, "run": the reopened `Run` or None,
            "run_error": why the run could not be reopened, or ""}.
        failed(object): an `ErrorReport`.
        stopped(): cancelled before training really started.
        done(): always last.

    Args:
        config: the `core.training.TrainingConfig` the user chose; the worker turns it into a
            checked `TrainingRequest` (off the GUI thread) and sends that to the process. Or
            a `ResumeJob`: continue that run.
        scan: the `DatasetScan` the user looked at, so training uses exactly that split.
        process: a started `TrainingProcess` (started here if None).
    """

    engineReady = Signal()
    succeeded = Signal(dict)
    failed = Signal(object)
    stopped = Signal()
    done = Signal()

    def __init__(self, config, scan=None, process: TrainingProcess | None = None) -> None:
        super().__init__()
        self.config = config
        self.scan = scan
        self.process = process
        self.cancel_token = CancelToken()

    def stop(self) -> None:
        """Ask the engine to stop after the current batch (thread-safe)."""
        self.cancel_token.cancel()

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - shown to the user as a sentence
            self.failed.emit(describe_error(exc, "training"))
        finally:
            if self.process is not None:
                self.process.close()
            self.done.emit()

    def _run(self) -> None:
        from core.training.request import build_request

        if isinstance(self.config, ResumeJob):
            request = self.config
        else:
            request = build_request(self.config)  # a bad setting fails here, in one sentence
        if self.process is None or not self.process.is_alive():
            self.process = TrainingProcess()
        self.process.submit(request, self.scan)
        cancel_sent = False
        while True:
            if self.cancel_token.cancelled and not cancel_sent:
                self.process.cancel()
                cancel_sent = True
            try:
                event = self.process.next_event(POLL_SECONDS)
            except queue.Empty:
                if not self.process.is_alive():
                    self.failed.emit(ErrorReport(
                        "The training stopped unexpectedly (the engine process ended with code "
                        f"{self.process.exitcode}). The computer may have run out of memory: try "
                        "a smaller batch or input size."))
                    return
                continue
            kind, args = event[0], event[1:]
            if kind in LISTENER_METHODS:
                getattr(self, kind)(*args)
            elif kind == "ready":
                self.engineReady.emit()
            elif kind == "result":
                self.succeeded.emit(self._reopen(args[0]))
                return
            elif kind == "cancelled":
                self.stopped.emit()
                return
            elif kind == "error":
                self.failed.emit(args[0])
                return

    @staticmethod
    def _reopen(result: dict) -> dict:
        from core.runs.run import Run
        from core.errors import RunError

        run, run_error = None, ""
        try:
            run = Run.open(result["run_dir"])
            run.model_path()  # a run stopped before its first epoch has no model
        except RunError as error:
            run, run_error = None, plain_message(str(error))
        return {"result": result, "run": run, "run_error": run_error}


def start_training_thread(worker: QtTrainingWorker) -> QThread:
    """Move `worker` to a new QThread and start it; the thread quits when the job is done.

    Keep references to both until `thread.finished`: Python owns them, and dropping them
    earlier would delete a running thread.
    """
    thread = QThread()
    thread.setObjectName("training")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    thread.start()
    return thread
