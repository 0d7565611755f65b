"""The Predict step's "Measure accuracy on a folder" tab: evaluating the model on a labelled
folder on the "model" lane, and what the tab asks for (thumbnails, opening a picture, stopping).
A part of `QtPredictPage` (gui/qt_predict_page.py), kept apart so each module stays small."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QWidget

from gui.qt_evaluate_panel import QtEvaluatePanel
from gui.qt_prediction_jobs import evaluate_folder, load_thumbnails
from gui.qt_progress_listener import QtProgressListener


class PredictEvaluation:
    """Mixed into `QtPredictPage`: the evaluation tab and its jobs."""

    def _build_evaluate_tab(self) -> QWidget:
        self.evaluate_panel = QtEvaluatePanel()
        self.evaluate_panel.evaluateRequested.connect(self.evaluate)
        self.evaluate_panel.cancelRequested.connect(self._on_evaluate_cancel)
        self.evaluate_panel.pictureOpened.connect(self._on_evaluation_picture_opened)
        self.evaluate_panel.thumbnailsWanted.connect(self._on_thumbnails_wanted)
        self.evaluate_panel.exportRequested.connect(self.export_evaluation)
        self.evaluate_panel.markRequested.connect(self.marking.mark)
        self.evaluate_panel.undoRequested.connect(self.marking.undo)
        return self.evaluate_panel

    @Slot(str)
    def evaluate(self, folder: str) -> None:
        """Evaluate the current model on a labelled folder."""
        run = self._state.run
        if run is None:
            self.notify("There is no model to evaluate yet: train one in step 3 or open a past run.",
                        "warning")
            return
        if not Path(folder).is_dir():
            self.notify(f"\u201c{folder}\u201d is not a folder on this computer.", "warning")
            return
        self.tabs.setCurrentIndex(1)
        self._ensure_model()
        self.evaluate_panel.folder_edit.setText(folder)
        listener = QtProgressListener(self)
        listener.step.connect(self.evaluate_panel.set_progress)
        self.evaluate_panel.set_busy(True)
        self._evaluate_job = self._runner.submit(
            "model", evaluate_folder, self._slot, run, folder, listener=listener,
            doing="evaluating the model", cancellable=True, on_result=self._on_evaluated,
            on_error=self.notify_error, on_done=lambda: self.evaluate_panel.set_busy(False))

    def _on_evaluated(self, report: dict) -> None:
        self._evaluate_job = None
        self.evaluate_panel.set_report(report)

    @Slot()
    def _on_evaluate_cancel(self) -> None:
        if self._evaluate_job is not None:
            self._evaluate_job.cancel()

    @Slot(list)
    def _on_thumbnails_wanted(self, paths: list) -> None:
        self._runner.submit("thumbnails", load_thumbnails, paths, doing="loading thumbnails",
                            cancellable=True,
                            on_result=lambda images: self.evaluate_panel.set_thumbnails(paths, images),
                            on_error=lambda report: None)

    @Slot(str)
    def _on_evaluation_picture_opened(self, path: str) -> None:
        self.add_paths([path])
