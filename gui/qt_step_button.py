"""A sidebar button for one step of the flow: number badge, title, one-line hint, done tick."""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QAbstractButton, QSizePolicy, QWidget

_ACCENT = QColor("#3b82f6")
_DONE = QColor("#22c55e")


class QtStepButton(QAbstractButton):
    """Checkable step button drawn as a badge plus two lines of text.

    Args:
        number: the step number shown in the badge.
        title: the step name ("Data").
        hint: what happens in this step, in a few words.
    """

    def __init__(self, number: int, title: str, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._number = number
        self._title = title
        self._hint = hint
        self._done = False
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(f"Step {number}: {title}")
        self.setAccessibleDescription(hint)
        self.setToolTip(f"Step {number}: {title}. {hint}.")

    def set_done(self, done: bool) -> None:
        """Show a tick in the badge once the step has what the next step needs."""
        if done != self._done:
            self._done = done
            self.update()

    def is_done(self) -> bool:
        return self._done

    def set_hint(self, hint: str) -> None:
        self._hint = hint
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, 54)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(6, 2, -6, -2)
        if self.isChecked():
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(255, 255, 255, 36))
            painter.drawRoundedRect(rect, 8, 8)
            painter.setBrush(_ACCENT)
            painter.drawRoundedRect(QRectF(rect.left(), rect.top() + 10, 3, rect.height() - 20), 1.5, 1.5)
        elif self.underMouse():
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(255, 255, 255, 18))
            painter.drawRoundedRect(rect, 8, 8)
        if self.hasFocus() and self.window().testAttribute(Qt.WidgetAttribute.WA_KeyboardFocusChange):
            painter.setPen(QPen(_ACCENT, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 7, 7)

        badge = QRectF(rect.left() + 12, rect.center().y() - 13, 26, 26)
        painter.setPen(Qt.PenStyle.NoPen)
        if self._done:
            painter.setBrush(_DONE)
        elif self.isChecked():
            painter.setBrush(_ACCENT)
        else:
            painter.setBrush(QColor("#475569"))
        painter.drawEllipse(badge)
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "\u2713" if self._done else str(self._number))

        text_left = badge.right() + 12
        title_rect = QRectF(text_left, rect.top() + 8, rect.right() - text_left - 6, 20)
        font.setPointSizeF(self.font().pointSizeF() + 1)
        painter.setFont(font)
        painter.setPen(QColor("#f8fafc") if self.isChecked() else QColor("#e2e8f0"))
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._title)

        hint_font = QFont(self.font())
        hint_font.setPointSizeF(max(7.0, self.font().pointSizeF() - 1))
        painter.setFont(hint_font)
        painter.setPen(QColor("#94a3b8"))
        hint_rect = QRectF(text_left, title_rect.bottom(), title_rect.width(), 18)
        hint = painter.fontMetrics().elidedText(self._hint, Qt.TextElideMode.ElideRight, int(hint_rect.width()))
        painter.drawText(hint_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, hint)

    def enterEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.update()
        super().leaveEvent(event)
