"""Check a model on a whole labelled folder: accuracy, confusion matrix, the mistakes.

The panel renders an `evaluate_run` report. Clicking a cell of the matrix lists those
pictures; double-clicking a picture asks to open it in the prediction view (with heatmap).
Under the mistakes, the person can say what the selected picture really is (`QtMarkBar`; the
page records it with gui/qt_marking.py).
"""
from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QStackedWidget, QVBoxLayout, QWidget)

from gui.qt_card import QtCard
from gui.qt_confusion_matrix import QtConfusionMatrix
from gui.qt_empty_state import QtEmptyState
from gui.qt_gallery import QtGallery
from gui.qt_mark_bar import QtMarkBar
from gui.qt_marking import mark_words


class QtEvaluatePanel(QWidget):
    """Signals: evaluateRequested(folder), cancelRequested(), pictureOpened(path),
    thumbnailsWanted(list of paths), markRequested(path, class), undoRequested()."""

    evaluateRequested = Signal(str)
    cancelRequested = Signal()
    pictureOpened = Signal(str)
    thumbnailsWanted = Signal(list)
    exportRequested = Signal(str)  # a .csv path for the results
    markRequested = Signal(str, str)  # picture, the class the person says it is
    undoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: dict | None = None
        self._shown: list[dict] = []
        self._default_folder = ""
        self._label_of = lambda path: None  # the class the person marked a picture as
        self._classes: list[str] = []
        self._can_undo = False
        self._mark_reason = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(10)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("evaluateFolderEdit")
        self.folder_edit.setPlaceholderText("A folder with one subfolder per class, e.g. new "
                                            "pictures the model has never seen")
        self.folder_edit.setToolTip("Pictures sorted into class folders, like in step 1. Best "
                                    "with pictures the model did not train on.")
        self.folder_edit.setAccessibleName("Folder to evaluate")
        self.folder_edit.returnPressed.connect(self._on_evaluate_clicked)
        choose = QPushButton("Choose folder\u2026")
        choose.setToolTip("Choose a folder of labelled pictures.")
        choose.clicked.connect(self._on_choose_clicked)
        self.use_data_button = QPushButton("Use step 1 folder")
        self.use_data_button.setToolTip("Evaluate on the folder from step 1. With train/ and "
                                         "validation/ folders only the validation (or test) "
                                         "pictures are used; otherwise all of them, including "
                                         "the ones the model learned from.")
        self.use_data_button.clicked.connect(self._on_use_data_clicked)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setObjectName("evaluateButton")
        self.evaluate_button.setProperty("primary", True)
        self.evaluate_button.setToolTip("Classify every picture in the folder and compare with "
                                        "its folder name.")
        self.evaluate_button.clicked.connect(self._on_evaluate_clicked)
        bar.addWidget(self.folder_edit, 1)
        bar.addWidget(choose)
        bar.addWidget(self.use_data_button)
        bar.addWidget(self.evaluate_button)
        layout.addLayout(bar)

        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("evaluateProgress")
        self.progress.setToolTip("How many pictures have been checked.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the evaluation.")
        self.cancel_button.clicked.connect(self.cancelRequested)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        self.stack = QStackedWidget()
        card = QtCard()
        self.empty_state = QtEmptyState("target", "How good is the model?",
                                        "Pick a folder of labelled pictures and press Evaluate. "
                                        "You get the share it gets right, a table of which "
                                        "classes it mixes up, and the pictures it got wrong.")
        card.body.addWidget(self.empty_state)
        self.stack.addWidget(card)
        self.stack.addWidget(self._build_results())
        layout.addWidget(self.stack, 1)

    def _build_results(self) -> QWidget:
        view = QWidget()
        row = QHBoxLayout(view)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        matrix_card = QtCard("Which classes get mixed up")
        self.summary_label = QLabel()
        self.summary_label.setObjectName("evaluationSummary")
        self.summary_label.setWordWrap(True)
        self.matrix = QtConfusionMatrix()
        self.matrix.cellChosen.connect(self._on_cell_chosen)
        self.export_button = QPushButton("Export CSV\u2026")
        self.export_button.setObjectName("exportEvaluationButton")
        self.export_button.setToolTip("Save these results as a table that opens in any "
                                      "spreadsheet: the score, each class, the mix-ups and every "
                                      "picture it got wrong.")
        self.export_button.clicked.connect(self._on_export_clicked)
        matrix_card.header.removeWidget(matrix_card.note_label)
        matrix_card.header.addWidget(self.export_button)
        matrix_card.body.addWidget(self.summary_label)
        matrix_card.body.addWidget(self.matrix, 1)
        row.addWidget(matrix_card, 1)
        gallery_card = QtCard("Pictures it got wrong")
        self.gallery_card = gallery_card
        self.gallery_note = QLabel()
        self.gallery_note.setObjectName("mutedNote")
        self.gallery_note.setWordWrap(True)
        self.gallery = QtGallery("grid")
        self.gallery.setObjectName("misclassifiedGallery")
        self.gallery.setAccessibleName("Misclassified pictures")
        self.gallery.setToolTip("Double-click a picture to see where the model looked.")
        self.gallery.itemOpened.connect(self._on_gallery_opened)
        self.gallery.itemChosen.connect(lambda row: self._show_mark())
        self.mark_bar = QtMarkBar()
        self.mark_bar.marked.connect(self._on_marked)
        self.mark_bar.undoRequested.connect(self.undoRequested)
        gallery_card.body.addWidget(self.gallery_note)
        gallery_card.body.addWidget(self.gallery, 1)
        gallery_card.body.addWidget(self.mark_bar)
        row.addWidget(gallery_card, 1)
        return view

    # -- API -------------------------------------------------------------------------------
    def set_default_folder(self, folder: str) -> None:
        self._default_folder = folder
        self.use_data_button.setEnabled(bool(folder))

    def set_busy(self, busy: bool) -> None:
        self.progress_box.setVisible(busy)
        self.evaluate_button.setEnabled(not busy)
        if busy:
            self.progress.setRange(0, 0)
            self.progress.setFormat("Starting\u2026")

    @Slot(int, int)
    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total} pictures")

    def clear(self) -> None:
        self._report = None
        self.stack.setCurrentIndex(0)

    def report(self) -> dict | None:
        return self._report

    def set_report(self, report: dict) -> None:
        self._report = report
        self.stack.setCurrentIndex(1)
        labels = report["labels"]
        wrong = len(report.get("misclassified", []))
        where = Path(report.get("data", "")).name or report.get("data", "")
        split = report.get("split")
        split_words = {"test": " (its test pictures)", "validation": " (its validation pictures)"}
        text = (f"<b style='font-size:15pt;color:#1e3a8a'>{report['accuracy']:.1%}</b> right on "
                f"{report['n']} pictures of \u201c{where}\u201d{split_words.get(split, '')}; "
                f"{wrong} wrong.")
        assessment = report.get("assessment")  # evaluation.json from older versions has none
        if assessment:
            low, high = assessment["interval"]
            text += f" With {report['n']} pictures the true rate is likely between {low:.1%} and {high:.1%}."
            if assessment.get("verdict"):
                text += f" <span style='color:#92400e'><b>{escape(assessment['verdict'])}</b></span>"
        seen = report.get("seen")  # by contents; evaluation.json from older versions has none
        if isinstance(seen, dict) and seen.get("count"):
            text += (f" <span style='color:#92400e'>{seen['count']} of these {report['n']} "
                     "pictures are also in the folder the model was trained on, so the score "
                     "looks better than it will on new pictures.</span>")
        elif isinstance(seen, dict):
            text += " None of these pictures is in the folder the model was trained on."
        elif split not in split_words:
            text += (" <span style='color:#92400e'>These may include the pictures the model "
                     "learned from, so the score may look better than it will on new "
                     "pictures.</span>")
        ignored = report.get("ignored_classes") or []
        if ignored:
            text += f" Classes the model does not know were left out: {', '.join(ignored)}."
        if report.get("unreadable"):
            text += f" {len(report['unreadable'])} unreadable files were skipped."
        self.summary_label.setText(text)
        self.matrix.set_matrix(labels, report["confusion"])
        self._show_items(report.get("misclassified", []),
                         "All the mistakes, most confident first. Double-click one to see "
                         "where the model looked; click a number in the table to see only "
                         "those." if wrong else
                         "No mistakes at all on this folder.")

    def set_thumbnails(self, paths: list[str], thumbnails: list) -> None:
        for row, (path, image) in enumerate(zip(paths, thumbnails)):
            if row < len(self._shown) and self._shown[row]["path"] == path and image is not None:
                self.gallery.set_image(row, image)

    def shown_items(self) -> list[dict]:
        return list(self._shown)

    def show_marks(self, label_of, classes: list[str], can_undo: bool, reason: str) -> None:
        """The person's marks changed: `label_of(path)` gives the class they said a picture
        is; `classes`: the dataset's; `reason`: why marking is not possible ("" when it is)."""
        self._label_of, self._classes = label_of, list(classes)
        self._can_undo, self._mark_reason = can_undo, reason
        for row, item in enumerate(self._shown):
            entry = self.gallery.item(row)
            if entry is not None:
                entry.setText(self._caption(item))
        self._show_mark()

    def selected_item(self) -> dict | None:
        row = self.gallery.currentRow()
        return self._shown[row] if 0 <= row < len(self._shown) else None

    # -- internals -------------------------------------------------------------------------
    def _show_items(self, items: list[dict], note: str) -> None:
        self._shown = list(items)
        self.gallery.clear()
        self.gallery_note.setText(note)
        for item in self._shown:
            caption = self._caption(item)
            tooltip = (f"{item['path']}\nReally \u201c{item['true']}\u201d, the model said "
                       f"\u201c{item['predicted']}\u201d ({item['probability']:.0%} sure).\n"
                       "Double-click to see where it looked.")
            self.gallery.add_entry(caption, tooltip, warning=False)
        if self._shown:
            self.thumbnailsWanted.emit([item["path"] for item in self._shown])
        self._show_mark()

    def _caption(self, item: dict) -> str:
        mark = mark_words(self._label_of(item["path"]), item["predicted"])
        return (f"is {item['true']}\nsaid {item['predicted']}\n"
                + (mark or f"{item['probability']:.0%} sure"))

    def _show_mark(self) -> None:
        item = self.selected_item()
        if item is None:
            self.mark_bar.set_target(None, [], None, self._can_undo,
                                     "Click a picture to say whether the model or its folder "
                                     "is right." if self._shown else "")
            self.mark_bar.setVisible(bool(self._shown))
            return
        self.mark_bar.setVisible(True)
        self.mark_bar.set_target(item["predicted"], self._classes, self._label_of(item["path"]),
                                 self._can_undo, self._mark_reason)

    @Slot(str)
    def _on_marked(self, label: str) -> None:
        item = self.selected_item()
        if item is not None:
            self.markRequested.emit(item["path"], label)

    @Slot(int, int)
    def _on_cell_chosen(self, row: int, column: int) -> None:
        if self._report is None:
            return
        labels = self._report["labels"]
        count = self.matrix.count_at(row, column)
        if row == column:
            self._show_items([], f"{count} pictures of \u201c{labels[row]}\u201d were recognised "
                                 "correctly. The table's other cells hold the mistakes.")
            return
        items = [item for item in self._report.get("misclassified", [])
                 if item["true"] == labels[row] and item["predicted"] == labels[column]]
        self._show_items(items, f"{len(items)} pictures of \u201c{labels[row]}\u201d taken for "
                                f"\u201c{labels[column]}\u201d.")

    @Slot(int)
    def _on_gallery_opened(self, row: int) -> None:
        if 0 <= row < len(self._shown):
            self.pictureOpened.emit(self._shown[row]["path"])

    @Slot()
    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the evaluation", "evaluation.csv",
                                              "CSV table (*.csv)")
        if path:
            self.exportRequested.emit(path if path.lower().endswith(".csv") else path + ".csv")

    @Slot()
    def _on_choose_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of labelled pictures",
                                                  self.folder_edit.text() or self._default_folder)
        if folder:
            self.folder_edit.setText(folder)

    @Slot()
    def _on_use_data_clicked(self) -> None:
        if self._default_folder:
            self.folder_edit.setText(self._default_folder)

    @Slot()
    def _on_evaluate_clicked(self) -> None:
        folder = self.folder_edit.text().strip()
        if folder:
            self.evaluateRequested.emit(folder)
