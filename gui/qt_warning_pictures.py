"""The window a Data-step warning opens ("Show the pictures"): the pictures it is about, side by
side in their groups, each with its class, split and file name; what the person can do about
them without touching their folders.

The warning is a record of `core.data.picture_warnings` (kind, text, who made the split, the
groups of pictures, what leaving copies out would leave out). Leaving pictures out, or deciding
a picture's class, goes to the review decisions (`core.data.review.ReviewStore`, kept by the
app); training applies them. Thumbnails are made on the worker lane "review".
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QDialog, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from core.errors import StudioError
from gui.qt_elided_label import QtElidedLabel
from gui.qt_review_jobs import Suspect, load_review_pictures

PICTURE_SIZE = 120
MAX_GROUPS = 40  # groups shown at once; the rest are counted
MAX_TILES = 48  # pictures shown of one group (a folder of 500 unreadable files, say)
SPLIT_WORDS = {"train": "training", "validation": "validation", "test": "test"}

TITLES = {
    "copies": "Copies of the same picture",
    "leakage": "The same picture on both sides of the split",
    "conflicts": "The same picture in two classes",
    "near_duplicates": "Near-identical pictures kept together",
    "unreadable": "Files that could not be read",
}


def what_to_do(record: dict) -> str:
    """The sentence under the pictures: what the person can do, fitted to who split them."""
    kind, yours = record["kind"], record["split_by"] == "you"
    if kind == "copies":
        return ("What you can do: nothing is needed. To count each picture once, let the app "
                "leave the extra copies out (the button below); your folders stay as they are.")
    if kind == "leakage" and yours:
        return ("What you can do: let the app leave the copies on the training side out (the "
                "button below), so the model is checked only on pictures it has not seen. Your "
                "folders stay as they are.")
    if kind in ("leakage", "conflicts"):
        return ("What you can do: say which class each copy belongs to, or exclude it, in the "
                "Review window. The app remembers your decision; your folders stay as they are.")
    if kind == "near_duplicates":
        return ("Nothing needs doing: the app split your pictures itself and kept each group on "
                "one side, so the model is never checked on a near-copy of a training picture.")
    return ("Nothing needs doing: these files are left out. To use them, open them in a "
            "picture program and save them again as JPEG or PNG.")


class _Tile(QWidget):
    """One picture: a square thumbnail (grey until it arrives), its class, split and name."""

    def __init__(self, path: str, where: str, name: str, note: str = "") -> None:
        label, _, split = where.partition(" \u00b7 ")
        super().__init__()
        self.path = path
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.picture = QLabel("\u2716" if note else "")
        self.picture.setFixedSize(PICTURE_SIZE, PICTURE_SIZE)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #eceff1; border-radius: 4px; color: #b0b6ba;"
                                   " font-size: 28px;")
        self.picture.setToolTip(path)
        self.picture.setAccessibleName(f"Picture {name}")
        layout.addWidget(self.picture)
        self.where = QtElidedLabel(label)
        self.where.setStyleSheet("font-weight: 600;")
        self.where.setToolTip(f"Class: {label}")
        self.split = QtElidedLabel(f"in {split}" if split else "")
        self.split.setToolTip("The part of the pictures it is in (training or validation).")
        self.name = QtElidedLabel(name, mode=Qt.TextElideMode.ElideMiddle)
        self.name.setToolTip(path)
        for line in (self.where, self.split, self.name):
            line.setFixedWidth(PICTURE_SIZE)
            layout.addWidget(line)
        self.split.setVisible(bool(split))
        if note:
            self.note = QLabel(note)
            self.note.setWordWrap(True)
            self.note.setFixedWidth(PICTURE_SIZE)
            self.note.setStyleSheet("color: palette(mid);")
            layout.addWidget(self.note)
        layout.addStretch(1)

    def show_image(self, image) -> None:
        self.picture.setText("")
        self.picture.setPixmap(QPixmap.fromImage(image))


class QtWarningPicturesDialog(QDialog):
    """The pictures of one warning record of `scan` (see the module's docstring).

    `reviewRequested(list)` asks for the Review window on these `Suspect`s; `decisionsChanged`
    after pictures were left out."""

    reviewRequested = Signal(list)
    decisionsChanged = Signal()

    def __init__(self, record: dict, scan, settings_folder, runner=None,
                 parent: QWidget | None = None) -> None:
        from core.data.review import ReviewStore

        super().__init__(parent)
        self.record, self.scan, self.runner = record, scan, runner
        self.store = ReviewStore(scan.root, settings_folder)
        self.setObjectName("warningPicturesDialog")
        self.setWindowTitle(TITLES.get(record["kind"], "The pictures"))
        self.resize(900, 620)
        self._where = _where_of(scan)
        self._jobs: list = []
        self.tiles: dict[str, _Tile] = {}

        layout = QVBoxLayout(self)
        title = QLabel(TITLES.get(record["kind"], "The pictures"))
        title.setStyleSheet("font-size: 17px; font-weight: 600;")
        layout.addWidget(title)
        self.finding = QLabel(record["text"])
        self.finding.setWordWrap(True)
        layout.addWidget(self.finding)
        self.advice = QLabel(what_to_do(record))
        self.advice.setObjectName("warningAdvice")
        self.advice.setWordWrap(True)
        self.advice.setStyleSheet("font-weight: 600;")
        layout.addWidget(self.advice)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        container = QWidget()
        self.groups_layout = QVBoxLayout(container)
        self.groups_layout.setSpacing(8)
        self.groups = [[self._absolute(rel) for rel in group] for group in record["groups"]]
        for group, rels in list(zip(self.groups, record["groups"]))[:MAX_GROUPS]:
            self.groups_layout.addWidget(self._group_row(group, rels))
        if len(self.groups) > MAX_GROUPS:
            more = QLabel(f"\u2026and {len(self.groups) - MAX_GROUPS} more groups.")
            self.groups_layout.addWidget(more)
        self.groups_layout.addStretch(1)
        self.scroll.setWidget(container)
        layout.addWidget(self.scroll, 1)

        bar = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("warningStatus")
        self.status.setWordWrap(True)
        bar.addWidget(self.status, 1)
        self.exclude_button = QPushButton(self._exclude_words())
        self.exclude_button.setObjectName("leaveOutCopiesButton")
        self.exclude_button.setToolTip("Training leaves these pictures out. The files stay where "
                                       "they are; Undo in the Review window takes it back.")
        self.exclude_button.clicked.connect(self._on_exclude_clicked)
        self.exclude_button.setVisible(bool(record["exclude"]))
        bar.addWidget(self.exclude_button)
        self.review_button = QPushButton("Decide in the Review window\u2026")
        self.review_button.setObjectName("reviewTheseButton")
        self.review_button.setToolTip("Say for each picture which class it belongs to, or "
                                      "exclude it. Your folders are never changed.")
        self.review_button.clicked.connect(self._on_review_clicked)
        self.review_button.setVisible(record["kind"] == "conflicts" or (
            record["kind"] == "leakage" and record["split_by"] == "app"))
        bar.addWidget(self.review_button)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bar.addWidget(close)
        layout.addLayout(bar)
        self._show_status()

    # --- building --------------------------------------------------------------------------

    def _absolute(self, rel: str) -> str:
        from core.data.folders import absolute_path

        return absolute_path(self.scan.root, rel)

    def _group_row(self, group: list[str], rels: list[str]) -> QFrame:
        row = QFrame()
        row.setObjectName("pictureGroup")
        row.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(row)
        grid.setContentsMargins(8, 8, 8, 8)
        grid.setHorizontalSpacing(10)
        reasons = self.record.get("reasons") or {}
        columns = 6
        for index, (path, rel) in enumerate(zip(group[:MAX_TILES], rels)):
            tile = _Tile(path, self.where(path), Path(path).name, reasons.get(rel, ""))
            self.tiles[path] = tile
            grid.addWidget(tile, index // columns, index % columns)
        if len(group) > MAX_TILES:
            more = QLabel(f"\u2026and {len(group) - MAX_TILES} more.")
            grid.addWidget(more, MAX_TILES // columns + 1, 0, 1, columns)
        grid.setColumnStretch(columns, 1)
        return row

    def where(self, path: str) -> str:
        """"cats · training": the picture's class and the split it is in."""
        if path in self._where:
            label, split = self._where[path]
            return f"{label} \u00b7 {SPLIT_WORDS.get(split, split)}"
        return Path(path).parent.name  # an unreadable file: its folder

    def _exclude_words(self) -> str:
        if self.record["kind"] == "leakage":
            return "Leave the training copies out"
        return "Leave the extra copies out"

    # --- the pictures ----------------------------------------------------------------------

    def start(self) -> None:
        """Make the thumbnails on the worker lane "review"."""
        wanted = [path for path in self.tiles if path in self._where]
        if self.runner is None or not wanted:
            return
        self._jobs.append(self.runner.submit(
            "review", load_review_pictures, wanted,
            sizes=dict.fromkeys(wanted, PICTURE_SIZE), cancellable=True,
            doing="loading the pictures", on_result=self.show_pictures,
            on_error=lambda report: None, on_cancelled=lambda: None))

    def show_pictures(self, pictures: dict) -> None:
        for path, image in pictures.items():
            if path in self.tiles:
                self.tiles[path].show_image(image)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        for job in self._jobs:
            job.cancel()
        super().closeEvent(event)

    # --- what the person can do -------------------------------------------------------------

    def _left_out(self) -> list[str]:
        return [rel for rel in self.record["exclude"]
                if (self.store.decisions.get(rel) or {}).get("action") == "exclude"]

    def _show_status(self) -> None:
        done = self._left_out()
        if self.record["exclude"] and len(done) == len(self.record["exclude"]):
            self.status.setText(f"Left out of training: {len(done)} picture"
                                f"{'' if len(done) == 1 else 's'}. Your folders are unchanged.")
            self.exclude_button.setEnabled(False)

    def _on_exclude_clicked(self) -> None:
        done = set(self._left_out())
        paths = [self._absolute(rel) for rel in self.record["exclude"] if rel not in done]
        try:
            self.store.exclude_all({path: getattr(self.scan.info.get(path), "digest", None)
                                    for path in paths})  # one read and one save for them all
        except StudioError as error:  # the settings folder cannot be written, say
            self.status.setText(str(error))
            return
        self._show_status()
        self.decisionsChanged.emit()

    def suspects(self) -> list[Suspect]:
        """The pictures as the Review window lists them: each with the other class its copy is in."""
        suspects = []
        for group in self.groups:
            labels = [self._where.get(path, ("", ""))[0] for path in group]
            for path, label in zip(group, labels):
                other = next((name for name in labels if name and name != label), None)
                why = f"an identical copy is in {other}" if other else "an identical copy"
                suspects.append(Suspect(path, label, other, None, why))
        return suspects

    def _on_review_clicked(self) -> None:
        self.reviewRequested.emit(self.suspects())


def _where_of(scan) -> dict:
    """Absolute path -> (class, split) of every readable picture of `scan`."""
    return {sample.path: (scan.classes[sample.label], split)
            for split, samples in scan.splits.items() for sample in samples}


def open_warning_pictures(page, scan, runner, record: dict) -> QtWarningPicturesDialog:
    """What a warning's "Show the pictures" does on the Data step: the pictures window, whose
    "Decide in the Review window" opens the Review window on these pictures only."""
    from core.models.weights_store import settings_dir
    from gui.qt_review_dialog import open_review_of

    dialog = QtWarningPicturesDialog(record, scan, settings_dir(), runner, page)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.reviewRequested.connect(lambda suspects: setattr(dialog, "review", open_review_of(
        dialog, scan, settings_dir(), runner, suspects,
        f"{len(suspects)} pictures are identical to a picture in another class. For each, "
        "say where it belongs, or exclude it.")))
    dialog.show()
    dialog.start()
    return dialog
