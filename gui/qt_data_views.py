"""Pieces of the Data step: the big-number tiles, the "reading the folder" view and the
input size the Recommended recipe will train at."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from gui.qt_card import QtCard
from gui.qt_class_chart import SPLIT_COLORS, SPLIT_NAMES


class QtStatTile(QWidget):
    """A big number with a caption underneath ("1,240" / "images")."""

    def __init__(self, caption: str, tooltip: str) -> None:
        super().__init__()
        self.setObjectName("statTile")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setToolTip(tooltip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.setSpacing(0)
        self.value = QLabel("\u2013")
        self.value.setObjectName("statValue")
        self.caption = QLabel(caption)
        self.caption.setObjectName("statCaption")
        layout.addWidget(self.value)
        layout.addWidget(self.caption)


def recommended_size(size: dict) -> int:
    """The input size the Recommended recipe will choose for pictures of these sizes
    (core.training.recipe: pretrained when weights are on this computer, else from scratch)."""
    from types import SimpleNamespace

    from core.models.weights_store import available_weights
    from core.training.recipe import input_size

    family = "transfer" if available_weights() else "scratch"
    return input_size(family, SimpleNamespace(image_size=size))[0]


class QtLoadingView(QtCard):
    """"Reading the folder…" with a progress bar (`bar`) and a Cancel button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        layout = QVBoxLayout()
        layout.addStretch(1)
        self.label = QLabel("Reading the folder\u2026")
        self.label.setObjectName("emptyTitle")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel("Every picture is opened once to check that it is readable.")
        self.detail.setObjectName("emptyText")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.bar = QProgressBar()
        self.bar.setObjectName("scanProgress")
        self.bar.setMaximumWidth(460)
        self.bar.setRange(0, 0)
        self.bar.setToolTip("How many pictures have been checked so far.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop reading this folder.")
        layout.addWidget(self.label)
        layout.addWidget(self.detail)
        layout.addSpacing(8)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.body.addLayout(layout)


def chart_legend_html(splits=("train", "validation")) -> str:
    """The class chart's legend: a coloured square and the name of each split."""
    return "&nbsp;&nbsp;&nbsp;".join(
        f'<span style="color:{SPLIT_COLORS[s]}">\u25A0</span> {SPLIT_NAMES[s]}' for s in splits)


def class_caption(name: str, splits: dict, total: int) -> str:
    """"60 pictures (48 train, 12 val)": a class's pictures under its examples."""
    parts = [f"{splits[s].get(name, 0)} {word}" for s, word in
             (("train", "train"), ("validation", "val"), ("test", "test")) if s in splits]
    return f"{total} pictures" + (f" ({', '.join(parts)})" if len(parts) > 1 else "")
