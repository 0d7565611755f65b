"""A box that takes pictures or folders: dropped from the file manager, or opened by button."""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from gui.qt_icons import icon

IMAGE_FILTER = ("Pictures (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff *.ppm *.pgm *.pbm "
                "*.pnm *.JPG *.JPEG *.PNG);;All files (*)")


class QtDropArea(QFrame):
    """Emits `pathsDropped(list[str])` with local files/folders dropped or chosen.

    Args:
        text: the invitation shown in the box.
    """

    pathsDropped = Signal(list)

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropArea")
        self.setAcceptDrops(True)
        self.setProperty("dragActive", False)
        self.setToolTip("Drop pictures or folders of pictures here, or use the buttons.")
        self.setAccessibleName("Drop pictures here")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        top = QHBoxLayout()
        top.setSpacing(10)
        picture = QLabel()
        picture.setPixmap(icon("drop").pixmap(30, 30))
        self.label = QLabel(text)
        self.label.setObjectName("dropText")
        self.label.setWordWrap(True)
        top.addWidget(picture)
        top.addWidget(self.label, 1)
        layout.addLayout(top)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.open_files_button = QPushButton("Open pictures\u2026")
        self.open_files_button.setObjectName("openPicturesButton")
        self.open_files_button.setToolTip("Choose one or more pictures to classify.")
        self.open_files_button.clicked.connect(self._on_open_files)
        self.open_folder_button = QPushButton("Open folder\u2026")
        self.open_folder_button.setObjectName("openPictureFolderButton")
        self.open_folder_button.setToolTip("Classify every picture in a folder (and its subfolders).")
        self.open_folder_button.clicked.connect(self._on_open_folder)
        buttons.addWidget(self.open_files_button)
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    def _set_active(self, active: bool) -> None:
        self.setProperty("dragActive", active)
        self.style().unpolish(self)
        self.style().polish(self)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self._set_active(True)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._set_active(False)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._set_active(False)
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.pathsDropped.emit(paths)

    @Slot()
    def _on_open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open pictures", "", IMAGE_FILTER)
        if files:
            self.pathsDropped.emit(files)

    @Slot()
    def _on_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of pictures")
        if folder:
            self.pathsDropped.emit([folder])
