"""A spin box whose lowest position reads "Automatic": the app chooses the value.

`value()` of the lowest position is the marker `AUTO_VALUE`; `chosen()` turns it into None,
which the engine reads as "choose for me" (core.training.request). Stepping up from Automatic
jumps to the value the app would use (`set_auto_value`), so a person who wants "a little more"
starts from what the app picked, not from 1. The mouse wheel only turns a box that has the
keyboard focus, so scrolling the settings panel never changes a setting by accident.
"""
from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QSpinBox

AUTO_TEXT = "Automatic"
AUTO_VALUE = -1


class QtAutoSpin(QSpinBox):
    """A QSpinBox with an "Automatic" position below `floor`.

    Args:
        floor: the smallest value a person can choose.
        unit: text after the number (" epochs", " px").
        words: values shown as words instead of numbers ({0: "never"}).
    """

    def __init__(self, floor: int, ceiling: int, unit: str = "", words: dict | None = None,
                 step: int = 1, parent=None) -> None:
        super().__init__(parent)
        self._floor = floor
        self._unit = unit
        self._words = dict(words or {})
        self._auto_value: int | None = None
        self.setRange(AUTO_VALUE, ceiling)
        self.setSingleStep(step)
        self.setValue(AUTO_VALUE)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setKeyboardTracking(False)

    # -- API -------------------------------------------------------------------------------
    def is_automatic(self) -> bool:
        return self.value() == AUTO_VALUE

    def chosen(self) -> int | None:
        """The value a person chose, or None for Automatic."""
        return None if self.is_automatic() else self.value()

    def set_automatic(self) -> None:
        self.setValue(AUTO_VALUE)

    def set_floor(self, floor: int) -> None:
        """The smallest value that can be chosen (a model's smallest input size)."""
        self._floor = floor
        if not self.is_automatic() and self.value() < floor:
            self.setValue(floor)

    def set_auto_value(self, value: int | None) -> None:
        """What Automatic currently means, where the app knows it (the first step up)."""
        self._auto_value = value

    # -- QSpinBox --------------------------------------------------------------------------
    def stepBy(self, steps: int) -> None:
        if self.is_automatic() and steps > 0:
            start = self._auto_value if self._auto_value is not None else self._floor
            self.setValue(max(self._floor, start))
        elif not self.is_automatic() and self.value() + steps * self.singleStep() < self._floor:
            self.setValue(AUTO_VALUE)
        else:
            super().stepBy(steps)

    def textFromValue(self, value: int) -> str:
        if value == AUTO_VALUE:
            return AUTO_TEXT
        if value in self._words:
            return self._words[value]
        return f"{value}{self._unit}"

    def valueFromText(self, text: str) -> int:
        text = text.strip()
        if not text or AUTO_TEXT.lower().startswith(text.lower()):
            return AUTO_VALUE
        for value, word in self._words.items():
            if word.lower() == text.lower():
                return value
        number = re.match(r"\d+", text)
        return max(self._floor, int(number.group())) if number else AUTO_VALUE

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        names = [AUTO_TEXT, *self._words.values()]
        if any(name.lower() == stripped.lower() for name in names):
            return QValidator.State.Acceptable, text, pos
        if not stripped or any(name.lower().startswith(stripped.lower()) for name in names):
            return QValidator.State.Intermediate, text, pos
        number = re.match(r"^(\d+)\s*(\D*)$", stripped)
        if number and (not number.group(2) or self._unit.strip().startswith(number.group(2))):
            value = int(number.group(1))
            if value > self.maximum():
                return QValidator.State.Invalid, text, pos
            return (QValidator.State.Acceptable if value >= self._floor
                    else QValidator.State.Intermediate), text, pos
        return QValidator.State.Invalid, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.valueFromText(text))

    def wheelEvent(self, event) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the scroll area scrolls instead
