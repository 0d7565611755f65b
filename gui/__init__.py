"""Image Classifier Studio's desktop app (PySide6 + pyqtgraph) on top of the `core` engine.

`create_main_window()` builds the window without starting the event loop (for tests and
embedding); `run_app()` is what `python main.py` calls with no arguments. Nothing here imports
TensorFlow: engine modules that need it are imported inside worker jobs, so the window opens
fast.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

__all__ = ["create_main_window", "run_app"]


def _ensure_application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    return app


def apply_style(app) -> None:
    """Apply the app's style sheet and font to `app`."""
    from PySide6.QtGui import QFont

    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSize(10)
    app.setFont(font)
    style = RESOURCES / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8").replace(
            "@ICONS", (RESOURCES / "icons").as_posix()))


def create_main_window(runs_root: str | os.PathLike | None = None,
                       settings_path: str | os.PathLike | None = None, warm_up: bool = True):
    """Build and return the main window (not shown, event loop not started).

    Training runs in a child process started with multiprocessing's "spawn" method, so a
    script that creates the window must do so under ``if __name__ == "__main__":`` (as
    main.py does); otherwise the child would run the script again.

    Args:
        runs_root: folder where training runs are written and listed
            (default ~/ImageClassifierStudio/runs).
        settings_path: an .ini file for remembered settings (default: the environment variable
            ICS_SETTINGS_PATH, else the platform's per-user store).
        warm_up: load TensorFlow in the background as soon as the window is up.
    """
    app = _ensure_application()
    # Engine work runs in Python threads; a waiting GUI thread gets the GIL back after at most
    # 1 ms instead of 5 ms, which keeps the window smooth while a model trains.
    sys.setswitchinterval(0.001)
    from gui import qt_bool_guard

    qt_bool_guard.install(app)  # PySide6 6.12.0 loses a reference to True on every emit
    if not app.property("icsStyled"):
        apply_style(app)
        app.setProperty("icsStyled", True)
    from gui.qt_main_window import QtMainWindow
    from gui.qt_settings import AppSettings

    return QtMainWindow(runs_root=Path(runs_root) if runs_root else None,
                        settings=AppSettings(settings_path), warm_up=warm_up)


def run_app(argv: list[str] | None = None) -> int:
    """Open the window and run the event loop until it closes; returns the exit status.

    On Linux, first checks that the system libraries Qt needs for windows are there; if not,
    prints the command that installs them and returns 1 (instead of Qt's cryptic abort)."""
    from gui.qt_platform_check import check_platform

    problem = check_platform()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName("Image Classifier Studio")
    app.setOrganizationName("ImageClassifierStudio")
    window = create_main_window()
    _route_uncaught_errors(window)
    window.show()
    return app.exec()


def _route_uncaught_errors(window) -> None:
    """A bug in a slot shows a sentence in the window's banner instead of vanishing silently
    (the traceback is still printed for developers, and is behind "Details")."""
    from gui.qt_errors import describe_error

    def hook(kind, value, traceback):
        sys.__excepthook__(kind, value, traceback)
        try:
            window.show_error(describe_error(value))
        except Exception:  # noqa: BLE001 - never let the hook itself fail
            pass

    sys.excepthook = hook
