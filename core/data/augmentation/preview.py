"""Previews of an augmentation config on one image, fast enough for a GUI slider, and tiling them into a grid."""
from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict

import numpy as np

from core.data.augmentation.config import AugmentationConfig
from core.data.augmentation.layers import Augmenter
from core.data.augmentation.presets import load_augmentation
from core.errors import ConfigError


# --------------------------------------------------------------------------- preview

_PREVIEW_CACHE: OrderedDict[str, Augmenter] = OrderedDict()
_PREVIEW_CACHE_SIZE = 16
_PREVIEW_LOCK = threading.Lock()


def _cached_augmenter(config: AugmentationConfig) -> Augmenter:
    """Reuse the layers built for an equal config (rescale aside): building costs time."""
    settings = config.to_dict()
    settings.pop("rescale")
    key = json.dumps(settings, sort_keys=True)
    augmenter = _PREVIEW_CACHE.pop(key, None)
    if augmenter is None:
        augmenter = Augmenter(config)
    _PREVIEW_CACHE[key] = augmenter
    while len(_PREVIEW_CACHE) > _PREVIEW_CACHE_SIZE:
        _PREVIEW_CACHE.popitem(last=False)
    return augmenter


def _resize_long_side(image: np.ndarray, size: int) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if new_size == (width, height):
        return image
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, new_size, interpolation=interpolation)


MAX_PREVIEW_SIZE = 1024  # 64 tiles of 1024 px are 800 MB as float32; more is a typing error


def preview(image: np.ndarray, config, n: int = 9, seed: int = 0,
            size: int | None = None) -> list[np.ndarray]:
    """Show what an augmentation does: n randomly augmented versions of one image.

    The same image, config and seed always give identical tiles, so a GUI can redraw
    while a slider moves without the tiles jumping; change the seed for new samples.

    Args:
        image: uint8 RGB array (H, W, 3).
        config: anything `load_augmentation` accepts.
        n: number of tiles.
        seed: random seed for the tiles.
        size: if given, first resize so the longer side is `size` pixels (faster).

    Returns:
        A list of n uint8 (h, w, 3) arrays, h and w after the optional resize.

    Raises:
        ValueError: image is not uint8 (H, W, 3), n < 1, size < 1 or a bad config.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ConfigError(f"Received an image of dtype {image.dtype} and shape {image.shape}; "
                         "expected a uint8 RGB array of shape (height, width, 3).")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"Received n={n!r}; expected a whole number of tiles of at least 1.")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ConfigError(f"Received size={size!r}; expected a whole number of pixels "
                             "of at least 1, or none.")
        if size > MAX_PREVIEW_SIZE:
            raise ConfigError(f"Received a tile size of {size} px; the largest is "
                              f"{MAX_PREVIEW_SIZE} px (a tile shows what augmentation does: "
                              "224 is plenty).")
        image = _resize_long_side(image, int(size))
    config = load_augmentation(config)
    if config.is_identity():
        return [image.copy() for _ in range(n)]
    batch = np.repeat(image[np.newaxis].astype(np.float32), n, axis=0)
    with _PREVIEW_LOCK:
        augmenter = _cached_augmenter(config)
        augmenter.reseed(seed)
        output = np.asarray(augmenter(batch))
    tiles = np.clip(np.rint(output), 0, 255).astype(np.uint8)
    return list(tiles)


def make_grid(images, columns: int | None = None, pad: int = 4,
              background=255) -> np.ndarray:
    """Tile images into one uint8 RGB image, row by row, with pad pixels around each tile.

    Args:
        images: uint8 arrays (H, W, 3) or grey (H, W); sizes may differ (each tile is
            centred in a cell as large as the largest image).
        columns: tiles per row; default is the smallest that makes a square-ish grid.
        pad: pixels between tiles and around the edge.
        background: grey level or RGB triple for padding and empty cells.

    Raises:
        ValueError: no images, or columns/pad out of range.
    """
    tiles = [np.asarray(image) for image in images]
    if not tiles:
        raise ConfigError("Received no images; expected at least one image to tile.")
    tiles = [np.repeat(t[:, :, np.newaxis], 3, axis=2) if t.ndim == 2 else t for t in tiles]
    for tile in tiles:
        if tile.ndim != 3 or tile.shape[2] != 3:
            raise ConfigError(f"Received an image of shape {tile.shape}; expected (H, W, 3) "
                             "or (H, W).")
    if columns is None:
        columns = math.ceil(math.sqrt(len(tiles)))
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ConfigError(f"Received columns={columns!r}; expected a whole number of at least 1.")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ConfigError(f"Received pad={pad!r}; expected a whole number of pixels, 0 or more.")
    rows = math.ceil(len(tiles) / columns)
    cell_height = max(t.shape[0] for t in tiles)
    cell_width = max(t.shape[1] for t in tiles)
    grid = np.empty((rows * cell_height + (rows + 1) * pad,
                     columns * cell_width + (columns + 1) * pad, 3), dtype=np.uint8)
    grid[:] = np.asarray(background, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        top = pad + row * (cell_height + pad) + (cell_height - tile.shape[0]) // 2
        left = pad + column * (cell_width + pad) + (cell_width - tile.shape[1]) // 2
        grid[top:top + tile.shape[0], left:left + tile.shape[1]] = np.clip(tile, 0, 255)
    return grid
