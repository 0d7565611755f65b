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
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from core.errors import ConfigError


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
                raise ConfigError(
                    f"Received {name}={_show(value)}; expected {expected}. Keras 2 read "
                    f"values of 1 or more as pixels; divide the pixels by the image {side} "
                    f"(for example 16 px of 224 is 0.07).")
            setattr(self, name, value)
        expected = "a number of degrees from 0 up to (not including) 90"
        self.shear_range = _number("shear_range", self.shear_range, 0, math.inf, expected)
        if self.shear_range >= 90:
            raise ConfigError(f"Received shear_range={_show(self.shear_range)}; expected {expected}.")
        self.zoom_range = _zoom(self.zoom_range)
        for name in ("horizontal_flip", "vertical_flip"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ConfigError(f"Received {name}={value!r}; expected true or false.")
            setattr(self, name, bool(value))
        if self.fill_mode not in FILL_MODES:
            raise ConfigError(f"Received fill_mode={self.fill_mode!r}; expected one of "
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
            raise ConfigError(f"Received augmentation settings of type {type(data).__name__}; "
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
            raise ConfigError(" ".join(problems))
        return cls(**dict(data))


def _show(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _number(name: str, value, low: float, high: float, expected: str) -> float:
    """Return value as a float in [low, high] or raise a ValueError naming it."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))
            or not math.isfinite(value) or not low <= value <= high):
        raise ConfigError(f"Received {name}={_show(value)}; expected {expected}.")
    return float(value)


def _pair(name: str, value, expected: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(f"Received {name}={_show(value)}; expected {expected}.")
    low, high = (_number(name, v, 0, math.inf, expected) for v in value)
    if low > high:
        raise ConfigError(f"Received {name}={_show(value)}; expected {expected} "
                         "(low first, then high).")
    return (low, high)


def _zoom(value) -> float | tuple[float, float]:
    expected = ("a number z from 0 up to (not including) 1, meaning scales in [1 - z, 1 + z], "
                "or a pair [low, high] with 0 < low <= high <= 2")
    if isinstance(value, (list, tuple, np.ndarray)):
        low, high = _pair("zoom_range", list(value), expected)
        if not 0 < low <= high <= 2:
            raise ConfigError(f"Received zoom_range={_show(value)}; expected {expected}.")
        return (low, high)
    value = _number("zoom_range", value, 0, math.inf, expected)
    if value >= 1:
        raise ConfigError(f"Received zoom_range={_show(value)}; expected {expected}.")
    return value


def _brightness(value) -> tuple[float, float] | None:
    if value is None:
        return None
    expected = ("none, or a pair [low, high] of brightness multipliers with "
                "0 <= low <= high, such as [0.8, 1.2]")
    return _pair("brightness_range", value, expected)
