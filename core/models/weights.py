"""Where a backbone's weights come from (ImageNet, none, a local file), loading them, and weight snapshots."""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.models.backbones import Backbone, WEIGHTS_CHOICES, check_alpha, get_backbone
from core.errors import ConfigError


# --- weights -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightsSource:
    """Where a base's weights come from: "imagenet", "none" or a local file."""

    kind: str  # "imagenet", "none" or "file"
    path: str | None = None

    @property
    def label(self) -> str:
        return self.path if self.kind == "file" else self.kind

    def identity(self, seed: int | None = None) -> str:
        """Identifies the weights for the feature cache: file contents, not file names."""
        if self.kind == "file":
            return "sha256:" + file_sha256(self.path)
        if self.kind == "none":
            return f"none:seed={seed}"  # random weights differ by seed
        return "imagenet"

    def describe(self) -> dict:
        data = {"source": self.kind}
        if self.kind == "file":
            data.update(path=self.path, sha256=file_sha256(self.path))
        return data


def parse_weights(spec: str | None, bases: list[str]) -> dict[str, WeightsSource]:
    """--weights: "imagenet" (default), "none", a file, or for fusion "base=SPEC,base=SPEC"
    (bases not named get imagenet). Raises ValueError with the fix."""
    spec = (spec or "imagenet").strip()
    per_base = {name: "imagenet" for name in bases}
    if "=" in spec and not os.path.exists(spec):
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, value = part.partition("=")
            if name.strip() not in per_base:
                raise ConfigError(f"Received --weights {spec!r}, which names {name.strip()!r}; "
                                 f"this model's bases are: {', '.join(bases)}.")
            per_base[name.strip()] = value.strip()
    else:
        if len(bases) > 1 and spec not in WEIGHTS_CHOICES:
            raise ConfigError(f"Received one weights file for the fusion of {', '.join(bases)}; "
                             "name the base it belongs to, e.g. --weights "
                             f"{bases[0]}={spec},{bases[1]}=imagenet.")
        per_base = {name: spec for name in bases}
    return {name: _weights_source(value) for name, value in per_base.items()}


def _weights_source(value: str) -> WeightsSource:
    if value.lower() in WEIGHTS_CHOICES:
        return WeightsSource(value.lower())
    path = Path(os.path.expanduser(value))  # Path.expanduser raises for an unknown ~user
    if not path.is_file():
        raise ConfigError(f"Received --weights {value!r}, which is neither 'imagenet', 'none' "
                         "nor an existing file. Pass the path of a weights file (.h5 or "
                         ".weights.h5), 'imagenet' or 'none'.")
    return WeightsSource("file", str(path.resolve()))


_SHA_CACHE: dict[tuple, str] = {}


