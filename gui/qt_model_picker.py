"""Choose the model (from the engine's registry) and, for pretrained models, how to use it.

Each choice comes with a sentence on what it is, when to pick it and how long it takes here,
so nobody has to know what "fine-tuning" means to choose well.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from gui.qt_transfer_options import QtTransferOptions

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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._specs: dict[str, object] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(5)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.setToolTip("Which kind of neural network to train. Start with the "
                                    "first one; read the note below for each.")
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
        layout.addWidget(self.model_combo)
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

    def set_model(self, name: str, mode: str | None = None) -> None:
        index = self.model_combo.findData(name)
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        if mode:
            index = self.mode_combo.findData(mode)
            if index >= 0:
                self.mode_combo.setCurrentIndex(index)

    def spec(self):
        return self._specs.get(self.model_name())

    def mode(self) -> str | None:
        return self.mode_combo.currentData()

    @Slot()
    def _on_model_changed(self, *args) -> None:
        spec = self.spec()
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

    def extra(self) -> dict:
        """Mode-specific options for `TrainingConfig.extra` (empty for models from scratch)."""
        spec = self.spec()
        return self.transfer_options.extra() if spec is not None and spec.family == "transfer" else {}
