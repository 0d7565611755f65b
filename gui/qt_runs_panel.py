"""The sidebar's past runs: the list and what can be done with runs (open, compare, rename,
resume, delete, hide failed ones).

The panel only asks; the window's `QtRunActions` does the work (dialogs, worker jobs).
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from gui.qt_runs_list import RESUMABLE, QtRunsList


class QtRunsPanel(QWidget):
    """Past runs and their buttons.

    Signals:
        runActivated(str): reopen this run folder.
        browseRequested(): open a run folder stored elsewhere.
        compareRequested(list): compare these run folders.
        renameRequested(str), resumeRequested(str): act on this run folder.
        deleteRequested(list): delete these run folders (after asking).
        hideFailedChanged(bool): hide or show runs that left no model.
    """

    runActivated = Signal(str)
    browseRequested = Signal()
    compareRequested = Signal(list)
    renameRequested = Signal(str)
    resumeRequested = Signal(str)
    deleteRequested = Signal(list)
    hideFailedChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.runs_list = QtRunsList()
        self.runs_list.runActivated.connect(self.runActivated)
        self.runs_list.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.runs_list, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openRunButton")
        self.open_button.setToolTip("Reopen the selected run: its curves come back and its "
                                    "model is used for predictions.")
        self.open_button.clicked.connect(self._on_open_clicked)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareRunsButton")
        self.compare_button.setToolTip("Select two or more runs (Ctrl + click) to see their "
                                       "curves, settings and accuracy side by side.")
        self.compare_button.clicked.connect(
            lambda: self.compareRequested.emit(self.runs_list.selected_paths()))
        self.more_button = QToolButton()
        self.more_button.setObjectName("runActionsButton")
        self.more_button.setText("More")
        self.more_button.setToolTip("Rename, resume or delete the selected run, or open a run "
                                    "folder stored elsewhere.")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more_button)
        self.rename_action = menu.addAction("Rename\u2026", self._on_rename)
        self.resume_action = menu.addAction("Resume training", self._on_resume)
        self.resume_action.setToolTip("Go on training an interrupted or stopped run from its "
                                      "last finished epoch.")
        self.delete_action = menu.addAction("Delete\u2026", self._on_delete)
        menu.addSeparator()
        menu.addAction("Open another run folder\u2026", self.browseRequested)
        self.more_button.setMenu(menu)
        buttons.addWidget(self.open_button, 1)
        buttons.addWidget(self.compare_button, 1)
        buttons.addWidget(self.more_button)
        layout.addLayout(buttons)
        self.resume_button = QPushButton("Resume training")
        self.resume_button.setObjectName("resumeRunButton")
        self.resume_button.setToolTip("This run was interrupted or stopped: go on training it "
                                      "from its last finished epoch.")
        self.resume_button.clicked.connect(self._on_resume)
        layout.addWidget(self.resume_button)
        self.hide_failed_check = QCheckBox("Hide failed runs")
        self.hide_failed_check.setObjectName("hideFailedCheck")
        self.hide_failed_check.setToolTip("Hide runs that failed or stopped before they had a "
                                          "model to keep.")
        self.hide_failed_check.toggled.connect(self.hideFailedChanged)
        layout.addWidget(self.hide_failed_check)
        self.empty_label = QLabel("No runs yet. Train a model in step 3 and it appears here.")
        self.empty_label.setObjectName("sidebarNote")
        self.empty_label.setWordWrap(True)
        layout.addWidget(self.empty_label)
        self._update_buttons()

    def set_runs(self, summaries: list, names: dict, hide_failed: bool, current: str) -> None:
        self.hide_failed_check.blockSignals(True)
        self.hide_failed_check.setChecked(hide_failed)
        self.hide_failed_check.blockSignals(False)
        self.runs_list.set_runs(summaries, names, hide_failed)
        if current:
            self.runs_list.mark_current(current)
        has_runs = bool(summaries)
        self.runs_list.setVisible(self.runs_list.count() > 0)
        self.empty_label.setVisible(not has_runs)
        self.hide_failed_check.setVisible(has_runs)
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        paths = self.runs_list.selected_paths()
        one = self.runs_list.selected_path()
        summary = self.runs_list.summary(one) if one else None
        shown = self.runs_list.count() > 0
        self.open_button.setVisible(shown)
        self.compare_button.setVisible(shown)
        self.open_button.setEnabled(one is not None)
        self.compare_button.setEnabled(len(paths) >= 2)
        resumable = summary is not None and summary.status in RESUMABLE
        self.resume_button.setVisible(resumable)
        self.resume_action.setEnabled(resumable)
        self.rename_action.setEnabled(one is not None)
        self.delete_action.setEnabled(bool(paths))

    @Slot()
    def _on_open_clicked(self) -> None:
        path = self.runs_list.selected_path()
        if path:
            self.runActivated.emit(path)

    @Slot()
    def _on_rename(self) -> None:
        path = self.runs_list.selected_path()
        if path:
            self.renameRequested.emit(path)

    @Slot()
    def _on_resume(self) -> None:
        path = self.runs_list.selected_path()
        if path:
            self.resumeRequested.emit(path)

    @Slot()
    def _on_delete(self) -> None:
        paths = self.runs_list.selected_paths()
        if paths:
            self.deleteRequested.emit(paths)
