"""Conversions between the engine's numpy images and Qt images (rendering only, no ML)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


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


def pixmap_from_array(image: np.ndarray) -> QPixmap:
    """A QPixmap of `image`; GUI thread only."""
    return QPixmap.fromImage(qimage_from_array(image))
