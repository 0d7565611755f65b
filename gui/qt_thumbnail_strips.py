"""A row of example pictures for every class, so users see at a glance what each class holds."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea,
                               QToolButton, QVBoxLayout, QWidget)

THUMBNAIL_SIZE = 68


class _ClassRow(QWidget):
    def __init__(self, name: str, caption: str, strips: "QtThumbnailStrips") -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        text = QVBoxLayout()
        text.setSpacing(0)
        title = QLabel(name)
        title.setObjectName("thumbClassName")
        title.setFixedWidth(130)
        title.setToolTip(name)
        metrics = title.fontMetrics()
        title.setText(metrics.elidedText(name, Qt.TextElideMode.ElideRight, 128))
        note = QLabel(caption)
        note.setObjectName("thumbClassNote")
        text.addStretch(1)
        text.addWidget(title)
        text.addWidget(note)
        text.addStretch(1)
        layout.addLayout(text)
        self.pictures = QHBoxLayout()
        self.pictures.setSpacing(6)
        layout.addLayout(self.pictures)
        layout.addStretch(1)
        self._strips = strips
        self.setFixedHeight(THUMBNAIL_SIZE + 8)

    def add_picture(self, path: str, image: QImage) -> None:
        button = QToolButton()
        button.setObjectName("thumbnail")
        button.setIcon(QPixmap.fromImage(image))
        button.setIconSize(image.size())
        button.setFixedSize(THUMBNAIL_SIZE + 4, THUMBNAIL_SIZE + 4)
        button.setToolTip(f"{Path(path).name}\nClick to try augmentation on this picture.")
        button.setAccessibleName(f"Example picture {Path(path).name}")
        button.clicked.connect(lambda: self._strips.imageActivated.emit(path))
        self.pictures.addWidget(button)


class QtThumbnailStrips(QScrollArea):
    """Shows a few thumbnails per class; `imageActivated(path)` when one is clicked."""

    imageActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnailStrips")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._rows: dict[str, _ClassRow] = {}
        self._content = QWidget()
        self._content.setObjectName("thumbnailContent")
        self._layout = QGridLayout(self._content)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setVerticalSpacing(6)
        self.setWidget(self._content)

    def set_classes(self, captions: dict[str, str]) -> None:
        """Start one empty row per class; `captions` maps class name to its count text."""
        self.clear()
        for index, (name, caption) in enumerate(captions.items()):
            row = _ClassRow(name, caption, self)
            self._rows[name] = row
            self._layout.addWidget(row, index, 0)
        self._layout.setRowStretch(len(captions), 1)

    def add_thumbnails(self, thumbnails: dict[str, list[tuple[str, QImage]]]) -> None:
        for name, pictures in thumbnails.items():
            row = self._rows.get(name)
            if row is not None:
                for path, image in pictures:
                    row.add_picture(path, image)

    def num_thumbnails(self) -> int:
        return sum(row.pictures.count() for row in self._rows.values())

    def clear(self) -> None:
        for row in self._rows.values():
            self._layout.removeWidget(row)
            row.deleteLater()
        self._rows.clear()
