"""The list of past training runs (from `core.runs.run.list_runs`); double-click one to reopen it."""
from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu, QWidget

_STATUS_WORDS = {"finished": "", "cancelled": "stopped", "running": "unfinished",
                 "failed": "failed", "broken": "damaged"}


def friendly_date(created: str) -> str:
    """'2026-11-22T11:26:19' -> '22 Nov 11:26' (or the text unchanged if it is not a date)."""
    try:
        return _dt.datetime.fromisoformat(created).strftime("%d %b %H:%M").lstrip("0")
    except (TypeError, ValueError):
        return created or ""


def describe_run(summary) -> tuple[str, str]:
    """(two-line caption, tooltip) for a `RunSummary`."""
    accuracy = summary.best_val_accuracy
    score = f"{accuracy:.0%} right" if accuracy is not None else "no score yet"
    status = _STATUS_WORDS.get(summary.status, summary.status)
    first = " \u00b7 ".join(part for part in (summary.model, friendly_date(summary.created)) if part)
    second = " \u00b7 ".join(part for part in (score, status) if part)
    caption = f"{first or summary.name}\n{second}"
    tooltip = (f"{summary.name}\n{summary.path}\nModel: {summary.model}\n"
               f"Created: {friendly_date(summary.created) or 'unknown'}\n"
               f"Epochs: {summary.epochs}\nBest validation accuracy: {score}")
    if summary.error:
        tooltip += f"\nProblem: {summary.error}"
    return caption, tooltip


class QtRunsList(QListWidget):
    """Past runs, newest first. `runActivated(path)` when the user opens one."""

    runActivated = Signal(str)
    exportRequested = Signal(str)  # run folder, from the right-click menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsList")
        self.setToolTip("Models you trained before. Double-click one to see its curves again "
                        "and use it for predictions.")
        self.setAccessibleName("Past runs")
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.itemActivated.connect(self._on_item_activated)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self._current_path = ""

    def set_runs(self, summaries: list) -> None:
        self.clear()
        for summary in summaries:
            caption, tooltip = describe_run(summary)
            item = QListWidgetItem(caption)
            item.setToolTip(tooltip)
            item.setData(Qt.ItemDataRole.UserRole, str(summary.path))
            if summary.error:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.addItem(item)
        self.mark_current(self._current_path)

    def mark_current(self, path: str) -> None:
        """Select the run that is currently in use (e.g. after training or reopening)."""
        self._current_path = path
        for row in range(self.count()):
            item = self.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == path:
                self.setCurrentItem(item)
                return

    def selected_path(self) -> str | None:
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def context_menu(self, item: QListWidgetItem) -> QMenu:
        """The right-click menu of one run: open it, or export its model."""
        path = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.runActivated.emit(path))
        menu.addAction("Export model\u2026", lambda: self.exportRequested.emit(path))
        return menu

    @Slot(object)
    def _on_context_menu(self, position) -> None:
        item = self.itemAt(position)
        if item is not None:
            self.context_menu(item).exec(self.viewport().mapToGlobal(position))

    @Slot(QListWidgetItem)
    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.runActivated.emit(item.data(Qt.ItemDataRole.UserRole))
