"""Questions the app asks a person (yes/no, a new name), in one place.

Callers use `qt_ask.confirm(...)` and `qt_ask.ask_text(...)` through the module, so tests can
answer them without a modal dialog blocking the event loop.
"""
from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget


def confirm(parent: QWidget | None, title: str, text: str, yes: str, no: str = "Cancel") -> bool:
    """Ask a yes/no question with plain button words; True when the person chose `yes`."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton,
                      parent)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no_button)
    box.exec()
    return box.clickedButton() is yes_button


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """A line of text from the person, or None when they cancelled."""
    value, accepted = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value if accepted else None
