"""The input pipeline: image files to batches of float32 pixels in [0, 255], streamed by tf.data.

Files that TensorFlow decodes exactly like our Python reader ("native": plain JPEG and PNG)
are decoded in-graph, in parallel; everything else (WebP, TIFF, 16-bit or palette PNG, EXIF
rotated photos, ...) goes through `core.data.imageio.read_image`. Both paths end in the same
resize, so training, evaluation and prediction see the same pixels.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

RESIZE_METHOD = "bilinear"  # with antialias: downscaling large photos without aliasing


def _tf():
    import tensorflow as tf

    return tf


def resize_images(images, image_size: int):
    """Resize a (H, W, 3) or (N, H, W, 3) tensor to image_size x image_size, float32 [0, 255]."""
    tf = _tf()
    images = tf.image.resize(tf.cast(images, tf.float32), (image_size, image_size),
                             method=RESIZE_METHOD, antialias=True)
    return tf.clip_by_value(images, 0.0, 255.0)


def _python_decode(path) -> np.ndarray:
    import os

    from core.errors import ImageReadError
    from core.data.imageio import read_image

    try:
        return read_image(os.fsdecode(path) if isinstance(path, bytes) else str(path))
    except ImageReadError:
        # A file that broke after the scan: an empty image is dropped by the pipeline.
        return np.zeros((0, 0, 3), np.uint8)


def decode_path(path, native, image_size: int):
    """Graph function: read and decode one file, then resize. `native` picks the decoder."""
    tf = _tf()

    def in_graph():
        data = tf.io.read_file(path)
        # INTEGER_ACCURATE gives Pillow's pixels exactly; TF's default fast DCT is off by up
        # to 15 levels, which would make predictions differ from training.
        return tf.cond(tf.io.is_jpeg(data),
                       lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
                       lambda: tf.io.decode_png(data, channels=3))

    def in_python():
        image = tf.numpy_function(_python_decode, [path], tf.uint8, stateful=False)
        return tf.reshape(image, tf.stack([tf.shape(image)[0], tf.shape(image)[1], 3]))

    image = tf.cond(native, in_graph, in_python)
    image.set_shape([None, None, 3])
    return image


def make_dataset(paths: Sequence[str], labels: Sequence[int] | None, image_size: int,
                 batch_size: int, *, is_native: Callable[[str], bool] | None = None,
                 shuffle: bool = False, augmenter=None, seed: int | None = None,
                 shard: tuple[int, int] | None = None):
    """Stream (images, labels) batches, or images only when `labels` is None.

    Args:
        paths: image files.
        labels: class indices aligned with `paths`, or None for prediction.
        image_size: square side the images are resized to.
        batch_size: images per batch.
        is_native: tells which files TensorFlow can decode in-graph (default: none).
        shuffle: reshuffle the file order every epoch (seeded).
        augmenter: a callable on float32 batches (see core.data.augmentation.layers.build_augmenter).
        seed: seed for shuffling.
        shard: (count, index): read only every count-th file from index on (a worker of a
            cluster reads its own files; see core.training.distribute).
    """
    import os

    tf = _tf()
    paths = [os.fspath(p) for p in paths]
    native = [bool(is_native(p)) if is_native else False for p in paths]
    # File-system bytes, not text: a name that is not valid UTF-8 (old ZIP archives) cannot be
    # turned into a string tensor, and TensorFlow's file system takes the raw bytes anyway.
    paths = [os.fsencode(p) for p in paths]
    autotune = tf.data.AUTOTUNE
    columns = (paths, native) if labels is None else (paths, native, np.asarray(labels, np.int32))
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    if shard is not None and shard[0] > 1:
        # Sharded here, on the file list, so each worker decodes only its own pictures.
        dataset = dataset.shard(*shard)
    if shuffle:
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def load(path, is_native_file, *label):
        image = decode_path(path, is_native_file, image_size)
        ok = tf.logical_and(tf.shape(image)[0] > 0, tf.shape(image)[1] > 0)
        image = tf.cond(ok, lambda: resize_images(image, image_size),
                        lambda: tf.zeros((image_size, image_size, 3), tf.float32))
        return (image, ok, *label)

    # Deterministic order keeps seeded runs reproducible; decoding still runs in parallel.
    dataset = dataset.map(load, num_parallel_calls=autotune, deterministic=True)
    # Files that became unreadable after the scan are dropped rather than failing the epoch.
    dataset = dataset.filter(lambda image, ok, *label: ok)
    dataset = dataset.map(lambda image, ok, *label: (image, *label))
    dataset = dataset.batch(batch_size)
    if augmenter is not None:
        # Sequential on purpose: parallel calls can read the same random state and repeat a
        # transform. Each call is vectorised over the batch and uses both cores anyway.
        dataset = dataset.map(lambda images, *label: (augmenter(images), *label))
    if labels is None:
        dataset = dataset.map(lambda images: images)
    return dataset.prefetch(autotune)


def prepare_arrays(images: Sequence[np.ndarray], image_size: int) -> np.ndarray:
    """Decoded uint8 RGB images (any sizes) to a float32 batch, exactly as the pipeline does."""
    resized = [resize_images(image, image_size).numpy() for image in images]
    return np.stack(resized).astype(np.float32) if resized else np.zeros(
        (0, image_size, image_size, 3), np.float32)
