"""Options of pretrained models (weights, width, classifier head, pooling, fine-tuning epochs).

The rows come from the engine: a model's `ModelSpec.options` lists its choices (for example
`{"weights": ["imagenet", "none", "PATH"], "alpha": [0.35, ...], "head": [...]}`); the values
go to `TrainingConfig.extra` under the same names. Only the words are the GUI's.

Weights: a file on this computer that holds the chosen network (one the person gave once,
remembered by the engine: core.models.weights_store) comes first and is the default, since it
works offline; ImageNet weights need a download. Choosing a file sets the network width the
file holds (a 0.35 file cannot fill a 1.0 network).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QLabel, QSpinBox, QWidget

PATH = "PATH"
OPTION_WORDS = {
    "weights": ("Starting knowledge", "What the pretrained network already knows. A weights "
                "file on this computer works offline; ImageNet weights are downloaded once "
                "(internet needed)."),
    "alpha": ("Network width", "MobileNetV2 width: smaller is faster, larger is more accurate."),
    "head": ("Classifier on top", "The small model trained on top of the pretrained features."),
    "pooling": ("Summing up features", "How the pretrained network's map of what it sees "
                "where is turned into one list of numbers for the classifier. Average: one "
                "number per feature, small and fast, and the heatmap comes straight from the "
                "model (expert names: global average pooling, CAM). Every position: all the "
                "numbers side by side, bigger (expert name: Flatten, as in the Keras blog)."),
}
VALUE_WORDS = {
    "imagenet": "ImageNet (download)",
    "none": "None (random start, for testing)",
    PATH: "From a weights file\u2026",
    "dense": "Simple (recommended)",
    "dense-hidden": "With a hidden layer",
    "logreg": "Logistic regression",
    "svm": "Linear SVM",
    "avg": "Average (recommended)",
    "flatten": "Every position",
}


LABEL_WIDTH = 112


def form_label(text: str) -> QLabel:
    """A form label of fixed width, so stacked forms on the Train step line up."""
    label = QLabel(text)
    label.setFixedWidth(LABEL_WIDTH)
    label.setWordWrap(True)
    return label


def _value_text(name: str, value, values) -> str:
    if name == "alpha":
        note = " (fastest)" if value == min(values) else " (standard)" if value == 1.0 else ""
        return f"{value:g}\u00d7{note}"
    return VALUE_WORDS.get(value, str(value))


class QtTransferOptions(QWidget):
    """A form with one row per option of the chosen pretrained model.

    `extra()` returns the chosen values for `TrainingConfig.extra`.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setHorizontalSpacing(12)
        self._form.setVerticalSpacing(8)
        self._combos: dict[str, QComboBox] = {}
        self._weights_file = ""
        self._files: dict[str, object] = {}  # path -> PretrainedWeights of files on this computer
        self._spec = None
        self._mode = None
        self.finetune_spin = self._new_finetune_spin(5)

    def set_spec(self, spec, mode: str | None) -> None:
        """Show the options of `spec` (a `ModelSpec`) for training `mode`."""
        self._spec, self._mode = spec, mode
        while self._form.rowCount():
            self._form.removeRow(0)
        self._combos.clear()
        self.finetune_spin = self._new_finetune_spin(self.finetune_spin.value())
        options = dict(spec.options or {}) if spec is not None and spec.family == "transfer" else {}
        for name, values in options.items():
            if name not in OPTION_WORDS or not isinstance(values, (list, tuple)):
                continue
            label, tooltip = OPTION_WORDS[name]
            combo = QComboBox()
            combo.setObjectName(f"{name}OptionCombo")
            combo.setAccessibleName(label)
            combo.setToolTip(tooltip)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            for value in values:
                combo.addItem(_value_text(name, value, values), value)
            if name == "alpha":
                combo.setCurrentIndex(max(0, combo.findData(1.0)))
            if name == "weights":
                self._add_weights_files(combo, spec)
            combo.activated.connect(lambda index, n=name: self._on_chosen(n, index))
            self._combos[name] = combo
            self._form.addRow(form_label(label), combo)
        if mode == "finetune":
            self._form.addRow(form_label("Fine-tuning"), self.finetune_spin)
        self.setVisible(self._form.rowCount() > 0)
        self._follow_weights_file()

    def refresh_weights(self) -> None:
        """Look again for weights files (one was just given): rebuild the rows."""
        self.set_spec(self._spec, self._mode)

    def _add_weights_files(self, combo: QComboBox, spec) -> None:
        """Files on this computer holding `spec`'s network, before "From a weights file…";
        the first becomes the default (it works offline)."""
        from core.models.weights_store import available_weights

        files = [w for w in available_weights() if w.backbone == spec.name and w.source == "file"]
        self._files = {w.path: w for w in files}
        paths = [w.path for w in files]
        if self._weights_file and self._weights_file not in paths:
            paths.append(self._weights_file)
        for path in paths:
            weights = self._files.get(path)
            text = Path(path).name
            if weights is not None:  # its name is long: the path in the tip, the width below
                text = "Your weights file"
            combo.insertItem(combo.count() - 1, text, path)
            combo.setItemData(combo.findData(path), path, Qt.ItemDataRole.ToolTipRole)
        if paths:
            combo.setCurrentIndex(combo.findData(self._weights_file or paths[0]))

    def _follow_weights_file(self) -> None:
        """A MobileNetV2 weights file holds one width: show it, so the two always agree."""
        weights_combo, alpha_combo = self._combos.get("weights"), self._combos.get("alpha")
        weights = self._files.get(weights_combo.currentData()) if weights_combo else None
        if alpha_combo is not None and weights is not None and weights.alpha is not None:
            index = alpha_combo.findData(weights.alpha)
            if index >= 0:
                alpha_combo.setCurrentIndex(index)

    def _new_finetune_spin(self, value: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName("finetuneEpochsSpin")
        spin.setRange(1, 100)
        spin.setValue(value)
        spin.setSuffix(" epochs")
        spin.setAccessibleName("Fine-tuning epochs")
        spin.setToolTip("Epochs of the second stage, where the top of the pretrained network is "
                        "adjusted at a low learning rate.")
        return spin

    def extra(self) -> dict:
        extra = {name: combo.currentData() for name, combo in self._combos.items()
                 if combo.currentData() not in (None, PATH)}
        if self.finetune_spin.parent() is self:
            extra["finetune_epochs"] = self.finetune_spin.value()
        return extra

    @Slot()
    def _on_chosen(self, name: str, index: int) -> None:
        combo = self._combos[name]
        if combo.itemData(index) == PATH:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a weights file", "",
                                                  "Keras weights (*.h5 *.keras);;All files (*)")
            if path:
                self._weights_file = path
                existing = combo.findData(path)
                if existing < 0:
                    combo.insertItem(combo.count() - 1, Path(path).name, path)
                    existing = combo.findData(path)
                combo.setCurrentIndex(existing)
            else:
                combo.setCurrentIndex(0)
        if name == "weights":
            self._follow_weights_file()
        self.changed.emit()
