"""The Predict step's "Picture" card: the selected picture with its heatmap (or what to do
when there is no model or no picture yet), the Original / Heatmap / Blend buttons and the
heatmap's opacity."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QStackedWidget)

from gui.qt_cam_view import BLEND, HEATMAP, ORIGINAL, QtCamView
from gui.qt_card import QtCard
from gui.qt_empty_state import QtEmptyState


class QtPictureCard(QtCard):
    """Signals: trainRequested() (the person wants step 3), viewChanged() (a view button)."""

    trainRequested = Signal()
    viewChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Picture", parent)
        self.method_label = QLabel()
        self.method_label.setObjectName("cardNote")
        self.header.addWidget(self.method_label)
        self.picture_stack = QStackedWidget()
        self.no_model_state = QtEmptyState("model", "No model yet",
                                           "Train a model in step 3, or open a past run from the "
                                           "list on the left. Then drop pictures here.")
        self.no_model_state.add_action("Go to step 3", self.trainRequested.emit,
                                       primary=True, tooltip="Train a model first.")
        self.no_pictures_state = QtEmptyState("drop", "Drop pictures here",
                                              "Drag pictures or folders from your file manager "
                                              "onto this window, or use \u201cOpen "
                                              "pictures\u2026\u201d.")
        self.cam_view = QtCamView()
        self.picture_stack.addWidget(self.no_model_state)
        self.picture_stack.addWidget(self.no_pictures_state)
        self.picture_stack.addWidget(self.cam_view)
        self.body.addWidget(self.picture_stack, 1)

        view_row = QHBoxLayout()
        view_row.setSpacing(0)
        self.view_group = QButtonGroup(self)
        self.view_buttons = {}
        for mode, text, tip in ((ORIGINAL, "Original", "Show the picture as it is."),
                                (HEATMAP, "Heatmap", "Show only where the model looked."),
                                (BLEND, "Blend", "Show the heatmap over the picture.")):
            button = QPushButton(text)
            button.setObjectName(f"{mode}ViewButton")
            button.setCheckable(True)
            button.setProperty("segment", True)
            button.setToolTip(tip)
            self.view_group.addButton(button)
            self.view_buttons[mode] = button
            view_row.addWidget(button)
        self.view_buttons[BLEND].setChecked(True)
        self.view_group.buttonClicked.connect(self._on_view_clicked)
        view_row.addSpacing(14)
        opacity_label = QLabel("Opacity")
        opacity_label.setObjectName("knobLabel")
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setObjectName("opacitySlider")
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setToolTip("How strongly the heatmap covers the picture.")
        self.opacity_slider.setAccessibleName("Heatmap opacity")
        self.opacity_slider.valueChanged.connect(
            lambda value: self.cam_view.set_opacity(value / 100))
        opacity_label.setBuddy(self.opacity_slider)
        view_row.addWidget(opacity_label)
        view_row.addSpacing(8)
        view_row.addWidget(self.opacity_slider, 1)
        self.body.addLayout(view_row)

    def update_controls(self) -> None:
        """View buttons only with a heatmap; opacity only when blending."""
        has_heat = self.cam_view.has_heatmap()
        for button in self.view_buttons.values():
            button.setEnabled(has_heat)
        self.opacity_slider.setEnabled(has_heat and self.cam_view.mode() == BLEND)

    @Slot()
    def _on_view_clicked(self, *args) -> None:
        for mode, button in self.view_buttons.items():
            if button.isChecked():
                self.cam_view.set_mode(mode)
        self.update_controls()
        self.viewChanged.emit()
