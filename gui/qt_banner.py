"""A message strip above the pages: errors, warnings and good news in one sentence.

Errors from worker jobs land here instead of a traceback. When there is a traceback it hides
behind a "Details" button (napari's notification toast does the same).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton,
                               QToolButton, QWidget)

from gui.qt_errors import ErrorReport

_ICONS = {"info": "\u2139", "success": "\u2713", "warning": "\u26a0", "error": "\u2716"}


class QtBanner(QFrame):
    """Shows one message at a time; `level` is "info", "success", "warning" or "error".

    Info and success messages hide themselves after a while; warnings and errors stay until
    the user closes them or a new message replaces them.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("level", "info")
        self._details = ""
        self._icon = QLabel()
        self._icon.setObjectName("bannerIcon")
        self._text = QLabel()
        self._text.setObjectName("bannerText")
        self._text.setWordWrap(True)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._details_button = QPushButton("Details\u2026")
        self._details_button.setObjectName("bannerDetails")
        self._details_button.setToolTip("Show the technical details (useful when asking for help).")
        self._details_button.clicked.connect(self._on_details_clicked)
        self._close_button = QToolButton()
        self._close_button.setObjectName("bannerClose")
        self._close_button.setText("\u2715")
        self._close_button.setToolTip("Hide this message.")
        self._close_button.setAccessibleName("Hide message")
        self._close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        layout.setSpacing(10)
        layout.addWidget(self._icon)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._details_button)
        layout.addWidget(self._close_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def text(self) -> str:
        return self._text.text()

    def level(self) -> str:
        return self.property("level")

    def show_message(self, text: str, level: str = "info", details: str = "",
                     timeout_ms: int | None = None) -> None:
        """Show `text`; info/success hide after 8 s unless `timeout_ms` says otherwise."""
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self._icon.setText(_ICONS.get(level, ""))
        self._text.setText(text)
        self._details = details
        self._details_button.setVisible(bool(details))
        self.show()
        if timeout_ms is None:
            timeout_ms = 8000 if level in ("info", "success") else 0
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    @Slot(object)
    def show_error(self, report: ErrorReport) -> None:
        self.show_message(report.message, "error", report.details)

    @Slot()
    def _on_details_clicked(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Details", self._text.text(),
                          QMessageBox.StandardButton.Close, self.window())
        box.setInformativeText("The technical details below help whoever maintains the app.")
        box.setDetailedText(self._details)
        box.open()