def file_sha256(path: str) -> str:
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def keras_models_folder() -> str:
    """Where Keras keeps downloaded weights (~/.keras/models, or $KERAS_HOME/models)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models")


def build_base(name: str, image_size: int, weights: WeightsSource | str = "imagenet",
               alpha: float | None = None, snapshot_dir: str | os.PathLike | None = None):
    """The backbone without its classifier (include_top=False, no pooling), named `name`.

    With `snapshot_dir`, weights read from a file are also kept there as a flat snapshot
    (see `_load_weights_file`), which the next build of the same base loads ~8x faster.

    Raises:
        ValueError: the size is too small, ImageNet weights cannot be downloaded (offline:
            the sentence names the file and the folder to put it in), or a weights file does
            not fit this backbone.
    """
    import keras

    backbone = get_backbone(name)
    alpha = check_alpha(name, alpha)
    if isinstance(weights, str):
        weights = parse_weights(weights, [name])[name]
    if image_size < backbone.min_size:
        raise ConfigError(f"Received image size {image_size} for {name}; it needs at least "
                         f"{backbone.min_size} px (default {backbone.default_size}).")
    constructor = getattr(keras.applications, backbone.constructor)
    kwargs = dict(include_top=False, input_shape=(image_size, image_size, 3))
    if backbone.has_alpha:
        kwargs.update(alpha=alpha, name=name)  # its default name depends on alpha and size
    if weights.kind == "imagenet":
        base = _download_imagenet(backbone, constructor, kwargs, image_size, alpha)
    else:
        base = constructor(weights=None, **kwargs)
        if weights.kind == "file":
            _load_weights_file(base, backbone, weights.path, alpha, snapshot_dir)
    base.name = name  # EfficientNet's download file is named after the model: rename after.
    return base


def _download_imagenet(backbone, constructor, kwargs, image_size, alpha):
    file_name = backbone.imagenet_file_name(image_size, alpha)
    try:
        # Keras prints "Downloading data from ..." on stdout; keep stdout for --json output.
        with contextlib.redirect_stdout(sys.stderr):
            return constructor(weights="imagenet", **kwargs)
    except Exception as error:  # urllib raises many kinds; Keras wraps some in Exception
        if not _looks_like_download_failure(error):
            raise
        raise ConfigError(
            f"Cannot download the ImageNet weights of {backbone.name} ({file_name}): "
            f"{str(error).splitlines()[0][-120:]}. Put that file into "
            f"{keras_models_folder()}{os.sep}, or pass --weights /path/to/file.h5 "
            "(or --weights none to start from random weights).") from None


def _looks_like_download_failure(error: Exception) -> bool:
    import urllib.error

    text = str(error)
    return isinstance(error, (urllib.error.URLError, OSError, TimeoutError)) or any(
        needle in text for needle in ("URL fetch failure", "HTTP Error", "urlopen", "Errno",
                                      "incomplete or corrupted"))


def _load_weights_file(base, backbone: Backbone, path: str, alpha: float | None,
                       snapshot_dir: str | os.PathLike | None = None) -> None:
    if not (path.endswith(".h5") or path.endswith(".keras")):
        raise ConfigError(f"Received --weights {path}; expected a Keras weights file ending in "
                         ".h5, .weights.h5 or .keras.")
    what = backbone.name + (f" (alpha {alpha})" if backbone.has_alpha else "")
    snapshot = _weights_snapshot_path(snapshot_dir, base, path) if snapshot_dir else None
    if snapshot is not None and _load_weights_snapshot(base, snapshot):
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras warns per layer before it raises
            base.load_weights(path)
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"The weights file {path} does not fit {what}: {reason} Check "
                         "--model" + (" and --alpha" if backbone.has_alpha else "")
                         + ", or pass --weights imagenet or none.") from None
    if snapshot is not None:
        _save_weights_snapshot(base, snapshot)


# Keras's load_weights walks the model generically (about 0.4 s for MobileNetV2, more for
# bigger bases); set_weights from a flat array file takes 0.05 s. A cached bottleneck run is
# a few seconds in all, so the snapshot is kept beside the feature cache, keyed by the
# weights file's contents, the architecture and the Keras version.
WEIGHTS_SNAPSHOT_FOLDER = "weights"


def _weights_snapshot_path(snapshot_dir, base, weights_path: str) -> Path | None:
    import keras

    try:
        digest = hashlib.sha256()
        with open(weights_path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None  # Keras's own loader reports the unreadable file
    shapes = ";".join("x".join(map(str, w.shape)) for w in base.weights)
    digest.update(f"{base.name}|{base.input_shape}|{shapes}|{keras.__version__}".encode())
    return Path(snapshot_dir) / WEIGHTS_SNAPSHOT_FOLDER / f"{base.name}-{digest.hexdigest()[:24]}.npz"


def _load_weights_snapshot(base, snapshot: Path) -> bool:
    """Set `base`'s weights from `snapshot`; False (nothing changed) when it is missing,
    unreadable or does not fit, and the weights file is read instead."""
    if not snapshot.is_file():
        return False
    try:
        with np.load(snapshot, allow_pickle=False) as arrays:
            values = [arrays[f"w{index}"] for index in range(len(arrays.files))]
        if [tuple(v.shape) for v in values] != [tuple(w.shape) for w in base.weights]:
            return False
        base.set_weights(values)
        return True
    except Exception:  # a truncated or foreign file: fall back to the real weights file
        return False


def _save_weights_snapshot(base, snapshot: Path) -> None:
    from core.util import atomic

    try:
        with atomic.atomic_path(snapshot, suffix=".npz") as tmp:
            np.savez(tmp, **{f"w{index}": value for index, value in enumerate(base.get_weights())})
    except OSError:
        pass  # only a speed-up: a read-only or full cache folder is fine
