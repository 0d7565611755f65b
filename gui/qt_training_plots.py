"""Live loss and accuracy curves (pyqtgraph), for a running or a reopened training run.

Each curve is created once and only ever updated with `setData` (pyqtgraph's scrolling-plots
recipe), and redraws are coalesced by a timer, so hundreds of batches per second cost the GUI
thread almost nothing.

The x axis counts epochs: the value at 3.0 is the end of the third epoch. Per-batch training
values are drawn thin between the epoch points; an optional exponential smoothing (like
TensorBoard's, with the start-up bias removed) makes noisy batch curves readable.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QTabBar, QVBoxLayout, QWidget

TRAIN_COLOR = "#2563eb"
VALIDATION_COLOR = "#f97316"
METRICS = ("loss", "accuracy")
SERIES = ("batch", "smoothed", "train", "validation")
REDRAW_MS = 250  # live curves redraw at most 4 times a second: smooth enough, cheap on 2 cores
PLOT_MIN_HEIGHT = 170  # px of one plot with its title and axes: its curves get ~90 px of it


def exponential_smoothing(values: np.ndarray, weight: float) -> np.ndarray:
    """Debiased exponential moving average; `weight` 0 returns the values unchanged."""
    values = np.asarray(values, dtype=float)
    if weight <= 0 or values.size == 0:
        return values
    smoothed = np.empty_like(values)
    last = 0.0
    for index, value in enumerate(values):
        last = last * weight + (1 - weight) * value
        smoothed[index] = last / (1 - weight ** (index + 1))
    return smoothed


class _PercentAxis(pg.AxisItem):
    """Accuracy ticks as percentages (0.8 -> "80%")."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [f"{value * 100:.0f}%" for value in values]


class EpochAxis(pg.AxisItem):
    """An epoch axis with whole numbers only (never a tick at 0.5 epochs)."""

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph API
        levels = [(spacing, [v for v in values if abs(v - round(v)) < 1e-6])
                  for spacing, values in super().tickValues(minVal, maxVal, size)
                  if spacing >= 1]
        levels = [(spacing, values) for spacing, values in levels if values]
        if not levels:
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [f"{value:.0f}" for value in values]


def accuracy_floor(values) -> float:
    """Where the accuracy axis starts: a little under the lowest value, so 90-97% is not
    flattened against a 0-100% axis."""
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if values.size == 0:
        return 0.0
    return float(max(0.0, np.floor((values.min() - 0.05) * 10) / 10))


