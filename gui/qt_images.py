"""Conversions between the engine's numpy images and Qt images (rendering only, no ML)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter, QPixmap

GALLERY_THUMB = 84  # side of the square gallery icons, in pixels


def qimage_from_array(image: np.ndarray) -> QImage:
    """Copy a uint8 RGB (H, W, 3) or grey (H, W) array into a QImage.

    Safe on any thread (QImage, unlike QPixmap, is not tied to the GUI thread).
    """
    array = np.ascontiguousarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        height, width = array.shape
        qimage = QImage(array.data, width, height, width, QImage.Format.Format_Grayscale8)
    else:
        height, width = array.shape[:2]
        qimage = QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return qimage.copy()  # own the pixels: the numpy buffer may go away


def thumbnail(image: np.ndarray, size: int) -> QImage:
    """A QImage of `image` scaled to fit in a `size` x `size` square, smoothly."""
    return qimage_from_array(image).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)


def square_thumbnail(image: QImage | np.ndarray, size: int = GALLERY_THUMB) -> QImage:
    """`image` scaled to fit and centred on a transparent `size` x `size` square.

    Safe on any thread: workers make these so that the GUI thread only wraps them in icons
    (a 1,000-photo drop otherwise spent most of its GUI time scaling and painting).
    """
    if isinstance(image, np.ndarray):
        image = qimage_from_array(image)
    canvas = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    canvas.fill(Qt.GlobalColor.transparent)
    scaled = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)
    painter = QPainter(canvas)
    painter.drawImage((size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled)
    painter.end()
    return canvas


def pixmap_from_array(image: np.ndarray) -> QPixmap:
    """A QPixmap of `image`; GUI thread only."""
    return QPixmap.fromImage(qimage_from_array(image))
