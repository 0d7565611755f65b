"""A one-line label that shortens its text with "\u2026" when space is short; the full text is
then in its tooltip, so nothing is ever cut off mid-word without a way to read it."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class QtElidedLabel(QLabel):
    """`setText` takes the full text; the label shows what fits."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full = ""
        self._tooltip = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._full = text or ""
        self._refit()

    def full_text(self) -> str:
        return self._full

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - Qt API
        self._tooltip = tip or ""
        self._refit()

    def is_elided(self) -> bool:
        return super().text() != self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._refit()

    def _refit(self) -> None:
        width = max(0, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, self._mode, width) if width else self._full
        QLabel.setText(self, shown)
        tip = self._tooltip
        if shown != self._full:
            tip = self._full + (f"\n{tip}" if tip and tip != self._full else "")
        QLabel.setToolTip(self, tip)