class CompactPlot(pg.PlotWidget):
    """A plot that asks for a modest size (pyqtgraph asks for 600 x 480, which made a page
    taller than a 1080-pixel screen); it still grows into whatever room it is given."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(400, 200)


class QtTrainingPlots(QWidget):
    """Two plots (objectNames lossPlot and accuracyPlot) and the data behind them.

    When there is room for both at `PLOT_MIN_HEIGHT` they are shown one above the other;
    when there is not (a small window), tabs ("Loss", "Accuracy") show one at a time at the
    full height, so a plot is never squeezed into a strip with its axis labels on top of
    each other. The widget never gets smaller than one plot (the page scrolls instead)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.smoothing = 0.0
        self._expected_epochs = 10
        self.loss_plot = epoch_plot("lossPlot", "Loss (lower is better)")
        self.accuracy_plot = epoch_plot("accuracyPlot", "Accuracy (higher is better)",
                                        axis=_PercentAxis("left"))
        self.accuracy_plot.setYRange(0, 1, padding=0.05)
        self.loss_plot.setToolTip("Loss measures how wrong the model is; it should go down. If "
                                  "the orange validation curve rises while the blue one keeps "
                                  "falling, the model is memorising (overfitting).")
        self.accuracy_plot.setToolTip("Share of pictures the model gets right: blue on the "
                                      "training pictures, orange on the pictures kept aside.")
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for metric, plot in (("loss", self.loss_plot), ("accuracy", self.accuracy_plot)):
            item = plot.getPlotItem()
            batch_color = QColor(TRAIN_COLOR)
            batch_color.setAlpha(90)
            self.curves[(metric, "batch")] = item.plot(pen=pg.mkPen(batch_color, width=1))
            self.curves[(metric, "smoothed")] = item.plot(pen=pg.mkPen(TRAIN_COLOR, width=1.5))
            self.curves[(metric, "train")] = item.plot(
                pen=pg.mkPen(TRAIN_COLOR, width=2.5), symbol="o", symbolSize=7,
                symbolBrush=TRAIN_COLOR, symbolPen="w")
            self.curves[(metric, "validation")] = item.plot(
                pen=pg.mkPen(VALIDATION_COLOR, width=2.5), symbol="o", symbolSize=7,
                symbolBrush=VALIDATION_COLOR, symbolPen="w")
            for series in ("batch", "smoothed"):
                self.curves[(metric, series)].setDownsampling(auto=True, method="peak")
                self.curves[(metric, series)].setClipToView(True)
        self._placeholders = []
        for plot in (self.loss_plot, self.accuracy_plot):
            text = pg.TextItem("Curves appear here when training starts", color="#94a3b8",
                               anchor=(0.5, 0.5))
            plot.addItem(text, ignoreBounds=True)
            self._placeholders.append((plot, text))
        self.clear()
        legend = QLabel(
            f"<span style='color:{TRAIN_COLOR}'>\u25CF</span> training pictures&nbsp;&nbsp;&nbsp;"
            f"<span style='color:{VALIDATION_COLOR}'>\u25CF</span> validation pictures (kept aside)"
            "&nbsp;&nbsp;&nbsp;<span style='color:#93c5fd'>\u2014</span> every batch")
        legend.setObjectName("mutedNote")
        legend.setWordWrap(True)
        self.tabs = QTabBar()
        self.tabs.setObjectName("plotTabs")
        self.tabs.addTab("Loss")
        self.tabs.addTab("Accuracy")
        self.tabs.setToolTip("The window is small: the two plots take turns. A bigger window "
                             "shows both.")
        self.tabs.setExpanding(False)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.tabs.hide()
        self._legend = legend
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(legend)
        layout.addWidget(self.tabs)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.accuracy_plot, 1)
        two_lines = 2 * legend.fontMetrics().lineSpacing()  # the legend, wrapped once at most
        self.setMinimumHeight(two_lines + self.tabs.sizeHint().height() + PLOT_MIN_HEIGHT
                              + 2 * layout.spacing())
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self.redraw)

    # -- one plot or both -------------------------------------------------------------------
    def tabbed(self) -> bool:
        """True when the plots take turns (too little room for both)."""
        return self.tabs.isVisibleTo(self)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        both = (self._legend.heightForWidth(self.width()) + 2 * PLOT_MIN_HEIGHT
                + 2 * self.layout().spacing())
        tabbed = event.size().height() < both
        if tabbed != self.tabbed():
            self.tabs.setVisible(tabbed)
            self._on_tab_changed(self.tabs.currentIndex())

    def _on_tab_changed(self, index: int) -> None:
        tabbed = self.tabs.isVisibleTo(self)
        self.loss_plot.setVisible(not tabbed or index == 0)
        self.accuracy_plot.setVisible(not tabbed or index == 1)

    # -- data -------------------------------------------------------------------------------
    def clear(self, expected_epochs: int | None = None) -> None:
        """Remove all points; an empty plot spans `expected_epochs` on the x axis."""
        if expected_epochs:
            self._expected_epochs = int(expected_epochs)
        self._batch_x: list[float] = []
        self._batch = {metric: [] for metric in METRICS}
        self._epoch_x: list[float] = []
        self._epoch = {(metric, split): [] for metric in METRICS for split in ("train", "validation")}
        self._dirty = {"batch", "epoch"}
        self._show_placeholders(True)
        self.redraw()

    def add_batch(self, position: float, logs: dict) -> None:
        """A batch ended at `position` epochs (e.g. 1.5 = half-way through the second epoch)."""
        self._batch_x.append(position)
        for metric in METRICS:
            self._batch[metric].append(_number(logs.get(metric)))
        self._dirty.add("batch")
        self._schedule()

    def add_epoch(self, number: int, logs: dict) -> None:
        """Epoch `number` (1-based) ended with `logs` (loss, accuracy, val_loss, val_accuracy)."""
        self._epoch_x.append(float(number))
        for metric in METRICS:
            self._epoch[(metric, "train")].append(_number(logs.get(metric)))
            self._epoch[(metric, "validation")].append(_number(logs.get(f"val_{metric}")))
        self._dirty.add("epoch")
        self._schedule()

    def set_history(self, rows: list[dict]) -> None:
        """Show a finished run's history (rows of `core.runs.history.read_history`)."""
        self.clear()
        for index, row in enumerate(rows):
            self.add_epoch(int(row.get("epoch") or index + 1), row)
        self.redraw()

    def set_smoothing(self, weight: float) -> None:
        """Draw a smoothed batch curve (`weight` 0-0.99; 0 turns it off, the raw one stays faint)."""
        self.smoothing = float(weight)
        self._dirty.add("batch")
        color = QColor(TRAIN_COLOR)
        color.setAlpha(45 if self.smoothing > 0 else 90)
        for metric in METRICS:
            self.curves[(metric, "batch")].setPen(pg.mkPen(color, width=1))
        self.redraw()

    def num_epochs(self) -> int:
        return len(self._epoch_x)

    def epoch_points(self, metric: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) points drawn for `metric` ("loss"/"accuracy") and split ("train"/"validation")."""
        x, y = self.curves[(metric, split)].getData()
        return (np.array([]) if x is None else x, np.array([]) if y is None else y)

    # -- drawing ----------------------------------------------------------------------------
    def _schedule(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _show_placeholders(self, visible: bool) -> None:
        for plot, text in self._placeholders:
            text.setVisible(visible)
            if visible:
                plot.setXRange(0, self._expected_epochs, padding=0.02)
                if plot is self.loss_plot:
                    plot.setYRange(0, 1, padding=0.02)
                text.setPos(self._expected_epochs / 2, 0.5)

    def redraw(self) -> None:
        """Push changed data to the curves (only what changed: symbols are costly to rebuild)."""
        has_data = bool(self._batch_x or self._epoch_x)
        self._show_placeholders(not has_data)
        batch_x = np.asarray(self._batch_x, dtype=float)
        epoch_x = np.asarray(self._epoch_x, dtype=float)
        for metric in METRICS:
            if "batch" in self._dirty:
                raw = np.asarray(self._batch[metric], dtype=float)
                self._set(metric, "batch", batch_x, raw)
                if self.smoothing > 0 and raw.size:
                    self._set(metric, "smoothed", batch_x, _nan_safe_smoothing(raw, self.smoothing))
                else:
                    self._set(metric, "smoothed", np.array([]), np.array([]))
            if "epoch" in self._dirty:
                for split in ("train", "validation"):
                    self._set(metric, split, epoch_x,
                              np.asarray(self._epoch[(metric, split)], dtype=float))
        self._dirty.clear()
        if has_data:
            right = max([float(self._expected_epochs), *self._batch_x, *self._epoch_x])
            for plot in (self.loss_plot, self.accuracy_plot):
                plot.setXRange(0, right, padding=0.02)
            self.loss_plot.enableAutoRange(axis="y")
            shown = [*self._epoch[("accuracy", "train")], *self._epoch[("accuracy", "validation")]]
            floor = accuracy_floor(shown or self._batch["accuracy"])
            self.accuracy_plot.setYRange(floor, 1, padding=0.05)

    def _set(self, metric: str, series: str, x: np.ndarray, y: np.ndarray) -> None:
        keep = np.isfinite(y) if y.size else np.zeros(0, bool)
        self.curves[(metric, series)].setData(x[keep] if x.size else x, y[keep] if y.size else y)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _nan_safe_smoothing(values: np.ndarray, weight: float) -> np.ndarray:
    finite = np.isfinite(values)
    result = np.full_like(values, np.nan)
    result[finite] = exponential_smoothing(values[finite], weight)
    return result


def epoch_plot(name: str, title: str, axis=None, title_pt: int = 11,
               min_height: int = 60) -> pg.PlotWidget:
    """A plot over epochs in the app's look (title, light grid, slate axes, no mouse zoom or
    menu): the Train step's curves and the comparison of runs both use it."""
    axis_items = {"bottom": EpochAxis()} | ({"left": axis} if axis is not None else {})
    plot = CompactPlot(background="w", axisItems=axis_items)
    plot.setObjectName(name)
    plot.setAccessibleName(title)
    item = plot.getPlotItem()
    item.setTitle(f'<span style="color:#0f172a;font-size:{title_pt}pt;font-weight:bold">'
                  f'{title}</span>')
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.12)
    for side in ("left", "bottom"):
        axis_item = item.getAxis(side)
        axis_item.setPen(pg.mkPen("#94a3b8"))
        axis_item.setTextPen(pg.mkPen("#334155"))
    item.getAxis("bottom").setLabel("epoch")
    item.getViewBox().setMouseEnabled(x=False, y=False)
    plot.setMinimumHeight(min_height)  # the Train step shows one at a time before 60 px
    return plot
