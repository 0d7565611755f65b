"""Random image augmentation with Keras 2 `ImageDataGenerator` meaning, run by Keras 3 layers.

Users (and the seed projects we import) describe augmentation with the Keras 2 knobs:
`rotation_range=40, width_shift_range=0.2, zoom_range=0.2, horizontal_flip=True, ...`.
`AugmentationConfig` keeps those names and their Keras 2 meaning; `build_augmenter` turns a
config into Keras 3 preprocessing layers that give the same result, for a `tf.data` pipeline;
`preview` shows what a config does to one image, fast enough for a GUI slider.

Keras 3 layers differ from Keras 2 in ways that change the result, so:

- geometry (rotation, shifts, shear, zoom) and flips are one `RandomAffine` layer that draws
  the Keras 2 parameters and applies the Keras 2 matrix product once, about the image
  centre. The Keras 3 layers would need converted factors (`RandomRotation` takes fractions
  of a turn; `RandomZoom` takes z - 1, negative zooming in), cannot express Keras 2 shear
  (`RandomShear` takes a fraction and shears about the top-left corner), and
  `RandomFlip("horizontal_and_vertical")` flips both axes or neither where Keras 2 tossed
  a coin per axis. One resampling instead of four to six also keeps images sharp and is
  several times faster on a CPU.
- brightness: Keras 2 multiplies by a factor from `brightness_range`;
  `keras.layers.RandomBrightness` adds an offset, so `RandomBrightnessScale` multiplies.
- contrast (not in Keras 2) is `keras.layers.RandomContrast`.

Layers run in Keras 2 order: geometry and flips, brightness, then contrast. Keras is
imported only when an augmenter is built.

Example:

```python
config = load_augmentation("default")
augment = build_augmenter(config, seed=1337)
dataset = dataset.map(lambda x, y: (augment(x), y))   # float32 batches in [0, 255]
tiles = preview(image, config, n=9, seed=0, size=224)
grid = make_grid(tiles)
```
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

FILL_MODES = ("nearest", "constant", "reflect", "wrap")

# Keras 2 ImageDataGenerator arguments we deliberately do not support, with what to do instead.
_UNSUPPORTED_KERAS2_KEYS = {
    "channel_shift_range": "random channel shifts are not supported; remove it",
    "featurewise_center": "dataset-wide normalisation is done by the model; remove it",
    "samplewise_center": "per-image normalisation is done by the model; remove it",
    "featurewise_std_normalization": "dataset-wide normalisation is done by the model; remove it",
    "samplewise_std_normalization": "per-image normalisation is done by the model; remove it",
    "zca_whitening": "ZCA whitening is not supported; remove it",
    "zca_epsilon": "ZCA whitening is not supported; remove it",
    "preprocessing_function": "custom Python functions cannot be saved in settings; remove it",
    "data_format": "images are always channels-last; remove it",
    "validation_split": "set the validation split in the training settings (val_split) instead",
    "interpolation_order": "interpolation is always bilinear; remove it",
    "dtype": "augmentation always works on float32; remove it",
}


@dataclass
class AugmentationConfig:
    """Random augmentation settings, named and defined like Keras 2 `ImageDataGenerator`.

    Use it to describe training-time augmentation in a run's config.json, in the CLI
    (`--augment`) and in the GUI; `build_augmenter` turns it into Keras layers. A dict of
    Keras 2 `ImageDataGenerator` keyword arguments loads as is with `from_dict`.

    Args:
        rotation_range: maximum rotation in degrees, 0-180; each image turns by a random
            angle in [-rotation_range, rotation_range].
        width_shift_range: maximum horizontal shift as a fraction of the width, 0 to < 1.
        height_shift_range: maximum vertical shift as a fraction of the height, 0 to < 1.
        shear_range: maximum shear angle in degrees (Keras 2 meaning), 0 to < 90, about
            the image centre.
        zoom_range: a number z means a scale in [1 - z, 1 + z] per axis; or [low, high]
            with 0 < low <= high <= 2. Below 1 magnifies (zooms in), above 1 shrinks.
        horizontal_flip: flip left-right with probability 0.5.
        vertical_flip: flip top-bottom with probability 0.5 (independently).
        fill_mode: how areas moved in from outside the image are filled: "nearest",
            "constant" (with `cval`), "reflect" or "wrap".
        cval: fill value for fill_mode="constant", 0-255.
        brightness_range: None, or [low, high]: pixel values are multiplied by a factor
            from that range (Keras 2 meaning), then clipped to 0-255.
        contrast_range: c in [0, 1]; contrast is scaled by a factor in [1 - c, 1 + c]
            about each image's mean. 0 turns it off.
        rescale: multiplier the model applies to pixel values (default 1/255). Stored for
            the model's input normalisation; the augmenter does not apply it. None or 0
            (Keras 2 "no rescaling") become 1.

    Raises:
        ValueError: a value is out of range, with the name, what was received and what is
            expected.

    Example:

    >>> AugmentationConfig(rotation_range=20, horizontal_flip=True).is_identity()
    False
    """

    rotation_range: float = 0.0
    width_shift_range: float = 0.0
    height_shift_range: float = 0.0
    shear_range: float = 0.0
    zoom_range: float | tuple[float, float] = 0.0
    horizontal_flip: bool = False
    vertical_flip: bool = False
    fill_mode: str = "nearest"
    cval: float = 0.0
    brightness_range: tuple[float, float] | None = None
    contrast_range: float = 0.0
    rescale: float = 1.0 / 255.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every value and normalise types (numbers to float, pairs to tuples).

        Called on construction; call it again after changing fields by assignment.
        """
        self.rotation_range = _number("rotation_range", self.rotation_range, 0, 180,
                                      "a number of degrees between 0 and 180")
        for name, side in (("width_shift_range", "width"), ("height_shift_range", "height")):
            value = getattr(self, name)
            expected = f"a fraction of the image {side} from 0 up to (not including) 1"
            value = _number(name, value, 0, math.inf, expected)
            if value >= 1:
                raise ValueError(
                    f"Received {name}={_show(value)}; expected {expected}. Keras 2 read "
                    f"values of 1 or more as pixels; divide the pixels by the image {side} "
                    f"(for example 16 px of 224 is 0.07).")
            setattr(self, name, value)
        expected = "a number of degrees from 0 up to (not including) 90"
        self.shear_range = _number("shear_range", self.shear_range, 0, math.inf, expected)
        if self.shear_range >= 90:
            raise ValueError(f"Received shear_range={_show(self.shear_range)}; expected {expected}.")
        self.zoom_range = _zoom(self.zoom_range)
        for name in ("horizontal_flip", "vertical_flip"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"Received {name}={value!r}; expected true or false.")
            setattr(self, name, bool(value))
        if self.fill_mode not in FILL_MODES:
            raise ValueError(f"Received fill_mode={self.fill_mode!r}; expected one of "
                             f"{', '.join(FILL_MODES)}.")
        self.cval = _number("cval", self.cval, 0, 255, "a pixel value between 0 and 255")
        self.brightness_range = _brightness(self.brightness_range)
        self.contrast_range = _number("contrast_range", self.contrast_range, 0, 1,
                                      "a number between 0 (off) and 1")
        if self.rescale is None or (not isinstance(self.rescale, bool) and self.rescale == 0):
            self.rescale = 1.0
        self.rescale = _number("rescale", self.rescale, 1e-12, math.inf,
                               "a positive multiplier such as 1/255, or none")

    @property
    def zoom_bounds(self) -> tuple[float, float]:
        """Scale range (low, high) sampled per axis; (1, 1) means no zoom."""
        if isinstance(self.zoom_range, tuple):
            return self.zoom_range
        return (1.0 - self.zoom_range, 1.0 + self.zoom_range)

    def is_identity(self) -> bool:
        """True when the config never changes an image (rescale does not count)."""
        return (self.rotation_range == 0 and self.width_shift_range == 0
                and self.height_shift_range == 0 and self.shear_range == 0
                and self.zoom_bounds == (1.0, 1.0) and not self.horizontal_flip
                and not self.vertical_flip and self.contrast_range == 0
                and self.brightness_range in (None, (1.0, 1.0)))

    def to_dict(self) -> dict:
        """Every setting as a JSON-ready dict (pairs as lists); `from_dict` reads it back."""
        data = dataclasses.asdict(self)
        for name in ("zoom_range", "brightness_range"):
            if isinstance(data[name], tuple):
                data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> "AugmentationConfig":
        """Build a config from a dict of settings; missing keys keep their defaults.

        Keras 2 `ImageDataGenerator` keyword arguments are accepted as is.

        Raises:
            ValueError: unknown keys (named), Keras 2 options that are not supported
                (named, with what to do instead) or values out of range.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"Received augmentation settings of type {type(data).__name__}; "
                             "expected a dict of setting names to values.")
        names = [f.name for f in dataclasses.fields(cls)]
        problems = []
        unsupported = [key for key in data if key in _UNSUPPORTED_KERAS2_KEYS]
        for key in unsupported:
            problems.append(f"`{key}` is a Keras 2 ImageDataGenerator option that is not "
                            f"supported: {_UNSUPPORTED_KERAS2_KEYS[key]}.")
        unknown = [str(key) for key in data if key not in names and key not in unsupported]
        if unknown:
            problems.append(f"Unknown augmentation setting(s): {', '.join(unknown)}. "
                            f"Expected some of: {', '.join(names)}.")
        if problems:
            raise ValueError(" ".join(problems))
        return cls(**dict(data))


def _show(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _number(name: str, value, low: float, high: float, expected: str) -> float:
    """Return value as a float in [low, high] or raise a ValueError naming it."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))
            or not math.isfinite(value) or not low <= value <= high):
        raise ValueError(f"Received {name}={_show(value)}; expected {expected}.")
    return float(value)


