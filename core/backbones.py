"""Pretrained backbones: ImageNet networks from `keras.applications` as transfer-learning bases.

Importing this module registers every backbone in `core.models.MODEL_REGISTRY` (family
"transfer"), plus the seeds' fusion of ResNet50 + Xception + InceptionV3. Each backbone knows
its default input size (224, or 299 for Inception and Xception), its own `preprocess_input`
(as a serialisable layer, so saved models still take raw RGB pixels in [0, 255]), the file
Keras downloads for its ImageNet weights, and where its top block starts (for fine-tuning).

The classifiers built here are plain functional models:

    image [0, 255] -> preprocess -> base (a nested keras.applications model, named after the
    backbone) -> GlobalAveragePooling2D or Flatten -> head -> predictions

so `core.heatmaps` finds CAM heads (GAP + Dropout + Dense) and nested bases by name. A fusion
model resizes its input (the largest base size) to each base's own size inside the model.

Example:
    network = build_network([BaseChoice("mobilenet_v2", 224, "none", alpha=0.35)], 2)
    network.model.predict(images_0_255)
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sys
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.models import ModelSpec, output_layer, register_model
from core.tf_runtime import load_tensorflow

load_tensorflow()  # quietly; the custom layer below must be registered before any model loads
import keras  # noqa: E402

WEIGHTS_CHOICES = ("imagenet", "none")
POOLINGS = ("avg", "flatten")
HEADS = ("dense", "dense-hidden", "logreg", "svm")
MOBILENET_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
# keras.applications.efficientnet's ImageNet statistics (see _efficientnet_file_correction).
_EFFICIENTNET_MEAN_RGB = (0.485, 0.456, 0.406)
_EFFICIENTNET_STDDEV_RGB = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="ics")
class CaffePreprocessing(keras.layers.Layer):
    """RGB pixels in [0, 255] -> BGR minus the ImageNet channel means.

    The "caffe" mode of `keras.applications.imagenet_utils.preprocess_input`, used by VGG16
    and ResNet50, as a layer so that a saved model carries it (a Lambda layer would not load
    in safe mode).
    """

    MEAN_BGR = (103.939, 116.779, 123.68)

    def call(self, inputs):
        inputs = keras.ops.cast(inputs, self.compute_dtype)
        mean = keras.ops.convert_to_tensor(self.MEAN_BGR, dtype=self.compute_dtype)
        return keras.ops.flip(inputs, axis=-1) - mean

    def compute_output_shape(self, input_shape):
        return input_shape


@dataclass(frozen=True)
class Backbone:
    """What we need to know about one `keras.applications` network."""

    name: str  # registry name; also the name of the nested base layer in saved models
    title: str
    constructor: str  # attribute of keras.applications
    default_size: int
    min_size: int
    preprocessing: str  # "tf" (scale to [-1, 1]), "caffe" (BGR - mean) or "builtin"
    imagenet_file: str  # the file Keras downloads into ~/.keras/models/ ({alpha}, {rows})
    top_block: str  # first layer of the block fine-tuning unfreezes; "after:X" = after layer X
    description: str
    seconds_hint: str
    has_alpha: bool = False

    def imagenet_file_name(self, image_size: int, alpha: float | None = None) -> str:
        rows = image_size if image_size in (96, 128, 160, 192, 224) else 224
        return self.imagenet_file.format(alpha=float(alpha or 1.0), rows=rows)


BACKBONES: dict[str, Backbone] = {b.name: b for b in (
    Backbone("mobilenet_v2", "MobileNetV2", "MobileNetV2", 224, 32, "tf",
             "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}_no_top.h5",
             "block_16_expand",
             "Small and fast ImageNet network, in widths 0.35 to 1.4. The best first "
             "choice on a laptop: features of 2000 photos in well under a minute at alpha 0.35.",
             "about 15 s per 1000 images to extract features at 224 px (alpha 0.35; about "
             "40 s at alpha 1.0)",
             has_alpha=True),
    Backbone("vgg16", "VGG16", "VGG16", 224, 32, "caffe",
             "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "block5_conv1",
             "The Keras blog's classic: bottleneck features (about 90% on 2000 cats/dogs "
             "photos) and fine-tuning of its last conv block at a low learning rate (about 94%).",
             "about 8 minutes per 1000 images to extract features at 224 px"),
    Backbone("resnet50", "ResNet50", "ResNet50", 224, 32, "caffe",
             "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "conv5_block3_1_conv",
             "Deep residual network ending in global average pooling: accurate, and its "
             "heatmaps are true class activation maps.",
             "about 3 minutes per 1000 images to extract features at 224 px"),
    Backbone("inception_v3", "InceptionV3", "InceptionV3", 299, 75, "tf",
             "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "after:mixed8",
             "Google's Inception network at 299 px; part of the seeds' 99.6% fusion.",
             "about 4 minutes per 1000 images to extract features at 299 px"),
    Backbone("xception", "Xception", "Xception", 299, 71, "tf",
             "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "block14_sepconv1",
             "Depthwise-separable Inception successor at 299 px; strong features, part of "
             "the seeds' 99.6% fusion.",
             "about 6 minutes per 1000 images to extract features at 299 px"),
    Backbone("efficientnet_b0", "EfficientNet-B0", "EfficientNetB0", 224, 32, "builtin",
             "efficientnetb0_notop.h5", "block7a_expand_conv",
             "Modern, compact ImageNet network; more accurate than MobileNetV2 for a little "
             "more time.",
             "about 1 minute per 1000 images to extract features at 224 px"),
)}

FUSION_SEPARATOR = "+"


def get_backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"Unknown backbone {name!r}. Available backbones: "
                         f"{', '.join(BACKBONES)}.") from None


def fusion_bases(model_name: str) -> list[str]:
    """The backbones of a fusion model name such as "resnet50+xception+inception_v3"."""
    names = [part.strip() for part in model_name.split(FUSION_SEPARATOR)]
    for name in names:
        get_backbone(name)
    if len(set(names)) != len(names):
        raise ValueError(f"Received model {model_name!r}, which names a backbone twice; "
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


def fusion_spec(model_name: str) -> ModelSpec:
    """A (not registered) ModelSpec for any fusion of registered backbones, "a+b[+c...]"."""
    bases = fusion_bases(model_name)
    titles = " + ".join(get_backbone(name).title for name in bases)
    return ModelSpec(
        name=model_name, title=f"Fusion: {titles}",
        description=f"Global-pooled features of {titles} concatenated under one dropout + "
                    "dense layer, each base at its own input size and preprocessing (the seeds' "
                    "99.6% on cats vs dogs with ResNet50 + Xception + InceptionV3).",
        builder=build_fusion_classifier,
        default_image_size=max(get_backbone(name).default_size for name in bases),
        min_image_size=max(get_backbone(name).min_size for name in bases),
        family="transfer", modes=("fusion",),
        seconds_hint="the sum of its backbones' extraction times",
        options={"bases": bases, "weights": list(WEIGHTS_CHOICES) + ["PATH"]})


def model_spec(model_name: str) -> ModelSpec:
    """The registry entry for `model_name`, or a fusion spec for "a+b" names."""
    from core.models import get_model_spec

    if FUSION_SEPARATOR in model_name:
        try:
            return get_model_spec(model_name)
        except ValueError:
            return fusion_spec(model_name)
    return get_model_spec(model_name)


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
                raise ValueError(f"Received --weights {spec!r}, which names {name.strip()!r}; "
                                 f"this model's bases are: {', '.join(bases)}.")
            per_base[name.strip()] = value.strip()
    else:
        if len(bases) > 1 and spec not in WEIGHTS_CHOICES:
            raise ValueError(f"Received one weights file for the fusion of {', '.join(bases)}; "
                             "name the base it belongs to, e.g. --weights "
                             f"{bases[0]}={spec},{bases[1]}=imagenet.")
        per_base = {name: spec for name in bases}
    return {name: _weights_source(value) for name, value in per_base.items()}


def _weights_source(value: str) -> WeightsSource:
    if value.lower() in WEIGHTS_CHOICES:
        return WeightsSource(value.lower())
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(f"Received --weights {value!r}, which is neither 'imagenet', 'none' "
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


# --- building --------------------------------------------------------------------------------


def check_alpha(name: str, alpha: float | None) -> float | None:
    backbone = get_backbone(name)
    if not backbone.has_alpha:
        if alpha is not None:
            raise ValueError(f"Received --alpha {alpha} for {name}, which has no width "
                             "multiplier; --alpha applies to mobilenet_v2 only.")
        return None
    alpha = 1.0 if alpha is None else float(alpha)
    if alpha not in MOBILENET_ALPHAS:
        raise ValueError(f"Received --alpha {alpha} for {name}; expected one of "
                         f"{', '.join(map(str, MOBILENET_ALPHAS))} (the widths with ImageNet "
                         "weights).")
    return alpha


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
    backbone = get_backbone(name)
    alpha = check_alpha(name, alpha)
    if isinstance(weights, str):
        weights = parse_weights(weights, [name])[name]
    if image_size < backbone.min_size:
        raise ValueError(f"Received image size {image_size} for {name}; it needs at least "
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
        raise ValueError(
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
        raise ValueError(f"Received --weights {path}; expected a Keras weights file ending in "
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
        raise ValueError(f"The weights file {path} does not fit {what}: {reason} Check "
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
    from core import atomic

    try:
        with atomic.atomic_path(snapshot, suffix=".npz") as tmp:
            np.savez(tmp, **{f"w{index}": value for index, value in enumerate(base.get_weights())})
    except OSError:
        pass  # only a speed-up: a read-only or full cache folder is fine


def preprocessing_layer(name: str, weights: WeightsSource, layer_name: str = "preprocess"):
    """The backbone's `preprocess_input` as a serialisable layer (None: the base has its own)."""
    backbone = get_backbone(name)
    if backbone.preprocessing == "tf":
        return keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=layer_name)
    if backbone.preprocessing == "caffe":
        return CaffePreprocessing(name=layer_name)
    if name == "efficientnet_b0" and weights.kind == "file":
        return _efficientnet_file_correction(layer_name)
    return None  # EfficientNet rescales and normalises inside the base


