"""The worker runner delivers a job's outcome only to someone who still wants it."""
from __future__ import annotations

import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def runner(qtbot):
    from gui.qt_workers import QtWorkerRunner

    runner = QtWorkerRunner()
    yield runner
    runner.shutdown()


def test_a_job_cancelled_after_it_finished_is_reported_cancelled_not_its_result(runner, qtbot):
    """A newer scan cancels the older one; if the older had already finished in its lane, its
    result must not land on the page (it would show the older folder for a moment and clear
    the page's record of the newer, still running scan)."""
    finished = threading.Event()
    outcome = []

    def work():
        finished.set()
        return "old folder"

    from PySide6.QtWidgets import QApplication

    job = runner.submit("data", work, on_result=lambda value: outcome.append(("result", value)),
                        on_cancelled=lambda: outcome.append(("cancelled",)))
    assert finished.wait(10)
    job.cancel()  # on the GUI thread, before the queued "succeeded" signal is processed
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    QApplication.processEvents()
    assert outcome == [("cancelled",)]
    assert not runner.is_busy()


def test_a_job_not_cancelled_delivers_its_result(runner, qtbot):
    outcome = []
    runner.submit("data", lambda: 42, on_result=outcome.append)
    qtbot.waitUntil(lambda: outcome == [42], timeout=5000)
