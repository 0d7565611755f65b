"""The list of past training runs (from `core.runs.run.list_runs`): name, pictures, date,
accuracy and status; double-click one to reopen it, select several to compare them."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QListWidget, QListWidgetItem, QMenu,
                               QWidget)

_STATUS_WORDS = {"finished": "finished", "cancelled": "stopped", "running": "training now",
                 "interrupted": "interrupted", "failed": "failed", "broken": "damaged"}
RESUMABLE = ("interrupted", "cancelled")


def friendly_date(created: str) -> str:
    """'2026-11-22T11:26:19' -> '22 Nov 11:26' (or the text unchanged if it is not a date)."""
    try:
        return _dt.datetime.fromisoformat(created).strftime("%d %b %H:%M").lstrip("0")
    except (TypeError, ValueError):
        return created or ""


def status_words(status: str) -> str:
    return _STATUS_WORDS.get(status, status)


def is_failed(summary) -> bool:
    """A run that left no usable model: it failed, or ended before its first epoch."""
    return summary.status in ("failed", "broken") or (
        summary.epochs == 0 and summary.status not in ("running",))


def describe_run(summary, name: str = "") -> tuple[str, str]:
    """(two-line caption, tooltip) for a `RunSummary`; `name` is the name a person gave it."""
    accuracy = summary.best_val_accuracy
    score = f"{accuracy:.0%} right" if accuracy is not None else "no score"
    status = status_words(summary.status)
    dataset = Path(getattr(summary, "dataset", "") or "").name
    title = name or " \u00b7 ".join(part for part in (summary.model, friendly_date(summary.created))
                                    if part) or summary.name
    second = " \u00b7 ".join(part for part in (dataset, score, status) if part)
    caption = f"{title}\n{second}"
    tooltip = (f"{name or summary.name}\nFolder: {summary.path}\n"
               f"Pictures: {getattr(summary, 'dataset', '') or 'unknown'}\nModel: {summary.model}\n"
               f"Created: {friendly_date(summary.created) or 'unknown'}\n"
               f"Epochs: {summary.epochs}\nBest validation accuracy: {score}\nStatus: {status}")
    if summary.error:
        tooltip += f"\nProblem: {summary.error}"
    return caption, tooltip


class QtRunsList(QListWidget):
    """Past runs, newest first. `runActivated(path)` when the user opens one; several can be
    selected (Ctrl or Shift + click) to compare them."""

    runActivated = Signal(str)
    exportRequested = Signal(str)  # run folder, from the right-click menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsList")
        self.setToolTip("Models you trained before. Double-click one to see its curves again "
                        "and use it for predictions; select several (Ctrl + click) to compare.")
        self.setAccessibleName("Past runs")
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.itemActivated.connect(self._on_item_activated)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self._current_path = ""
        self._summaries: dict[str, object] = {}

    def set_runs(self, summaries: list, names: dict | None = None,
                 hide_failed: bool = False) -> None:
        names = names or {}
        self.clear()
        self._summaries = {}
        for summary in summaries:
            if hide_failed and is_failed(summary):
                continue
            caption, tooltip = describe_run(summary, names.get(str(summary.path), ""))
            item = QListWidgetItem(caption)
            item.setToolTip(tooltip)
            item.setData(Qt.ItemDataRole.UserRole, str(summary.path))
            self._summaries[str(summary.path)] = summary
            if summary.error or summary.status == "failed":
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
        paths = self.selected_paths()
        if len(paths) == 1:
            return paths[0]
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item and item.isSelected() else None

    def selected_paths(self) -> list[str]:
        """The selected runs, in list order."""
        return [self.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.count())
                if self.item(row).isSelected()]

    def summary(self, path: str):
        return self._summaries.get(path)

    def paths(self) -> list[str]:
        return [self.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.count())]

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
