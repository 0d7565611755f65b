"""The built-in demo dataset: photos of shapes (circles, squares, triangles) drawn on the fly.

It lets a newcomer go through every step offline in a few minutes: the classes are easy
enough for a small CNN to learn in a few epochs, yet varied (colour, size, position,
rotation, background, noise) so augmentation and heatmaps show something meaningful.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEMO_CLASSES = ("circle", "square", "triangle")
RESOURCE = Path(__file__).resolve().parents[2] / "resources" / "demo_palette.json"


def _palette() -> list[tuple[int, int, int]]:
    try:
        return [tuple(c) for c in json.loads(RESOURCE.read_text())["colors"]]
    except (OSError, ValueError, KeyError):
        return [(220, 50, 47), (38, 139, 210), (133, 153, 0), (211, 54, 130), (181, 137, 0)]


def draw_shape(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One RGB image of a `kind` shape on a noisy, softly coloured background."""
    import cv2

    background = rng.integers(205, 256, 3)
    image = np.empty((size, size, 3), np.uint8)
    image[:] = background
    gradient = np.linspace(-15, 15, size)[None, :, None] * rng.choice([-1, 1])
    image = np.clip(image + gradient + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    palette = _palette()
    color = tuple(int(c) for c in palette[rng.integers(len(palette))])
    radius = int(size * rng.uniform(0.24, 0.38))
    cx, cy = (int(v) for v in rng.integers(radius + 2, size - radius - 2, 2))
    if kind == "circle":
        cv2.circle(image, (cx, cy), radius, color, -1, lineType=cv2.LINE_AA)
    else:
        sides = 4 if kind == "square" else 3
        # Upright squares and triangles, tilted a little: easy to tell apart with few images.
        upright = np.pi / 4 if sides == 4 else -np.pi / 2
        angle = upright + rng.uniform(-0.25, 0.25)
        points = [(cx + radius * np.cos(angle + 2 * np.pi * k / sides),
                   cy + radius * np.sin(angle + 2 * np.pi * k / sides)) for k in range(sides)]
        cv2.fillPoly(image, [np.round(points).astype(np.int32)], color, lineType=cv2.LINE_AA)
    return image


def make_demo_dataset(dest: str | Path, images_per_class: int = 200, image_size: int = 64,
                      seed: int = 0) -> Path:
    """Write the demo dataset (one folder per class, JPEG) into `dest`; returns `dest`.

    Existing demo images are overwritten with the same content (same seed, same pictures).
    """
    import cv2

    dest = Path(dest)
    rng = np.random.default_rng(seed)
    for kind in DEMO_CLASSES:
        folder = dest / kind
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(images_per_class):
            image = draw_shape(kind, image_size, rng)
            cv2.imwrite(str(folder / f"{kind}_{index:03d}.jpg"),
                        cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return dest
