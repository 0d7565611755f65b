"""Step 3, Train: pick a model and settings, train with live curves, stop at any time.

Training runs in a `QtTrainingWorker` (its own thread, the engine in a child process); this
page only renders what the engine reports: curves, progress with time left, feature
extraction, a log in plain words. When training ends, the run is reopened and becomes the
project's model for predictions, and what the app chose for it and why is listed under the
curves (`QtRecipeView`, from the run's config.json; also for a reopened run).
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from gui.qt_card import QtCard
from gui.qt_curves_card import QtCurvesCard
from gui.qt_icons import icon
from gui.qt_marking import training_note
from gui.qt_project_state import ProjectState
from gui.qt_step_page import QtStepPage
from gui.qt_runs_list import status_words
from gui.qt_training_process import ResumeJob, TrainingProcess
from gui.qt_training_progress import (QtTrainingProgress, epoch_sentence, finish_words,
                                      setting_words)
from gui.qt_training_settings import QtTrainingSettings
from gui.qt_training_worker import QtTrainingWorker, start_training_thread
from gui.qt_wheel_guard import guard_wheel
from gui.qt_workers import QtWorkerRunner


class QtTrainPage(QtStepPage):
    """The Train step.

    Signals:
        trainingStarted(): a training job was started.
        trainingFinished(object): training ended; the value is the reopened `Run` or None.
    """

    trainingStarted = Signal()
    trainingFinished = Signal(object)
    exportRequested = Signal(str)  # run folder: the user wants to export its model

    def __init__(self, state: ProjectState, runner: QtWorkerRunner, parent: QWidget | None = None) -> None:
        super().__init__("Step 3 \u00b7 Train",
                         "Choose a model and press Train. The curves show how well it learns; you "
                         "can stop at any time and the best model so far is kept.",
                         "Next: Predict \u2192", parent)
        self._state = state
        self._runner = runner
        self._worker: QtTrainingWorker | None = None
        self._thread = None
        self._spare_process: TrainingProcess | None = None
        self._live_run_dir = ""  # the run whose curves were drawn live in this session

        row = QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(self._build_settings_card())
        right = QVBoxLayout()
        right.setSpacing(12)
        self.progress_card = QtTrainingProgress()
        right.addWidget(self.progress_card)
        right.addWidget(self._build_curves_card(), 1)
        row.addLayout(right, 1)
        self.body.addLayout(row, 1)

        state.datasetChanged.connect(self._on_dataset_changed)
        state.runChanged.connect(self._on_run_changed)
        state.reviewChanged.connect(self._update_buttons)  # "N pictures you marked will join"
        self.settings.restore(state.settings.project().get("training"))
        self.settings.changed.connect(self._on_settings_changed)
        self._update_buttons()

    # -- construction ----------------------------------------------------------------------
    def _build_settings_card(self) -> QtCard:
        card = QtCard("Model and settings")
        card.setMinimumWidth(320)  # narrower windows: the curves keep their room
        card.setMaximumWidth(370)
        self.settings = QtTrainingSettings(self._runner)
        self.settings.changed.connect(self._update_buttons)
        self.settings.epochsChanged.connect(self._on_epochs_changed)
        scroll = QScrollArea()
        scroll.setObjectName("settingsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.settings)
        self._wheel_guard = guard_wheel(self.settings)
        card.body.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setIcon(icon("play-white"))
        self.train_button.setToolTip("Start training with these settings.")
        self.train_button.clicked.connect(self.start_training)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setIcon(icon("stop-red"))
        self.stop_button.setToolTip("Stop after the current batch. The best model so far is kept.")
        self.stop_button.clicked.connect(self.stop_training)
        self.export_model_button = QPushButton("Export model\u2026")
        self.export_model_button.setObjectName("exportModelButton")
        self.export_model_button.setToolTip("Save the trained model for a phone app, a web "
                                            "page, a Raspberry Pi or a script.")
        self.export_model_button.clicked.connect(self._on_export_model_clicked)
        buttons.addWidget(self.train_button, 2)
        buttons.addWidget(self.stop_button, 1)
        buttons.addWidget(self.export_model_button, 1)
        card.body.addLayout(buttons)
        self.train_hint = QLabel()
        self.train_hint.setObjectName("fieldHint")
        self.train_hint.setWordWrap(True)
        card.body.addWidget(self.train_hint)
        return card

    def _build_curves_card(self) -> QtCard:
        card = QtCurvesCard()
        for name in ("smooth_check", "smooth_slider", "log_button", "recipe_view",
                     "run_caption", "plots", "curves_stack", "log_view"):
            setattr(self, name, getattr(card, name))
        return card

    # -- public API ------------------------------------------------------------------------
    def set_models(self, specs: list) -> None:
        """Show the engine's full model list (called once the engine has started)."""
        self.settings.set_models(specs)

    def is_training(self) -> bool:
        return self._thread is not None

    def live_run_dir(self) -> str:
        """The folder of the run trained (or resumed) last in this session, or ""."""
        return self._live_run_dir

    def on_shown(self) -> None:
        self._update_buttons()
        self.prepare_engine()

    def prepare_engine(self) -> None:
        """Start a training process now, so that pressing Train starts without delay."""
        if self._spare_process is None and not self.is_training():
            self._spare_process = TrainingProcess()

    def engine_ready(self) -> bool:
        """True when a training process is loaded and waiting (Train starts instantly)."""
        return self._spare_process is not None and self._spare_process.is_ready()

    def close_engine(self) -> None:
        """End the idle training process (the window is closing)."""
        if self._spare_process is not None:
            self._spare_process.close()
            self._spare_process = None

    @Slot()
    def start_training(self) -> None:
        if self.is_training():
            return
        state = self._state
        if state.scan is None or state.data_dir is None:
            self.notify("Choose your pictures in step 1 first.", "warning")
            return
        if len(state.scan.classes) < 2:
            self.notify(self.train_hint.text(), "warning")
            return
        values = self.settings.values()
        run_dir = self._new_run_dir("recommended" if values["model"] == "auto"
                                    else values["model"])
        config = self.settings.training_config(state.data_dir, run_dir,
                                               val_split=state.val_split,
                                               augment=state.augment_setting())
        self._live_run_dir = str(run_dir)
        self.plots.clear(self.settings.expected_epochs())
        self.log_view.clear()
        self.recipe_view.clear_for_training()
        self.run_caption.setText(f"Training \u201c{run_dir.name}\u201d")
        self.progress_card.show_starting()
        self._append_log(f"Training {self.settings.title()} on {state.data_dir}: "
                         f"{setting_words(config)}.")
        self._start_worker(QtTrainingWorker(config, state.scan, self._spare_process))

    def resume_run(self, run) -> None:
        """Go on training `run` (an opened `Run` that was interrupted or stopped) from its
        last finished epoch, in its own folder; its curves so far stay on the plots."""
        if self.is_training():
            self.notify("A training is running; wait for it or stop it first.", "warning")
            return
        training = run.config.get("training") if isinstance(run.config.get("training"), dict) else {}
        total = training.get("epochs") if isinstance(training.get("epochs"), int) else None
        self._live_run_dir = str(run.path)
        self.plots.clear(total or max(len(run.history), 1))
        self.plots.set_history(run.history)
        self.log_view.clear()
        self.recipe_view.clear_for_training()
        self.run_caption.setText(f"Resuming \u201c{self._state.run_name(run.path)}\u201d after "
                                 f"epoch {len(run.history)}")
        self.progress_card.show_starting()
        self._append_log(f"Resuming {run.path} after epoch {len(run.history)}.")
        self._start_worker(QtTrainingWorker(ResumeJob(str(run.path)), None, self._spare_process))

    def _start_worker(self, worker: QtTrainingWorker) -> None:
        state = self._state
        self._spare_process = None
        progress = self.progress_card
        worker.engineReady.connect(progress.on_engine_ready)
        worker.stage.connect(progress.on_stage)
        worker.stage.connect(self._on_stage)
        worker.step.connect(progress.on_step)
        worker.log.connect(self._append_log)
        worker.trainBegin.connect(progress.on_train_begin)
        worker.batchEnd.connect(self._on_batch_end)
        worker.epochEnd.connect(self._on_epoch_end)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.stopped.connect(self._on_stopped_early)
        self._worker = worker
        self._thread = start_training_thread(worker)
        self._thread.finished.connect(self._on_thread_finished)
        state.set_training(True)
        self._update_buttons()
        self.trainingStarted.emit()

    @Slot()
    def stop_training(self) -> None:
        """Ask the running training to stop after its current batch."""
        if self._worker is not None:
            self._worker.stop()
            self.stop_button.setEnabled(False)
            self.progress_card.show_stopping()
            self._append_log("Stop requested.")

    def wait_for_worker(self, timeout_ms: int = 30000) -> bool:
        """Block until the training thread has ended (used when the window closes)."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms)

    # -- helpers ---------------------------------------------------------------------------
    def _new_run_dir(self, model: str) -> Path:
        stamp = _dt.datetime.now().strftime("%Y-%m-%d_%H%M%S")
        path = self._state.runs_root / f"{stamp}_{model}"
        index = 2
        while path.exists():
            path = self._state.runs_root / f"{stamp}_{model}_{index}"
            index += 1
        return path

    @Slot()
    def _update_buttons(self) -> None:
        training = self.is_training()
        scan = self._state.scan
        one_class = scan is not None and len(scan.classes) < 2
        self.train_button.setEnabled(scan is not None and not training and not one_class
                                     and self.settings.is_ready())
        self.stop_button.setEnabled(training and not self._worker.cancel_token.cancelled
                                    if training else False)
        self.settings.setEnabled(not training)
        if training:
            self.train_hint.setText("Training\u2026 you can look at the other steps meanwhile.")
        elif scan is None:
            self.train_hint.setText("Choose your pictures in step 1 first; then Train is enabled.")
        elif one_class:
            self.train_hint.setText("Train needs at least 2 classes (one subfolder of pictures "
                                    "per class); these pictures have only "
                                    f"{len(scan.classes)}. Add another class in step 1.")
        else:
            self.train_hint.setText(f"Trains on {len(scan.splits.get('train', []))} pictures, "
                                    f"checks on {len(scan.splits.get('validation', []))}. "
                                    + training_note(self._state.review_summary))
        self.next_button.setEnabled(self._state.run is not None and not training)
        self.export_model_button.setEnabled(self._state.run is not None and not training)

    @Slot()
    def _on_export_model_clicked(self) -> None:
        if self._state.run is not None:
            self.exportRequested.emit(str(self._state.run.path))

    def _append_log(self, text: str) -> None:
        stamp = _dt.datetime.now().strftime("%H:%M:%S")
        self.log_view.appendPlainText(f"{stamp}  {text}")

    # -- slots -----------------------------------------------------------------------------
    @Slot(int)
    def _on_epochs_changed(self, epochs: int) -> None:
        if not self.is_training() and self.plots.num_epochs() == 0:
            self.plots.clear(epochs)

    @Slot()
    def _on_dataset_changed(self) -> None:
        self.settings.set_scan(self._state.scan)
        self._update_buttons()

    @Slot()
    def _on_settings_changed(self) -> None:
        self._state.settings.save_project(training=self.settings.remembered())

    @Slot()
    def _on_run_changed(self) -> None:
        run = self._state.run
        if self.is_training():
            self._update_buttons()
            return
        if run is None:  # e.g. other pictures were loaded: nothing of the old run stays
            self._live_run_dir = ""
            self.plots.clear(self.settings.expected_epochs())
            self.log_view.clear()
            self.recipe_view.clear_for_training()
            self.run_caption.setText("No training yet on these pictures.")
            self.progress_card.show_idle()
            self._update_buttons()
            return
        fresh = str(run.path) == self._live_run_dir  # its live curves and result are shown
        if not fresh:
            self.plots.clear(max(len(run.history), 1))
            self.plots.set_history(run.history)
        best = run.best_val_accuracy
        score = f", best validation accuracy {best:.0%}" if best is not None else ""
        self.run_caption.setText(f"Showing the run \u201c{self._state.run_name(run.path)}\u201d "
                                 f"({run.config.get('model', '?')}, {len(run.history)} epochs{score})")
        self.run_caption.setToolTip(str(run.path))
        if not fresh:
            mismatch = self._state.run_mismatch()
            words = (f"A past run on {Path(getattr(run, 'dataset_root', '')).name or 'unknown pictures'}: "
                     f"{len(run.history)} epochs{score}. " + (mismatch or "Its model is used for "
                                                               "predictions in step 4."))
            self.progress_card.show_run(len(run.history), status_words(run.status), words)
        self.recipe_view.show_run(run)
        self._update_buttons()

    @Slot(str, object)
    def _on_stage(self, name: str, total) -> None:
        self._append_log(name.capitalize() + (f" ({total})" if total else "") + ".")

    @Slot(int, int, dict)
    def _on_batch_end(self, epoch: int, batch: int, logs: dict) -> None:
        self.plots.add_batch(epoch + (batch + 1) / self.progress_card.steps_per_epoch(), logs)
        self.progress_card.on_batch(epoch, batch)

    @Slot(int, dict)
    def _on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.plots.add_epoch(epoch + 1, logs)
        self._append_log(epoch_sentence(epoch + 1, self.progress_card.epochs(), logs))

    @Slot(dict)
    def _on_succeeded(self, outcome: dict) -> None:
        result, run = outcome["result"], outcome["run"]
        self.plots.redraw()
        cancelled = result.get("status") == "cancelled"
        epochs = result.get("epochs_completed", 0)
        text, level = finish_words(result, run is not None)
        self.progress_card.show_finished(epochs, cancelled or run is None, text)
        self.notify(text, level, outcome.get("run_error", ""))
        self._append_log(text)
        if run is not None:
            self._state.set_run(run)
            if self.recipe_view.show_run(run):
                self.progress_card.status.setText(self.progress_card.status.text() + " Press "
                                                  "\u201cWhy these settings\u201d to see what "
                                                  "the app chose.")
        self.trainingFinished.emit(run)

    @Slot(object)
    def _on_failed(self, report) -> None:
        self.progress_card.show_failed("Training did not finish: " + report.message)
        self._append_log("Error: " + report.message)
        self.notify_error(report)
        self.trainingFinished.emit(None)

    @Slot()
    def _on_stopped_early(self) -> None:
        self.progress_card.show_failed("Stopped before training began; nothing was trained.",
                                       "Stopped")
        self.trainingFinished.emit(None)

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread = None
        self._worker = None
        self._state.set_training(False)
        self._update_buttons()
