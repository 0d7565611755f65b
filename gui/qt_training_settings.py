"""The Train step's settings: model and mode, epochs, batch size, learning rate, input size,
and (folded away) optimizer, early stopping and class balancing.

Every choice comes from the engine (model registry, optimizers) and explains itself. The
defaults are the engine's own, so the app and the command line train the same data alike
(core.training.request): the model is Recommended ("auto": the app chooses from the pictures
and the weights on this computer), and epochs, input size, optimizer, learning rate and early
stopping read "Automatic" and are sent as None until the person changes them; "Back to
Automatic" undoes that. Automatic means the recipe's choice with Recommended, the model's own
defaults with a named model. Class balancing is on when the classes are imbalanced.
A size chosen for one model is never carried over silently to the next: changing the model
sets it back to Automatic, and the hint says so.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QToolButton,
                               QVBoxLayout, QWidget)

from core.models.registry import MODEL_REGISTRY
from core.models.optimizers import OPTIMIZERS
from gui.qt_auto_spin import AUTO_TEXT, QtAutoSpin
from gui.qt_model_picker import QtModelPicker
from gui.qt_transfer_options import form_label

BATCH_SIZES = (8, 16, 32, 64, 128)
LEARNING_RATES = (0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001, 0.00003)
NAMED_EPOCHS = 10  # a named model's epochs when left to the app (core.training.request)
RECIPE_FLOOR = 32  # px: the smallest input size either network of the recipe takes


def _compact_combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


class QtTrainingSettings(QWidget):
    """Settings form. `values()` gives the `TrainingConfig` fields it controls (None where
    the app chooses).

    Args:
        runner: a `QtWorkerRunner` for reading a weights file off the GUI thread (optional).

    Signals:
        changed(): any setting changed (the page re-checks whether Train is possible).
        epochsChanged(int): the number of epochs to expect changed (the empty plots follow it).
    """

    changed = Signal()
    epochsChanged = Signal(int)

    def __init__(self, runner=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsContent")
        self._scan = None
        self._size_reset = False  # the size a person chose was set back when the model changed
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(8)
        self.model_picker = QtModelPicker(runner)
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
        self.auto_button = QToolButton()
        self.auto_button.setObjectName("backToAutomaticButton")
        self.auto_button.setText("Back to Automatic")
        self.auto_button.setToolTip("Let the app choose the epochs, input size, learning rate, "
                                    "optimizer and early stopping again.")
        self.auto_button.clicked.connect(self.set_automatic)
        layout.addWidget(self.auto_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        for signal in (self.epochs_spin.valueChanged, self.size_spin.valueChanged,
                       self.patience_spin.valueChanged, self.rate_combo.currentIndexChanged,
                       self.optimizer_combo.currentIndexChanged):
            signal.connect(self._on_setting_edited)
        self.model_picker.set_models(list(MODEL_REGISTRY.values()))

    def _build_main_form(self) -> QFormLayout:
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        self.epochs_spin = QtAutoSpin(1, 500, " epochs")
        self.epochs_spin.setObjectName("epochsSpin")
        self.epochs_spin.setAccessibleName("Epochs")
        self.epochs_spin.setToolTip("How many times the model goes through all training pictures. "
                                    "Automatic: the app decides (with Recommended, it also stops "
                                    "by itself when the model stops improving).")
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
        self.rate_combo.addItem(AUTO_TEXT, None)
        for rate in LEARNING_RATES:
            self.rate_combo.addItem(f"{rate:g}", rate)
        self.size_spin = QtAutoSpin(RECIPE_FLOOR, 1024, " px", step=8)
        self.size_spin.setObjectName("imageSizeSpin")
        self.size_spin.setAccessibleName("Input size")
        self.size_spin.setToolTip("Pictures are shrunk to this square size before the model sees "
                                  "them. Bigger keeps more detail but trains slower.")
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
        self.optimizer_combo.addItem(AUTO_TEXT, None)
        self.optimizer_combo.setItemData(0, "Recommended: Adam. A named model: RMSprop.",
                                         Qt.ItemDataRole.ToolTipRole)
        for name, (rate, text) in OPTIMIZERS.items():
            self.optimizer_combo.addItem(name, name)
            self.optimizer_combo.setItemData(self.optimizer_combo.count() - 1,
                                             f"{text} (default rate {rate:g})",
                                             Qt.ItemDataRole.ToolTipRole)
        self.optimizer_combo.setToolTip("The method that adjusts the model. Automatic: Adam "
                                        "with Recommended, RMSprop with a named model.")
        self.patience_spin = QtAutoSpin(0, 50, " epochs, no progress", words={0: "never"})
        self.patience_spin.setObjectName("earlyStoppingSpin")
        self.patience_spin.setAccessibleName("Stop early")
        self.patience_spin.setToolTip("Stop by itself when the validation loss has not improved "
                                      "for this many epochs. \u201cnever\u201d trains all epochs. "
                                      "Automatic: on with Recommended, off with a named model.")
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
        """The chosen model's spec; None with Recommended (see `is_ready`)."""
        return self.model_picker.spec()

    def is_ready(self) -> bool:
        """A model is chosen (Recommended counts): Train can start."""
        return self.model_picker.is_recommended() or self.spec() is not None

    def is_automatic(self) -> bool:
        """Every setting the app can choose is left to it."""
        return (self.epochs_spin.is_automatic() and self.size_spin.is_automatic()
                and self.patience_spin.is_automatic() and self.rate_combo.currentData() is None
                and self.optimizer_combo.currentData() is None)

    def title(self) -> str:
        """The model in words, for the log and the run folder's name."""
        spec = self.spec()
        return spec.title if spec is not None else "the recommended network"

    def values(self) -> dict:
        """The `TrainingConfig` fields set here (None: the app chooses)."""
        return {
            "model": self.model_picker.model_name(), "mode": self.model_picker.mode(),
            "extra": self.model_picker.extra(), "image_size": self.size_spin.chosen(),
            "epochs": self.epochs_spin.chosen(), "batch_size": self.batch_combo.currentData(),
            "optimizer": self.optimizer_combo.currentData(),
            "learning_rate": self.rate_combo.currentData(),
            "early_stopping": self.patience_spin.chosen(),
            "class_weights": self.balance_check.isChecked(),
        }

    def training_config(self, data_dir, out_dir, augment="auto", val_split: float = 0.2):
        """The `TrainingConfig` for these settings (the engine checks it: see
        core.training.request)."""
        from core.training.config import TrainingConfig

        return TrainingConfig(**self.values(), data_dir=str(data_dir), out_dir=str(out_dir),
                              augment=augment, val_split=val_split)

    def remembered(self) -> dict:
        """The settings worth restoring at the next launch (None: left to the app)."""
        values = self.values()
        return {key: values[key] for key in ("model", "mode", "image_size", "epochs",
                                             "batch_size", "optimizer", "learning_rate",
                                             "early_stopping")}

    def restore(self, saved: dict) -> None:
        """Set the settings `remembered()` gave; unknown or unusable values are skipped."""
        if not isinstance(saved, dict):
            return
        if isinstance(saved.get("model"), str):
            self.model_picker.set_model(saved["model"], saved.get("mode"))
        for spin, key in ((self.epochs_spin, "epochs"), (self.size_spin, "image_size"),
                          (self.patience_spin, "early_stopping")):
            value = saved.get(key)
            if isinstance(value, int) and not isinstance(value, bool) \
                    and spin.minimum() < value <= spin.maximum():
                spin.setValue(value)
        for combo, key in ((self.batch_combo, "batch_size"), (self.rate_combo, "learning_rate"),
                           (self.optimizer_combo, "optimizer")):
            index = combo.findData(saved.get(key))
            if index >= 0:
                combo.setCurrentIndex(index)
        self._update_automatic()

    def expected_epochs(self) -> int:
        """Epochs to expect (for the empty plots): the chosen number or the app's."""
        chosen = self.epochs_spin.chosen()
        if chosen is not None:
            return chosen
        return self._auto_epochs() or NAMED_EPOCHS

    def set_scan(self, scan) -> None:
        """Follow a newly loaded dataset: the size hint, class balancing if it is imbalanced."""
        from core.data.checks import is_imbalanced

        self._scan = scan
        self._update_automatic()
        if scan is not None:
            self.balance_check.setChecked(is_imbalanced(scan))

    @Slot()
    def set_automatic(self) -> None:
        """Leave epochs, input size, learning rate, optimizer and early stopping to the app."""
        for spin in (self.epochs_spin, self.size_spin, self.patience_spin):
            spin.set_automatic()
        self.rate_combo.setCurrentIndex(0)
        self.optimizer_combo.setCurrentIndex(0)
        self._size_reset = False
        self._update_automatic()

    # -- what Automatic means now ----------------------------------------------------------
    def _recipe_family(self) -> str:
        return "transfer" if self.model_picker.recipe_note.weights is not None else "scratch"

    def _auto_epochs(self) -> int | None:
        if not self.model_picker.is_recommended():
            return NAMED_EPOCHS
        from core.training import recipe

        return 1 if self._recipe_family() == "transfer" else recipe.SCRATCH_EPOCHS

    def _auto_size(self) -> int | None:
        """The input size Automatic gives: the recipe's from the pictures, or the model's."""
        spec = self.spec()
        if spec is not None:
            return int(spec.default_image_size)
        if self._scan is None or not getattr(self._scan, "image_size", None):
            return None
        from core.training.recipe import input_size

        return input_size(self._recipe_family(), self._scan)[0]

    def _update_automatic(self) -> None:
        recommended = self.model_picker.is_recommended()
        self.epochs_spin.set_auto_value(self._auto_epochs())
        self.size_spin.set_auto_value(self._auto_size())
        self.patience_spin.set_auto_value(None if not recommended else
                                          3 if self._recipe_family() == "transfer" else 8)
        spec = self.spec()
        self.size_spin.set_floor(spec.min_image_size if spec is not None else RECIPE_FLOOR)
        self._update_size_hint()
        self.auto_button.setVisible(not self.is_automatic())
        self.epochsChanged.emit(self.expected_epochs())

    def _update_size_hint(self) -> None:
        auto = self._auto_size()
        spec = self.spec()
        if spec is not None:
            meaning = f"{auto} px, this model\u2019s own size"
        elif auto is not None:
            meaning = f"{auto} px, chosen from your pictures\u2019 size"
        else:
            meaning = "chosen from your pictures\u2019 size once they are loaded"
        if self.size_spin.is_automatic():
            text = f"Automatic: {meaning}."
            if self._size_reset:
                text = "Set back to Automatic for this model. " + text
        else:
            text = f"You chose {self.size_spin.value()} px. Automatic would be {meaning}."
        if self._scan is not None and spec is not None and spec.family == "scratch" \
                and self._scan.suggested_input_size != auto:
            text += f" Your pictures would suit {self._scan.suggested_input_size} px."
        self.size_hint.setText(text)

    # -- slots -----------------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        if not self.size_spin.is_automatic():  # never carried over silently to another model
            self.size_spin.blockSignals(True)
            self.size_spin.set_automatic()
            self.size_spin.blockSignals(False)
            self._size_reset = True
        self._update_automatic()
        self.changed.emit()

    @Slot()
    def _on_setting_edited(self, *args) -> None:
        self._size_reset = False
        self._update_automatic()
        self.changed.emit()

    @Slot(bool)
    def _on_more_toggled(self, shown: bool) -> None:
        self.more_box.setVisible(shown)
        self.more_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
