"""The Predict step's footer and what it saves: annotated pictures, the predictions and the
evaluation as CSV tables, the request to export the model. A part of `QtPredictPage`
(gui/qt_predict_page.py), kept apart so each module stays small; the jobs run on the runner's
lanes like the page's others."""
from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog, QPushButton

from gui.qt_cam_view import HEATMAP, ORIGINAL
from gui.qt_elided_label import QtElidedLabel
from gui.qt_prediction_jobs import export_csv, export_evaluation, save_annotated


class PredictSaving:
    """Mixed into `QtPredictPage`: its footer buttons and their jobs."""

    def _build_footer(self) -> None:
        self.model_label = QtElidedLabel()
        self.model_label.setObjectName("footerNote")
        self.footer.insertWidget(0, self.model_label, 1)
        self.save_button = QPushButton("Save annotated pictures\u2026")
        self.save_button.setObjectName("saveAnnotatedButton")
        self.save_button.setToolTip("Save every classified picture with its label written on it "
                                    "(and the heatmap, as shown).")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.export_button = QPushButton("Export CSV\u2026")
        self.export_button.setObjectName("exportCsvButton")
        self.export_button.setToolTip("Save all predictions as a table (opens in any spreadsheet).")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.export_model_button = QPushButton("Export model\u2026")
        self.export_model_button.setObjectName("exportModelButton")
        self.export_model_button.setToolTip("Save the model for a phone app, a web page, a "
                                            "Raspberry Pi or a script (TFLite, ONNX, "
                                            "SavedModel).")
        self.export_model_button.clicked.connect(self._on_export_model_clicked)
        self.footer.addWidget(self.save_button)
        self.footer.addWidget(self.export_button)
        self.footer.addWidget(self.export_model_button)
        self.tabs.currentChanged.connect(self._on_tab_changed)

    def _view_opacity(self) -> float:
        mode = self.cam_view.mode()
        return {ORIGINAL: 0.0, HEATMAP: 1.0}.get(mode, self.cam_view.opacity())

    @Slot()
    def _on_save_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save annotated pictures into")
        if folder:
            self.save_annotated(folder)

    def save_annotated(self, folder: str) -> None:
        self._ensure_model()
        self._runner.submit("model", save_annotated, self._slot, list(self._results), folder,
                            self._view_opacity(), doing="saving the annotated pictures",
                            cancellable=True,
                            on_result=lambda written: self.notify(
                                f"Saved {len(written)} annotated pictures in {folder}.", "success"),
                            on_error=self.notify_error)

    @Slot()
    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", "predictions.csv",
                                              "CSV table (*.csv)")
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        if not path.lower().endswith(".csv"):
            path += ".csv"
        self._runner.submit("io", export_csv, list(self._results), path,
                            doing="exporting the predictions",
                            on_result=lambda written: self.notify(
                                f"Saved {len(self._results)} predictions in {written}.", "success"),
                            on_error=self.notify_error)

    @Slot()
    def _on_export_model_clicked(self) -> None:
        if self._state.run is not None:
            self.exportRequested.emit(str(self._state.run.path))

    @Slot(str)
    def export_evaluation(self, path: str) -> None:
        """Save the evaluation shown as a CSV table (on the io lane)."""
        report = self.evaluate_panel.report()
        if report is None:
            return
        self._runner.submit("io", export_evaluation, report, path,
                            doing="exporting the evaluation",
                            on_result=lambda written: self.notify(
                                f"Saved the evaluation in {written}.", "success"),
                            on_error=self.notify_error)

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        self.save_button.setVisible(index == 0)
        self.export_button.setVisible(index == 0)
