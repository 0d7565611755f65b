"""The Data step's "Recent" menu: the projects opened lately (a dataset folder with its run in
use and its settings, `AppSettings.recent_projects`), newest first. Picking one loads its
folder like any other; `ProjectState.set_dataset` then brings back that project's run and
settings. A project whose folder is gone is taken off the list, with a note saying so.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QMenu, QWidget


class QtRecentProjectsMenu(QMenu):
    """`projectChosen(folder)` when a project is picked; `vanished(folders)` when projects
    were taken off because their folders are gone (checked each time the menu opens)."""

    projectChosen = Signal(str)
    vanished = Signal(list)

    def __init__(self, settings, run_name, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recentProjectsMenu")
        self._settings = settings
        self._run_name = run_name  # path -> the name the person gave the run
        self.setToolTipsVisible(True)
        self.aboutToShow.connect(self._on_about_to_show)
        self.refresh()

    def folders(self) -> list[str]:
        """The folders listed, newest first."""
        return [action.data() for action in self.actions() if action.data()]

    @Slot()
    def _on_about_to_show(self) -> None:
        gone = self.refresh(forget=True)
        if gone:
            self.vanished.emit(gone)

    def refresh(self, forget: bool = False) -> list[str]:
        """Rebuild the list (folders that are gone are left out); `forget`: also take them
        off the remembered projects, note it in the menu and return them."""
        self.clear()
        gone = []
        metrics = self.fontMetrics()
        for project in self._settings.recent_projects():
            folder = project["dataset"]
            if not Path(folder).is_dir():
                if forget:
                    self._settings.forget_project(folder)
                    gone.append(folder)
                continue
            action = self.addAction(metrics.elidedText(folder, Qt.TextElideMode.ElideMiddle, 420))
            action.setData(folder)
            action.setToolTip(self._describe(project))
            action.triggered.connect(lambda checked=False, f=folder: self.projectChosen.emit(f))
        if not self.folders():
            self.addAction("No recent projects yet").setEnabled(False)
        if gone:
            self.addSeparator()
            self.addAction(gone_note(gone)).setEnabled(False)
        return gone

    def _describe(self, project: dict) -> str:
        run = project.get("run")
        model = (f"model: {self._run_name(run)}" if isinstance(run, str) and run
                 and Path(run).is_dir() else "no model yet")
        return f"{project['dataset']}\nReopens with its {model} and its settings."


def gone_note(folders: list[str]) -> str:
    """A plain sentence about projects taken off the list."""
    names = ", ".join(f"\u201c{Path(folder).name or folder}\u201d" for folder in folders[:3])
    more = f" and {len(folders) - 3} more" if len(folders) > 3 else ""
    return (f"Taken off the list: {names}{more} (the folder is no longer there)."
            if len(folders) == 1 else
            f"Taken off the list: {names}{more} (their folders are no longer there).")