def _efficientnet_file_correction(layer_name: str):
    """keras.applications builds EfficientNet with one extra Rescaling (1/sqrt(stddev)) only
    when it downloads the ImageNet weights. A base built for a weights file lacks it, so the
    same per-channel affine step is applied before the base: with the file's normalisation
    statistics, x' = x / sqrt(s) + 255 m (1 - 1 / sqrt(s)) gives exactly Keras's pixels."""
    scale = [1 / math.sqrt(s) for s in _EFFICIENTNET_STDDEV_RGB]
    offset = [255 * m * (1 - k) for m, k in zip(_EFFICIENTNET_MEAN_RGB, scale)]
    return keras.layers.Rescaling(scale, offset=offset, name=layer_name)


@dataclass
class BaseChoice:
    """One base of a network: backbone name, its input size, weights and width."""

    name: str
    image_size: int
    weights: WeightsSource = field(default_factory=lambda: WeightsSource("imagenet"))
    alpha: float | None = None
    seed: int | None = None  # with random weights: the base's own seed (so caches stay exact)

    def __post_init__(self):
        if isinstance(self.weights, str):
            self.weights = parse_weights(self.weights, [self.name])[self.name]
        self.alpha = check_alpha(self.name, self.alpha)

    def describe(self) -> dict:
        backbone = get_backbone(self.name)
        return {"name": self.name, "layer": self.name, "image_size": self.image_size,
                "alpha": self.alpha, "weights": self.weights.describe(),
                "weights_id": self.weights.identity(self.seed),
                "preprocessing": backbone.preprocessing}


