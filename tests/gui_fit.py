"""Finding text that does not fit: labels, buttons, check boxes and combo boxes whose text is
cut, in a shown window (used by test_gui_fit; no tests here)."""
from __future__ import annotations

from PySide6.QtGui import Qt, QTextDocument
from PySide6.QtWidgets import (QAbstractButton, QCheckBox, QComboBox, QLabel, QPushButton,
                               QScrollArea, QStyle, QStyleOptionComboBox, QToolButton, QWidget)

SLACK = 2  # px: rounding in font metrics


def _shown(widget: QWidget, window: QWidget) -> bool:
    if not widget.isVisibleTo(window) or widget.width() <= 0:
        return False
    return widget.visibleRegion().boundingRect().width() > 0 or True


def _plain(text: str) -> str:
    if Qt.mightBeRichText(text):
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


def _label_problem(label: QLabel) -> str:
    text = label.text()
    if not text or label.pixmap() is not None and not label.pixmap().isNull():
        return ""
    if getattr(label, "is_elided", None) is not None:  # QtElidedLabel: shortened with a tooltip
        return "" if not label.is_elided() or label.toolTip() else "elided without a tooltip"
    rect = label.contentsRect()
    margin = label.margin() * 2 + label.indent() if label.indent() > 0 else label.margin() * 2
    if label.wordWrap() or Qt.mightBeRichText(text):
        if label.wordWrap():
            needed = label.heightForWidth(label.width())
            if needed > label.height() + SLACK:
                return f"needs {needed} px of height, has {label.height()}"
            return ""
        doc = QTextDocument()
        doc.setDefaultFont(label.font())
        doc.setHtml(text)
        doc.setDocumentMargin(0)
        width = doc.idealWidth()
    else:
        metrics = label.fontMetrics()
        width = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
    if width > rect.width() - margin + SLACK:
        return f"needs {width:.0f} px of width, has {rect.width() - margin}"
    return ""


def _button_problem(button: QAbstractButton) -> str:
    if not button.text():
        return ""
    hint = button.sizeHint().width()
    if isinstance(button, QToolButton) and button.menu() is not None:
        hint -= 4  # the menu arrow's reserve
    if hint > button.width() + SLACK:
        return f"needs {hint} px of width, has {button.width()}"
    return ""


def _combo_problem(combo: QComboBox) -> str:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    text = combo.currentText()
    needed = combo.fontMetrics().horizontalAdvance(text)
    if not combo.itemIcon(combo.currentIndex()).isNull():
        needed += combo.iconSize().width() + 4
    if text and needed > field.width() + SLACK:
        return f"{text!r} needs {needed} px, the box shows {field.width()}"
    return ""


def cut_texts(window: QWidget) -> list[str]:
    """Every shown label, button, check box or combo box in `window` whose text is cut, and
    every scroll area whose content is wider than it without a scroll bar to reach it."""
    problems = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.window() is not window:
            continue
        if isinstance(widget, QScrollArea) and widget.widget() is not None:
            inner, view = widget.widget().width(), widget.viewport().width()
            if inner > view + SLACK and not widget.horizontalScrollBar().isVisible():
                problems.append(f"QScrollArea {widget.objectName()!r}: its content is {inner} px "
                                f"wide but only {view} px show")
            continue
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
        elif isinstance(widget, (QPushButton, QCheckBox, QToolButton)):
            problem = _button_problem(widget)
        elif isinstance(widget, QComboBox):
            problem = _combo_problem(widget)
        else:
            continue
        if problem:
            text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            problems.append(f"{type(widget).__name__} {widget.objectName()!r} "
                            f"{_plain(text)[:60]!r}: {problem}")
    return problems
