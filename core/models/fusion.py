"""Fusion models: several backbones under one head (names such as "resnet50+xception")."""
from __future__ import annotations

from core.models.backbones import get_backbone
from core.errors import ConfigError


FUSION_SEPARATOR = "+"


def fusion_bases(model_name: str) -> list[str]:
    """The backbones of a fusion model name such as "resnet50+xception+inception_v3"."""
    names = [part.strip() for part in model_name.split(FUSION_SEPARATOR)]
    for name in names:
        get_backbone(name)
    if len(set(names)) != len(names):
        raise ConfigError(f"Received model {model_name!r}, which names a backbone twice; "
                         "a fusion combines different backbones.")
    return names


def fusion_sizes(bases: list[str], image_size: int | None = None) -> dict[str, int]:
    """Each base's input size in a fusion whose input is `image_size` (default: the largest
    default size). Bases keep their size ratios: at 299, ResNet50 gets 224 and Xception 299."""
    largest = max(get_backbone(name).default_size for name in bases)
    image_size = image_size or largest
    sizes = {}
    for name in bases:
        backbone = get_backbone(name)
        size = round(backbone.default_size * image_size / largest)
        sizes[name] = int(min(image_size, max(backbone.min_size, size)))
    return sizes


FUSION_PRESETS = ("resnet50+xception+inception_v3",)


