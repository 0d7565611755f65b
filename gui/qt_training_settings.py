"""The Train step's settings: model and mode, epochs, batch size, learning rate, input size,
and (folded away) optimizer, early stopping and class balancing.

Every choice comes from the engine (model registry, optimizers) and explains itself. The
defaults are the engine's own (core.training.request): the input size is the model's until the
user changes it (the pictures' suggested size is shown beside it), and class balancing is on
when the classes are imbalanced, so the app and the command line train the same data alike.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from core.models.registry import MODEL_REGISTRY
from core.models.optimizers import OPTIMIZERS
from gui.qt_model_picker import QtModelPicker
from gui.qt_transfer_options import form_label

BATCH_SIZES = (8, 16, 32, 64, 128)
LEARNING_RATES = (0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001, 0.00003)


def _compact_combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


class QtTrainingSettings(QWidget):
    """Settings form. `values()` gives the `TrainingConfig` fields it controls.

    Signals:
        changed(): any setting changed (the page re-checks whether Train is possible).
        epochsChanged(int): the number of epochs changed (the empty plots follow it).
    """

    changed = Signal()
    epochsChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsContent")
        self._scan = None
        self._size_touched = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(8)
        self.model_picker = QtModelPicker()
        self.model_picker.changed.connect(self._on_model_changed)
        layout.addWidget(self.model_picker)
        layout.addLayout(self._build_main_form())
        self.more_button = QToolButton()
        self.more_button.setObjectName("moreOptionsButton")
        self.more_button.setText("More options")
        self.more_button.setCheckable(True)
        self.more_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more_button.setArrowType(Qt.ArrowType.RightArrow)
        self.more_button.setToolTip("Optimizer, early stopping and class balancing.")
        self.more_button.toggled.connect(self._on_more_toggled)
        layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.more_box = self._build_more_box()
        self.more_box.setVisible(False)
        layout.addWidget(self.more_box)
        layout.addStretch(1)
        self.model_picker.set_models(list(MODEL_REGISTRY.values()))

    def _build_main_form(self) -> QFormLayout:
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setObjectName("epochsSpin")
        self.epochs_spin.setRange(1, 500)
        self.epochs_spin.setValue(10)
        self.epochs_spin.setSuffix(" epochs")
        self.epochs_spin.setAccessibleName("Epochs")
        self.epochs_spin.setToolTip("How many times the model goes through all training pictures. "
                                    "More epochs learn more but take longer; watch the curves.")
        self.epochs_spin.valueChanged.connect(self.epochsChanged)
        self.batch_combo = _compact_combo("batchSizeCombo")
        for size in BATCH_SIZES:
            self.batch_combo.addItem(f"{size} pictures", size)
        self.batch_combo.setCurrentIndex(BATCH_SIZES.index(32))
        self.batch_combo.setAccessibleName("Batch size")
        self.batch_combo.setToolTip("How many pictures the model looks at before each small "
                                    "adjustment. 32 suits most cases; use less if memory runs out.")
        self.rate_combo = _compact_combo("learningRateCombo")
        self.rate_combo.setAccessibleName("Learning rate")
        self.rate_combo.setToolTip("How big each adjustment is. \u201cAutomatic\u201d uses a value "
                                   "that works well with the chosen optimizer.")
        self.rate_combo.addItem("Automatic (recommended)", None)
        for rate in LEARNING_RATES:
            self.rate_combo.addItem(f"{rate:g}", rate)
        self.size_spin = QSpinBox()
        self.size_spin.setObjectName("imageSizeSpin")
        self.size_spin.setRange(8, 512)
        self.size_spin.setSingleStep(8)
        self.size_spin.setSuffix(" px")
        self.size_spin.setAccessibleName("Input size")
        self.size_spin.setToolTip("Pictures are shrunk to this square size before the model sees "
                                  "them. Bigger keeps more detail but trains slower.")
        self.size_spin.valueChanged.connect(self._on_size_edited)
        self.size_hint = QLabel()
        self.size_hint.setObjectName("fieldHint")
        self.size_hint.setWordWrap(True)
        form.addRow(form_label("Epochs"), self.epochs_spin)
        form.addRow(form_label("Batch size"), self.batch_combo)
        form.addRow(form_label("Learning rate"), self.rate_combo)
        form.addRow(form_label("Input size"), self.size_spin)
        form.addRow(form_label(""), self.size_hint)
        return form

    def _build_more_box(self) -> QWidget:
        box = QWidget()
        more = QFormLayout(box)
        more.setContentsMargins(0, 0, 0, 0)
        more.setHorizontalSpacing(12)
        more.setVerticalSpacing(8)
        self.optimizer_combo = _compact_combo("optimizerCombo")
        self.optimizer_combo.setAccessibleName("Optimizer")
        for name, (rate, text) in OPTIMIZERS.items():
            self.optimizer_combo.addItem(name, name)
            self.optimizer_combo.setItemData(self.optimizer_combo.count() - 1,
                                             f"{text} (default rate {rate:g})",
                                             Qt.ItemDataRole.ToolTipRole)
        self.optimizer_combo.setToolTip("The method that adjusts the model. RMSprop is a good "
                                        "default for small CNNs.")
        self.patience_spin = QSpinBox()
        self.patience_spin.setObjectName("earlyStoppingSpin")
        self.patience_spin.setRange(0, 50)
        self.patience_spin.setSpecialValueText("never")
        self.patience_spin.setSuffix(" epochs, no progress")
        self.patience_spin.setAccessibleName("Stop early")
        self.patience_spin.setToolTip("Stop by itself when the validation loss has not improved "
                                      "for this many epochs. \u201cnever\u201d trains all epochs.")
        self.balance_check = QCheckBox("Balance classes")
        self.balance_check.setObjectName("classWeightsCheck")
        self.balance_check.setToolTip("Give rare classes more weight, so the model does not just "
                                      "guess the biggest class. Useful when class sizes differ a lot.")
        more.addRow(form_label("Optimizer"), self.optimizer_combo)
        more.addRow(form_label("Stop early"), self.patience_spin)
        more.addRow(form_label(""), self.balance_check)
        return box

    # -- API -------------------------------------------------------------------------------
    def set_models(self, specs: list) -> None:
        self.model_picker.set_models(specs)

    def spec(self):
        return self.model_picker.spec()

    def values(self) -> dict:
        """The `TrainingConfig` fields set here."""
        return {
            "model": self.model_picker.model_name(), "mode": self.model_picker.mode(),
            "extra": self.model_picker.extra(), "image_size": self.size_spin.value(),
            "epochs": self.epochs_spin.value(), "batch_size": self.batch_combo.currentData(),
            "optimizer": self.optimizer_combo.currentData(),
            "learning_rate": self.rate_combo.currentData(),
            "early_stopping": self.patience_spin.value(),
            "class_weights": self.balance_check.isChecked(),
        }

    def training_config(self, data_dir, out_dir, augment="default", val_split: float = 0.2):
        """The `TrainingConfig` for these settings (the engine checks it: see
        core.training.request)."""
        from core.training.config import TrainingConfig

        return TrainingConfig(**self.values(), data_dir=str(data_dir), out_dir=str(out_dir),
                              augment=augment, val_split=val_split)

    def set_scan(self, scan) -> None:
        """Follow a newly loaded dataset: the size hint, class balancing if it is imbalanced."""
        from core.data.checks import is_imbalanced

        self._scan = scan
        if not self._size_touched:
            self._apply_suggested_size()
        else:
            self._update_size_hint()
        if scan is not None:
            self.balance_check.setChecked(is_imbalanced(scan))

    # -- input size ------------------------------------------------------------------------
    def suggested_size(self) -> int:
        """The model's own input size: what the engine uses when nobody chooses one."""
        spec = self.spec()
        return int(spec.default_image_size) if spec is not None else 150

    def _apply_suggested_size(self) -> None:
        spec = self.spec()
        self.size_spin.blockSignals(True)
        if spec is not None:
            self.size_spin.setMinimum(spec.min_image_size)
        self.size_spin.setValue(self.suggested_size())
        self.size_spin.blockSignals(False)
        self._size_touched = False
        self._update_size_hint()

    def _update_size_hint(self) -> None:
        suggested = self.suggested_size()
        spec = self.spec()
        pretrained = spec is not None and spec.family == "transfer"
        changed = " (you changed it)" if self.size_spin.value() != suggested else ""
        pictures = ""
        if self._scan is not None and not pretrained \
                and self._scan.suggested_input_size != suggested:
            pictures = f" Your pictures would suit {self._scan.suggested_input_size} px."
        self.size_hint.setText(f"Suggested: {suggested} px, this model's size{changed}.{pictures}")

    # -- slots -----------------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        if not self._size_touched:
            self._apply_suggested_size()
        else:
            spec = self.spec()
            if spec is not None:
                self.size_spin.setMinimum(spec.min_image_size)
            self._update_size_hint()
        self.changed.emit()

    @Slot(int)
    def _on_size_edited(self, _value: int) -> None:
        self._size_touched = True
        self._update_size_hint()

    @Slot(bool)
    def _on_more_toggled(self, shown: bool) -> None:
        self.more_box.setVisible(shown)
        self.more_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