@dataclass
class TransferNetwork:
    """A transfer classifier and its parts. The three models share their layers (and so
    their weights): training `head` on cached features trains `model` as well.

    Attributes:
        model: image [0, 255] -> class probabilities; what a run saves.
        extractor: image -> pooled features (all bases concatenated).
        branches: base name -> image -> that base's pooled features (for the cache).
        head: features -> class probabilities.
        bases: base name -> the nested keras.applications model.
        head_layers: the trainable layers after the features.
    """

    model: object
    extractor: object
    branches: dict
    head: object
    bases: dict
    head_layers: list
    choices: list
    input_size: int


def make_head_layers(num_classes: int, head: str = "dense", dropout: float = 0.5,
                     hidden_units: int = 256) -> list:
    """Head layers after the pooled features. "dense": Dropout + Dense (CAM-ready on GAP);
    "dense-hidden": Dense(hidden, relu) + Dropout + Dense (the Keras blog's top model);
    "logreg"/"svm": one Dense layer whose weights come from scikit-learn."""
    if head not in HEADS:
        raise ValueError(f"Received head {head!r}; expected one of: {', '.join(HEADS)}.")
    if not 0 <= dropout < 1:
        raise ValueError(f"Received dropout {dropout}; expected a fraction from 0 to below 1.")
    layers = []
    if head == "dense-hidden":
        layers.append(keras.layers.Dense(hidden_units, activation="relu", name="hidden"))
    if head in ("dense", "dense-hidden") and dropout > 0:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))
    layers.append(output_layer(num_classes))
    return layers


