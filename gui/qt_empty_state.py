"""What a panel shows before there is anything to show: what goes here and how to get it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from gui.qt_icons import icon


class QtEmptyState(QWidget):
    """A centred icon, a title, a sentence of explanation and optional action buttons.

    Example::

        empty = QtEmptyState("folder", "No dataset yet", "Choose a folder of images.")
        empty.add_action("Choose folder\u2026", self._on_choose_clicked, primary=True)
    """

    def __init__(self, icon_name: str, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self._symbol = QLabel()
        self._symbol.setObjectName("emptySymbol")
        self._symbol.setPixmap(icon(icon_name).pixmap(56, 56))
        self._title = QLabel(title)
        self._title.setObjectName("emptyTitle")
        self._text = QLabel(text)
        self._text.setObjectName("emptyText")
        self._text.setWordWrap(True)
        self._text.setMaximumWidth(460)  # as wide as there is room for, up to 460 px
        self._text.setMinimumWidth(220)
        self._text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        for label in (self._symbol, self._title, self._text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._actions = QHBoxLayout()
        self._actions.setSpacing(8)
        self._actions.addStretch(1)
        self._actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self._symbol)
        layout.addWidget(self._title)
        text_row = QHBoxLayout()
        text_row.addStretch(1)
        text_row.addWidget(self._text, 100)
        text_row.addStretch(1)
        layout.addLayout(text_row)
        layout.addSpacing(6)
        layout.addLayout(self._actions)
        layout.addStretch(1)

    def set_text(self, title: str, text: str) -> None:
        self._title.setText(title)
        self._text.setText(text)

    def add_action(self, text: str, slot, primary: bool = False, tooltip: str = "") -> QPushButton:
        button = QPushButton(text)
        if primary:
            button.setProperty("primary", True)
        button.setToolTip(tooltip or text)
        button.clicked.connect(slot)
        self._actions.insertWidget(self._actions.count() - 1, button)
        return button
