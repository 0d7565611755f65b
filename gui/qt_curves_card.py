"""The Train step's curves card: live loss and accuracy, smoothing, what the app chose and
why (`QtRecipeView`), and the training log."""
from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QPlainTextEdit, QSlider, QStackedWidget,
                               QToolButton)

from gui.qt_card import QtCard
from gui.qt_elided_label import QtElidedLabel
from gui.qt_recipe_view import QtRecipeView
from gui.qt_training_plots import QtTrainingPlots


class QtCurvesCard(QtCard):
    """The "Learning curves" card: the plots, or the recipe's reasons, and the log under them."""

    def __init__(self, parent=None) -> None:
        super().__init__("Learning curves", parent=parent)
        self.smooth_check = QCheckBox("Smooth")
        self.smooth_check.setObjectName("smoothCheck")
        self.smooth_check.setToolTip("Show an exponentially smoothed line through the noisy "
                                     "per-batch values.")
        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setObjectName("smoothSlider")
        self.smooth_slider.setRange(0, 95)
        self.smooth_slider.setValue(60)
        self.smooth_slider.setFixedWidth(80)
        self.smooth_slider.setEnabled(False)
        self.smooth_slider.setToolTip("How strongly to smooth: more to the right is smoother.")
        self.smooth_slider.setAccessibleName("Smoothing strength")
        self.smooth_check.toggled.connect(self._on_smoothing_changed)
        self.smooth_slider.valueChanged.connect(self._on_smoothing_changed)
        self.log_button = QToolButton()
        self.log_button.setObjectName("logButton")
        self.log_button.setText("Log")
        self.log_button.setCheckable(True)
        self.log_button.setToolTip("Show or hide the training log.")
        self.header.removeWidget(self.note_label)
        self.note_label.hide()
        self.recipe_view = QtRecipeView()
        self.header.addWidget(self.recipe_view.toggle)
        self.header.addWidget(self.log_button)
        self.run_caption = QtElidedLabel("No training yet in this session.")
        self.run_caption.setObjectName("mutedNote")
        caption_row = QHBoxLayout()
        caption_row.setSpacing(8)
        caption_row.addWidget(self.run_caption, 1)
        caption_row.addWidget(self.smooth_check)
        caption_row.addWidget(self.smooth_slider)
        self.body.addLayout(caption_row)
        self.plots = QtTrainingPlots()
        self.curves_stack = QStackedWidget()  # the curves, or what the app chose and why
        self.curves_stack.addWidget(self.plots)
        self.curves_stack.addWidget(self.recipe_view)
        self.recipe_view.toggle.toggled.connect(
            lambda shown: self.curves_stack.setCurrentIndex(1 if shown else 0))
        self.body.addWidget(self.curves_stack, 1)
        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("trainingLog")
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setFixedHeight(110)
        self.log_view.setAccessibleName("Training log")
        self.log_view.setToolTip("What the engine reported, line by line.")
        self.log_view.setPlaceholderText("Messages from training appear here.")
        self.log_view.hide()
        self.log_button.toggled.connect(self.log_view.setVisible)
        self.body.addWidget(self.log_view)


    @Slot()
    def _on_smoothing_changed(self, *args) -> None:
        enabled = self.smooth_check.isChecked()
        self.smooth_slider.setEnabled(enabled)
        self.plots.set_smoothing(self.smooth_slider.value() / 100 if enabled else 0.0)
