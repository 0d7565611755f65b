"""The left column: the four steps, what the project holds right now, and the past runs."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QFileDialog, QFrame, QGridLayout, QHBoxLayout,
                               QLabel, QVBoxLayout, QWidget)

from gui.qt_project_state import ProjectState
from gui.qt_runs_list import friendly_date, status_words
from gui.qt_runs_panel import QtRunsPanel
from gui.qt_step_button import QtStepButton

STEPS = (
    ("Data", "Choose your pictures"),
    ("Augment", "Vary them to learn more"),
    ("Train", "Teach the model"),
    ("Predict", "Try it on new pictures"),
)


class QtSidebar(QFrame):
    """Navigation and project status.

    Signals:
        stepSelected(int): the user picked step 0-3.
        runActivated(str): the user wants to reopen the run folder at this path.
        exportRequested(str): the user wants to export that run's model.
    """

    stepSelected = Signal(int)
    runActivated = Signal(str)
    exportRequested = Signal(str)

    def __init__(self, state: ProjectState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self._state = state
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 16, 10, 12)
        layout.setSpacing(4)

        title = QLabel("Image Classifier\nStudio")
        title.setObjectName("appTitle")
        layout.addWidget(title)
        layout.addSpacing(10)

        self.step_buttons: list[QtStepButton] = []
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        for index, (name, hint) in enumerate(STEPS):
            button = QtStepButton(index + 1, name, hint)
            button.setObjectName(f"step{name}Button")
            self._group.addButton(button, index)
            self.step_buttons.append(button)
            layout.addWidget(button)
        self._group.idClicked.connect(self.stepSelected)
        layout.addSpacing(12)

        layout.addWidget(self._section_label("Project"))
        status = QGridLayout()
        status.setContentsMargins(8, 2, 4, 2)
        status.setHorizontalSpacing(8)
        status.setVerticalSpacing(1)
        self.dataset_value = self._status_row(status, 0, "Pictures", "The dataset folder in use.")
        self.model_value = self._status_row(status, 1, "Model", "The trained model used for "
                                            "predictions.")
        self.run_value = self._status_row(status, 2, "Training", "What the last training did.")
        layout.addLayout(status)
        layout.addSpacing(12)

        runs_header = QHBoxLayout()
        runs_header.addWidget(self._section_label("Past runs"))
        runs_header.addStretch(1)
        layout.addLayout(runs_header)
        self.runs_panel = QtRunsPanel()
        self.runs_panel.runActivated.connect(self.runActivated)
        self.runs_panel.browseRequested.connect(self._on_browse_clicked)
        self.runs_panel.hideFailedChanged.connect(state.set_hide_failed)
        self.runs_list = self.runs_panel.runs_list
        self.open_run_button = self.runs_panel.open_button
        layout.addWidget(self.runs_panel, 10)
        self.runs_list.exportRequested.connect(self.exportRequested)
        layout.addStretch(1)

        state.datasetChanged.connect(self.refresh_status)
        state.runChanged.connect(self._on_runs_changed)
        state.runsChanged.connect(self._on_runs_changed)
        state.trainingChanged.connect(self.refresh_status)
        self.refresh_status()
        self._on_runs_changed()
        self.set_current_step(0)

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        """What the sidebar needs at least (its scroll area asks; Qt's answer would be the
        preferred height, and the sidebar then scrolled on a 768-pixel screen)."""
        layout = self.layout()
        return min(layout.totalHeightForWidth(width), layout.totalMinimumSize().height())

    @staticmethod
    def _section_label(text: str) -> QLabel:
        label = QLabel(text.upper())
        label.setObjectName("sidebarSection")
        return label

    @staticmethod
    def _status_row(grid: QGridLayout, row: int, name: str, tooltip: str) -> QLabel:
        """A small grey caption with the value underneath, using the sidebar's full width."""
        key = QLabel(name.upper())
        key.setObjectName("statusKey")
        value = QLabel()
        value.setObjectName("statusValue")
        value.setWordWrap(True)
        value.setToolTip(tooltip)
        value.setMinimumWidth(10)
        grid.addWidget(key, 2 * row, 0)
        grid.addWidget(value, 2 * row + 1, 0)
        grid.setRowMinimumHeight(2 * row + 1, 18)
        return value

    def set_current_step(self, index: int) -> None:
        self.step_buttons[index].setChecked(True)

    def set_step_done(self, index: int, done: bool) -> None:
        self.step_buttons[index].set_done(done)

    def _set_elided(self, label: QLabel, text: str, tooltip: str = "") -> None:
        width = 150
        label.setText(label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width))
        if tooltip:
            label.setToolTip(tooltip)

    @Slot()
    def refresh_status(self, *args) -> None:
        state = self._state
        if state.scan is not None and state.data_dir is not None:
            name = self.dataset_value.fontMetrics().elidedText(
                state.data_dir.name, Qt.TextElideMode.ElideMiddle, 150)
            self.dataset_value.setText(f"{name}\n{state.num_images()} pictures, "
                                       f"{len(state.scan.classes)} classes")
            self.dataset_value.setToolTip(str(state.data_dir))
        else:
            self._set_elided(self.dataset_value, "none yet")
        if state.run is not None:
            accuracy = state.run.best_val_accuracy
            score = f"\n{accuracy:.0%} right on validation" if accuracy is not None else ""
            model = state.run.config.get("model", "model")
            name = state.run_names.get(str(state.run.path), "")
            title = name or f"{model}, {friendly_date(state.run.config.get('created', ''))}"
            mismatch = "\nmade for other classes" if state.run_mismatch() else ""
            self.model_value.setText(f"{title}{score}{mismatch}")
            self.model_value.setToolTip(f"{state.run_name(state.run.path)}\n{state.run.path}"
                                        + (f"\n{state.run_mismatch()}" if mismatch else ""))
        else:
            self._set_elided(self.model_value, "none yet")
        if state.training:
            self.run_value.setText("training now\u2026")
        elif state.run is not None:
            status = {"cancelled": "stopped early"}.get(state.run.status,
                                                        status_words(state.run.status))
            epochs = len(state.run.history)
            self.run_value.setText(f"{status}, {epochs} epoch{'s' if epochs != 1 else ''}")
        else:
            self.run_value.setText("not started")

    @Slot()
    def _on_runs_changed(self) -> None:
        state = self._state
        self.runs_panel.set_runs(state.runs, state.run_names, state.hide_failed,
                                 str(state.run.path) if state.run is not None else "")
        self.refresh_status()

    @Slot()
    def _on_browse_clicked(self) -> None:
        start = str(self._state.runs_root if self._state.runs_root.is_dir() else Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder", start)
        if folder:
            self.runActivated.emit(folder)
