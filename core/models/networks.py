"""Pretrained backbones: ImageNet networks from `keras.applications` as transfer-learning bases.

The classifiers built here are plain functional models:

    image [0, 255] -> preprocess -> base (a nested keras.applications model, named after the
    backbone) -> GlobalAveragePooling2D or Flatten -> head -> predictions

so `core.inference.heatmaps` finds CAM heads (GAP + Dropout + Dense) and nested bases by name. A fusion
model resizes its input (the largest base size) to each base's own size inside the model.

Example:
    network = build_network([BaseChoice("mobilenet_v2", 224, "none", alpha=0.35)], 2)
    network.model.predict(images_0_255)
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

from core.models.outputs import output_layer
from core.models.backbones import HEADS, POOLINGS, check_alpha, get_backbone
from core.models.fusion import fusion_sizes
from core.models.preprocessing import preprocessing_layer
from core.models.weights import WeightsSource, build_base, parse_weights
from core.util.tf_runtime import load_tensorflow

load_tensorflow()  # quietly, before Keras imports TensorFlow
import keras  # noqa: E402
from core.errors import ConfigError


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
        raise ConfigError(f"Received head {head!r}; expected one of: {', '.join(HEADS)}.")
    if not 0 <= dropout < 1:
        raise ConfigError(f"Received dropout {dropout}; expected a fraction from 0 to below 1.")
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
        raise ConfigError(f"Received pooling {pooling!r}; expected one of: {', '.join(POOLINGS)}.")
    if len(choices) > 1 and pooling != "avg":
        raise ConfigError("A fusion concatenates globally pooled features; use --pooling avg.")
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


def unfreeze_top(base, name: str, num_layers: int | str | None = None) -> list[str]:
    """Make the top of `base` trainable for fine-tuning and everything below frozen.

    Args:
        base: the nested keras.applications model.
        name: its backbone name (where its top block starts).
        num_layers: None for the top block; "all" for the whole network; else the number of
            layers with weights to unfreeze, counted from the top (BatchNormalization layers
            are never counted and stay frozen).

    Returns:
        Names of the layers whose weights will now train.
    """
    weighted = [i for i, layer in enumerate(base.layers)
                if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
    if num_layers is None:
        start = top_block_start(base, name)
    elif num_layers == "all":
        start = 0
    else:
        if num_layers < 1:
            raise ConfigError(f"Received --unfreeze {num_layers}; expected at least 1 layer "
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
