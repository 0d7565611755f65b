"""A scrolling strip or grid of thumbnails with captions (predictions, misclassified pictures)."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from gui.qt_images import GALLERY_THUMB as THUMB, square_thumbnail


def _placeholder_icon(size: int) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor("#e2e8f0"))
    return QIcon(pixmap)


class QtGallery(QListWidget):
    """Thumbnails with a caption each. `itemChosen(int)` gives the row the user picked.

    Args:
        flow: "strip" (one scrolling row) or "grid" (wrapping rows).
    """

    itemChosen = Signal(int)
    itemOpened = Signal(int)

    def __init__(self, flow: str = "strip", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 34, THUMB + (42 if flow == "strip" else 60)))
        self.setUniformItemSizes(True)
        # Lay out large galleries (a dropped folder of 1,000 photos) a batch per event-loop
        # turn instead of all at once on the GUI thread.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(50)
        self.setWordWrap(True)
        self.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        if flow == "strip":
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(False)
            self.setFixedHeight(THUMB + 70)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        else:
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(True)
        self._placeholder = _placeholder_icon(THUMB)
        self.currentRowChanged.connect(self._on_row_changed)
        self.itemActivated.connect(lambda item: self.itemOpened.emit(self.row(item)))

    def add_entry(self, caption: str, tooltip: str = "", image: QImage | None = None,
                  warning: bool = False) -> int:
        item = QListWidgetItem(self._icon_for(image), caption)
        item.setToolTip(tooltip or caption)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        if warning:
            item.setForeground(QColor("#b91c1c"))
        self.addItem(item)
        return self.count() - 1

    def set_image(self, row: int, image: QImage) -> None:
        item = self.item(row)
        if item is not None:
            item.setIcon(self._icon_for(image))

    def _icon_for(self, image: QImage | None) -> QIcon:
        if image is None or image.isNull():
            return self._placeholder
        # Centred on a square so captions line up whatever the aspect ratio; workers usually
        # hand over such squares already, leaving only the cheap wrapping to the GUI thread.
        if image.width() != THUMB or image.height() != THUMB:
            image = square_thumbnail(image, THUMB)
        return QIcon(QPixmap.fromImage(image))

    @Slot(int)
    def _on_row_changed(self, row: int) -> None:
        if row >= 0:
            self.itemChosen.emit(row)
