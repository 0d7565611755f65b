"""Turning an `AugmentationConfig` into Keras 3 layers with Keras 2 meaning (`build_augmenter`)."""
from __future__ import annotations

import functools
import math

import numpy as np

from core.data.augmentation.config import AugmentationConfig
from core.data.augmentation.presets import load_augmentation


# --------------------------------------------------------------------------- Keras layers


@functools.cache
def _layer_classes():
    """Define the two custom layers once, on first use, so importing this module stays fast."""
    import keras
    from keras.src.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer \
        import BaseImagePreprocessingLayer

    @keras.saving.register_keras_serializable(package="ImageClassifierStudio")
    class RandomAffine(BaseImagePreprocessingLayer):
        """Keras 2 geometry: rotation, shift, shear, zoom and flips in one resampling.

        Each image draws what `ImageDataGenerator.get_random_transform` drew: an angle in
        [-rotation_range, rotation_range] degrees, shifts in [-range, range] times the
        height and width, a shear angle in [-shear_range, shear_range] degrees, one zoom
        scale per axis in zoom_range, and a coin per enabled flip. Output pixel p reads the
        input at c + R T S Z F (p - c), with c the image centre, R T S Z the Keras 2
        matrices (row/column order) and F the flips, which Keras 2 applied afterwards.

        Why not the Keras 3 layers: RandomShear takes a fraction and shears about the
        top-left corner; RandomRotation and RandomZoom need converted factors;
        RandomFlip("horizontal_and_vertical") flips both axes or neither. Chaining them
        also resamples (blurs) the image four times and took nearly three times as long.
        Flips map pixels onto pixels, so folding them in keeps them exact.
        """

        _USE_BASE_FACTOR = False

        def __init__(self, rotation_range=0.0, width_shift_range=0.0, height_shift_range=0.0,
                     shear_range=0.0, zoom_range=(1.0, 1.0), horizontal_flip=False,
                     vertical_flip=False, fill_mode="nearest", fill_value=0.0,
                     interpolation="bilinear", seed=None, **kwargs):
            super().__init__(**kwargs)
            self.rotation_range = float(rotation_range)
            self.width_shift_range = float(width_shift_range)
            self.height_shift_range = float(height_shift_range)
            self.shear_range = float(shear_range)
            self.zoom_range = tuple(float(v) for v in zoom_range)
            self.horizontal_flip = bool(horizontal_flip)
            self.vertical_flip = bool(vertical_flip)
            self.fill_mode = fill_mode
            self.fill_value = float(fill_value)
            self.interpolation = interpolation
            self.seed = seed
            self.generator = keras.random.SeedGenerator(seed)
            self.supports_jit = False

        def get_random_transformation(self, data, training=True, seed=None):
            if not training:
                return None
            ops = self.backend
            images = data["images"] if isinstance(data, dict) else data
            shape = ops.shape(images)
            batch_size = shape[0] if len(shape) == 4 else 1
            height, width = (shape[1], shape[2]) if len(shape) == 4 else (shape[0], shape[1])
            height = ops.cast(height, "float32")
            width = ops.cast(width, "float32")
            if seed is None:
                seed = self._get_seed_generator(ops._backend)

            # One draw for all eight parameters: cheaper eagerly, and never correlated even
            # when a caller passes a fixed seed (stock layers reuse it for every draw).
            draws = ops.random.uniform((8, batch_size), dtype="float32", seed=seed)
            rotation = math.radians(self.rotation_range)
            shear = math.radians(self.shear_range)
            low_zoom, high_zoom = self.zoom_range

            def between(index, low, high):
                return low + (high - low) * draws[index]

            def coin(index, enabled):
                return ops.cast(draws[index] < 0.5, "float32") * (1.0 if enabled else 0.0)

            p = {"theta": between(0, -rotation, rotation),
                 "shift_rows": between(1, -self.height_shift_range,
                                       self.height_shift_range) * height,
                 "shift_columns": between(2, -self.width_shift_range,
                                          self.width_shift_range) * width,
                 "shear": between(3, -shear, shear),
                 "zoom_rows": between(4, low_zoom, high_zoom),
                 "zoom_columns": between(5, low_zoom, high_zoom),
                 "flip_rows": coin(6, self.vertical_flip),
                 "flip_columns": coin(7, self.horizontal_flip)}
            p["matrix"] = self.keras2_matrix(**p, height=height, width=width)
            return p

        def keras2_matrix(self, theta, shift_rows, shift_columns, shear, zoom_rows,
                          zoom_columns, flip_rows, flip_columns, height, width):
            """Projective transforms (N, 8) for `affine_transform` from Keras 2 parameters.

            Angles in radians, shifts in pixels, flips 1.0 (flip) or 0.0. In (row, column)
            coordinates about the centre, R T S Z is [[m00, m01], [m10, m11]] plus
            (o0, o1); a flip negates the matching column of that matrix.
            """
            ops = self.backend.numpy
            sign_rows, sign_columns = 1.0 - 2.0 * flip_rows, 1.0 - 2.0 * flip_columns
            cos, sin = ops.cos(theta), ops.sin(theta)
            m00 = cos * zoom_rows * sign_rows
            m01 = -zoom_columns * ops.sin(theta + shear) * sign_columns
            m10 = sin * zoom_rows * sign_rows
            m11 = zoom_columns * ops.cos(theta + shear) * sign_columns
            o0 = cos * shift_rows - sin * shift_columns
            o1 = sin * shift_rows + cos * shift_columns
            center_row = (height - 1.0) / 2.0
            center_column = (width - 1.0) / 2.0
            offset_rows = center_row + o0 - m00 * center_row - m01 * center_column
            offset_columns = center_column + o1 - m10 * center_row - m11 * center_column
            zeros = ops.zeros_like(theta)
            # affine_transform works in (x, y) = (column, row) order.
            return ops.stack([m11, m10, offset_columns, m01, m00, offset_rows, zeros, zeros],
                             axis=1)

        def _transform_images(self, images, transformation, interpolation):
            if transformation is None:
                return images
            return self.backend.image.affine_transform(
                images, transformation["matrix"], interpolation=interpolation,
                fill_mode=self.fill_mode, fill_value=self.fill_value,
                data_format=self.data_format)

        def transform_labels(self, labels, transformation, training=True):
            return labels

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "rotation_range": self.rotation_range,
                    "width_shift_range": self.width_shift_range,
                    "height_shift_range": self.height_shift_range,
                    "shear_range": self.shear_range, "zoom_range": self.zoom_range,
                    "horizontal_flip": self.horizontal_flip, "vertical_flip": self.vertical_flip,
                    "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                    "interpolation": self.interpolation, "seed": self.seed}

    @keras.saving.register_keras_serializable(package="ImageClassifierStudio")
    class RandomBrightnessScale(BaseImagePreprocessingLayer):
        """Keras 2 brightness: multiply each image by a random factor in [low, high], clip.

        `keras.layers.RandomBrightness` adds a random offset instead, which lifts black to
        grey; multiplying keeps black black, as Keras 2 `brightness_range` did.
        """

        _USE_BASE_FACTOR = False

        def __init__(self, brightness_range, value_range=(0.0, 255.0), seed=None, **kwargs):
            super().__init__(**kwargs)
            self.lower, self.upper = (float(v) for v in brightness_range)
            self.brightness_range = tuple(brightness_range)
            self.value_range = tuple(value_range)
            self.seed = seed
            self.generator = keras.random.SeedGenerator(seed)

        def get_random_transformation(self, data, training=True, seed=None):
            if not training:
                return None
            ops = self.backend
            images = data["images"] if isinstance(data, dict) else data
            shape = ops.shape(images)
            batch_size = shape[0] if len(shape) == 4 else 1
            if seed is None:
                seed = self._get_seed_generator(ops._backend)
            factor = ops.random.uniform((batch_size, 1, 1, 1), minval=self.lower,
                                        maxval=self.upper, seed=seed)
            return {"factor": factor}

        def transform_images(self, images, transformation, training=True):
            images = self.backend.cast(images, self.compute_dtype)
            if not training or transformation is None:
                return images
            factor = self.backend.cast(transformation["factor"], self.compute_dtype)
            return self.backend.numpy.clip(images * factor, *self.value_range)

        def transform_labels(self, labels, transformation, training=True):
            return labels

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "brightness_range": self.brightness_range,
                    "value_range": self.value_range, "seed": self.seed}

    return RandomAffine, RandomBrightnessScale


