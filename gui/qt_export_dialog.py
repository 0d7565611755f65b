"""The "Export model" dialog: a run's model as files for phones, web pages and scripts.

Choose a format and a folder; the export (core.export.exporter.export_run: conversion, then
the parity check on the run's own validation pictures) runs on the runner's "export" lane,
never on the GUI thread. A format whose converter is not installed says the one command that
adds it, and cannot be started.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from core.export.formats import ALL, EXTRA_COMMAND, FORMATS, ORDER, missing_modules
from core.export.files import HEATMAPS_NOTE
from gui.qt_progress_listener import QtProgressListener
from gui.qt_workers import QtWorkerRunner

CHOICES = [(ALL, "All formats (one folder each)")] + [
    (name, FORMATS[name].title) for name in ("tflite", "tflite-fp16", "tflite-int8", "onnx",
                                             "savedmodel")]


def run_export(run_path: str, format_name: str, out: str, listener=None, cancel=None) -> dict:
    """Worker job: export a run (see core.export.exporter.export_run)."""
    from core.export.exporter import export_run

    return export_run(run_path, format_name, out, listener=listener, cancel=cancel)


def describe_result(result: dict) -> str:
    lines = []
    for item in result["formats"]:
        figures = item["parity"]
        size = item["file_size_bytes"]
        lines.append(f"\u2714 {item['format']}: {size / 2**20:.1f} MB, same label as your model "
                     f"on {figures['top1_agreement']:.0%} of {figures['pictures']} "
                     f"{figures['split']} pictures")
    return "\n".join(lines)


class QtExportDialog(QDialog):
    """Export one run. `start_export()` runs it with the chosen format and folder.

    Signals:
        exported(dict): export_run's result, once every chosen format is written.
    """

    exported = Signal(dict)

    def __init__(self, run_path: str, runner: QtWorkerRunner, image_size: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export model")
        self.setMinimumSize(640, 460)  # word-wrapped labels: room for the longest texts
        self._runner = runner
        self._run_path = str(run_path)
        self._job = None
        self.result: dict | None = None
        name = Path(run_path).name

        layout = QVBoxLayout(self)
        title = QLabel(f"Export \u201c{name}\u201d for use outside the app")
        title.setObjectName("cardTitle")
        layout.addWidget(title)
        size = f"{image_size} x {image_size} pixels" if image_size else "the model's input size"
        intro = QLabel(f"The exported model takes plain RGB pictures of {size}, pixel values "
                       "0-255, and does its own rescaling. Each folder also holds labels.txt, "
                       "model.json, a predict.py script and a README. " + HEATMAPS_NOTE)
        intro.setWordWrap(True)
        intro.setObjectName("fieldHint")
        layout.addWidget(intro)

        form = QFormLayout()
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormatCombo")
        for key, text in CHOICES:
            self.format_combo.addItem(text, key)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        form.addRow("Format", self.format_combo)
        self.use_label = QLabel()
        self.use_label.setWordWrap(True)
        self.use_label.setObjectName("fieldHint")
        form.addRow("", self.use_label)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit(str(Path(run_path).parent / f"{name}-export"))
        self.folder_edit.setObjectName("exportFolderEdit")
        browse = QPushButton("Choose\u2026")
        browse.clicked.connect(self._on_browse_clicked)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        form.addRow("Folder", folder_row)
        layout.addLayout(form)

        self.tools_label = QLabel()
        self.tools_label.setObjectName("exportToolsNote")
        self.tools_label.setWordWrap(True)
        self.tools_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.tools_label)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status_label = QLabel()
        self.status_label.setObjectName("exportStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.status_label, 1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._on_close_clicked)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("exportModelStartButton")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        self._on_format_changed()

    def format_name(self) -> str:
        return self.format_combo.currentData()

    def set_format(self, name: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(name))

    def missing_tools(self) -> list[str]:
        name = self.format_name()
        formats = ORDER if name == ALL else (name,)
        return sorted({module for n in formats for module in missing_modules(FORMATS[n])})

    def start_export(self) -> None:
        if self._job is not None or self.missing_tools():
            return
        folder = self.folder_edit.text().strip()
        if not folder:
            self.status_label.setText("Choose a folder for the export.")
            return
        listener = QtProgressListener(self)
        listener.stage.connect(self._on_stage)
        listener.log.connect(self._on_log)
        self._log: list[str] = []
        self.status_label.setText("Starting\u2026")
        self.progress.show()
        self._job = self._runner.submit(
            "export", run_export, self._run_path, self.format_name(), folder, listener=listener,
            doing="exporting the model", cancellable=True, on_result=self._on_exported,
            on_error=self._on_failed, on_cancelled=self._on_cancelled, on_done=self._on_done)
        self._update_buttons()

    # -- handlers --------------------------------------------------------------------------
    @Slot()
    def _on_format_changed(self, *args) -> None:
        name = self.format_name()
        self.use_label.setText("SavedModel, three LiteRT models and ONNX, each in its own "
                               "subfolder." if name == ALL else f"For {FORMATS[name].use}.")
        missing = self.missing_tools()
        self.tools_label.setText(
            f"This format needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'}"
            f" not installed. In the project folder, run:  {EXTRA_COMMAND}" if missing else "")
        self.tools_label.setVisible(bool(missing))
        self._update_buttons()

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the model into",
                                                  self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    @Slot(str, object)
    def _on_stage(self, name: str, total) -> None:
        words = {"scan": "Finding the run's pictures\u2026", "load": "Loading the model\u2026"}
        text = words.get(name) or (f"Converting to {name[7:]} and checking it\u2026"
                                   if name.startswith("export ") else None)
        if text:
            self.status_label.setText("\n".join(self._log + [text]))

    @Slot(str)
    def _on_log(self, message: str) -> None:
        self._log.append("\u2714 " + message)
        self.status_label.setText("\n".join(self._log))

    def _on_exported(self, result: dict) -> None:
        self.result = result
        self.status_label.setText(f"Exported into {result['out']}:\n" + describe_result(result))
        self.exported.emit(result)

    def _on_failed(self, report) -> None:
        self.status_label.setText("\n".join(self._log + [report.message]))

    def _on_cancelled(self) -> None:
        self.status_label.setText("\n".join(self._log + ["Stopped."]))

    def _on_done(self) -> None:
        self._job = None
        self.progress.hide()
        self._update_buttons()

    @Slot()
    def _on_close_clicked(self) -> None:
        self.reject()

    def reject(self) -> None:
        """Close (also Esc and the window's close button); while exporting: stop after the
        format being converted, and stay open until then."""
        if self._job is not None:
            self._job.cancel()
            self.status_label.setText("Stopping after the current format\u2026")
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self._job is not None:
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)

    def _update_buttons(self) -> None:
        busy = self._job is not None
        self.export_button.setEnabled(not busy and not self.missing_tools())
        self.format_combo.setEnabled(not busy)
        self.folder_edit.setEnabled(not busy)
        self.close_button.setText("Stop" if busy else "Close")
