"""A clickable confusion matrix: rows are the true classes, columns what the model said."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget


def _mix(color: QColor, amount: float) -> QColor:
    """`color` faded towards white; amount 0 is white, 1 is the full colour."""
    amount = max(0.0, min(1.0, amount))
    return QColor(round(255 + (color.red() - 255) * amount),
                  round(255 + (color.green() - 255) * amount),
                  round(255 + (color.blue() - 255) * amount))


class QtConfusionMatrix(QTableWidget):
    """Shows `confusion[true][predicted]` counts; `cellChosen(true, predicted)` on click."""

    cellChosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setAccessibleName("Confusion matrix")
        self.setToolTip("Each row is what a picture really shows, each column what the model "
                        "said. The diagonal holds the right answers. Click a number to see "
                        "those pictures.")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(40)
        self.cellClicked.connect(self._on_cell_clicked)
        self._labels: list[str] = []

    def set_matrix(self, labels: list[str], confusion: list[list[int]]) -> None:
        self._labels = list(labels)
        size = len(labels)
        self.clear()
        self.setRowCount(size)
        self.setColumnCount(size)
        self.setHorizontalHeaderLabels([f"said {label}" for label in labels])
        self.setVerticalHeaderLabels([f"is {label}" for label in labels])
        for row in range(size):
            total = max(1, sum(confusion[row]))
            for column in range(size):
                count = int(confusion[row][column])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / total
                base = QColor("#16a34a") if row == column else QColor("#dc2626")
                item.setBackground(_mix(base, 0.12 + 0.6 * share) if count else QColor("#ffffff"))
                item.setForeground(QColor("#ffffff") if share > 0.55 else QColor("#0f172a"))
                plural = "s" if count != 1 else ""
                if row == column:
                    what = "correctly recognised"
                else:
                    what = "taken for \u201c" + labels[column] + "\u201d"
                item.setToolTip(f"{count} picture{plural} of \u201c{labels[row]}\u201d {what} "
                                f"({share:.0%} of that class). Click to see them.")
                self.setItem(row, column, item)

    def count_at(self, row: int, column: int) -> int:
        item = self.item(row, column)
        return int(item.text()) if item is not None else 0

    @Slot(int, int)
    def _on_cell_clicked(self, row: int, column: int) -> None:
        self.cellChosen.emit(row, column)
