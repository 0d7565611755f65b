"""Choose the model (from the engine's registry) and, for pretrained models, how to use it.

The first choice, and the default, is the recommended recipe (model "auto", as on the command
line): the app chooses the network from the weights on this computer, and says which in
plain words (`QtRecipeNote`). Each other choice comes with a sentence on what it is, when to
pick it and how long it takes here, so nobody has to know what "fine-tuning" means to choose
well.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from gui.qt_recipe_note import QtRecipeNote
from gui.qt_transfer_options import QtTransferOptions

AUTO = "auto"  # the recommended recipe (core.training.request.AUTO)
RECOMMENDED = "Recommended for your pictures"

# Plain words for the engine's training modes (`ModelSpec.modes`).
MODE_WORDS = {
    "scratch": ("Learn from scratch", "Learns everything from your pictures alone."),
    "bottleneck": ("Quick (features once)", "Fastest: the pretrained network looks at each "
                   "picture once, then only a small classifier is trained. No augmentation."),
    "frozen": ("Frozen base + augmentation", "The pretrained network stays as it is and a new "
               "classifier learns on top, with augmentation. Slower, often more accurate."),
    "finetune": ("Fine-tune", "First trains a new classifier, then gently adjusts the top of "
                 "the pretrained network too. Usually the best accuracy; the slowest."),
    "fusion": ("Fusion of layers", "Combines what several layers of the pretrained network "
               "see. Good when classes differ in fine details."),
}


class QtModelPicker(QWidget):
    """Model and mode combos with explanations. `changed()` when either changes."""

    changed = Signal()

    def __init__(self, runner=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._specs: dict[str, object] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(5)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.setToolTip("Which kind of neural network to train. The first, "
                                    "Recommended, lets the app choose; the note below explains "
                                    "each.")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.description = QLabel()
        self.description.setObjectName("fieldHint")
        self.description.setWordWrap(True)
        self.timing = QLabel()
        self.timing.setObjectName("fieldHint")
        self.timing.setWordWrap(True)
        self.mode_label = QLabel("How to use the pretrained network")
        self.mode_label.setObjectName("knobLabel")
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("modeCombo")
        self.mode_combo.setAccessibleName("Training mode")
        self.mode_combo.setToolTip("Pretrained models already know many everyday objects; this "
                                   "says how much of that knowledge to adjust to your pictures.")
        self.mode_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode_combo.setMinimumContentsLength(12)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.mode_description = QLabel()
        self.mode_description.setObjectName("fieldHint")
        self.mode_description.setWordWrap(True)
        self.recipe_note = QtRecipeNote(runner)
        self.recipe_note.weightsChanged.connect(self._on_weights_changed)
        layout.addWidget(self.model_combo)
        layout.addWidget(self.recipe_note)
        layout.addWidget(self.description)
        layout.addWidget(self.timing)
        layout.addSpacing(4)
        layout.addWidget(self.mode_label)
        layout.addWidget(self.mode_combo)
        layout.addWidget(self.mode_description)
        self.transfer_options = QtTransferOptions()
        self.transfer_options.changed.connect(self.changed)
        layout.addSpacing(2)
        layout.addWidget(self.transfer_options)

    def set_models(self, specs: list) -> None:
        """Fill the list from `core.models` specs, keeping the current choice if it still exists."""
        current = self.model_name()
        self._specs = {spec.name: spec for spec in specs}
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem(RECOMMENDED, AUTO)
        self.model_combo.setItemData(0, "The app chooses the network, input size, changes to "
                                     "the pictures and training length from your pictures and "
                                     "the pretrained weights on this computer.",
                                     Qt.ItemDataRole.ToolTipRole)
        for family, heading in (("scratch", "from scratch"), ("transfer", "pretrained")):
            for spec in specs:
                if spec.family == family:
                    self.model_combo.addItem(f"{spec.title} ({spec.name}) \u2013 {heading}", spec.name)
                    self.model_combo.setItemData(self.model_combo.count() - 1, spec.description,
                                                 Qt.ItemDataRole.ToolTipRole)
        for spec in specs:  # any other family, listed last
            if spec.family not in ("scratch", "transfer"):
                self.model_combo.addItem(f"{spec.title} ({spec.name})", spec.name)
        index = self.model_combo.findData(current)
        self.model_combo.setCurrentIndex(max(index, 0))
        self.model_combo.blockSignals(False)
        self._on_model_changed()

    def model_name(self) -> str | None:
        return self.model_combo.currentData()

    def is_recommended(self) -> bool:
        return self.model_name() == AUTO

    def set_model(self, name: str, mode: str | None = None) -> None:
        index = self.model_combo.findData(name)
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        if mode:
            index = self.mode_combo.findData(mode)
            if index >= 0:
                self.mode_combo.setCurrentIndex(index)

    def spec(self):
        """The chosen model's `ModelSpec`; None for Recommended (the app chooses)."""
        return self._specs.get(self.model_name())

    def mode(self) -> str | None:
        return self.mode_combo.currentData()

    @Slot()
    def _on_model_changed(self, *args) -> None:
        spec = self.spec()
        recommended = self.is_recommended()
        self.recipe_note.setVisible(recommended)
        self.description.setVisible(not recommended)
        if recommended:
            self.recipe_note.refresh()
            self.timing.hide()
            for widget in (self.mode_label, self.mode_combo, self.mode_description):
                widget.hide()
            self.mode_combo.blockSignals(True)
            self.mode_combo.clear()
            self.mode_combo.blockSignals(False)
            self.transfer_options.set_spec(None, None)
            self.changed.emit()
            return
        if spec is None:
            self.description.setText("The list of models is loading\u2026")
            return
        self.description.setText(spec.description)
        self.timing.setText(f"Time: {spec.seconds_hint} on a typical laptop."
                            if spec.seconds_hint else "")
        self.timing.setVisible(bool(spec.seconds_hint))
        modes = list(spec.modes)
        self.mode_combo.blockSignals(True)
        self.mode_combo.clear()
        for mode in modes:
            title, text = MODE_WORDS.get(mode, (mode.capitalize(), ""))
            self.mode_combo.addItem(title, mode)
            self.mode_combo.setItemData(self.mode_combo.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.mode_combo.blockSignals(False)
        pretrained = len(modes) > 1 or spec.family == "transfer"
        for widget in (self.mode_label, self.mode_combo, self.mode_description):
            widget.setVisible(pretrained)
        self._on_mode_changed()

    @Slot()
    def _on_mode_changed(self, *args) -> None:
        mode = self.mode()
        title, text = MODE_WORDS.get(mode, ("", "")) if mode else ("", "")
        self.mode_description.setText(text)
        self.transfer_options.set_spec(self.spec(), mode)
        self.changed.emit()

    @Slot()
    def _on_weights_changed(self) -> None:
        self.transfer_options.refresh_weights()
        self.changed.emit()

    def extra(self) -> dict:
        """Mode-specific options for `TrainingConfig.extra` (empty for models from scratch)."""
        spec = self.spec()
        return self.transfer_options.extra() if spec is not None and spec.family == "transfer" else {}
