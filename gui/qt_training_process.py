"""Training in a separate process, so TensorFlow never holds the GUI's interpreter lock.

Why: TensorFlow runs some long C++ calls (building a tf.data iterator at every epoch, tracing)
while holding Python's GIL. In the GUI process that froze the window for 100-300 ms at a time.
A child process has its own interpreter, so the event loop never waits for it; the child also
runs at a lower CPU priority.

This module is Qt-free: the child imports only it and the engine. The parent side
(`QtTrainingWorker`) reads the child's events from a queue and re-emits them as Qt signals.

Protocol (child -> parent, tuples on `events`): ("ready",), listener calls as
("on_stage", name, total), ("on_step", done, total), ("on_log", text), ("on_train_begin", info),
("on_batch_end", epoch, batch, logs), ("on_epoch_end", epoch, logs), ("on_train_end", result),
then exactly one of ("result", dict), ("cancelled",), ("error", ErrorReport).
"""
from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass

from core.util.progress import CancelToken, Cancelled, ProgressListener
from gui.qt_errors import describe_error

CHILD_NICENESS = 10
LISTENER_METHODS = ("on_stage", "on_step", "on_log", "on_train_begin", "on_batch_end",
                    "on_epoch_end", "on_train_end")


@dataclass(frozen=True)
class ResumeJob:
    """A job that continues an interrupted or stopped run (`core.training.resume_training`)
    instead of starting a new one; `epochs` is the new total (None: the run's own)."""

    run_dir: str
    epochs: int | None = None


class _QueueListener(ProgressListener):
    """Child side: forwards every listener call to the parent."""

    def __init__(self, events) -> None:
        self._events = events

    def __getattribute__(self, name):
        if name in LISTENER_METHODS:
            events = object.__getattribute__(self, "_events")
            return lambda *args: events.put((name, *args))
        return object.__getattribute__(self, name)


class _SharedCancelToken(CancelToken):
    """A `CancelToken` backed by a multiprocessing Event the parent can set."""

    def __init__(self, event) -> None:  # noqa: D107 - same interface as CancelToken
        self._event = event


def host_main(jobs, events, stop) -> None:
    """Child process: load the engine, say "ready", run one training job, report, exit."""
    try:
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):
        pass
    try:
        from core.util.tf_runtime import load_tensorflow

        load_tensorflow()
        from core.training import resume_training, train
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as a sentence
        events.put(("error", describe_error(exc, "starting the engine")))
        return
    events.put(("ready",))
    job = jobs.get()
    if job is None:
        return
    request, scan = job
    listener, cancel = _QueueListener(events), _SharedCancelToken(stop)
    try:
        if isinstance(request, ResumeJob):
            result = resume_training(request.run_dir, request.epochs, listener=listener,
                                     cancel=cancel)
        else:
            result = train(request, listener=listener, cancel=cancel, scan=scan)
    except Cancelled:
        events.put(("cancelled",))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as a sentence
        events.put(("error", describe_error(exc, "training")))
    else:
        events.put(("result", result))


class TrainingProcess:
    """A spawned process that loads TensorFlow right away and then waits for one job.

    Start it before the user presses Train (it takes a few seconds to load the engine), then
    `submit` the job and read `events`. `cancel()` asks the job to stop after its batch;
    `close()` ends an idle process.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.jobs = context.Queue()
        self.events = context.Queue()
        self._stop = context.Event()
        self.process = context.Process(target=host_main, args=(self.jobs, self.events, self._stop),
                                       name="ics-training", daemon=True)
        self.process.start()
        self.used = False
        self.ready = False
        self._early: list = []  # events read by is_ready() before the job was submitted

    def is_ready(self) -> bool:
        """True once the child has loaded the engine (never blocks)."""
        while not self.ready:
            try:
                event = self.events.get_nowait()
            except Exception:  # queue.Empty (or a closed queue)
                return False
            self._early.append(event)
            self.ready = event[0] == "ready"
        return True

    def next_event(self, timeout: float):
        """The next event from the child (raises queue.Empty after `timeout` seconds)."""
        if self._early:
            return self._early.pop(0)
        return self.events.get(timeout=timeout)

    def submit(self, request, scan) -> None:
        """Send one job: a `core.training.request.TrainingRequest` and the scan to train on,
        or a `ResumeJob` (and None)."""
        self.used = True
        self.jobs.put((request, scan))

    def cancel(self) -> None:
        self._stop.set()

    def is_alive(self) -> bool:
        return self.process.is_alive()

    @property
    def exitcode(self):
        return self.process.exitcode

    def close(self, timeout: float = 5.0) -> None:
        """End the process: politely if idle, by force if it does not stop in time."""
        if self.process.is_alive():
            if not self.used:
                self.jobs.put(None)
            self._stop.set()
            self.process.join(timeout)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(2.0)
        for channel in (self.jobs, self.events):
            channel.close()
            channel.cancel_join_thread()
