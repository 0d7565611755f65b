"""Images per class and split as horizontal stacked bars (pyqtgraph).

Horizontal bars keep class names readable however many classes there are: pyqtgraph cannot
rotate tick labels, and names on the left axis never overlap.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

SPLIT_COLORS = {"train": "#3b82f6", "validation": "#f59e0b", "test": "#10b981"}
SPLIT_NAMES = {"train": "Training", "validation": "Validation", "test": "Test"}
ROW_HEIGHT = 26


class QtClassChart(pg.PlotWidget):
    """Shows `{split: {class: count}}` (the `splits` entry of `DatasetScan.report()`).

    The legend (colours in `SPLIT_COLORS`) is drawn by the page, outside the plot, so it never
    covers a bar.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("classChart")
        self.setToolTip("How many images each class has, split into the images the model learns "
                        "from (training) and the ones used to check it (validation).")
        self.setAccessibleName("Images per class chart")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.showGrid(x=True, y=False, alpha=0.12)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen("#94a3b8"))
            axis.setTextPen(pg.mkPen("#334155"))
        plot.getAxis("bottom").setLabel("images")
        self._items: list = []
        self.setMinimumHeight(150)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_counts(self, splits: dict[str, dict[str, int]], classes: list[str]) -> None:
        plot = self.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._items.clear()
        rows = list(reversed(classes))  # first class on top
        left = [0.0] * len(rows)
        largest = 1
        for split in ("train", "validation", "test"):
            counts = splits.get(split)
            if not counts:
                continue
            widths = [float(counts.get(name, 0)) for name in rows]
            bars = pg.BarGraphItem(x0=list(left), y=list(range(len(rows))), height=0.62,
                                   width=widths, brush=QColor(SPLIT_COLORS[split]),
                                   pen=pg.mkPen("w", width=1))
            plot.addItem(bars)
            self._items.append(bars)
            left = [a + b for a, b in zip(left, widths)]
        for row, total in enumerate(left):
            largest = max(largest, total)
            label = pg.TextItem(f"{int(total)}", color="#334155", anchor=(0, 0.5))
            label.setPos(total, row)
            plot.addItem(label)
            self._items.append(label)
        plot.getAxis("left").setTicks([[(i, name) for i, name in enumerate(rows)]])
        plot.setXRange(0, largest * 1.22, padding=0)
        plot.setYRange(-0.6, len(rows) - 0.4, padding=0)