def _apply(layers, x):
    for layer in layers:
        x = layer(x)
    return x


def build_network(choices: list[BaseChoice], num_classes: int, pooling: str = "avg",
                  head: str = "dense", dropout: float = 0.5, hidden_units: int = 256,
                  input_size: int | None = None,
                  snapshot_dir: str | os.PathLike | None = None) -> TransferNetwork:
    """Build a one-base classifier or a fusion of several bases (see the module docstring).
    `snapshot_dir`: where weights snapshots of the bases are kept (see `build_base`)."""
    if pooling not in POOLINGS:
        raise ValueError(f"Received pooling {pooling!r}; expected one of: {', '.join(POOLINGS)}.")
    if len(choices) > 1 and pooling != "avg":
        raise ValueError("A fusion concatenates globally pooled features; use --pooling avg.")
    input_size = input_size or max(choice.image_size for choice in choices)
    image = keras.Input(shape=(input_size, input_size, 3), name="image")
    fused = len(choices) > 1
    pooled, branches, bases = [], {}, {}
    for choice in choices:
        prefix = f"{choice.name}_" if fused else ""
        x = image
        if choice.image_size != input_size:
            x = keras.layers.Resizing(choice.image_size, choice.image_size,
                                      interpolation="bilinear", antialias=True,
                                      name=f"{prefix}resize")(x)
        preprocess = preprocessing_layer(choice.name, choice.weights, f"{prefix}preprocess")
        if preprocess is not None:
            x = preprocess(x)
        if choice.weights.kind == "none" and choice.seed is not None:
            # Random weights that depend only on (seed, backbone), not on what was built before.
            keras.utils.set_random_seed(zlib.crc32(f"{choice.seed}:{choice.name}".encode()))
        base = build_base(choice.name, choice.image_size, choice.weights, choice.alpha,
                          snapshot_dir)
        # training=False documents the intent; Keras 3 lets an outer fit override it, so
        # the runners also freeze BatchNormalization layers (frozen BN runs in inference mode).
        x = base(x, training=False)
        pool = keras.layers.GlobalAveragePooling2D(name=f"{prefix}pool") if pooling == "avg" \
            else keras.layers.Flatten(name=f"{prefix}pool")
        x = pool(x)
        branches[choice.name] = keras.Model(image, x, name=f"{choice.name}_features")
        bases[choice.name] = base
        pooled.append(x)
    features = keras.layers.Concatenate(name="fused_features")(pooled) if fused else pooled[0]
    name = network_name(choices)
    head, head_layers = build_head(int(features.shape[-1]), num_classes, head, dropout,
                                   hidden_units, name=f"{name}_head")
    return TransferNetwork(
        model=keras.Model(image, _apply(head_layers, features), name=name),
        extractor=keras.Model(image, features, name=f"{name}_features"),
        branches=branches, head=head, bases=bases, head_layers=head_layers,
        choices=list(choices), input_size=input_size)


def network_name(choices: list[BaseChoice]) -> str:
    return "_".join(choice.name for choice in choices)


def build_head(feature_dim: int, num_classes: int, head: str = "dense", dropout: float = 0.5,
               hidden_units: int = 256, name: str = "head"):
    """The head alone: pooled features -> class probabilities. Returns (model, its layers);
    `build_network` shares those layers with the full model."""
    head_layers = make_head_layers(num_classes, head, dropout, hidden_units)
    feature_input = keras.Input(shape=(feature_dim,), name="features")
    return keras.Model(feature_input, _apply(head_layers, feature_input), name=name), head_layers


