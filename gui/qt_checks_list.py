"""The Data step's "Things to check": one sentence per finding, in a list that scrolls, and,
for a finding about particular pictures, a "Show the pictures" link that asks to see them.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

SYMBOLS = {"warning": "\u26a0", "error": "\u2716", "ok": "\u2713", "info": "\u2139"}
LINK = "Show the pictures"


def items_from_report(report: dict, left_out=frozenset()) -> list[tuple[str, str, dict | None]]:
    """The findings of a scan's report: its warnings (those about pictures with their record),
    then the notes about pictures that need nothing done ("info"). A warning whose copies
    are all `left_out` (relative paths the person excluded) says so and becomes an "ok"."""
    records = {record["text"]: record for record in report.get("picture_warnings", [])}
    items = []
    for text in report.get("warnings", []):
        record = records.get(text)
        level = "error" if (record or {}).get("kind") == "unreadable" else "warning"
        if record and record["exclude"] and set(record["exclude"]) <= set(left_out):
            level, text = "ok", f"{text} Done: the app leaves these copies out of training."
        items.append((level, text, record))
    if not items:
        items.append(("ok", "No problems found: every picture could be read, the classes are "
                            "balanced and no picture is in two places.", None))
    return items + [("info", record["text"], record) for record in records.values()
                    if record["level"] == "info"]


class _Row(QLabel):
    """One finding: its symbol, the sentence and, when it names pictures, the link."""

    def __init__(self, level: str, text: str, record: dict | None) -> None:
        escaped = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        link = f' <a href="show">{LINK}</a>' if record else ""
        super().__init__(f"{SYMBOLS[level]}&nbsp; {escaped}{link}")
        self.level, self.plain, self.record = level, text, record
        self.setObjectName("checkRow")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.setToolTip("Click \u201cShow the pictures\u201d to see them side by side."
                        if record else "")
        self.setContentsMargins(2, 4, 2, 4)


class QtChecksList(QScrollArea):
    """Findings in plain words. `set_items([(level, text, record or None), ...])` shows them
    (level: "warning", "error", "info" or "ok"); `picturesRequested(record)` when a
    finding's link is clicked."""

    picturesRequested = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._container = QWidget()
        self._layout = QVBoxLayout(self._container)
        self._layout.setContentsMargins(6, 4, 6, 4)
        self._layout.setSpacing(2)
        self._layout.addStretch(1)
        self.setWidget(self._container)
        self.rows: list[_Row] = []

    def set_items(self, items: list[tuple[str, str, dict | None]]) -> None:
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        for level, text, record in items:
            row = _Row(level, text, record)
            row.linkActivated.connect(lambda _href, record=record: self.picturesRequested.emit(record))
            self._layout.insertWidget(self._layout.count() - 1, row)
            self.rows.append(row)

    def count(self) -> int:
        return len(self.rows)

    def texts(self) -> list[str]:
        """The sentences shown, with their symbols."""
        return [f"{SYMBOLS[row.level]}  {row.plain}" for row in self.rows]

    def open_pictures(self, index: int) -> None:
        """What clicking row `index`'s link does (for tests and the keyboard)."""
        record = self.rows[index].record
        if record:
            self.picturesRequested.emit(record)
