"""The Predict step's strip of classified pictures: it holds the results, adds them a chunk per
event-loop turn (a thousand thumbnail icons at once froze the window for over 100 ms) and
shows the person's marks ("✓ right", "✗ is dogs") in the captions."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal

from gui.qt_answer_card import gallery_caption
from gui.qt_gallery import QtGallery
from gui.qt_marking import mark_words

GALLERY_CHUNK = 50  # results added to the gallery per event-loop turn


class QtPredictionGallery(QtGallery):
    """Signals: rowReady(int): the row to select has been added; allAdded(): nothing queued."""

    rowReady = Signal(int)
    allAdded = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("strip", parent)
        self.setObjectName("predictionGallery")
        self.setAccessibleName("Classified pictures")
        self.setToolTip("Every picture you classified. Click one to look at it.")
        self.results: list[dict] = []
        self.adding = False
        self._pending: list = []  # (result, thumbnail) pairs not yet shown
        self._select_after: int | None = None
        self._num_classes = 2
        self._label_of = lambda path: None

    def configure(self, num_classes: int, label_of) -> None:
        """`label_of(path)`: the class the person marked the picture as, or None."""
        self._num_classes = num_classes
        self._label_of = label_of

    def forget(self) -> None:
        """Empty the strip (another run)."""
        self.results.clear()
        self._pending.clear()
        self._select_after = None
        self.clear()

    def add_results(self, results: list[dict], thumbnails: list, select: bool,
                    current: int) -> None:
        """Queue results; `select`: show the first of them once added (also when nothing is
        shown yet, `current` < 0)."""
        self._pending.extend(zip(results, thumbnails))
        if select or current < 0:
            self._select_after = len(self.results)
        if not self.adding:
            self.adding = True
            self._add_pending_chunk()

    def _add_pending_chunk(self) -> None:
        chunk, self._pending = self._pending[:GALLERY_CHUNK], self._pending[GALLERY_CHUNK:]
        for result, image in chunk:
            caption, tip = self._caption(result)
            self.results.append(result)
            self.add_entry(caption, tip, image, warning=bool(result.get("error")))
        if self._select_after is not None and self._select_after < len(self.results):
            row, self._select_after = self._select_after, None
            self.rowReady.emit(row)
        if self._pending:
            QTimer.singleShot(0, self._add_pending_chunk)
            return
        self.adding = False
        self.allAdded.emit()

    def _caption(self, result: dict) -> tuple[str, str]:
        name = Path(result["path"]).name
        if result.get("error"):
            return f"\u26a0 {name}", f"{result['path']}\n{result['error']}"
        tip = f"{result['path']}\n{result['label']} ({result['probability']:.0%} sure)"
        caption = gallery_caption(result, self._num_classes)
        mark = mark_words(self._label_of(result["path"]), result["label"])
        if mark:
            caption = caption.split("\n")[0] + "\n" + mark
            tip += f"\nYou marked it: {mark}"
        return caption, tip

    def refresh_marks(self) -> None:
        """Captions again, after the person marked a picture or took a mark back."""
        for row, result in enumerate(self.results):
            item = self.item(row)
            if item is not None:
                caption, tip = self._caption(result)
                item.setText(caption)
                item.setToolTip(tip)
