"""Pretrained weights the app can use without asking: recognising what a weights file holds,
remembering the files a person gave once, and finding the ones Keras downloaded.

A weights file says nothing about which network it belongs to in a form Keras reads back
(Keras 3 `.weights.h5` files name their layers `batch_normalization_1` and so on). Its
arrays do: their number and their total size are a fingerprint of the architecture, the
same in Keras 3 files and in the legacy `.h5` files `keras.applications` downloads. The
table below holds those fingerprints (include_top=False, any input size); loading the
weights into the network named by the match then checks every shape.

Remembered files live in `weights.json` in the app's settings folder ($ICS_CONFIG_DIR, else
~/.config/image-classifier-studio), so a file given once with --weights (or in the app) is
found by every later run, from the command line and the app alike.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

CONFIG_ENV = "ICS_CONFIG_DIR"
REMEMBERED_FILE = "weights.json"

# (backbone, alpha) -> (number of weight arrays, number of weights), include_top=False; the
# architecture's own counts (Keras 3.x), independent of the input size. EfficientNet files
# may leave out the 7 numbers of its input normalisation: matched within that tolerance.
FINGERPRINTS: dict[tuple[str, float | None], tuple[int, int]] = {
    ("mobilenet_v2", 0.35): (260, 410208),
    ("mobilenet_v2", 0.5): (260, 706224),
    ("mobilenet_v2", 0.75): (260, 1382064),
    ("mobilenet_v2", 1.0): (260, 2257984),
    ("mobilenet_v2", 1.3): (260, 3766048),
    ("mobilenet_v2", 1.4): (260, 4363712),
    ("vgg16", None): (26, 14714688),
    ("resnet50", None): (318, 23587712),
    ("inception_v3", None): (376, 21802784),
    ("xception", None): (234, 20861480),
    ("efficientnet_b0", None): (312, 4049571),
}
_TOLERANCE = 8  # weights: EfficientNet's normalisation statistics, saved or not


@dataclass(frozen=True)
class PretrainedWeights:
    """A weights file and the network it belongs to."""

    path: str
    backbone: str
    alpha: float | None = None
    source: str = "file"  # "file" (given by the person), "keras-cache" (downloaded by Keras)

    @property
    def title(self) -> str:
        from core.models.backbones import get_backbone

        title = get_backbone(self.backbone).title
        return f"{title} (width {self.alpha:g})" if self.alpha is not None else title


def identify_weights(path: str | os.PathLike) -> PretrainedWeights:
    """Which network (and MobileNetV2 width) a weights file holds.

    Raises ConfigError with a sentence when the file cannot be read or matches no network."""
    arrays, total = _count_weights(path)
    for (backbone, alpha), (count, size) in FINGERPRINTS.items():
        if abs(total - size) <= _TOLERANCE and arrays in (count, count - 3):
            return PretrainedWeights(str(Path(path).resolve()), backbone, alpha)
    raise ConfigError(f"The weights file {path} holds {arrays} arrays ({total:,} weights), "
                      "which matches none of the networks the app knows (MobileNetV2, VGG16, "
                      "ResNet50, InceptionV3, Xception, EfficientNet-B0, without their top "
                      "layers). Pass a weights file saved with include_top=False, or name the "
                      "network with --model.")


def _count_weights(path) -> tuple[int, int]:
    import h5py

    counts = [0, 0]

    def visit(_name, item):
        if isinstance(item, h5py.Dataset) and item.ndim >= 1:
            counts[0] += 1
            counts[1] += int(item.size)

    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(visit)
    except (OSError, ValueError) as error:
        raise ConfigError(f"Cannot read the weights file {path}: {error}. Expected a Keras "
                          "weights file (.h5 or .weights.h5).") from None
    return counts[0], counts[1]


# --- remembered files ---------------------------------------------------------------------------


def settings_dir() -> Path:
    folder = os.environ.get(CONFIG_ENV)
    if folder:
        return Path(folder).expanduser()
    return Path("~", ".config", "image-classifier-studio").expanduser()


def remember_weights(weights: PretrainedWeights) -> None:
    """Keep `weights` for later runs (most recent first). Best effort: a read-only settings
    folder only means the person names the file again next time."""
    from core.util import atomic

    entries = [entry for entry in _remembered() if entry.get("path") != weights.path]
    entries.insert(0, {"path": weights.path, "backbone": weights.backbone,
                       "alpha": weights.alpha})
    try:
        settings_dir().mkdir(parents=True, exist_ok=True)
        atomic.write_json(settings_dir() / REMEMBERED_FILE, {"weights": entries[:20]})
    except OSError:
        pass


def _remembered() -> list[dict]:
    try:
        data = json.loads((settings_dir() / REMEMBERED_FILE).read_text(encoding="utf-8"))
        entries = data.get("weights", []) if isinstance(data, dict) else []
        return [entry for entry in entries if isinstance(entry, dict)]
    except (OSError, ValueError):
        return []


def available_weights() -> list[PretrainedWeights]:
    """Pretrained weights on this computer, best first: files the person gave (most recent
    first, those still there), then ImageNet files Keras downloaded."""
    found = []
    for entry in _remembered():
        path, backbone = entry.get("path"), entry.get("backbone")
        if isinstance(path, str) and os.path.isfile(path) and (backbone, entry.get("alpha")) \
                in FINGERPRINTS:
            found.append(PretrainedWeights(path, backbone, entry.get("alpha")))
    return found + _keras_cache()


def _keras_cache() -> list[PretrainedWeights]:
    """MobileNetV2 files Keras downloaded (~/.keras/models): the recipe's network."""
    from core.models.backbones import MOBILENET_ALPHAS, get_backbone
    from core.models.weights import keras_models_folder

    backbone = get_backbone("mobilenet_v2")
    folder = Path(keras_models_folder())
    found = []
    for alpha in sorted(MOBILENET_ALPHAS, key=lambda a: abs(a - 1.0)):  # 1.0 first: accurate
        path = folder / backbone.imagenet_file_name(224, alpha)
        if path.is_file():
            found.append(PretrainedWeights(str(path), "mobilenet_v2", alpha, "keras-cache"))
    return found
