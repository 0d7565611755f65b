"""Step 1, Data: pick a folder of images and see what the engine finds in it.

The folder is scanned by `core.data.scanning.scan_dataset` on a worker thread; the page shows the
report: classes and counts per split (bar chart), example pictures per class, image sizes and
the engine's warnings in plain words. "Try the demo" asks `core.data.demo` for a small dataset.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSlider, QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from gui.qt_card import QtCard
from gui.qt_checks_list import QtChecksList, items_from_report
from gui.qt_class_chart import QtClassChart
from gui.qt_empty_state import QtEmptyState
from gui.qt_data_jobs import load_thumbnails, make_demo, scan_folder
from gui.qt_data_views import (QtLoadingView, QtStatTile, chart_legend_html, class_caption,
                                recommended_size)
from gui.qt_progress_listener import QtProgressListener
from gui.qt_recent_projects import QtRecentProjectsMenu, gone_note
from gui.qt_project_state import ProjectState
from gui.qt_settings import same_folder
from gui.qt_review_dialog import open_review_dialog
from gui.qt_step_page import QtStepPage
from gui.qt_thumbnail_strips import THUMBNAIL_SIZE, QtThumbnailStrips
from gui.qt_warning_pictures import open_warning_pictures
from gui.qt_workers import QtWorkerRunner

THUMBNAILS_PER_CLASS = 10

LAYOUT_WORDS = {
    "split": "your own training / validation folders",
    "class_folders": "one folder per class",
    "flat": "class names taken from the file names",
}


class QtDataPage(QtStepPage):
    """The Data step. `load_folder(path)` scans a folder; the result goes to the project state."""

    imageActivated = Signal(str)

    def __init__(self, state: ProjectState, runner: QtWorkerRunner, parent: QWidget | None = None) -> None:
        super().__init__("Step 1 \u00b7 Your images",
                         "Pick a folder with one subfolder of pictures per class (for example "
                         "cats/ and dogs/). The app checks it and shows what it found.",
                         "Next: Augment \u2192", parent)
        self._state = state
        self._runner = runner
        self._scan_job = None
        self._thumb_job = None
        self._pending_folder: str | None = None
        self._build_folder_bar()
        self._stack = QStackedWidget()
        self._stack.addWidget(self._build_empty_view())
        self._stack.addWidget(self._build_loading_view())
        self._stack.addWidget(self._build_loaded_view())
        self.body.addWidget(self._stack, 1)
        self._split_timer = QTimer(self)
        self._split_timer.setSingleShot(True)
        self._split_timer.setInterval(450)
        self._split_timer.timeout.connect(self._on_split_timer)
        self.next_button.setEnabled(False)

    # -- construction --------------------------------------------------------------------
    def _build_folder_bar(self) -> None:
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("datasetPathEdit")
        self.path_edit.setPlaceholderText("Type or paste a folder path and press Enter\u2026")
        self.path_edit.setToolTip("The folder with your pictures. Type or paste a path and press "
                                  "Enter, or use \u201cChoose folder\u2026\u201d.")
        self.path_edit.setAccessibleName("Dataset folder")
        self.path_edit.setClearButtonEnabled(True)
        self.path_edit.returnPressed.connect(self._on_path_entered)
        self.choose_button = QPushButton("Choose folder\u2026")
        self.choose_button.setObjectName("chooseFolderButton")
        self.choose_button.setToolTip("Open a folder of pictures from your computer.")
        self.choose_button.clicked.connect(self._on_choose_clicked)
        self.recent_button = QToolButton()
        self.recent_button.setObjectName("recentFoldersButton")
        self.recent_button.setText("Recent")
        self.recent_button.setToolTip("Projects you opened before: each comes back with the "
                                      "model and settings you last used with it.")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QtRecentProjectsMenu(self._state.settings, self._state.run_name,
                                                self.recent_button)
        self.recent_menu.projectChosen.connect(self.load_folder)
        self.recent_menu.vanished.connect(
            lambda folders: self.notify(gone_note(folders), "info"))
        self.recent_button.setMenu(self.recent_menu)
        self.demo_button = QPushButton("Try the demo")
        self.demo_button.setObjectName("demoButton")
        self.demo_button.setToolTip("Make a small built-in dataset of shapes (circles, squares, "
                                    "triangles) to try every step in a few minutes, offline.")
        self.demo_button.clicked.connect(self._on_demo_clicked)
        bar.addWidget(self.path_edit, 1)
        bar.addWidget(self.choose_button)
        bar.addWidget(self.recent_button)
        bar.addWidget(self.demo_button)
        self.review_button = QPushButton("Review pictures\u2026")  # issue 16: gui/qt_review_dialog.py
        self.review_button.setObjectName("reviewButton")
        self.review_button.setToolTip("Find pictures that are probably in the wrong folder, "
                                      "near-identical copies and odd ones out, and decide what "
                                      "training should do with them. Your folders are never "
                                      "changed.")
        self.review_button.clicked.connect(lambda: open_review_dialog(self, self._state, self._runner))
        bar.addWidget(self.review_button)
        self.body.addLayout(bar)

    def _build_empty_view(self) -> QWidget:
        card = QtCard()
        card.setObjectName("dropCard")
        self.empty_state = QtEmptyState(
            "folder", "Drop a folder of pictures here",
            "Put each class in its own subfolder, e.g. pets/cat/\u2026 and pets/dog/\u2026 "
            "Folders that already have train/ and validation/ inside work too. "
            "No pictures at hand? Try the demo: it makes a small set of shapes.")
        self.empty_state.add_action("Choose folder\u2026", self._on_choose_clicked, primary=True,
                                    tooltip="Open a folder of pictures from your computer.")
        self.empty_state.add_action("Try the demo", self._on_demo_clicked,
                                    tooltip="Make a small built-in dataset of shapes.")
        card.body.addWidget(self.empty_state)
        return card

    def _build_loading_view(self) -> QWidget:
        view = QtLoadingView()
        view.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.loading_label, self.loading_detail = view.label, view.detail
        self.loading_bar = view.bar
        return view

    def _build_loaded_view(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)

        stats = QHBoxLayout()
        stats.setSpacing(12)
        self.images_tile = QtStatTile("pictures", "How many readable pictures the folder holds.")
        self.classes_tile = QtStatTile("classes", "Each subfolder is one class the model learns "
                                                 "to recognise.")
        self.size_tile = QtStatTile("typical size (w \u00d7 h)", "")
        self.input_tile = QtStatTile("input size (Recommended)", "The size the Recommended "
                                    "recipe trains at: near your pictures' own size (a "
                                    "pretrained network sees at least 160 px). You can change "
                                    "it in step 3.")
        for tile in (self.images_tile, self.classes_tile, self.size_tile, self.input_tile):
            stats.addWidget(tile, 1)
        layout.addLayout(stats)

        middle = QHBoxLayout()
        middle.setSpacing(12)
        chart_card = QtCard("Pictures per class")
        chart_card.set_note(chart_legend_html())
        self._chart_card = chart_card
        self.chart = QtClassChart()
        chart_card.body.addWidget(self.chart, 1)
        split_row = QHBoxLayout()
        self.split_caption = QLabel("Kept aside to check the model:")
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setObjectName("validationSplitSlider")
        self.split_slider.setRange(5, 50)
        self.split_slider.setSingleStep(5)
        self.split_slider.setPageStep(5)
        self.split_slider.setValue(round(self._state.val_split * 100))
        self.split_slider.setToolTip("Share of each class that the model never trains on; it is "
                                     "used to check how well the model does on new pictures. "
                                     "20% is a good default.")
        self.split_slider.setAccessibleName("Validation share")
        self.split_slider.valueChanged.connect(self._on_split_changed)
        self.split_value = QLabel()
        self.split_value.setObjectName("splitValue")
        self.split_value.setMinimumWidth(40)
        split_row.addWidget(self.split_caption)
        split_row.addWidget(self.split_slider, 1)
        split_row.addWidget(self.split_value)
        chart_card.body.addLayout(split_row)
        self._update_split_label()
        middle.addWidget(chart_card, 3)

        checks_card = QtCard("Things to check")
        self.checks_list = QtChecksList()
        self.checks_list.setObjectName("datasetWarnings")
        self.checks_list.setToolTip("Problems the app found in the folder, in plain words.")
        self.checks_list.setAccessibleName("Dataset warnings")
        self.checks_list.picturesRequested.connect(self._on_pictures_requested)
        self.pictures_dialog = None
        checks_card.body.addWidget(self.checks_list, 1)
        middle.addWidget(checks_card, 2)
        layout.addLayout(middle, 5)

        examples_card = QtCard("Examples")
        examples_card.set_note("Click a picture to try augmentation on it")
        self.strips = QtThumbnailStrips()
        self.strips.imageActivated.connect(self.imageActivated)
        examples_card.body.addWidget(self.strips, 1)
        layout.addWidget(examples_card, 4)
        return view

    # -- public API ----------------------------------------------------------------------
    def load_folder(self, folder: str | Path) -> None:
        """Scan `folder` on a worker thread and show the result."""
        folder = str(Path(folder).expanduser())
        self.path_edit.setText(folder)
        if not Path(folder).is_dir():
            self.notify(f"\u201c{folder}\u201d is not a folder on this computer. Check the "
                        "spelling, or use \u201cChoose folder\u2026\u201d.", "warning")
            return
        if not same_folder(self._state.data_dir, folder):
            self._use_split_of(folder)
        self._start_scan(folder)

    def _use_split_of(self, folder: str) -> None:
        """Another project: its remembered validation share, before the scan that uses it."""
        share = self._state.settings.project_for(folder).get("val_split")
        if isinstance(share, (int, float)) and 0.05 <= share <= 0.5:
            self._state.val_split = float(share)
            self.split_slider.blockSignals(True)  # no rescan of the folder shown now
            self.split_slider.setValue(round(share * 100))
            self.split_slider.blockSignals(False)
            self._update_split_label()

    # -- scanning ------------------------------------------------------------------------
    def _start_scan(self, folder: str) -> None:
        if self._scan_job is not None:
            self._scan_job.cancel()
        if self._thumb_job is not None:
            self._thumb_job.cancel()
        listener = QtProgressListener(self)
        listener.step.connect(self._on_scan_step)
        self.loading_label.setText(f"Reading {Path(folder).name or folder}\u2026")
        self.loading_bar.setRange(0, 0)
        if self._state.scan is None or self._state.data_dir != Path(folder):
            self._stack.setCurrentIndex(1)
        job = self._runner.submit(
            "data", scan_folder, folder, self._state.val_split, listener=listener,
            doing="reading the folder", cancellable=True,
            on_result=lambda outcome: self._on_scanned(folder, outcome),
            on_error=self._on_scan_failed,
            on_cancelled=lambda: self._on_scan_cancelled(job))
        self._scan_job = job

    @Slot(int, int)
    def _on_scan_step(self, done: int, total: int) -> None:
        self.loading_bar.setRange(0, max(total, 1))
        self.loading_bar.setValue(done)
        self.loading_bar.setFormat(f"{done} of {total} pictures")

    def _on_scanned(self, folder: str, outcome) -> None:
        scan, report = outcome
        self._scan_job = None
        if self.pictures_dialog is not None:  # it showed the pictures of the scan before
            self.pictures_dialog.close()
            self.pictures_dialog = None
        self._show_report(report)
        self._stack.setCurrentIndex(2)
        self.next_button.setEnabled(True)
        self._state.set_dataset(Path(folder), scan)
        self._refresh_recent_menu()
        self._thumb_job = self._runner.submit(
            "thumbnails", load_thumbnails, scan, THUMBNAILS_PER_CLASS, THUMBNAIL_SIZE,
            doing="loading example pictures", cancellable=True,
            on_result=self.strips.add_thumbnails, on_error=lambda report: None)

    def _on_scan_failed(self, report) -> None:
        self._scan_job = None
        self._stack.setCurrentIndex(2 if self._state.scan is not None else 0)
        self.notify_error(report)

    def _on_scan_cancelled(self, job) -> None:
        if job is not self._scan_job:  # replaced by a newer scan, which is still running
            return
        self._scan_job = None
        self._stack.setCurrentIndex(2 if self._state.scan is not None else 0)

    # -- rendering the report -------------------------------------------------------------
    def _show_report(self, report: dict) -> None:
        classes = report["classes"]
        splits = report["splits"]
        totals = {name: sum(counts.get(name, 0) for counts in splits.values()) for name in classes}
        self.images_tile.value.setText(f"{report['num_images']:,}")
        self.classes_tile.value.setText(str(len(classes)))
        size = report.get("image_size") or {}
        if size:
            self.size_tile.value.setText("{} \u00d7 {}".format(*size["median"]))
            self.size_tile.setToolTip("Typical (median) picture size. The smallest is "
                                      "{} \u00d7 {}, the largest {} \u00d7 {} pixels.".format(
                                          *size["min"], *size["max"]))
            if size["min"] == size["max"]:
                self.size_tile.caption.setText("size of every picture (w \u00d7 h)")
            else:
                self.size_tile.caption.setText("typical size, from {}\u00d7{} to {}\u00d7{}".format(
                    *size["min"], *size["max"]))
        else:
            self.size_tile.value.setText("\u2013")
        self.input_tile.value.setText(f"{recommended_size(size)} px" if size else "\u2013")
        self.chart.set_counts(splits, classes)
        self._chart_card.set_note(chart_legend_html([s for s in ("train", "validation", "test")
                                                          if splits.get(s)]))
        self.chart.setMinimumHeight(min(320, 60 + 26 * len(classes)))
        fixed = report["layout"] == "split"
        self.split_slider.setEnabled(not fixed)
        self.split_caption.setText("Validation comes from your own folders" if fixed
                                   else "Kept aside to check the model:")
        self.split_slider.setVisible(not fixed)
        self.split_value.setVisible(not fixed)
        self._show_checks(report)
        self.strips.set_classes({name: class_caption(name, splits, totals[name])
                                 for name in classes})
        self.strips.setMinimumHeight(min(len(classes), 2) * (THUMBNAIL_SIZE + 14))
        layout_words = LAYOUT_WORDS.get(report["layout"], report["layout"])
        self.subtitle_label.setText(f"{report['root']} \u2014 organised as {layout_words}.")

    def _show_checks(self, report: dict) -> None:
        from core.data.review import ReviewStore
        from core.models.weights_store import settings_dir

        self._report = report
        left_out = set(ReviewStore(report["root"], settings_dir()).excluded())
        self.checks_list.set_items(items_from_report(report, left_out))

    @Slot(dict)
    def _on_pictures_requested(self, record: dict) -> None:
        if self._state.scan is None:
            return
        if self.pictures_dialog is not None:  # one warning's pictures at a time
            self.pictures_dialog.close()
        dialog = open_warning_pictures(self, self._state.scan, self._runner, record)
        dialog.destroyed.connect(lambda *_: self._forget_dialog(dialog))
        dialog.decisionsChanged.connect(lambda: self._show_checks(self._report))
        self.pictures_dialog = dialog

    def _forget_dialog(self, dialog) -> None:
        if self.pictures_dialog is dialog:
            self.pictures_dialog = None

    # -- validation split -----------------------------------------------------------------
    def _update_split_label(self) -> None:
        self.split_value.setText(f"{self.split_slider.value()}%")

    @Slot(int)
    def _on_split_changed(self, value: int) -> None:
        self._update_split_label()
        self._state.val_split = value / 100
        if self._state.data_dir is not None:
            self._split_timer.start()

    @Slot()
    def _on_split_timer(self) -> None:
        if self._state.data_dir is not None:
            self._start_scan(str(self._state.data_dir))

    # -- user actions ---------------------------------------------------------------------
    @Slot()
    def _on_path_entered(self) -> None:
        text = self.path_edit.text().strip()
        if text:
            self.load_folder(text)

    @Slot()
    def _on_choose_clicked(self) -> None:
        start = str(self._state.data_dir or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of pictures", start)
        if folder:
            self.load_folder(folder)

    @Slot()
    def _on_cancel_clicked(self) -> None:
        if self._scan_job is not None:
            self._scan_job.cancel()

    @Slot()
    def _on_demo_clicked(self) -> None:
        dest = self._state.demo_dir
        self.loading_label.setText("Making the demo pictures\u2026")
        self.loading_bar.setRange(0, 0)
        self._stack.setCurrentIndex(1)
        self.demo_button.setEnabled(False)
        self._runner.submit("data", make_demo, dest, doing="making the demo dataset",
                            on_result=self._on_demo_ready, on_error=self._on_demo_failed,
                            on_done=lambda: self.demo_button.setEnabled(True))

    def _on_demo_ready(self, folder: str) -> None:
        self.load_folder(folder)

    def _on_demo_failed(self, report) -> None:
        self._stack.setCurrentIndex(2 if self._state.scan is not None else 0)
        self.notify_error(report)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.refresh()
