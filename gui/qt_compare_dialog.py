"""Compare two or more runs: their validation curves overlaid, their settings and accuracy
side by side (rows are settings, columns are runs; cells that differ are bold)."""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

from core.training.distribute import describe
from gui.qt_runs_list import friendly_date, status_words
from gui.qt_training_plots import _PercentAxis, accuracy_floor, epoch_plot

COLORS = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777")


def _training(run) -> dict:
    training = run.config.get("training")
    return training if isinstance(training, dict) else {}


def _rate(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else "chosen by the app"


SETTINGS = (
    ("Best validation accuracy", lambda run: f"{run.best_val_accuracy:.1%}"
     if run.best_val_accuracy is not None else "no score"),
    ("Status", lambda run: status_words(run.status)),
    ("Pictures", lambda run: Path(run.dataset_root).name or "unknown"),
    ("Classes", lambda run: ", ".join(run.labels)),
    ("Model", lambda run: str(run.config.get("model", "?"))),
    ("How it learns", lambda run: {"scratch": "from scratch"}.get(
        str(run.config.get("mode", "?")), str(run.config.get("mode", "?")).replace("_", " "))),
    ("Input size", lambda run: f"{run.image_size} px"),
    ("Epochs done", lambda run: str(len(run.history))),
    ("Batch size", lambda run: str(_training(run).get("batch_size", "?"))),
    ("Trained on", lambda run: describe(run.config.get("distribution")) or "1 device"),
    ("Optimizer", lambda run: str(_training(run).get("optimizer") or "chosen by the app")),
    ("Learning rate", lambda run: _rate(_training(run).get("learning_rate"))),
    ("Created", lambda run: friendly_date(str(run.config.get("created", "")))),
)


def comparison_rows(runs: list) -> list[tuple[str, list[str]]]:
    """(setting, one value per run) for the table."""
    rows = []
    for name, read in SETTINGS:
        values = []
        for run in runs:
            try:
                values.append(read(run))
            except Exception:  # noqa: BLE001 - a damaged config shows "?" rather than failing
                values.append("?")
        rows.append((name, values))
    return rows


class QtCompareDialog(QDialog):
    """Runs side by side. `runs` are opened `Run`s; `names` their names for people."""

    def __init__(self, runs: list, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare runs")
        self.runs = list(runs)
        layout = QVBoxLayout(self)
        intro = QLabel("Validation curves of each run (pictures kept aside), and how the runs "
                       "were made. Settings that differ are in bold.")
        intro.setWordWrap(True)
        intro.setObjectName("mutedNote")
        layout.addWidget(intro)
        legend = QLabel("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{COLORS[i % len(COLORS)]}'>\u25CF</span> {name}"
            for i, name in enumerate(names)))
        legend.setWordWrap(True)
        legend.setObjectName("compareLegend")
        layout.addWidget(legend)
        splitter = QSplitter(Qt.Orientation.Vertical)
        plots = QWidget()
        plots_row = QHBoxLayout(plots)
        plots_row.setContentsMargins(0, 0, 0, 0)
        self.accuracy_plot = epoch_plot("compareAccuracyPlot", "Validation accuracy",
                                        _PercentAxis("left"), title_pt=10, min_height=180)
        self.loss_plot = epoch_plot("compareLossPlot", "Validation loss (lower is better)",
                                    title_pt=10, min_height=180)
        plots_row.addWidget(self.accuracy_plot)
        plots_row.addWidget(self.loss_plot)
        splitter.addWidget(plots)
        self.table = self._table(names)
        splitter.addWidget(self.table)
        splitter.setSizes([300, 300])
        layout.addWidget(splitter, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._draw()
        self.resize(980, 680)

    def _table(self, names: list[str]) -> QTableWidget:
        rows = comparison_rows(self.runs)
        table = QTableWidget(len(rows), len(self.runs))
        table.setObjectName("compareTable")
        table.setHorizontalHeaderLabels(names)
        table.setVerticalHeaderLabels([name for name, _ in rows])
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setWordWrap(True)
        bold = QFont(table.font())
        bold.setBold(True)
        for row, (_, values) in enumerate(rows):
            differ = len(set(values)) > 1
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if differ:
                    item.setFont(bold)
                table.setItem(row, column, item)
        table.horizontalHeader().setStretchLastSection(True)
        table.resizeColumnsToContents()
        for column in range(table.columnCount()):
            table.setColumnWidth(column, min(max(table.columnWidth(column), 140), 320))
        return table

    def _draw(self) -> None:
        shown = []
        for index, run in enumerate(self.runs):
            color = COLORS[index % len(COLORS)]
            pen = pg.mkPen(color, width=2.5)
            epochs = [float(row.get("epoch") or i + 1) for i, row in enumerate(run.history)]
            for plot, key in ((self.accuracy_plot, "val_accuracy"), (self.loss_plot, "val_loss")):
                xs, ys = [], []
                for x, row in zip(epochs, run.history):
                    value = row.get(key)
                    if isinstance(value, (int, float)):
                        xs.append(x)
                        ys.append(float(value))
                if key == "val_accuracy":
                    shown.extend(ys)
                plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=6, symbolBrush=color,
                          symbolPen="w", name=str(index))
        self.accuracy_plot.setYRange(accuracy_floor(shown), 1, padding=0.05)

    def curve_count(self) -> int:
        """Curves drawn in the accuracy plot (one per run), for tests."""
        return len(self.accuracy_plot.getPlotItem().listDataItems())