def freeze_batch_normalization(model) -> None:
    """BatchNormalization layers frozen: Keras 3 runs frozen BN in inference mode, whatever
    the `training` flag, so their moving statistics never change."""
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def top_block_start(base, name: str) -> int:
    """Index in `base.layers` of the first layer of the backbone's top block."""
    marker = get_backbone(name).top_block
    names = [layer.name for layer in base.layers]
    if marker.startswith("after:"):
        return names.index(marker[len("after:"):]) + 1
    return names.index(marker)


def unfreeze_top(base, name: str, num_layers: int | None = None) -> list[str]:
    """Make the top of `base` trainable for fine-tuning and everything below frozen.

    Args:
        base: the nested keras.applications model.
        name: its backbone name (where its top block starts).
        num_layers: None for the top block; else the number of layers with weights to
            unfreeze, counted from the top (BatchNormalization layers are never counted and
            stay frozen).

    Returns:
        Names of the layers whose weights will now train.
    """
    weighted = [i for i, layer in enumerate(base.layers)
                if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
    if num_layers is None:
        start = top_block_start(base, name)
    else:
        if num_layers < 1:
            raise ValueError(f"Received --unfreeze {num_layers}; expected at least 1 layer "
                             "(use --mode frozen to train the head only).")
        start = weighted[-min(num_layers, len(weighted))]
    base.trainable = True
    for index, layer in enumerate(base.layers):
        layer.trainable = index >= start
    freeze_batch_normalization(base)
    return [base.layers[i].name for i in weighted if i >= start]


# --- registry ----------------------------------------------------------------------------------


def build_classifier(num_classes: int, image_size: int, rescale=None, *, backbone: str,
                     weights: str = "imagenet", alpha: float | None = None,
                     pooling: str = "avg", head: str = "dense", dropout: float = 0.5,
                     hidden_units: int = 256):
    """Registry builder: a frozen-base classifier (uncompiled). `rescale` is ignored: every
    backbone brings its own preprocessing."""
    choice = BaseChoice(backbone, image_size, weights, alpha)
    network = build_network([choice], num_classes, pooling, head, dropout, hidden_units)
    network.bases[backbone].trainable = False
    return network.model


def build_fusion_classifier(num_classes: int, image_size: int, rescale=None, *, bases,
                            weights: str = "imagenet", alpha: float | None = None,
                            dropout: float = 0.5):
    """Registry builder for fusion models (uncompiled, bases frozen)."""
    sources = parse_weights(weights, list(bases))
    sizes = fusion_sizes(list(bases), image_size)
    choices = [BaseChoice(name, sizes[name], sources[name],
                          alpha if get_backbone(name).has_alpha else None) for name in bases]
    network = build_network(choices, num_classes, "avg", "dense", dropout, input_size=image_size)
    for base in network.bases.values():
        base.trainable = False
    return network.model


TRANSFER_MODES = ("bottleneck", "frozen", "finetune")


def _register_backbone(backbone: Backbone) -> None:
    def builder(num_classes, image_size, rescale=None, **options):
        return build_classifier(num_classes, image_size, rescale, backbone=backbone.name,
                                **options)

    builder.__doc__ = f"{backbone.title} classifier (see core.backbones.build_classifier)."
    options = {"weights": list(WEIGHTS_CHOICES) + ["PATH"], "pooling": list(POOLINGS),
               "head": list(HEADS)}
    if backbone.has_alpha:
        options["alpha"] = list(MOBILENET_ALPHAS)
    register_model(backbone.name, title=backbone.title, description=backbone.description,
                   default_image_size=backbone.default_size, min_image_size=backbone.min_size,
                   family="transfer", modes=TRANSFER_MODES, seconds_hint=backbone.seconds_hint,
                   options=options)(builder)


def _register_fusion(model_name: str) -> None:
    spec = fusion_spec(model_name)
    bases = spec.options["bases"]

    def builder(num_classes, image_size, rescale=None, **options):
        return build_fusion_classifier(num_classes, image_size, rescale, bases=bases, **options)

    register_model(model_name, title=spec.title, description=spec.description,
                   default_image_size=spec.default_image_size,
                   min_image_size=spec.min_image_size, family="transfer", modes=spec.modes,
                   seconds_hint=spec.seconds_hint, options=spec.options)(builder)


for _backbone in BACKBONES.values():
    _register_backbone(_backbone)
FUSION_PRESETS = ("resnet50+xception+inception_v3",)
for _name in FUSION_PRESETS:
    _register_fusion(_name)
