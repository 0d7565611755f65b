"""Named augmentation presets, and loading a config from a preset name, a JSON file or a dict."""
from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping

from core.data.augmentation.config import AugmentationConfig
from core.errors import ConfigError


PRESETS: dict[str, AugmentationConfig] = {
    "none": AugmentationConfig(),
    "light": AugmentationConfig(rotation_range=10, width_shift_range=0.1, height_shift_range=0.1,
                                zoom_range=0.1, horizontal_flip=True),
    # The Keras blog "building powerful image classification models using very little data"
    # generator. Its shear_range=0.2 is 0.2 degrees in Keras 2, kept for faithfulness.
    "keras_blog": AugmentationConfig(rotation_range=40, width_shift_range=0.2,
                                  height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                                  horizontal_flip=True, fill_mode="nearest", rescale=1.0 / 255),
    "strong": AugmentationConfig(rotation_range=40, width_shift_range=0.25,
                                 height_shift_range=0.25, shear_range=15, zoom_range=0.3,
                                 horizontal_flip=True, brightness_range=(0.7, 1.3),
                                 contrast_range=0.3),
}


# Older scripts and runs named the Keras-blog preset "default" (it was the default until the
# app learned to decide from the pictures).
ALIASES = {"default": "keras_blog"}


def load_augmentation(spec) -> AugmentationConfig:
    """Return an `AugmentationConfig` (a new copy) from any way a user can name one.

    Args:
        spec: a preset name ("none", "light", "keras_blog" (also "default"), "strong"), a path to a JSON file
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
        name = ALIASES.get(text.strip().lower(), text.strip().lower())
        if isinstance(spec, str) and name in PRESETS:
            return dataclasses.replace(PRESETS[name])
        if os.path.isfile(text):
            return _load_json(text)
        raise ConfigError(f"Received augmentation {text!r}; expected a preset name "
                         f"({', '.join(PRESETS)}) or the path of an existing JSON file.")
    raise ConfigError(f"Received augmentation of type {type(spec).__name__}; expected a preset "
                     "name, a JSON file path, a dict of settings or an AugmentationConfig.")


def _load_json(path: str) -> AugmentationConfig:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"Could not read augmentation settings from {path}: {error}.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"The augmentation file {path} holds a JSON {type(data).__name__}; "
                         "expected an object of setting names to values.")
    try:
        return AugmentationConfig.from_dict(data)
    except ValueError as error:
        raise ConfigError(f"In {path}: {error}") from None
