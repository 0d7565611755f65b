"""What can be done with past runs from the sidebar: rename, delete, compare, resume.

Questions go through `gui.qt_ask`; reading and deleting run folders run as worker jobs; the
names people give runs are kept in the project (`ProjectState.rename_run`), so no folder moves.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot

from gui import qt_ask
from gui.qt_compare_dialog import QtCompareDialog

MAX_COMPARED = 8


def open_runs(paths: list[str]) -> list:
    """Worker job: reopen run folders (for comparing them)."""
    from core.runs.run import Run

    return [Run.open(path) for path in paths]


def open_run(path: str):
    """Worker job: reopen one run folder."""
    from core.runs.run import Run

    return Run.open(path)


def delete_runs(paths: list[str]) -> list[str]:
    """Worker job: delete run folders; returns the ones deleted (stops at the first failure)."""
    from core.runs.removal import delete_run

    deleted = []
    for path in paths:
        delete_run(path)
        deleted.append(path)
    return deleted


class QtRunActions(QObject):
    """Acts on the sidebar's run requests for `window` (a `QtMainWindow`)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self._state = window.state
        self._runner = window.runner
        self.compare_dialog: QtCompareDialog | None = None
        panel = window.sidebar.runs_panel
        panel.renameRequested.connect(self.rename)
        panel.deleteRequested.connect(self.delete)
        panel.compareRequested.connect(self.compare)
        panel.resumeRequested.connect(self.resume)

    @Slot(str)
    def rename(self, path: str) -> None:
        name = qt_ask.ask_text(self._window, "Rename the run", "A name for this run (its "
                               "folder keeps its own name):", self._state.run_name(path))
        if name is not None:
            self._state.rename_run(path, name)

    @Slot(list)
    def delete(self, paths: list) -> None:
        live = self._window.train_page.live_run_dir() if self._state.training else ""
        if live and any(Path(path) == Path(live) for path in paths):
            self._window.show_message("That run is training right now; stop it before deleting "
                                      "it.", "warning")
            return
        names = ", ".join(f"\u201c{self._state.run_name(path)}\u201d" for path in paths[:3])
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        what = "this run" if len(paths) == 1 else f"these {len(paths)} runs"
        if not qt_ask.confirm(self._window, "Delete runs", f"Delete {what} ({names}{more}) with "
                              "its model, curves and saved predictions? This cannot be undone.",
                              "Delete"):
            return
        self._runner.submit("io", delete_runs, list(paths), doing="deleting the runs",
                            on_result=self._on_deleted, on_error=self._on_delete_failed)

    def _on_deleted(self, deleted: list) -> None:
        for path in deleted:
            self._state.forget_run(path)
        self._window.refresh_runs()
        self._window.show_message(f"Deleted {len(deleted)} run{'s' if len(deleted) != 1 else ''}.",
                                  "success")

    def _on_delete_failed(self, report) -> None:
        self._window.refresh_runs()
        self._window.show_error(report)

    @Slot(list)
    def compare(self, paths: list) -> None:
        if len(paths) < 2:
            self._window.show_message("Select two or more runs to compare (hold Ctrl and click "
                                      "them in the list).", "info")
            return
        paths = list(paths)[:MAX_COMPARED]
        self._runner.submit("io", open_runs, paths, doing="opening the runs to compare",
                            on_result=self._on_compare_opened)

    def _on_compare_opened(self, runs: list) -> None:
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        names = [self._state.run_name(run.path) for run in runs]
        self.compare_dialog = QtCompareDialog(runs, names, self._window)
        self.compare_dialog.show()

    @Slot(str)
    def resume(self, path: str) -> None:
        if self._state.training:
            self._window.show_message("A training is running; wait for it or stop it before "
                                      "resuming another.", "warning")
            return
        self._runner.submit("io", open_run, path, doing="opening the run",
                            on_result=self._on_resume_opened)

    def _on_resume_opened(self, run) -> None:
        self._window.show_step(2)
        self._window.train_page.resume_run(run)
