"""Shared pieces of the GUI tests: the window, data and run fixtures, a stall probe.

This module holds no tests; the GUI test modules import its fixtures. The expensive data
(the demo shapes and a trained run) come from conftest's session fixtures.
"""
from __future__ import annotations

import gc
import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, QMimeData, QObject, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_CACHE: dict = {}


@pytest.fixture
def shapes(demo_dataset) -> Path:
    """The session's demo shapes (3 classes x 60 pictures, 40 px; from conftest)."""
    return demo_dataset


@pytest.fixture
def trained_run(small_cnn_run, tmp_path) -> Path:
    """A private copy of conftest's trained small_cnn run inside a runs folder.

    A copy, because the GUI remembers predictions and evaluations in the run folder.
    """
    runs = tmp_path / "runs"
    runs.mkdir(exist_ok=True)
    return Path(shutil.copytree(small_cnn_run, runs / "2026-01-01_120000_small_cnn"))


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    """Factory: a shown main window with its own runs folder and settings file.

    The window's questions (gui.qt_ask) are answered "yes" (e.g. "Stop and quit" when it is
    closed while training), so no modal dialog waits for a person; a test may answer
    otherwise with its own monkeypatch.setattr afterwards."""
    from gui import qt_ask

    monkeypatch.setattr(qt_ask, "confirm", lambda *args, **kwargs: True)

    def make(runs_root: Path | None = None, warm_up: bool = True):
        import gui

        window = gui.create_main_window(runs_root=runs_root or tmp_path / "runs",
                                        settings_path=tmp_path / "settings.ini", warm_up=warm_up)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


def child(window, name: str):
    """The widget with objectName `name` (fails the test if there is none)."""
    from PySide6.QtWidgets import QWidget

    widget = window.findChild(QWidget, name)
    assert widget is not None, f"no widget named {name!r}"
    return widget


def wait_engine(qtbot, window, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: window.engine_ready, timeout=timeout)


def load_dataset(qtbot, window, folder: Path, timeout: int = 30000) -> None:
    """Type the folder into the path field and press Enter, as a user would."""
    edit = child(window, "datasetPathEdit")
    edit.setText(str(folder))
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.state.scan is not None
                    and window.state.data_dir == Path(folder), timeout=timeout)


def drop_paths(widget, paths: list) -> None:
    """Send a real drag-enter and drop of file URLs to `widget`."""
    from PySide6.QtGui import QDragEnterEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    position = QPointF(widget.rect().center())
    # QDragEnterEvent takes an integer QPoint (PySide6 6.11), QDropEvent a QPointF.
    enter = QDragEnterEvent(widget.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), f"{widget.objectName()} refused the drag"
    drop = QDropEvent(position, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)


class StallProbe(QObject):
    """Measures the longest time the GUI thread's event loop went without serving a timer.

    A 5 ms QTimer ticks on the GUI thread; any gap between ticks beyond that is time the
    event loop was blocked (work on the GUI thread, or the GIL held elsewhere).

    While it runs, the objects that were alive when it started are frozen out of garbage
    collection. The app freezes TensorFlow's objects after importing it (core.util.tf_runtime), but
    this test process also carries what earlier tests left alive (built backbones, Keras
    state): 600,000+ objects, over which each full collection held the GIL for 0.6-1 s (one
    landed inside the 1,000-photo drop in the full suite: a 1012 ms "stall" of the app).
    """

    def __init__(self, interval_ms: int = 5) -> None:
        super().__init__()
        self.interval_ms = interval_ms
        self.worst_ms = 0.0
        self.ticks = 0
        self.stalls: list[tuple[float, float]] = []  # (seconds since start, stall ms) over 40 ms
        self._since_start = QElapsedTimer()
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> "StallProbe":
        gc.collect()
        gc.freeze()
        self._clock.start()
        self._since_start.start()
        self._timer.start()
        return self

    def stop(self) -> float:
        self._timer.stop()
        gc.unfreeze()
        return self.worst_ms

    def _on_tick(self) -> None:
        elapsed = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        self.ticks += 1
        stall = elapsed - self.interval_ms
        self.worst_ms = max(self.worst_ms, stall)
        if stall > 40:
            self.stalls.append((self._since_start.elapsed() / 1000, round(stall, 1)))


def record_stall(name: str, worst_ms: float) -> None:
    """Print the worst stall of a scenario (the figure the issue asks to report)."""
    load = os.getloadavg()[0]
    print(f"\n[stall] {name}: worst event-loop stall {worst_ms:.1f} ms "
          f"(load average {load:.1f} on {os.cpu_count()} cores)")


def record_threads(monkeypatch, module, name: str) -> list[bool]:
    """Wrap `module.name` so that each call records whether it ran on the GUI (main) thread.

    The window stays responsive because slow work never runs on the GUI thread: the tests
    check that (it cannot flake), and `python -m bench` measures the stalls (it is a timing).
    """
    import threading

    calls: list[bool] = []
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def settle(qtbot, seconds: float = 0.2) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qtbot.wait(20)
