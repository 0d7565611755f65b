"""Build the product's models and datasets the way core.training does, for throughput runs."""
from __future__ import annotations

import time

from bench.common import CATS_DOGS, WEIGHTS, photos


def build(name: str, image_size: int, policy: str | None = None):
    """The model as the product builds it, "small_cnn" or "mobilenet_v2" frozen; small_cnn in
    the product's dtype policy (core.training.precision: mixed_bfloat16 on CPUs with native bfloat16)
    unless `policy` names another."""
    from core.models.registry import build_model
    from core.training.precision import dtype_policy, training_policy

    if name == "small_cnn":
        with dtype_policy(policy or training_policy("auto", image_size)):
            model = build_model("small_cnn", 2, image_size, rescale=1 / 255)
    else:
        from core.models.networks import BaseChoice, build_network

        network = build_network([BaseChoice("mobilenet_v2", image_size, str(WEIGHTS), alpha=0.35)],
                                2, input_size=image_size)
        for base in network.bases.values():
            base.trainable = False
        model = network.model
    return model


def compile_like_product(model, **overrides):
    from core.models.outputs import loss_for
    from core.models.optimizers import make_optimizer

    model.compile(optimizer=make_optimizer("rmsprop", None), loss=loss_for(2),
                  metrics=["accuracy"], **overrides)
    return model


def jpeg_dataset(image_size: int, batch_size: int, count: int, augment="default"):
    """core.data.pipeline.make_dataset over real JPEGs with the default augmentation (as training)."""
    from core.data.augmentation.layers import build_augmenter
    from core.data.augmentation.presets import load_augmentation
    from core.data.pipeline import make_dataset

    paths = photos(count)
    labels = [0 if "/cats/" in p else 1 for p in paths]
    augmenter = build_augmenter(load_augmentation(augment), seed=1337) if augment else None
    return make_dataset(paths, labels, image_size, batch_size, is_native=lambda p: True,
                        shuffle=True, augmenter=augmenter, seed=1337)


def memory_dataset(image_size: int, batch_size: int, count: int):
    """The compute roof: the same number of images as in-memory tensors, no decoding."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch_size, image_size, image_size, 3)).astype(np.float32)
    labels = rng.integers(0, 2, batch_size).astype(np.int32)
    steps = max(1, count // batch_size)
    # unbatch/batch: the batch dimension is unknown (None) as in make_dataset, so both feeds
    # share one traced train function (a static 32 would trace and XLA-compile another).
    return tf.data.Dataset.from_tensors((images, labels)).repeat(steps).unbatch().batch(
        batch_size).prefetch(2)


def fit_rate(model, dataset, images: int) -> float:
    """images/s of one model.fit epoch over `dataset` (already warmed up)."""
    import warnings

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(dataset, epochs=1, verbose=0)
    return images / (time.perf_counter() - started)
