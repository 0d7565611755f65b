"""The picture with its class-activation heatmap: original, heatmap alone, or a blend.

The heatmap colours are computed by the engine (`core.inference.heatmaps.colorize`); this widget only
paints the two pictures on top of each other, so the opacity slider is instant.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath
from PySide6.QtWidgets import QSizePolicy, QWidget

ORIGINAL, HEATMAP, BLEND = "original", "heatmap", "blend"


class QtCamView(QWidget):
    """Paints `original` and `heat` (same size) according to `mode` and `opacity`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("camView")
        self.setAccessibleName("Picture with heatmap")
        self.setToolTip("Where the model looked: red areas counted most for its answer.")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 200)
        self._original: QImage | None = None
        self._heat: QImage | None = None
        self._mode = BLEND
        self._opacity = 0.5
        self._message = ""

    def set_pictures(self, original: QImage | None, heat: QImage | None = None) -> None:
        self._original = original
        self._heat = heat
        self._message = ""
        self.update()

    def set_message(self, text: str) -> None:
        """Text drawn over the picture, or instead of it (e.g. "Working out the heatmap\u2026")."""
        self._message = text
        self.update()

    def has_heatmap(self) -> bool:
        return self._heat is not None

    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        self._mode = mode
        self.update()

    def opacity(self) -> float:
        return self._opacity

    def set_opacity(self, opacity: float) -> None:
        self._opacity = max(0.0, min(1.0, float(opacity)))
        self.update()

    def rendered(self) -> QImage:
        """What is on screen, at the picture's own size (for tests and saving)."""
        if self._original is None:
            return QImage()
        image = QImage(self._original.size(), QImage.Format.Format_RGB888)
        painter = QPainter(image)
        self._paint_pictures(painter, QRectF(0, 0, image.width(), image.height()))
        painter.end()
        return image

    def sizeHint(self) -> QSize:
        return QSize(480, 420)

    def _paint_pictures(self, painter: QPainter, target: QRectF) -> None:
        if self._mode == HEATMAP and self._heat is not None:
            painter.drawImage(target, self._heat)
            return
        painter.drawImage(target, self._original)
        if self._mode == BLEND and self._heat is not None:
            painter.setOpacity(self._opacity)
            painter.drawImage(target, self._heat)
            painter.setOpacity(1.0)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self._original is None:
            painter.setPen(QColor("#64748b"))
            painter.drawText(self.rect().adjusted(16, 16, -16, -16),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            return
        size = self._original.size()
        scale = min(self.width() / max(1, size.width()), self.height() / max(1, size.height()))
        width, height = size.width() * scale, size.height() * scale
        target = QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)
        path = QPainterPath()
        path.addRoundedRect(target, 8, 8)
        painter.setClipPath(path)
        self._paint_pictures(painter, target)
        painter.setClipping(False)
        if self._message:
            metrics = painter.fontMetrics()
            box = metrics.boundingRect(self._message).adjusted(-10, -6, 10, 6)
            box.moveCenter(target.center().toPoint())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(15, 23, 42, 170))
            painter.drawRoundedRect(box, 6, 6)
            painter.setPen(QColor("white"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self._message)
