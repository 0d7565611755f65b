"""Step 4, Predict: drop pictures, see the answer, how sure the model is and where it looked.

The "Try pictures" tab classifies dropped or opened pictures and folders (a gallery holds
them all, gui/qt_prediction_gallery.py); the selected one is shown with its top classes and its
CAM / Grad-CAM heatmap (original, heatmap or blend, with an opacity slider), and the person
can mark the answer right or wrong (gui/qt_marking.py). The "Measure accuracy on a folder" tab
evaluates the model on a labelled folder (gui/qt_predict_evaluation.py); the footer saves
(gui/qt_predict_saving.py). Every model job runs on the runner's "model" lane.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from gui.qt_answer_card import QtAnswerCard
from gui.qt_drop_area import QtDropArea
from gui.qt_mark_bar import QtMarkBar
from gui.qt_marking import NEEDS_DATA, QtMarking
from gui.qt_picture_card import QtPictureCard
from gui.qt_predict_evaluation import PredictEvaluation
from gui.qt_predict_saving import PredictSaving
from gui.qt_prediction_gallery import QtPredictionGallery
from gui.qt_prediction_jobs import ModelSlot, explain_file, load_predictor, predict_files, \
    restore_run_outputs
from gui.qt_progress_listener import QtProgressListener
from gui.qt_project_state import ProjectState
from gui.qt_step_page import QtStepPage
from gui.qt_workers import QtWorkerRunner

METHOD_WORDS = {"cam": "read from the last layer", "gradcam": "worked out from the answer"}


class QtPredictPage(PredictEvaluation, PredictSaving, QtStepPage):
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
        self._slot = ModelSlot()
        self._model_ready = False
        self._model_loading = False
        self._model_requested = False
        self._heat_cache: dict[str, dict] = {}
        self._current = -1
        self._explain_pending: int | None = None
        self._explaining = False
        self._evaluate_job = None
        self._warned_run = ""
        self.marking = QtMarking(state, runner, self, self)  # "right" / "wrong: this is a ..."
        self.marking.changed.connect(self._on_marks_changed)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("predictTabs")
        self.tabs.addTab(self._build_try_tab(), "Try pictures")
        self.tabs.addTab(self._build_evaluate_tab(), "Measure accuracy on a folder")
        self.tabs.setTabToolTip(0, "Classify single pictures and see where the model looked.")
        self.tabs.setTabToolTip(1, "Measure accuracy on a folder of labelled pictures.")
        self.body.addWidget(self.tabs, 1)
        self._build_footer()

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
        self.gallery = QtPredictionGallery()
        self.gallery.itemChosen.connect(self.select)
        self.gallery.rowReady.connect(self._on_row_ready)
        self.gallery.allAdded.connect(self._on_all_added)
        self.mark_bar = QtMarkBar("Is the answer right?")  # beside the strip: no height taken
        self.mark_bar.setMaximumWidth(380)
        self.mark_bar.marked.connect(self._on_mark_chosen)
        self.mark_bar.undoRequested.connect(self.marking.undo)
        self.mark_bar.hide()  # until a picture is shown
        strip = QHBoxLayout()
        strip.setSpacing(12)
        strip.addWidget(self.gallery, 1)
        strip.addWidget(self.mark_bar)
        layout.addLayout(strip)
        return tab

    # -- public API ------------------------------------------------------------------------
    @property
    def _results(self) -> list[dict]:
        return self.gallery.results

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
            self._show_mark()
            return
        self.answer_card.show_result(result, self._num_classes())
        self._show_mark()
        self.picture_stack.setCurrentWidget(self.cam_view)
        cached = self._heat_cache.get(result["path"])
        if cached is not None:
            self._show_explanation(cached)
        else:
            self.cam_view.set_message("Working out where the model looked\u2026")
            self._explain_pending = row
            # While a big drop is still filling the gallery, the heatmap waits: its Python-heavy
            # TensorFlow work on a worker thread would contend for the GIL with every chunk.
            if not self._explaining and not self.gallery.adding:
                self._submit_explain()

    # -- model -----------------------------------------------------------------------------
    @Slot()
    def _on_run_changed(self) -> None:
        run = self._state.run
        self._model_ready = False
        self.gallery.forget()
        self.gallery.configure(self._num_classes(), self.marking.label_of)
        self._heat_cache.clear()
        self._current = -1
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
        self.gallery.add_results(results, thumbnails, select, self._current)

    @Slot(int)
    def _on_row_ready(self, row: int) -> None:
        self._update_state()
        self.select(row)

    @Slot()
    def _on_all_added(self) -> None:
        self._update_state()
        self.predictionsChanged.emit()
        if self._explain_pending is not None and not self._explaining:
            self._submit_explain()

    # -- marks -----------------------------------------------------------------------------
    @Slot(str)
    def _on_mark_chosen(self, label: str) -> None:
        result = self.current_result()
        if result is not None:
            self.marking.mark(result["path"], label)

    @Slot()
    def _on_marks_changed(self) -> None:
        self.gallery.refresh_marks()
        self._show_mark()
        self.evaluate_panel.show_marks(self.marking.label_of, self.marking.classes(),
                                       self.marking.marks.can_undo,
                                       "" if self._state.scan is not None else NEEDS_DATA)

    def _show_mark(self) -> None:
        result = self.current_result()
        bar, marking = self.mark_bar, self.marking
        bar.setVisible(result is not None)
        if result is None or result.get("error"):
            bar.set_target(None, [], None, marking.marks.can_undo,
                           "Select a picture to mark its answer.")
            return
        bar.set_target(result["label"], marking.classes(), marking.label_of(result["path"]),
                       marking.marks.can_undo,
                       "" if self._state.scan is not None else NEEDS_DATA)

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
        self._show_mark()
