"""2. Against the seeds' pipeline: Keras's legacy ImageDataGenerator.flow_from_directory.

Same small_cnn at 150 px, batch 32, the same photos (cats_dogs/train) and the default
augmentation's Keras 2 settings, both feeding model.fit; the two feeds alternate and the
reported figure is the median of per-repeat ratios. Goal: the product at least 2x.
"""
from __future__ import annotations

import time
import warnings

from bench.common import CATS_DOGS, alternate, median, module_main, paired_ratios, \
    quiet_tensorflow, row
from bench.models import build, compile_like_product, fit_rate, jpeg_dataset, memory_dataset


def legacy_iterator(size: int, batch: int):
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    from core.data.augmentation.presets import load_augmentation

    settings = load_augmentation("default").to_dict()
    settings["rescale"] = None  # the model rescales (as in the product); keep pixels 0-255
    settings.pop("contrast_range", None)  # not a Keras 2 option
    generator = ImageDataGenerator(**{k: v for k, v in settings.items() if v is not None})
    return generator.flow_from_directory(str(CATS_DOGS / "train"), target_size=(size, size),
                                         batch_size=batch, class_mode="binary", seed=1337)


def run(quick: bool = False) -> list[dict]:
    quiet_tensorflow()
    size, batch = 150, 32
    steps = 4 if quick else 16
    repeats = 2 if quick else 3
    images = steps * batch
    model = compile_like_product(build("small_cnn", size))
    fit_rate(model, memory_dataset(size, batch, batch * 2), batch * 2)
    legacy = legacy_iterator(size, batch)

    def legacy_rate():
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(legacy, steps_per_epoch=steps, epochs=1, verbose=0)
        return images / (time.perf_counter() - started)

    product = lambda: fit_rate(model, jpeg_dataset(size, batch, images), images)  # noqa: E731
    legacy_rate(), product()  # warm-up
    results = alternate({"product": product, "legacy": legacy_rate}, repeats)
    ratio = median(paired_ratios(results, "product", "legacy"))
    return [row("2 product/ImageDataGenerator small_cnn 150px", ">= 2x", ratio, "x", ratio,
                ratio >= 2, product_images_per_s=median(results["product"]),
                legacy_images_per_s=median(results["legacy"]), raw=results, images=images)]


if __name__ == "__main__":
    module_main(run)
