"""A titled white panel: the building block every page is laid out with."""
from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class QtCard(QFrame):
    """A rounded panel with a bold title, an optional note on the right and a body layout.

    Example::

        card = QtCard("Classes")
        card.body.addWidget(chart)
    """

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 12, 14, 14)
        outer.setSpacing(8)
        self.header = QHBoxLayout()
        self.header.setSpacing(8)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("cardTitle")
        self.note_label = QLabel()
        self.note_label.setObjectName("cardNote")
        self.header.addWidget(self.title_label)
        self.header.addStretch(1)
        self.header.addWidget(self.note_label)
        if title:
            outer.addLayout(self.header)
        self.body = QVBoxLayout()
        self.body.setSpacing(8)
        outer.addLayout(self.body, 1)

    def set_note(self, text: str) -> None:
        self.note_label.setText(text)
