"""Step 4, Predict: drop pictures, see the answer, how sure the model is and where it looked.

The "Try pictures" tab classifies dropped or opened pictures and folders (a gallery holds
them all); the selected one is shown with its top classes and its CAM / Grad-CAM heatmap
(original, heatmap or blend, with an opacity slider). The "Measure accuracy on a folder" tab evaluates
the model on a labelled folder. Every model job runs on the runner's "model" lane.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout,
                               QWidget)

from gui.qt_answer_card import QtAnswerCard, gallery_caption
from gui.qt_cam_view import HEATMAP, ORIGINAL
from gui.qt_drop_area import QtDropArea
from gui.qt_elided_label import QtElidedLabel
from gui.qt_evaluate_panel import QtEvaluatePanel
from gui.qt_gallery import QtGallery
from gui.qt_picture_card import QtPictureCard
from gui.qt_prediction_jobs import (ModelSlot, evaluate_folder, explain_file, export_csv,
                                    export_evaluation, load_predictor, load_thumbnails,
                                    predict_files, restore_run_outputs, save_annotated)
from gui.qt_progress_listener import QtProgressListener
from gui.qt_project_state import ProjectState
from gui.qt_step_page import QtStepPage
from gui.qt_workers import QtWorkerRunner

METHOD_WORDS = {"cam": "read from the last layer", "gradcam": "worked out from the answer"}


GALLERY_CHUNK = 50  # results added to the gallery per event-loop turn


class QtPredictPage(QtStepPage):
    """The Predict step. `add_paths(paths)` classifies pictures or folders.

    Signals:
        predictionsChanged(): results were added to the gallery.
    """

    predictionsChanged = Signal()
    exportRequested = Signal(str)  # run folder: the user wants to export its model

    def __init__(self, state: ProjectState, runner: QtWorkerRunner, parent: QWidget | None = None) -> None:
        super().__init__("Step 4 \u00b7 Predict",
                         "Drop pictures or folders to see what the model says, how sure it is "
                         "and where it looked. Or check it on a whole labelled folder.", "", parent)
        self._state = state
        self._runner = runner
        self._pending: list = []  # (result, thumbnail) pairs not yet in the gallery
        self._adding = False
        self._select_after: int | None = None
        self._slot = ModelSlot()
        self._model_ready = False
        self._model_loading = False
        self._model_requested = False
        self._results: list[dict] = []
        self._heat_cache: dict[str, dict] = {}
        self._current = -1
        self._explain_pending: int | None = None
        self._explaining = False
        self._evaluate_job = None
        self._warned_run = ""

        self.tabs = QTabWidget()
        self.tabs.setObjectName("predictTabs")
        self.tabs.addTab(self._build_try_tab(), "Try pictures")
        self.tabs.addTab(self._build_evaluate_tab(), "Measure accuracy on a folder")
        self.tabs.setTabToolTip(0, "Classify single pictures and see where the model looked.")
        self.tabs.setTabToolTip(1, "Measure accuracy on a folder of labelled pictures.")
        self.body.addWidget(self.tabs, 1)

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

        state.runChanged.connect(self._on_run_changed)
        state.datasetChanged.connect(self._on_dataset_changed)
        self._update_state()

    # -- construction ----------------------------------------------------------------------
    def _build_try_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(12)
        row = QHBoxLayout()
        row.setSpacing(12)

        picture_card = QtPictureCard()
        picture_card.trainRequested.connect(lambda: self.stepRequested.emit(2))
        picture_card.viewChanged.connect(self._update_state)
        for name in ("method_label", "picture_stack", "no_model_state", "no_pictures_state",
                     "cam_view", "view_buttons", "opacity_slider"):
            setattr(self, name, getattr(picture_card, name))
        self.picture_card = picture_card
        row.addWidget(picture_card, 3)

        side = QVBoxLayout()
        side.setSpacing(12)
        answer_card = QtAnswerCard()
        self.answer_card = answer_card
        self.prediction_label = answer_card.prediction_label
        self.confidence_label = answer_card.confidence_label
        self.class_bars = answer_card.class_bars
        side.addWidget(answer_card, 1)
        self.drop_area = QtDropArea("Drop pictures or folders here to classify them.")
        self.drop_area.setObjectName("predictDropArea")
        self.drop_area.pathsDropped.connect(self.add_paths)
        side.addWidget(self.drop_area)
        row.addLayout(side, 2)
        layout.addLayout(row, 1)

        self.gallery = QtGallery("strip")
        self.gallery.setObjectName("predictionGallery")
        self.gallery.setAccessibleName("Classified pictures")
        self.gallery.setToolTip("Every picture you classified. Click one to look at it.")
        self.gallery.itemChosen.connect(self.select)
        layout.addWidget(self.gallery)
        return tab

    def _build_evaluate_tab(self) -> QWidget:
        self.evaluate_panel = QtEvaluatePanel()
        self.evaluate_panel.evaluateRequested.connect(self.evaluate)
        self.evaluate_panel.cancelRequested.connect(self._on_evaluate_cancel)
        self.evaluate_panel.pictureOpened.connect(self._on_evaluation_picture_opened)
        self.evaluate_panel.thumbnailsWanted.connect(self._on_thumbnails_wanted)
        self.evaluate_panel.exportRequested.connect(self.export_evaluation)
        return self.evaluate_panel

    # -- public API ------------------------------------------------------------------------
    def num_predictions(self) -> int:
        return len(self._results)

    def results(self) -> list[dict]:
        return list(self._results)

    def _num_classes(self) -> int:
        run = self._state.run
        return len(run.labels) if run is not None else 2

    def model_ready(self) -> bool:
        return self._model_ready

    def current_result(self) -> dict | None:
        return self._results[self._current] if 0 <= self._current < len(self._results) else None

    @Slot(list)
    def add_paths(self, paths: list[str]) -> None:
        """Classify pictures and folders of pictures with the current model."""
        if self._state.run is None:
            self.notify("There is no model yet: train one in step 3 or open a past run from the "
                        "list on the left, then drop the pictures again.", "warning")
            return
        self.tabs.setCurrentIndex(0)
        self._warn_if_other_classes()
        self._ensure_model()
        listener = QtProgressListener(self)
        listener.step.connect(self._on_predict_step)
        self.confidence_label.setText("Classifying\u2026" if self._model_ready else
                                      "Loading the model, then classifying\u2026")
        self._runner.submit("model", predict_files, self._slot, list(paths), listener=listener,
                            doing="classifying the pictures", cancellable=True,
                            on_result=self._on_predicted, on_error=self._on_predict_failed)

    def select(self, row: int) -> None:
        """Show result `row` of the gallery."""
        if not 0 <= row < len(self._results):
            return
        self._current = row
        if self.gallery.currentRow() != row:
            self.gallery.blockSignals(True)
            self.gallery.setCurrentRow(row)
            self.gallery.blockSignals(False)
        result = self._results[row]
        name = Path(result["path"]).name
        if result.get("error"):
            self.answer_card.show_unreadable(name, result["error"])
            self.cam_view.set_pictures(None)
            self.cam_view.set_message(f"{name} could not be read: {result['error']}")
            self.picture_stack.setCurrentWidget(self.cam_view)
            self.method_label.setText("")
            return
        self.answer_card.show_result(result, self._num_classes())
        self.picture_stack.setCurrentWidget(self.cam_view)
        cached = self._heat_cache.get(result["path"])
        if cached is not None:
            self._show_explanation(cached)
        else:
            self.cam_view.set_message("Working out where the model looked\u2026")
            self._explain_pending = row
            # While a big drop is still filling the gallery, the heatmap waits: its Python-heavy
            # TensorFlow work on a worker thread would contend for the GIL with every chunk.
            if not self._explaining and not self._adding:
                self._submit_explain()

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

    # -- model -----------------------------------------------------------------------------
    @Slot()
    def _on_run_changed(self) -> None:
        run = self._state.run
        self._model_ready = False
        self._results.clear()
        self._pending.clear()
        self._select_after = None
        self._heat_cache.clear()
        self._current = -1
        self.gallery.clear()
        self.evaluate_panel.clear()
        self._reset_answer()
        self.predictionsChanged.emit()
        self._model_requested = False
        if self.isVisible():
            self._ensure_model()
        if run is not None:
            self._runner.submit("io", restore_run_outputs, run.path,
                                doing="reopening earlier predictions", on_result=self._on_restored,
                                on_error=lambda report: None)
        self._update_state()

    def on_shown(self) -> None:
        self._warn_if_other_classes()
        self._ensure_model()

    def _warn_if_other_classes(self) -> None:
        """Say once per run, before predicting, that the model knows other classes."""
        mismatch, run = self._state.run_mismatch(), self._state.run
        if mismatch and run is not None and self._warned_run != str(run.path):
            self._warned_run = str(run.path)
            self.notify(mismatch, "warning")

    def _ensure_model(self) -> None:
        """Load the run's model on the model lane, once, when predictions are first needed.

        Loading waits until then because building a Keras model holds the interpreter lock for
        a while; nothing should compete with a training that just finished.
        """
        run = self._state.run
        if run is None or self._model_requested:
            return
        self._model_requested = True
        self._model_loading = True
        self._runner.submit("model", load_predictor, self._slot, run, doing="loading the model",
                            on_result=self._on_model_loaded, on_error=self._on_model_failed)
        self._update_state()

    def _on_model_loaded(self, run_path: str) -> None:
        self._model_loading = False
        self._model_ready = self._state.run is not None and str(self._state.run.path) == run_path
        self._update_state()

    def _on_model_failed(self, report) -> None:
        self._model_loading = False
        self.notify_error(report)
        self._update_state()

    def _on_restored(self, restored: dict) -> None:
        run = self._state.run
        if run is None or str(run.path) != restored["run_path"]:
            return
        if restored["results"] and not self._results:
            self._add_results(restored["results"], restored["thumbnails"], select=False)
        if restored["evaluation"] and self.evaluate_panel.report() is None:
            self.evaluate_panel.set_report(restored["evaluation"])

    @Slot()
    def _on_dataset_changed(self) -> None:
        data_dir = self._state.data_dir
        self.evaluate_panel.set_default_folder(str(data_dir) if data_dir else "")

    def _update_state(self) -> None:
        run = self._state.run
        has_model = run is not None
        if not has_model:
            self.picture_stack.setCurrentWidget(self.no_model_state)
            self.model_label.setText("No model yet.")
        else:
            if not self._results:
                self.picture_stack.setCurrentWidget(self.no_pictures_state)
            best = run.best_val_accuracy
            score = f" (best validation accuracy {best:.0%})" if best is not None else ""
            loading = " \u2013 loading\u2026" if self._model_loading else ""
            self.model_label.setText(f"Model: {run.name}{score}{loading}")
        self.drop_area.setEnabled(has_model)
        self.evaluate_panel.evaluate_button.setEnabled(has_model)
        self.gallery.setVisible(bool(self._results))
        self.save_button.setEnabled(bool(self._results))
        self.export_button.setEnabled(bool(self._results))
        self.export_model_button.setEnabled(has_model)
        self.picture_card.update_controls()

    # -- predictions -----------------------------------------------------------------------
    @Slot(int, int)
    def _on_predict_step(self, done: int, total: int) -> None:
        self.confidence_label.setText(f"Classifying\u2026 {done} of {total}")

    def _on_predicted(self, outcome: dict) -> None:
        results = outcome["results"]
        if not results:
            self.notify("No pictures found there. Drop picture files (JPEG, PNG, \u2026) or "
                        "folders that contain some.", "warning")
            self.confidence_label.setText("Select a picture to see its answer.")
            return
        self._add_results(results, outcome["thumbnails"], select=True)
        failed = sum(1 for r in results if r.get("error"))
        if failed:
            self.notify(f"{failed} of {len(results)} files could not be read; they are marked "
                        "in the gallery.", "warning")

    def _on_predict_failed(self, report) -> None:
        self.confidence_label.setText("Select a picture to see its answer.")
        self.notify_error(report)

    def _add_results(self, results: list[dict], thumbnails: list, select: bool) -> None:
        """Queue results for the gallery; they are added a chunk per event-loop turn, because
        making a thousand thumbnail icons at once froze the window for over 100 ms."""
        self._pending.extend(zip(results, thumbnails))
        if select or self._current < 0:
            self._select_after = len(self._results)
        if not self._adding:
            self._adding = True
            self._add_pending_chunk()

    def _add_pending_chunk(self) -> None:
        chunk, self._pending = self._pending[:GALLERY_CHUNK], self._pending[GALLERY_CHUNK:]
        for result, image in chunk:
            name = Path(result["path"]).name
            if result.get("error"):
                caption, tip = f"\u26a0 {name}", f"{result['path']}\n{result['error']}"
            else:
                caption = gallery_caption(result, self._num_classes())
                tip = f"{result['path']}\n{result['label']} ({result['probability']:.0%} sure)"
            self._results.append(result)
            self.gallery.add_entry(caption, tip, image, warning=bool(result.get("error")))
        if self._select_after is not None and self._select_after < len(self._results):
            self._update_state()
            self.select(self._select_after)
            self._select_after = None
        if self._pending:
            QTimer.singleShot(0, self._add_pending_chunk)
            return
        self._adding = False
        self._update_state()
        self.predictionsChanged.emit()
        if self._explain_pending is not None and not self._explaining:
            self._submit_explain()

    # -- heatmaps --------------------------------------------------------------------------
    def _submit_explain(self) -> None:
        row = self._explain_pending
        self._explain_pending = None
        if row is None or not 0 <= row < len(self._results):
            return
        result = self._results[row]
        self._ensure_model()
        self._explaining = True
        self._runner.submit("model", explain_file, self._slot, result["path"], result.get("class_index"),
                            doing="working out the heatmap", on_result=self._on_explained,
                            on_error=self._on_explain_failed, on_done=self._on_explain_done)

    def _on_explained(self, explanation: dict) -> None:
        self._heat_cache[explanation["path"]] = explanation
        current = self.current_result()
        if current is not None and current["path"] == explanation["path"]:
            self._show_explanation(explanation)

    def _on_explain_failed(self, report) -> None:
        self.cam_view.set_message("No heatmap for this picture.")
        self.method_label.setText("")
        self.notify_error(report)

    def _on_explain_done(self) -> None:
        self._explaining = False
        if self._explain_pending is not None:
            self._submit_explain()

    def _show_explanation(self, explanation: dict) -> None:
        self.cam_view.set_pictures(explanation["original"], explanation["heat"])
        method = METHOD_WORDS.get(explanation["method"], explanation["method"])
        self.method_label.setText(f"Heatmap: {method}")
        self.method_label.setToolTip("How the heatmap was made. \u201cRead from the last layer\u201d: "
                                     "the model's own map of where it saw each class (expert "
                                     "name: CAM). \u201cWorked out from the answer\u201d: from how "
                                     "the answer would change with each area (Grad-CAM).")
        self._update_state()

    def _reset_answer(self) -> None:
        self.answer_card.reset()
        self.cam_view.set_pictures(None)
        self.method_label.setText("")

    # -- saving ----------------------------------------------------------------------------
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

    # -- evaluation ------------------------------------------------------------------------
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
