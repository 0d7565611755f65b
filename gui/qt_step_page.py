"""Common frame of the four step pages: a heading that says what the step is for, the page's
content and a footer with the button that leads to the next step.

The heading and content scroll inside the page when the window is smaller than they need,
so the window never has to grow past the screen; the footer (with Next) always stays in view.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)


class _PageContent(QWidget):
    """The scrolled part of a page. Its scroll area sizes it by `heightForWidth`, which Qt
    answers with the *preferred* height (even its "minimum" height for a width is the
    preferred one for box layouts): the Train page then scrolled on a 768-pixel screen with
    its Train button out of sight. It answers with the height it needs at least, so the
    content fills the window and scrolls only when the window is really too small."""

    wrapped: QLabel | None = None  # the subtitle: its minimum counts one line, not its lines

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        layout = self.layout()
        if layout is None:
            return super().heightForWidth(width)
        least = layout.totalMinimumSize().height()
        if self.wrapped is not None:  # a subtitle on two lines would squeeze the body
            margins = layout.contentsMargins()
            lines = self.wrapped.heightForWidth(width - margins.left() - margins.right())
            least += max(0, lines - self.wrapped.minimumSizeHint().height())
        return min(layout.totalHeightForWidth(width), least)


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
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("pageScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.content = _PageContent()
        self.content.setObjectName("pageContent")
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(24, 18, 24, 8)
        layout.setSpacing(12)
        heading = QVBoxLayout()
        heading.setSpacing(2)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("pageTitle")
        self.subtitle_label = QLabel(subtitle)
        self.subtitle_label.setObjectName("pageSubtitle")
        self.subtitle_label.setWordWrap(True)
        self.content.wrapped = self.subtitle_label
        heading.addWidget(self.title_label)
        heading.addWidget(self.subtitle_label)
        layout.addLayout(heading)
        self.body = QVBoxLayout()
        self.body.setSpacing(12)
        layout.addLayout(self.body, 1)
        self.scroll.setWidget(self.content)
        outer.addWidget(self.scroll, 1)
        self.footer = QHBoxLayout()
        self.footer.setContentsMargins(24, 4, 24, 14)
        self.footer.setSpacing(8)
        self.footer.addStretch(1)
        self.next_button = None
        if next_text:
            self.next_button = QPushButton(next_text)
            self.next_button.setObjectName("nextStepButton")
            self.next_button.setToolTip("Go on to the next step: " + next_text.rstrip(" \u2192") + ".")
            self.next_button.clicked.connect(self.nextRequested)
            self.footer.addWidget(self.next_button)
        outer.addLayout(self.footer)

    def notify(self, text: str, level: str = "info", details: str = "") -> None:
        """Ask the window to show `text` in its message banner."""
        self.messageRequested.emit(text, level, details)

    def notify_error(self, report) -> None:
        """Show a worker's `ErrorReport` in the banner."""
        self.messageRequested.emit(report.message, "error", report.details)
