"""The main window: sidebar with the four steps, a message banner and the step pages.

It wires pages to the shared `ProjectState` and the `QtWorkerRunner`, opens past runs, accepts
folders and pictures dropped anywhere on the window and starts the engine (TensorFlow) in the
background right after it appears, so the window shows fast and training starts without delay.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMainWindow, QProgressBar,
                               QScrollArea, QStackedWidget, QVBoxLayout, QWidget)

from gui import qt_ask
from gui.qt_augment_page import QtAugmentPage
from gui.qt_banner import QtBanner
from gui.qt_data_page import QtDataPage
from gui.qt_engine import start_engine
from gui.qt_predict_page import QtPredictPage
from gui.qt_project_state import ProjectState
from gui.qt_run_actions import QtRunActions, open_run
from gui.qt_settings import AppSettings
from gui.qt_sidebar import QtSidebar
from gui.qt_train_page import QtTrainPage
from gui.qt_workers import QtWorkerRunner

DATA, AUGMENT, TRAIN, PREDICT = range(4)


def fitting_size(width: int, height: int) -> tuple[int, int]:
    """`width` x `height`, made smaller where the screen's free area is smaller."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return width, height
    free = screen.availableGeometry()
    return min(width, free.width()), min(height, free.height() - 32)  # 32: the title bar


def list_runs(root: Path) -> list:
    """Worker job: the engine's list of runs in `root` (empty when the folder does not exist)."""
    from core.runs.run import list_runs as engine_list_runs

    return engine_list_runs(root) if Path(root).is_dir() else []


