"""Common frame of the four step pages: a heading that says what the step is for, the page's
content and a footer with the button that leads to the next step."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class QtStepPage(QWidget):
    """Base class for the step pages.

    Subclasses add their widgets to `self.body` and may put status text or buttons in
    `self.footer`. `nextRequested` asks the main window to show the following step.

    Args:
        title: page heading ("Step 1 \u00b7 Your images").
        subtitle: one or two sentences that say what to do here.
        next_text: caption of the next-step button, or "" for none.
    """

    nextRequested = Signal()
    stepRequested = Signal(int)  # go to step 0-3
    messageRequested = Signal(str, str, str)  # text, level, details

    def __init__(self, title: str, subtitle: str, next_text: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepPage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 14)
        layout.setSpacing(12)
        heading = QVBoxLayout()
        heading.setSpacing(2)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("pageTitle")
        self.subtitle_label = QLabel(subtitle)
        self.subtitle_label.setObjectName("pageSubtitle")
        self.subtitle_label.setWordWrap(True)
        heading.addWidget(self.title_label)
        heading.addWidget(self.subtitle_label)
        layout.addLayout(heading)
        self.body = QVBoxLayout()
        self.body.setSpacing(12)
        layout.addLayout(self.body, 1)
        self.footer = QHBoxLayout()
        self.footer.setSpacing(8)
        self.footer.addStretch(1)
        self.next_button = None
        if next_text:
            self.next_button = QPushButton(next_text)
            self.next_button.setObjectName("nextStepButton")
            self.next_button.setToolTip("Go on to the next step: " + next_text.rstrip(" \u2192") + ".")
            self.next_button.clicked.connect(self.nextRequested)
            self.footer.addWidget(self.next_button)
        layout.addLayout(self.footer)

    def notify(self, text: str, level: str = "info", details: str = "") -> None:
        """Ask the window to show `text` in its message banner."""
        self.messageRequested.emit(text, level, details)

    def notify_error(self, report) -> None:
        """Show a worker's `ErrorReport` in the banner."""
        self.messageRequested.emit(report.message, "error", report.details)
