"""The "Right" / "Wrong: this is a ..." / "Undo" row under an answer (Predict step) or under
the pictures the model got wrong (evaluation): a person says what the picture really is.

It only shows and asks; `QtMarking` (gui/qt_marking.py) records the marks.
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

HINT = "Marked pictures join your training pictures for the next run; your folders stay as they are."


class QtMarkBar(QWidget):
    """Signals: marked(str class), undoRequested()."""

    marked = Signal(str)
    undoRequested = Signal()

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        """`title`: a question above the buttons ("" for none)."""
        super().__init__(parent)
        self.setObjectName("markBar")
        self._predicted: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        if title:
            heading = QLabel(title)
            heading.setStyleSheet("font-weight: 600;")
            layout.addWidget(heading)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.right_button = QPushButton("Right")
        self.right_button.setObjectName("markRightButton")
        self.right_button.clicked.connect(self._on_right_clicked)
        self.wrong_button = QPushButton("Wrong: this is a\u2026")
        self.wrong_button.setObjectName("markWrongButton")
        self.wrong_button.setToolTip("Say which class the picture really is.")
        self.menu = QMenu(self.wrong_button)
        self.menu.triggered.connect(lambda action: self.marked.emit(action.data()))
        self.wrong_button.setMenu(self.menu)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("markUndoButton")
        self.undo_button.setToolTip("Take back your last mark.")
        self.undo_button.clicked.connect(self.undoRequested)
        row.addWidget(self.right_button)
        row.addWidget(self.wrong_button)
        row.addWidget(self.undo_button)
        layout.addLayout(row)
        self.state_label = QLabel()
        self.state_label.setObjectName("markState")
        self.state_label.setWordWrap(True)
        row.addStretch(1)
        layout.addWidget(self.state_label)
        layout.addStretch(1)
        self.set_target(None, [], None, False, "Select a picture to mark its answer.")

    def set_target(self, predicted: str | None, classes: list[str], mark: str | None,
                   can_undo: bool, reason: str = "") -> None:
        """Show the controls for one picture: the model's answer `predicted`, the dataset's
        `classes`, the class the person said it is (`mark`, or None). `reason`: why marking is
        not possible now (disables Right and Wrong)."""
        self._predicted = predicted
        usable = not reason and bool(classes)
        self.right_button.setEnabled(usable and predicted in classes)
        self.right_button.setToolTip(
            f"The model is right: this is a \u201c{predicted}\u201d." if predicted in classes
            else "The model's answer is not one of your classes; use \u201cWrong\u201d.")
        self.menu.clear()
        for name in classes:
            if name != predicted:
                self.menu.addAction(name).setData(name)
        self.wrong_button.setEnabled(usable and not self.menu.isEmpty())
        self.undo_button.setEnabled(can_undo)
        if reason:
            text = reason
        elif mark is None:
            text = HINT
        else:
            said = "right" if mark == predicted else "wrong"
            text = (f"You marked it {said}: it is a \u201c{mark}\u201d. The next training "
                    "learns it as that.")
        self.state_label.setText(text)

    @Slot()
    def _on_right_clicked(self) -> None:
        if self._predicted:
            self.marked.emit(self._predicted)