def _pair(name: str, value, expected: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"Received {name}={_show(value)}; expected {expected}.")
    low, high = (_number(name, v, 0, math.inf, expected) for v in value)
    if low > high:
        raise ValueError(f"Received {name}={_show(value)}; expected {expected} "
                         "(low first, then high).")
    return (low, high)


def _zoom(value) -> float | tuple[float, float]:
    expected = ("a number z from 0 up to (not including) 1, meaning scales in [1 - z, 1 + z], "
                "or a pair [low, high] with 0 < low <= high <= 2")
    if isinstance(value, (list, tuple, np.ndarray)):
        low, high = _pair("zoom_range", list(value), expected)
        if not 0 < low <= high <= 2:
            raise ValueError(f"Received zoom_range={_show(value)}; expected {expected}.")
        return (low, high)
    value = _number("zoom_range", value, 0, math.inf, expected)
    if value >= 1:
        raise ValueError(f"Received zoom_range={_show(value)}; expected {expected}.")
    return value


def _brightness(value) -> tuple[float, float] | None:
    if value is None:
        return None
    expected = ("none, or a pair [low, high] of brightness multipliers with "
                "0 <= low <= high, such as [0.8, 1.2]")
    return _pair("brightness_range", value, expected)


PRESETS: dict[str, AugmentationConfig] = {
    "none": AugmentationConfig(),
    "light": AugmentationConfig(rotation_range=10, width_shift_range=0.1, height_shift_range=0.1,
                                zoom_range=0.1, horizontal_flip=True),
    # The Keras blog "building powerful image classification models using very little data"
    # generator. Its shear_range=0.2 is 0.2 degrees in Keras 2, kept for faithfulness.
    "default": AugmentationConfig(rotation_range=40, width_shift_range=0.2,
                                  height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                                  horizontal_flip=True, fill_mode="nearest", rescale=1.0 / 255),
    "strong": AugmentationConfig(rotation_range=40, width_shift_range=0.25,
                                 height_shift_range=0.25, shear_range=15, zoom_range=0.3,
                                 horizontal_flip=True, brightness_range=(0.7, 1.3),
                                 contrast_range=0.3),
}