def _make_layers(config: AugmentationConfig, seeds: list[int | None]) -> list:
    """Keras layers for config, in Keras 2 order; seeds[i] seeds the i-th layer."""
    import keras

    RandomAffine, RandomBrightnessScale = _layer_classes()
    seeds = iter(seeds)
    layers = []
    if (config.rotation_range or config.width_shift_range or config.height_shift_range
            or config.shear_range or config.zoom_bounds != (1.0, 1.0)
            or config.horizontal_flip or config.vertical_flip):
        layers.append(RandomAffine(
            config.rotation_range, config.width_shift_range, config.height_shift_range,
            config.shear_range, config.zoom_bounds, config.horizontal_flip,
            config.vertical_flip, fill_mode=config.fill_mode, fill_value=config.cval,
            interpolation="bilinear", seed=next(seeds)))
    if config.brightness_range not in (None, (1.0, 1.0)):
        layers.append(RandomBrightnessScale(config.brightness_range, seed=next(seeds)))
    if config.contrast_range:
        layers.append(keras.layers.RandomContrast(config.contrast_range, value_range=(0, 255),
                                                  seed=next(seeds)))
    return layers


_MAX_LAYERS = 3


def _layer_seeds(seed: int | None) -> list[int | None]:
    """One independent seed per layer, so layers never draw the same random numbers."""
    if seed is None:
        return [None] * _MAX_LAYERS
    states = np.random.SeedSequence(int(seed) & 0xFFFFFFFFFFFFFFFF).generate_state(
        _MAX_LAYERS, dtype=np.uint32)
    return [int(state) & 0x7FFFFFFF for state in states]


