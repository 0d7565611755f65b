"""Run engine jobs off the GUI thread.

Every long job (scanning a folder, loading a model, predicting, evaluating) goes through a
`QtWorkerRunner`. Jobs run on *lanes*: one persistent `QThread` per lane, so jobs on the same
lane (for example everything that touches the loaded model) run one after another in the order
they were submitted, while different lanes run side by side.

A lane never touches a widget: it emits signals that land (queued) on the runner, which lives
on the GUI thread and calls the job's callbacks there, as in superqt's worker.

Example::

    job = runner.submit("data", scan_dataset, folder, doing="reading the folder",
                        cancellable=True, on_result=self._on_scanned,
                        on_error=self._on_scan_failed)
    job.cancel()        # sets the job's CancelToken; the engine stops at its next check
"""
from __future__ import annotations

import itertools
import queue
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.util.progress import CancelToken, Cancelled
from gui.qt_errors import ErrorReport, describe_error


class WorkerJob:
    """One submitted job: the function to run, its cancel token and its callbacks.

    Callbacks always run on the GUI thread. Exactly one of `on_result`, `on_error` or
    `on_cancelled` is called, then `on_done`.
    """

    _ids = itertools.count(1)

    def __init__(self, function: Callable, args: tuple, kwargs: dict, *, doing: str,
                 on_result=None, on_error=None, on_cancelled=None,
                 on_done=None) -> None:
        self.id = next(self._ids)
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.doing = doing
        self.cancel_token = CancelToken()
        self.on_result = on_result
        self.on_error = on_error
        self.on_cancelled = on_cancelled
        self.on_done = on_done
        self.running = True

    def cancel(self) -> None:
        """Ask the job to stop at its next check (or not to start if it is still queued)."""
        self.cancel_token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled


class _Lane(QThread):
    """A persistent worker thread that runs the jobs it receives, one at a time.

    Why a `run()` loop instead of a QObject moved to the thread: PySide gives each queued slot
    call its own temporary Python thread state, so `threading.local` data dies between calls.
    TensorFlow keeps per-thread state there, and a model loaded in one job and used in the
    next crashed the process. One long `run()` call keeps one thread state for the lane's life.
    """

    succeeded = Signal(object, object)  # job, result
    failed = Signal(object, object)  # job, ErrorReport
    stopped = Signal(object)  # job

    def __init__(self, name: str, runner: "QtWorkerRunner") -> None:
        super().__init__(runner)
        self.setObjectName(f"lane-{name}")
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.succeeded.connect(runner._on_succeeded)
        self.failed.connect(runner._on_failed)
        self.stopped.connect(runner._on_stopped)
        self.start()

    def submit(self, job: "WorkerJob") -> None:
        self._queue.put(job)

    def finish(self) -> None:
        """Let the queued jobs run (cancelled ones are skipped), then end the thread."""
        self._queue.put(None)

    def run(self) -> None:  # runs in the lane's thread
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._execute(job)

    def _execute(self, job: "WorkerJob") -> None:
        if job.cancelled:
            self.stopped.emit(job)
            return
        try:
            result = job.function(*job.args, **job.kwargs)
        except Cancelled:
            self.stopped.emit(job)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user as a sentence
            self.failed.emit(job, describe_error(exc, job.doing))
        else:
            if job.cancelled:
                self.stopped.emit(job)
            else:
                self.succeeded.emit(job, result)


class QtWorkerRunner(QObject):
    """Submits jobs to worker lanes and delivers their outcome on the GUI thread.

    `busyChanged(bool)` tells whether any job is queued or running (for a busy indicator).
    Call `shutdown()` before the application quits: it cancels every job and waits for the
    lane threads to end.
    """

    busyChanged = Signal(bool)
    jobFailed = Signal(object)  # ErrorReport of a job that had no on_error callback

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lanes: dict[str, _Lane] = {}
        self._jobs: dict[int, WorkerJob] = {}
        self._closed = False

    def submit(self, lane: str, function: Callable, *args, doing: str = "",
               cancellable: bool = False, on_result=None, on_error=None,
               on_cancelled=None, on_done=None, **kwargs) -> WorkerJob:
        """Queue `function(*args, **kwargs)` on `lane`; return the `WorkerJob`.

        Args:
            lane: lane name; jobs on one lane run in submission order.
            doing: what the job does, for error messages ("loading the model").
            cancellable: pass the job's `CancelToken` to the function as `cancel=`. Either
                way `job.cancel()` skips a job that has not started yet.
            on_result / on_error / on_cancelled / on_done: GUI-thread callbacks.
        """
        job = WorkerJob(function, args, kwargs, doing=doing, on_result=on_result,
                        on_error=on_error, on_cancelled=on_cancelled, on_done=on_done)
        if cancellable:
            kwargs["cancel"] = job.cancel_token
        if self._closed:  # the window is closing: start nothing new
            job.cancel()
            job.running = False
            return job
        was_busy = self.is_busy()
        self._jobs[job.id] = job
        if lane not in self._lanes:
            self._lanes[lane] = _Lane(lane, self)
        self._lanes[lane].submit(job)
        if not was_busy:
            self.busyChanged.emit(True)
        return job

    def is_busy(self) -> bool:
        return bool(self._jobs)

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Cancel every job, stop the lane threads and wait for them; True if all ended.

        Jobs submitted afterwards are never run.
        """
        self._closed = True
        self.cancel_all()
        ended = True
        for lane in self._lanes.values():
            lane.finish()
        for lane in self._lanes.values():
            ended = lane.wait(timeout_ms) and ended
        self._lanes.clear()
        self._jobs.clear()
        return ended

    # -- delivery on the GUI thread ------------------------------------------------------
    def _finish(self, job: WorkerJob, callback, *args) -> None:
        job.running = False
        self._jobs.pop(job.id, None)
        try:
            if callback is not None:
                callback(*args)
        finally:
            if job.on_done is not None:
                job.on_done()
            if not self._jobs:
                self.busyChanged.emit(False)

    # A job cancelled on the GUI thread after its lane had already sent the outcome counts as
    # cancelled: whoever cancelled it (e.g. a newer scan) no longer wants that outcome.
    @Slot(object, object)
    def _on_succeeded(self, job: WorkerJob, result) -> None:
        if job.cancelled:
            self._on_stopped(job)
        else:
            self._finish(job, job.on_result, result)

    @Slot(object, object)
    def _on_failed(self, job: WorkerJob, report: ErrorReport) -> None:
        if job.cancelled:
            self._on_stopped(job)
        elif job.on_error is None:
            self._finish(job, self.jobFailed.emit, report)
        else:
            self._finish(job, job.on_error, report)

    @Slot(object)
    def _on_stopped(self, job: WorkerJob) -> None:
        self._finish(job, job.on_cancelled)