def load_augmentation(spec) -> AugmentationConfig:
    """Return an `AugmentationConfig` (a new copy) from any way a user can name one.

    Args:
        spec: a preset name ("none", "light", "default", "strong"), a path to a JSON file
            holding a settings dict, a settings dict, an `AugmentationConfig`, or None
            (same as "none").

    Raises:
        ValueError: unknown preset or missing file, unreadable JSON, or bad settings.
    """
    if spec is None:
        return dataclasses.replace(PRESETS["none"])
    if isinstance(spec, AugmentationConfig):
        return dataclasses.replace(spec)
    if isinstance(spec, Mapping):
        return AugmentationConfig.from_dict(spec)
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if isinstance(spec, str) and text.strip().lower() in PRESETS:
            return dataclasses.replace(PRESETS[text.strip().lower()])
        if os.path.isfile(text):
            return _load_json(text)
        raise ValueError(f"Received augmentation {text!r}; expected a preset name "
                         f"({', '.join(PRESETS)}) or the path of an existing JSON file.")
    raise ValueError(f"Received augmentation of type {type(spec).__name__}; expected a preset "
                     "name, a JSON file path, a dict of settings or an AugmentationConfig.")


def _load_json(path: str) -> AugmentationConfig:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Could not read augmentation settings from {path}: {error}.") from None
    if not isinstance(data, dict):
        raise ValueError(f"The augmentation file {path} holds a JSON {type(data).__name__}; "
                         "expected an object of setting names to values.")
    try:
        return AugmentationConfig.from_dict(data)
    except ValueError as error:
        raise ValueError(f"In {path}: {error}") from None


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
        raise ValueError(f"Received an image of dtype {image.dtype} and shape {image.shape}; "
                         "expected a uint8 RGB array of shape (height, width, 3).")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"Received n={n!r}; expected a whole number of tiles of at least 1.")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"Received size={size!r}; expected a whole number of pixels "
                             "of at least 1, or none.")
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
        raise ValueError("Received no images; expected at least one image to tile.")
    tiles = [np.repeat(t[:, :, np.newaxis], 3, axis=2) if t.ndim == 2 else t for t in tiles]
    for tile in tiles:
        if tile.ndim != 3 or tile.shape[2] != 3:
            raise ValueError(f"Received an image of shape {tile.shape}; expected (H, W, 3) "
                             "or (H, W).")
    if columns is None:
        columns = math.ceil(math.sqrt(len(tiles)))
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ValueError(f"Received columns={columns!r}; expected a whole number of at least 1.")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"Received pad={pad!r}; expected a whole number of pixels, 0 or more.")
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
