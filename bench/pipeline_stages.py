"""Diagnostic (not an issue item): where the input pipeline's time goes.

Iterates core.data.pipeline.make_dataset without a model, images/s for: decode + resize only,
decode + resize + default augmentation, and the augmenter alone on an in-memory batch.
Compare with the compute roof (bench.compute_roof) to see which stage limits training.
"""
from __future__ import annotations

import time

from bench.common import alternate, median, module_main, quiet_tensorflow, row
from bench.models import jpeg_dataset


def _drain(dataset, images):
    started = time.perf_counter()
    for _ in dataset:
        pass
    return images / (time.perf_counter() - started)


def run(quick: bool = False) -> list[dict]:
    quiet_tensorflow()
    import numpy as np

    from core.data.augmentation.layers import build_augmenter

    images, batch = (128, 32) if quick else (384, 32)
    rows = []
    for size in (150, 224):
        plain = lambda: _drain(jpeg_dataset(size, batch, images, augment=None), images)  # noqa
        augmented = lambda: _drain(jpeg_dataset(size, batch, images), images)  # noqa: E731
        augmenter = build_augmenter("default", seed=1)
        x = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32")
        augmenter(x)

        def augment_only():
            started = time.perf_counter()
            for _ in range(images // batch):
                augmenter(x)
            return images / (time.perf_counter() - started)

        plain(), augmented()
        results = alternate({"decode_resize": plain, "decode_resize_augment": augmented,
                             "augment_only_eager": augment_only}, 2 if quick else 3)
        for key, values in results.items():
            rows.append(row(f"diag {key} {size}px", "(report)", median(values), "img/s",
                            raw=values))
    return rows


if __name__ == "__main__":
    module_main(run)
