"""The top classes of one prediction as labelled horizontal bars."""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

ROW = 26


class QtClassBars(QWidget):
    """Paints `[[label, probability], ...]`, best first; the first bar is highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classBars")
        self.setAccessibleName("Top classes")
        self.setToolTip("How sure the model is about each class (the five most likely).")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._top: list = []
        self.setFixedHeight(ROW)

    def set_top(self, top: list) -> None:
        self._top = [(str(label), float(p)) for label, p in top]
        self.setFixedHeight(max(1, len(self._top)) * ROW)
        self.setAccessibleDescription(", ".join(f"{label} {p:.0%}" for label, p in self._top))
        self.update()

    def top(self) -> list:
        return list(self._top)

    def sizeHint(self) -> QSize:
        return QSize(260, self.height())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label_width = min(120, int(self.width() * 0.35))
        value_width = 48
        bar_left = label_width + 8
        bar_width = max(10, self.width() - bar_left - value_width - 4)
        metrics = painter.fontMetrics()
        for row, (label, probability) in enumerate(self._top):
            top = row * ROW
            painter.setPen(QColor("#0f172a" if row == 0 else "#334155"))
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_width)
            painter.drawText(QRectF(0, top, label_width, ROW),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            track = QRectF(bar_left, top + 7, bar_width, ROW - 14)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#e2e8f0"))
            painter.drawRoundedRect(track, 4, 4)
            fill = QRectF(track.left(), track.top(), max(2.0, track.width() * probability), track.height())
            painter.setBrush(QColor("#2563eb" if row == 0 else "#93c5fd"))
            painter.drawRoundedRect(fill, 4, 4)
            painter.setPen(QColor("#0f172a"))
            painter.drawText(QRectF(track.right() + 4, top, value_width, ROW),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             f"{probability:.0%}")
