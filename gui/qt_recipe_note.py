"""What the recommended recipe will do on this computer, in plain words, and a button to give
it a pretrained weights file.

The recipe (core.training.recipe) uses a pretrained network when weights are on this
computer (a file given once, which the engine remembers, or an ImageNet file Keras
downloaded) and trains a compact network from scratch otherwise. This note says which, before
anything is trained. Choosing a file runs `identify_weights` (it reads the file: off the GUI
thread when a runner is given) and `remember_weights`, so the next training, from the app or
the command line, finds it.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QVBoxLayout, QWidget

AFTER = ("The input size, the changes made to the pictures and how long to train are chosen "
         "from your pictures when you press Train.")


def recipe_sentence(weights) -> str:
    """What the recipe does with `weights` (the first of `available_weights()`, or None)."""
    if weights is None:
        return ("Trains a compact network from scratch: no pretrained weights are on this "
                "computer. To use a pretrained network (usually more accurate on photos), "
                "choose a weights file (.h5) once; the app remembers it.")
    if weights.source == "file":
        where = "from the weights file you gave"
    else:
        where = "from the ImageNet weights downloaded earlier"
    return (f"Uses {weights.title}, pretrained on photos, {where}. It first learns your classes "
            "from what the network sees, then fine-tunes the whole network only if that helps.")


def identify_and_remember(path: str):
    """Worker job: which network the file holds; remembered for later runs."""
    from core.models.weights_store import identify_weights, remember_weights

    weights = identify_weights(path)
    remember_weights(weights)
    return weights


class QtRecipeNote(QWidget):
    """The recipe's plan on this computer and a "Choose a weights file…" button.

    Signals:
        weightsChanged(): a weights file was recognised and remembered.
    """

    weightsChanged = Signal()

    def __init__(self, runner=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.weights = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(5)
        self.text = QLabel()
        self.text.setObjectName("recipeNote")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.after = QLabel(AFTER)
        self.after.setObjectName("fieldHint")
        self.after.setWordWrap(True)
        self.weights_button = QPushButton()
        self.weights_button.setObjectName("recipeWeightsButton")
        self.weights_button.setToolTip("A Keras weights file of a network pretrained on photos "
                                       "(MobileNetV2, VGG16, ResNet50, ...), saved without its "
                                       "top layers. The app recognises which network it holds.")
        self.weights_button.clicked.connect(self._on_choose_clicked)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.text)
        layout.addWidget(self.weights_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addWidget(self.after)
        self.refresh()

    def refresh(self) -> None:
        """Look again for weights on this computer (a small file and a few names: fast)."""
        from core.models.weights_store import available_weights

        found = available_weights()
        self.weights = found[0] if found else None
        self.text.setText(recipe_sentence(self.weights))
        self.text.setToolTip(self.weights.path if self.weights else "")
        self.weights_button.setText("Use another weights file\u2026" if self.weights
                                    else "Choose a weights file\u2026")

    def choose_file(self, path: str) -> None:
        """Recognise and remember the weights file at `path` (as if chosen in the dialog)."""
        self.error.hide()
        self.weights_button.setEnabled(False)
        self.weights_button.setText("Reading the weights file\u2026")
        if self.runner is None:  # no worker lanes (a settings panel on its own): read it here
            try:
                self._on_identified(identify_and_remember(path))
            except Exception as error:  # noqa: BLE001 - shown as a sentence
                from gui.qt_errors import describe_error

                self._on_failed(describe_error(error, "reading the weights file"))
            return
        self.runner.submit("io", identify_and_remember, path, doing="reading the weights file",
                           on_result=self._on_identified, on_error=self._on_failed)

    @Slot()
    def _on_choose_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a weights file", "",
                                              "Keras weights (*.h5);;All files (*)")
        if path:
            self.choose_file(path)

    def _on_identified(self, _weights) -> None:
        self.weights_button.setEnabled(True)
        self.refresh()
        self.weightsChanged.emit()

    def _on_failed(self, report) -> None:
        self.weights_button.setEnabled(True)
        self.refresh()
        self.error.setText(report.message)
        self.error.show()
