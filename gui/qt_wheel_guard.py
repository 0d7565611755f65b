"""The mouse wheel over a settings panel scrolls the panel: a combo box, slider or spin box
inside it changes only when it has the keyboard focus (clicked or tabbed to first).

Without this, scrolling down the Train settings turned "Epochs 3" into 1 and changed the
batch size on the way, as Qt's controls take every wheel turn under the pointer.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox,
                               QWidget)

GUARDED = (QComboBox, QAbstractSlider, QAbstractSpinBox)


class QtWheelGuard(QObject):
    """Event filter: an unfocused control passes the wheel on to what holds it."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) \
                and not watched.hasFocus():
            event.ignore()
            parent = watched.parentWidget()
            while parent is not None and not (isinstance(parent, QAbstractScrollArea)
                                              and parent.verticalScrollBar().maximum() > 0):
                parent = parent.parentWidget()
            if parent is not None:  # the scroll area under the control scrolls instead
                bar = parent.verticalScrollBar()
                steps = event.angleDelta().y() / 120
                bar.setValue(bar.value() - round(steps * bar.singleStep() * 3))
            return True
        return False


def guard_wheel(root: QWidget) -> QtWheelGuard:
    """Guard every combo box, slider and spin box inside `root` (and make them take the
    focus on click or Tab, so a person can still use the wheel on purpose)."""
    guard = QtWheelGuard(root)
    for control in root.findChildren(QWidget):
        if isinstance(control, GUARDED) and not control.objectName().startswith("qt_"):
            control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            control.installEventFilter(guard)
    return guard
