"""Perceptual hashes of pictures, and grouping the near-identical ones (bursts, resized or
re-encoded copies, neighbouring video frames) so that a proposed split keeps each group on
one side.

Each picture gets two 64-bit hashes of its grey image (`imagehash`): ``phash`` (the signs of
the lowest 8x8 DCT frequencies of a 32x32 thumbnail: robust to resizing, JPEG re-encoding,
brightness) and ``dhash`` (whether each pixel of a 9x8 thumbnail is brighter than its right
neighbour: follows edges). Two pictures of one class are near-identical when both hashes are
close (`is_near`). Grouping is transitive (union-find), so a burst chains into one group.

Thresholds, measured on ../shared (pairs looked at side by side; numbers in issue 13):
on flowers, pairs with phash distance <= 10 were the same scene (burst, crop, recolour) except
a few lookalikes, which the dhash bound of 16 removed; at phash 12 most pairs were different
photos of similar flowers. On traffic_signs, neighbouring frames of one track differ by a
median phash distance of about 16 (the sign grows from 30 to 60 pixels and sharpens), as far
as two different signs of one class: a perceptual hash keeps only the closest frames together.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

PHASH_LIMIT = 10
"""Largest phash Hamming distance (of 64 bits) between near-identical pictures."""
DHASH_LIMIT = 16
"""Largest dhash Hamming distance (of 64 bits) between near-identical pictures."""

_BLOCK_CELLS = 4_000_000  # distances computed at once: about 32 MB per uint64 array


def perceptual_hashes(image: Image.Image) -> tuple[int, int]:
    """(phash, dhash) of a picture as two 64-bit integers.

    The image may be any Pillow mode and already reduced (a JPEG draft at 1/8 scale is
    plenty: the hashes look at 32x32 and 9x8 thumbnails). Transparent pixels count as white,
    as `core.data.imageio.read_image` shows them.
    """
    import imagehash  # imports scipy for the DCT: only scans pay for it

    factor = min(image.size) // 64
    if factor >= 2 and image.mode in ("L", "RGB", "RGBA", "LA"):
        # A large PNG or BMP: a box reduction first keeps the thumbnails cheap.
        image = image.reduce(factor)
    grey = _grey(image)
    return (int(str(imagehash.phash(grey)), 16), int(str(imagehash.dhash(grey)), 16))


def _grey(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("L", "RGB", "CMYK", "YCbCr") and "transparency" not in image.info:
        return image.convert("L")
    if mode.startswith("I;16") or mode in ("I", "F"):
        # Pillow clamps these to 0..255 on convert("L"); scale the full range instead.
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255 / (high - low)) if high > low else np.zeros_like(values)
        return Image.fromarray(scaled.astype(np.uint8))
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("L")


def is_near(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True when two (phash, dhash) pairs belong to near-identical pictures."""
    return (bin(a[0] ^ b[0]).count("1") <= PHASH_LIMIT
            and bin(a[1] ^ b[1]).count("1") <= DHASH_LIMIT)


def near_duplicate_pairs(hashes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of near-identical pictures among ``hashes``.

    Every pair is compared, in numpy blocks: 0.16 s for 5,000 pictures in one class and 1.1 s
    for 20,000 (measured on 2 shared cores; it grows with the square of a class's size, and a
    class is the unit the split shuffles). Exact and simpler than a BK-tree, whose pruning
    helps little at these limits (a 10-bit radius of 64 bits reaches a large part of it).
    """
    if len(hashes) < 2:
        return []
    table = np.array(hashes, dtype=np.uint64).reshape(-1, 2)
    phash, dhash = table[:, 0], table[:, 1]
    pairs = []
    block = max(16, _BLOCK_CELLS // len(table))
    for start in range(0, len(table), block):
        stop = min(start + block, len(table))
        # Only columns after each row: each pair once, never a picture with itself.
        near = ((_bit_count(phash[start:stop, None] ^ phash[None, start:]) <= PHASH_LIMIT)
                & (_bit_count(dhash[start:stop, None] ^ dhash[None, start:]) <= DHASH_LIMIT))
        rows, cols = np.nonzero(np.triu(near, 1))
        pairs.extend(zip((rows + start).tolist(), (cols + start).tolist()))
    return pairs


def _bit_count(values: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(values)
    bytes_ = values.view(np.uint8).reshape(values.shape + (8,))
    return np.unpackbits(bytes_, axis=-1).sum(axis=-1)


class UnionFind:
    """Disjoint sets of 0..n-1 (path halving): transitive groups from pairs."""

    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)

    def groups(self) -> list[list[int]]:
        """Every set, members ascending, sets ordered by their smallest member."""
        by_root: dict[int, list[int]] = {}
        for item in range(len(self.parent)):
            by_root.setdefault(self.find(item), []).append(item)
        return list(by_root.values())