class Augmenter:
    """Applies an `AugmentationConfig` to float32 images in [0, 255]; made by `build_augmenter`.

    Call it on a batch (N, H, W, 3) or one image (H, W, 3), as numpy or tensor, eagerly or
    inside `tf.data.Dataset.map`. Each image gets its own random transform, and every call
    draws new ones. Returns a float32 tensor of the same shape, clipped to [0, 255].

    With `map(..., num_parallel_calls=n > 1)`, two calls running at the same moment can
    read the same random state (Keras' SeedGenerator reads, then advances), so two
    different batches occasionally get the same transform parameters. That costs nothing
    in training, but a seeded run is only repeatable with a sequential map.

    Attributes:
        config: the `AugmentationConfig` it applies.
        layers: the Keras preprocessing layers, in the order they run.
    """

    def __init__(self, config: AugmentationConfig, seed: int | None = None):
        self.config = config
        self.layers = _make_layers(config, _layer_seeds(seed))

    def __call__(self, images, training: bool = True):
        import keras

        x = keras.ops.convert_to_tensor(images, "float32")  # once, not in every layer
        for layer in self.layers:
            x = layer(x, training=training)
        return keras.ops.clip(keras.ops.cast(x, "float32"), 0.0, 255.0)

    def reseed(self, seed: int) -> None:
        """Restart every layer's random stream from seed: the next call repeats exactly."""
        for layer, layer_seed in zip(self.layers, _layer_seeds(seed)):
            layer.generator.state.assign(np.array([layer_seed, 0], dtype=np.int64))

    def __repr__(self) -> str:
        names = ", ".join(type(layer).__name__ for layer in self.layers)
        return f"Augmenter([{names}])"


def build_augmenter(config, seed: int | None = None) -> Augmenter | None:
    """Build the Keras layers that apply config; None when the config changes nothing.

    Args:
        config: anything `load_augmentation` accepts (usually an `AugmentationConfig`).
        seed: makes the sequence of random transforms reproducible; None for a random one.

    Returns:
        An `Augmenter` callable on float32 (N, H, W, 3) batches in [0, 255], or None.

    Example:

    >>> augment = build_augmenter("default", seed=1)
    >>> dataset = dataset.map(lambda images, labels: (augment(images), labels))
    """
    config = load_augmentation(config)  # a validated copy
    if config.is_identity():
        return None
    return Augmenter(config, seed=seed)
