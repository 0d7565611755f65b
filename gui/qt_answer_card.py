"""The Predict step's "The model says" card: the chosen class, how sure the model is (and
"not sure" when that is close to guessing), the top classes as bars, the heatmap legend."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from core.inference.confidence import is_unsure
from gui.qt_card import QtCard
from gui.qt_class_bars import QtClassBars

PROMPT = "Select a picture to see its answer."
CARD_BORDER = 1  # px, the card's frame in the style sheet (resources/style.qss, QFrame#card)


def answer_words(result: dict, num_classes: int) -> tuple[str, str, bool]:
    """(headline, how sure in words, unsure) for one prediction `result`."""
    probability = result["probability"]
    unsure = is_unsure(probability, num_classes)
    if unsure:
        chance = 1 / max(2, num_classes)
        return (f"Not sure \u2013 maybe {result['label']}",
                f"Only {probability:.0%} sure, close to guessing among {num_classes} classes "
                f"({chance:.0%} each).", True)
    return result["label"], f"{probability:.0%} sure", False


def gallery_caption(result: dict, num_classes: int) -> str:
    """The short caption under a picture in the gallery ("cat\\n97%", or "cat?\\n54%")."""
    mark = "?" if is_unsure(result["probability"], num_classes) else ""
    return f"{result['label']}{mark}\n{result['probability']:.0%}"


class QtAnswerCard(QtCard):
    """What the model says about the selected picture."""

    def __init__(self, parent=None) -> None:
        super().__init__("The model says", parent)
        self.prediction_label = QLabel("\u2013")
        self.prediction_label.setObjectName("predictionLabel")
        self.prediction_label.setAccessibleName("Predicted class")
        self.prediction_label.setToolTip("The class the model picks for the selected picture.")
        self.prediction_label.setWordWrap(True)
        self.confidence_label = QLabel(PROMPT)
        self.confidence_label.setObjectName("mutedNote")
        self.confidence_label.setWordWrap(True)
        self.class_bars = QtClassBars()
        self.body.addWidget(self.prediction_label)
        self.body.addWidget(self.confidence_label)
        self.body.addWidget(self.class_bars)
        self.body.addStretch(1)
        self.heat_legend = QLabel(
            "Heatmap colours: <span style='color:#dc2626'><b>red</b></span> areas mattered most "
            "for the answer, <span style='color:#2563eb'><b>blue</b></span> ones hardly at all.")
        self.heat_legend.setObjectName("mutedNote")
        self.heat_legend.setWordWrap(True)
        self.body.addWidget(self.heat_legend)

    def _keep_sentences_whole(self) -> None:
        """Wrapped sentences ask for the height their lines need at the card's width, so a
        small window scrolls the page instead of squeezing them (Qt's minimum size of a box
        layout ignores how many lines a wrapped label needs)."""
        # From the card's own width, not the labels' current one: during a resize the labels
        # still have their old (at first tiny) width, and a height computed from it stuck as
        # their minimum and made the page hundreds of pixels taller than it needs.
        margins = self.layout().contentsMargins()
        width = self.width() - margins.left() - margins.right() - 2 * CARD_BORDER
        if width < 80:  # not laid out yet
            return
        for label in (self.prediction_label, self.confidence_label, self.heat_legend):
            label.setMinimumHeight(label.heightForWidth(width))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._keep_sentences_whole()

    def show_result(self, result: dict, num_classes: int) -> None:
        name = Path(result["path"]).name
        headline, sure, unsure = answer_words(result, num_classes)
        self.prediction_label.setText(headline)
        self.prediction_label.setProperty("unsure", unsure)
        self.prediction_label.style().unpolish(self.prediction_label)
        self.prediction_label.style().polish(self.prediction_label)
        self.confidence_label.setText(f"{sure} \u00b7 {name}")
        self.confidence_label.setToolTip(result["path"])
        self.class_bars.set_top(result.get("top") or [])
        self._keep_sentences_whole()

    def show_unreadable(self, name: str, error: str) -> None:
        self.prediction_label.setText("Could not read")
        self.confidence_label.setText(f"{name}: {error}")
        self.class_bars.set_top([])

    def show_note(self, text: str) -> None:
        self.confidence_label.setText(text)

    def reset(self) -> None:
        self.prediction_label.setText("\u2013")
        self.prediction_label.setProperty("unsure", False)
        self.confidence_label.setText(PROMPT)
        self.class_bars.set_top([])
