"""One labelled control per knob of the engine's `AugmentationConfig`, plus presets.

The knobs are listed in `KNOBS` with a label, a range and a plain-language tooltip. Every
field of `AugmentationConfig` must have an entry (a test checks it); a field the engine adds
later still gets a generic control, so nothing is ever hidden from the user.

The first preset, and the default, is Recommended ("auto", as on the command line): the
settings decided from the person's pictures (core.data.augmentation.decide; the page runs the
decision in a worker and hands it over with `set_recommended`), shown with its reasons. Until
it is decided, the knobs show the safe choice (no mirroring, small turns).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QLabel,
                               QSlider, QWidget)

from core.data.augmentation.config import FILL_MODES, AugmentationConfig
from core.data.augmentation.decide import augmentation_for
from core.data.augmentation.presets import PRESETS

AUTO = "auto"
CUSTOM = "custom"
PRESET_TITLES = {AUTO: "Recommended for your pictures", "none": "None",
                 "light": "Light", "keras_blog": "Keras blog (classic)", "strong": "Strong",
                 CUSTOM: "Custom"}
PRESET_WORDS = {
    AUTO: "Decided from your pictures: mirrored and turned far only where that keeps the class.",
    "none": "No changes: the model sees every picture as it is.",
    "light": "Small turns, shifts and zooms, and mirroring. Safe for most photos.",
    "keras_blog": "The Keras blog\u2019s recipe: turns up to 40\u00b0, shifts and zooms of 20%, "
                  "mirroring.",
    "strong": "Bigger changes, including brightness and contrast. For small datasets.",
}
DECIDING = "Looking at your pictures to decide whether mirroring and turning keep their class\u2026"
NOT_YET = "Decided from your pictures once they are loaded in step 1."

FILL_WORDS = {
    "nearest": "Stretch the edge",
    "constant": "Plain grey",
    "reflect": "Mirror image",
    "wrap": "Repeat (tiles)",
}


@dataclass(frozen=True)
class Knob:
    """How one config field is shown.

    kind: "slider" (number), "pair" (symmetric range around 1 stored as [1-x, 1+x] or None),
    "check" (bool), "choice" (str from `choices`), "scale" (rescale multiplier).
    For sliders the control moves in `step` units between `low` and `high`; `percent` shows
    fractions as percentages.
    """

    label: str
    tooltip: str
    kind: str = "slider"
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    unit: str = ""
    percent: bool = False


KNOBS: dict[str, Knob] = {
    "rotation_range": Knob("Rotate up to", "Turns each picture by a random angle, up to this many "
                           "degrees either way. Good when objects can appear tilted.",
                           low=0, high=180, step=1, unit="\u00b0"),
    "width_shift_range": Knob("Shift sideways", "Moves each picture left or right by up to this "
                              "share of its width, so the object is not always centred.",
                              high=0.5, percent=True),
    "height_shift_range": Knob("Shift up/down", "Moves each picture up or down by up to this "
                               "share of its height.", high=0.5, percent=True),
    "shear_range": Knob("Slant (shear)", "Slants each picture by up to this many degrees, like "
                        "pushing the top sideways. Small values are subtle.",
                        low=0, high=45, step=0.1, unit="\u00b0"),
    "zoom_range": Knob("Zoom in/out", "Zooms each picture in or out by up to this share. "
                       "Helps when objects appear at different sizes.", high=0.5, percent=True),
    "horizontal_flip": Knob("Mirror left\u2013right", "Randomly mirrors half of the pictures. Fine "
                            "for most photos; turn it off for text or signs with arrows.",
                            kind="check"),
    "vertical_flip": Knob("Flip upside down", "Randomly turns half of the pictures upside down. "
                          "Only for things without a natural up, like cells or satellite photos.",
                          kind="check"),
    "fill_mode": Knob("Fill empty edges with", "Turning or shifting a picture uncovers empty "
                      "corners; this says what to paint there.", kind="choice"),
    "cval": Knob("Fill grey level", "The grey level (0 black \u2013 255 white) used when empty "
                 "edges are filled with a plain colour.", low=0, high=255, step=1),
    "brightness_range": Knob("Brightness \u00b1", "Makes each picture randomly darker or "
                             "brighter by up to this share. 0 turns it off.", kind="pair",
                             high=0.6, percent=True),
    "contrast_range": Knob("Contrast \u00b1", "Randomly raises or lowers contrast by up to this "
                           "share. 0 turns it off.", high=1.0, percent=True),
    "rescale": Knob("Colour numbers", "Each colour in a picture is a number from 0 to 255. Most "
                    "models learn better when these are divided by 255 (to 0\u20131), the "
                    "standard. Keep it unless you know why; it does not change the preview. "
                    "(Expert name: pixel rescale 1/255.)", kind="scale"),
}


class _SliderKnob(QWidget):
    """A slider with its value shown beside it, mapping slider steps to a float."""

    changed = Signal()

    def __init__(self, name: str, knob: Knob) -> None:
        super().__init__()
        self._knob = knob
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"{name}Slider")
        self.slider.setRange(round(knob.low / knob.step), round(knob.high / knob.step))
        self.slider.setPageStep(max(1, round(0.1 * (knob.high - knob.low) / knob.step)))
        self.slider.setToolTip(knob.tooltip)
        self.slider.setAccessibleName(knob.label)
        self.value_label = QLabel()
        self.value_label.setObjectName("knobValue")
        self.value_label.setMinimumWidth(48)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 0, 0)
        layout.addWidget(self.value_label, 0, 1)
        self.slider.valueChanged.connect(self._on_slider)
        self._show()

    def value(self) -> float:
        return round(self.slider.value() * self._knob.step, 6)

    def set_value(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(float(value) / self._knob.step))
        self.slider.blockSignals(False)
        self._show()

    def _show(self) -> None:
        value = self.value()
        if self._knob.percent:
            text = f"{value:.0%}" if value else "off"
        elif self._knob.step < 1:
            text = f"{value:.1f}{self._knob.unit}" if value else "off"
        else:
            text = f"{value:.0f}{self._knob.unit}"
            if not value and self._knob.unit:
                text = "off"
        self.value_label.setText(text)

    @Slot(int)
    def _on_slider(self, _value: int) -> None:
        self._show()
        self.changed.emit()


class QtAugmentControls(QWidget):
    """Preset chooser and knobs. `configChanged(dict, str)` sends the config and preset name."""

    configChanged = Signal(dict, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("augmentControls")
        self._recommended = augmentation_for(False, False).to_dict()  # safe until decided
        self._reasons: list[str] = []
        self._mirror_allowed: bool | None = None
        self._config = dict(self._recommended)
        self._editors: dict[str, QWidget] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(9)
        grid.setColumnStretch(1, 1)

        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("augmentPresetCombo")
        self.preset_combo.setToolTip("Ready-made settings. Pick one, then adjust any slider.")
        self.preset_combo.setAccessibleName("Augmentation preset")
        for name in (AUTO, *PRESETS):
            self.preset_combo.addItem(PRESET_TITLES.get(name, name.capitalize()), name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, PRESET_WORDS.get(name, ""),
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.addItem(PRESET_TITLES[CUSTOM], CUSTOM)
        self.preset_combo.setItemData(self.preset_combo.count() - 1, "Your own settings.",
                                      Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        preset_label = QLabel("Preset")
        preset_label.setObjectName("knobLabel")
        preset_label.setBuddy(self.preset_combo)
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(12)
        grid.addWidget(preset_label, 0, 0, 1, 2)
        grid.addWidget(self.preset_combo, 1, 0, 1, 2)  # full width: its names are long
        self.preset_note = QLabel()
        self.preset_note.setObjectName("presetNote")
        self.preset_note.setWordWrap(True)
        grid.addWidget(self.preset_note, 2, 0, 1, 2)
        self.reasons_label = QLabel(NOT_YET)
        self.reasons_label.setObjectName("augmentReasons")
        self.reasons_label.setWordWrap(True)
        self.reasons_label.setToolTip("Measured on your own pictures: a quick classifier learns "
                                      "your classes, then is shown pictures mirrored and turned.")
        grid.addWidget(self.reasons_label, 3, 0, 1, 2)

        row = 4
        for field in dataclasses.fields(AugmentationConfig):
            knob = KNOBS.get(field.name) or Knob(field.name.replace("_", " ").capitalize(),
                                                 f"Engine setting {field.name}.", high=1.0)
            label = QLabel(knob.label)
            label.setObjectName("knobLabel")
            label.setToolTip(knob.tooltip)
            editor = self._make_editor(field.name, knob)
            label.setBuddy(editor)
            grid.addWidget(label, row, 0)
            grid.addWidget(editor, row, 1)
            self._editors[field.name] = editor
            row += 1
        grid.setRowStretch(row, 1)
        self.set_config(self._config, AUTO)

    # -- editors ---------------------------------------------------------------------------
    def _make_editor(self, name: str, knob: Knob) -> QWidget:
        if knob.kind == "check":
            editor = QCheckBox("off")
            editor.setObjectName(f"{name}Check")
            editor.toggled.connect(lambda on, box=editor: box.setText("on" if on else "off"))
            editor.toggled.connect(lambda *args: self._on_edited(name))
        elif knob.kind == "choice":
            editor = QComboBox()
            editor.setObjectName(f"{name}Combo")
            for mode in FILL_MODES:
                editor.addItem(FILL_WORDS.get(mode, mode), mode)
            editor.currentIndexChanged.connect(lambda *args: self._on_edited(name))
        elif knob.kind == "scale":
            editor = QComboBox()
            editor.setObjectName(f"{name}Combo")
            editor.addItem("0\u20131 (standard)", 1 / 255)
            editor.addItem("0\u2013255 as they are", 1.0)
            editor.currentIndexChanged.connect(lambda *args: self._on_edited(name))
        elif knob.kind in ("slider", "pair"):
            editor = _SliderKnob(name, knob)
            editor.changed.connect(lambda: self._on_edited(name))
        else:
            editor = QDoubleSpinBox()
            editor.valueChanged.connect(lambda *args: self._on_edited(name))
        if isinstance(editor, QComboBox):
            editor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        editor.setToolTip(knob.tooltip)
        editor.setAccessibleName(knob.label)
        return editor

    def editor(self, name: str) -> QWidget:
        """The control for config field `name` (for tests and keyboard focus)."""
        return self._editors[name]

    def config(self) -> dict:
        return dict(self._config)

    def preset(self) -> str:
        return self.preset_combo.currentData()

    def set_config(self, config: dict, preset: str = CUSTOM) -> None:
        """Show `config` (an `AugmentationConfig.to_dict()`) without emitting a change."""
        self._config = dict(config)
        for name, editor in self._editors.items():
            editor.blockSignals(True)
            self._write_editor(name, editor, config.get(name))
            editor.blockSignals(False)
        index = self.preset_combo.findData(preset if preset else CUSTOM)
        self.preset_combo.setCurrentIndex(index if index >= 0 else self.preset_combo.count() - 1)
        self._update_dependent()

    def _write_editor(self, name: str, editor: QWidget, value) -> None:
        knob = KNOBS.get(name)
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
            editor.setText("on" if value else "off")
        elif isinstance(editor, _SliderKnob):
            if knob is not None and knob.kind == "pair":
                value = 0.0 if not value else max(1 - value[0], value[1] - 1)
            elif isinstance(value, (list, tuple)):  # zoom given as [low, high]
                value = max(1 - value[0], value[1] - 1)
            editor.set_value(value or 0.0)
        elif isinstance(editor, QComboBox):
            index = editor.findData(value)
            if index < 0 and isinstance(value, float):
                index = next((i for i in range(editor.count())
                              if abs(editor.itemData(i) - value) < 1e-9), -1)
            if index < 0:
                editor.addItem(f"{value:g} (custom)", value)
                index = editor.count() - 1
            editor.setCurrentIndex(index)
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value or 0))

    def _read_editor(self, name: str, editor: QWidget):
        knob = KNOBS.get(name)
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, _SliderKnob):
            value = editor.value()
            if knob is not None and knob.kind == "pair":
                return None if value == 0 else [round(1 - value, 6), round(1 + value, 6)]
            return value
        if isinstance(editor, QComboBox):
            return editor.currentData()
        return editor.value()

    def _update_dependent(self, editing: bool = False) -> None:
        """`editing`: a control is being changed under the pointer, so nothing may move: the
        reasons stay as they are (they go when another preset is picked)."""
        constant = self._config.get("fill_mode") == "constant"
        self._editors["cval"].setEnabled(constant)
        note = PRESET_WORDS.get(self.preset(), "Your own settings.")
        if self._mirror_allowed is False and self._config.get("horizontal_flip"):
            note += (" Careful: your pictures looked like mirroring changes their class, and "
                     "these settings mirror them.")
        if editing:  # a shorter note ("Your own settings.") keeps the height it had
            self.preset_note.setMinimumHeight(
                self.preset_note.heightForWidth(self.preset_note.width()))
        else:
            self.preset_note.setMinimumHeight(0)
            self.reasons_label.setVisible(self.preset() == AUTO)
        self.preset_note.setText(note)

    # -- the recommendation ----------------------------------------------------------------
    def set_deciding(self, deciding: bool) -> None:
        """Say that the recommendation is being decided (True) or that there are no pictures
        to decide from (False)."""
        self._reasons, self._mirror_allowed = [], None
        self._recommended = augmentation_for(False, False).to_dict()
        self.reasons_label.setText(DECIDING if deciding else NOT_YET)
        if self.preset() == AUTO:
            self.set_config(self._recommended, AUTO)
        self._update_dependent()

    def set_recommended(self, config: dict, reasons: list[str], mirror: bool) -> bool:
        """The settings decided from the pictures, and why. Shown at once when Recommended is
        the preset (returns True: the config changed); kept for later otherwise."""
        self._recommended, self._reasons, self._mirror_allowed = dict(config), list(reasons), mirror
        self.reasons_label.setText("\n\n".join(reasons))
        if self.preset() == AUTO:
            self.set_config(self._recommended, AUTO)
            return True
        self._update_dependent()
        return False

    def reasons(self) -> list[str]:
        return list(self._reasons)

    # -- changes ---------------------------------------------------------------------------
    def _on_edited(self, name: str) -> None:
        self._config[name] = self._read_editor(name, self._editors[name])
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(CUSTOM))
        self._update_dependent(editing=True)
        self.configChanged.emit(self.config(), CUSTOM)

    def choose_preset(self, name: str) -> None:
        """Switch to preset `name` as if the user picked it (emits configChanged)."""
        config = self._recommended if name == AUTO else PRESETS[name].to_dict()
        self.set_config(config, name)
        self.configChanged.emit(self.config(), name)

    @Slot(int)
    def _on_preset_chosen(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name != CUSTOM:
            self.choose_preset(name)
