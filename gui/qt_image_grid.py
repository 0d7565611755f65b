"""A grid of same-sized pictures scaled to fill the widget (the augmentation preview)."""
from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath
from PySide6.QtWidgets import QSizePolicy, QWidget


class QtImageGrid(QWidget):
    """Paints `images` in a square-ish grid; shows `placeholder` text when there are none.

    `generation` counts how many times new images were set (tests wait on it).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[QImage] = []
        self._placeholder = ""
        self._note = ""
        self.generation = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)

    def images(self) -> list[QImage]:
        return list(self._images)

    def set_images(self, images: list[QImage]) -> None:
        self._images = list(images)
        self._placeholder = ""
        self.generation += 1
        self.update()

    def set_placeholder(self, text: str) -> None:
        """Show `text` instead of pictures (empty state, errors)."""
        self._images = []
        self._placeholder = text
        self.update()

    def set_note(self, text: str) -> None:
        """A small caption drawn over the pictures (e.g. "updating\u2026")."""
        if text != self._note:
            self._note = text
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(560, 560)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if not self._images:
            painter.setPen(QColor("#64748b"))
            painter.drawText(self.rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        count = len(self._images)
        columns = math.ceil(math.sqrt(count))
        rows = math.ceil(count / columns)
        gap = 8
        cell = min((self.width() - gap * (columns - 1)) / columns,
                   (self.height() - gap * (rows - 1)) / rows)
        left = (self.width() - (cell * columns + gap * (columns - 1))) / 2
        top = (self.height() - (cell * rows + gap * (rows - 1))) / 2
        for index, image in enumerate(self._images):
            row, column = divmod(index, columns)
            box = QRectF(left + column * (cell + gap), top + row * (cell + gap), cell, cell)
            scale = min(box.width() / max(1, image.width()), box.height() / max(1, image.height()))
            width, height = image.width() * scale, image.height() * scale
            target = QRectF(box.center().x() - width / 2, box.center().y() - height / 2, width, height)
            path = QPainterPath()
            path.addRoundedRect(target, 6, 6)
            painter.save()
            painter.setClipPath(path)
            painter.drawImage(target, image)
            painter.restore()
        if self._note:
            painter.setPen(QColor("#475569"))
            painter.drawText(self.rect().adjusted(0, 0, -4, -2),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, self._note)