class QtMainWindow(QMainWindow):
    """Image Classifier Studio's window. Create it with `gui.create_main_window()`.

    Signals:
        engineReady(): TensorFlow is imported and the full model list is known.
    """

    engineReady = Signal()

    def __init__(self, runs_root: Path | None = None, settings: AppSettings | None = None,
                 warm_up: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Image Classifier Studio")
        self.setAcceptDrops(True)
        self.state = ProjectState(runs_root, settings, self)
        self.runner = QtWorkerRunner(self)
        self.runner.jobFailed.connect(self.show_error)
        self.engine_ready = False

        self.sidebar = QtSidebar(self.state)
        sidebar_scroll = QScrollArea()  # a low screen scrolls the sidebar, not the window
        sidebar_scroll.setObjectName("sidebarScroll")
        sidebar_scroll.setWidgetResizable(True)
        sidebar_scroll.setFrameShape(QFrame.Shape.NoFrame)
        sidebar_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        sidebar_scroll.setWidget(self.sidebar)
        sidebar_scroll.setFixedWidth(236)
        bar = sidebar_scroll.verticalScrollBar()  # when it shows, it takes no room from the text
        bar.rangeChanged.connect(lambda low, high: sidebar_scroll.setFixedWidth(
            236 + (bar.sizeHint().width() if high > low else 0)))
        self.banner = QtBanner()
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.data_page = QtDataPage(self.state, self.runner)
        self.augment_page = QtAugmentPage(self.state, self.runner)
        self.train_page = QtTrainPage(self.state, self.runner)
        self.predict_page = QtPredictPage(self.state, self.runner)
        for page in (self.data_page, self.augment_page, self.train_page, self.predict_page):
            self.pages.addWidget(page)
            page.messageRequested.connect(self.show_message)
            page.nextRequested.connect(self._on_next_requested)
            page.stepRequested.connect(self.show_step)

        content = QWidget()
        content.setObjectName("content")
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(0)
        content_layout.addWidget(self.banner)
        content_layout.addWidget(self.pages, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(sidebar_scroll)
        layout.addWidget(content, 1)
        self.setCentralWidget(central)
        self._build_status_bar()
        self._build_shortcuts()

        self.sidebar.stepSelected.connect(self.show_step)
        self.sidebar.runActivated.connect(self.open_run)
        self.sidebar.exportRequested.connect(self.show_export_dialog)
        self.train_page.exportRequested.connect(self.show_export_dialog)
        self.predict_page.exportRequested.connect(self.show_export_dialog)
        self.data_page.imageActivated.connect(self._on_example_activated)
        self.train_page.trainingFinished.connect(self._on_training_finished)
        self.state.datasetChanged.connect(self._update_step_marks)
        self.state.datasetSwitched.connect(self._update_step_marks)
        self.state.runChanged.connect(self._update_step_marks)
        self.state.augmentationChanged.connect(self._update_step_marks)
        self.state.projectRestored.connect(self._on_project_switched)
        self.predict_page.predictionsChanged.connect(self._update_step_marks)
        self.run_actions = QtRunActions(self)
        self.resize(*fitting_size(1280, 800))
        self.refresh_runs()
        self._restore_project()
        self._engine_timer = QTimer(self)
        self._engine_timer.setSingleShot(True)
        self._engine_timer.timeout.connect(self._start_engine)
        if warm_up:
            # Start TensorFlow once the window has been painted, not before.
            self._engine_timer.start(150)

    # -- chrome ----------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        bar.setSizeGripEnabled(False)
        self.engine_label = QLabel("Engine: starting\u2026")
        self.engine_label.setObjectName("engineLabel")
        self.engine_label.setToolTip("The machine-learning engine (TensorFlow) loads in the "
                                     "background the first time; you can keep working.")
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("busyIndicator")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedWidth(90)
        self.busy_bar.setFixedHeight(8)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setToolTip("Working in the background\u2026")
        self.busy_bar.hide()
        bar.addPermanentWidget(self.busy_bar)
        bar.addPermanentWidget(self.engine_label)
        self.runner.busyChanged.connect(self.busy_bar.setVisible)

    def _build_shortcuts(self) -> None:
        for index in range(4):
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda checked=False, i=index: self.show_step(i))
            self.addAction(action)

    # -- messages --------------------------------------------------------------------------
    @Slot(str, str, str)
    def show_message(self, text: str, level: str = "info", details: str = "") -> None:
        self.banner.show_message(text, level, details)

    @Slot(object)
    def show_error(self, report) -> None:
        self.banner.show_error(report)

    # -- navigation ------------------------------------------------------------------------
    @Slot(int)
    def show_step(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.sidebar.set_current_step(index)
        page = self.pages.currentWidget()
        if hasattr(page, "on_shown"):
            page.on_shown()
        # A step can be done by being seen (Augment: `was_visited`), and no state signal says
        # so: without this, a recommendation decided before the visit left step 2 unmarked.
        self._update_step_marks()

    @Slot()
    def _on_next_requested(self) -> None:
        self.show_step(min(self.pages.currentIndex() + 1, PREDICT))

    @Slot()
    def _update_step_marks(self) -> None:
        state = self.state
        self.sidebar.set_step_done(DATA, state.scan is not None)
        self.sidebar.set_step_done(AUGMENT, state.scan is not None and state.augmentation is not None
                                   and self.augment_page.was_visited())
        self.sidebar.set_step_done(TRAIN, state.run is not None)
        self.sidebar.set_step_done(PREDICT, self.predict_page.num_predictions() > 0)

    @Slot(str)
    def _on_example_activated(self, path: str) -> None:
        self.augment_page.set_image(path)
        self.show_step(AUGMENT)

    # -- engine and runs -------------------------------------------------------------------
    def _start_engine(self) -> None:
        self.runner.submit("model", start_engine, doing="starting the engine",
                           on_result=self._on_engine_ready, on_error=self._on_engine_failed)

    def _on_engine_ready(self, specs: list) -> None:
        self.engine_ready = True
        self.engine_label.setText("Engine: ready")
        self.engine_label.setProperty("ready", True)
        self.train_page.set_models(specs)
        self.engineReady.emit()

    def _on_engine_failed(self, report) -> None:
        self.engine_label.setText("Engine: not available")
        self.show_message("The machine-learning engine could not start, so training and "
                          "predictions are unavailable. " + report.message, "error", report.details)

    def refresh_runs(self) -> None:
        self.runner.submit("io", list_runs, self.state.runs_root, doing="listing past runs",
                           on_result=self.state.set_runs)

    @Slot(str)
    @Slot(str)
    def show_export_dialog(self, path: str):
        """The "Export model" dialog for the run folder at `path` (returned, already shown)."""
        from gui.qt_export_dialog import QtExportDialog

        run = self.state.run
        size = run.image_size if run is not None and str(run.path) == path else None
        dialog = QtExportDialog(path, self.runner, image_size=size, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(lambda result: self.show_message(
            f"Exported the model into {result['out']}.", "success"))
        dialog.open()
        return dialog

    def open_run(self, path: str, quiet: bool = False) -> None:
        """Reopen a run: its curves go to the Train step, its model to the Predict step
        (`quiet`: restoring the project at launch, stay on the current step)."""
        if self.state.training:
            self.show_message("Wait for the training to finish (or stop it) before opening "
                              "another run.", "warning")
            return
        self.runner.submit("io", open_run, path, doing="opening the run",
                           on_result=lambda run: self._on_run_opened(run, quiet),
                           on_error=None if not quiet else lambda report: None)

    def _on_run_opened(self, run, quiet: bool = False) -> None:
        self.state.set_run(run)
        if quiet:
            return
        mismatch = self.state.run_mismatch()
        name = self.state.run_name(run.path)
        if mismatch:
            self.show_message(f"Opened the run \u201c{name}\u201d. {mismatch}", "warning")
        else:
            self.show_message(f"Opened the run \u201c{name}\u201d: its curves are in step 3 and "
                              "its model is ready for predictions in step 4.", "success")
        self.show_step(TRAIN)

    # -- the project, reopened at launch ---------------------------------------------------
    def _restore_project(self) -> None:
        """Reopen the last dataset, then the run that was in use with it."""
        project = self.state.settings.project()
        dataset, run = project.get("dataset"), project.get("run")
        self._run_to_restore = run if isinstance(run, str) and run and Path(run).is_dir() else ""
        if isinstance(dataset, str) and dataset and Path(dataset).is_dir():
            self.state.datasetChanged.connect(self._on_project_dataset_restored)
            self.data_page.load_folder(dataset)
        elif self._run_to_restore:
            self.open_run(self._run_to_restore, quiet=True)

    @Slot()
    def _on_project_dataset_restored(self) -> None:
        self.state.datasetChanged.disconnect(self._on_project_dataset_restored)
        if self._run_to_restore and self.state.run is None:
            self.open_run(self._run_to_restore, quiet=True)

    @Slot(dict)
    def _on_project_switched(self, project: dict) -> None:
        """A folder from the recent projects (or opened again): its settings and its run."""
        if isinstance(project.get("training"), dict):
            self.train_page.settings.restore(project["training"])
        self.augment_page.restore_settings()
        run = project.get("run")
        if isinstance(run, str) and run and Path(run).is_dir():
            self.open_run(run, quiet=True)

    @Slot(object)
    def _on_training_finished(self, run) -> None:
        self.refresh_runs()

    # -- drag and drop anywhere on the window ----------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        self.handle_dropped_paths(paths)

    def handle_dropped_paths(self, paths: list[str]) -> None:
        """A folder dropped outside step 4 becomes the dataset; pictures go to predictions."""
        on_predict = self.pages.currentIndex() == PREDICT
        if not on_predict and len(paths) == 1 and Path(paths[0]).is_dir():
            self.show_step(DATA)
            self.data_page.load_folder(paths[0])
            return
        self.show_step(PREDICT)
        self.predict_page.add_paths(paths)

    # -- shutdown --------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.state.training and not qt_ask.confirm(
                self, "Quit while training?", "A model is training. If you quit now, the "
                "training stops; the best model so far is kept and you can resume it later.",
                "Stop and quit", "Keep training"):
            event.ignore()
            return
        self._engine_timer.stop()
        self.train_page.stop_training()
        self.runner.shutdown()
        self.train_page.wait_for_worker()
        self.train_page.close_engine()
        super().closeEvent(event)
