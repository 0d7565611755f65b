"""The model registry: the one place that knows every model, scratch nets, backbones and fusions.

Every model takes raw RGB pixels in [0, 255] at its input size and carries its own input
normalisation (a `Rescaling` layer, or a backbone's `preprocess_input`), so train, evaluate
and predict feed it exactly the same tensors. The registry is built from three explicit
lists (core.models.scratch, core.models.backbones, core.models.fusion), not by the side
effect of importing them; a fusion of any backbones ("a+b") gets its spec on demand.

Example:
    model = build_model("small_cnn", num_classes=2, image_size=150)
"""
from __future__ import annotations

from core.models.backbones import (BACKBONES, HEADS, MOBILENET_ALPHAS, POOLINGS, TRANSFER_MODES,
                                    WEIGHTS_CHOICES, Backbone, get_backbone)
from core.models.fusion import FUSION_PRESETS, FUSION_SEPARATOR, fusion_bases
from core.models.scratch import SCRATCH_MODELS
from core.models.spec import ModelSpec
from core.errors import ConfigError


def _build_registry() -> dict[str, ModelSpec]:
    specs = [*SCRATCH_MODELS, *(backbone_spec(b) for b in BACKBONES.values()),
             *(fusion_spec(name) for name in FUSION_PRESETS)]
    registry: dict[str, ModelSpec] = {}
    for spec in specs:
        if spec.name in registry:
            raise ConfigError(f"A model named {spec.name!r} is listed twice.")
        if spec.min_image_size > spec.default_image_size:
            raise ConfigError(f"Model {spec.name!r}: min_image_size exceeds default_image_size.")
        registry[spec.name] = spec
    return registry



def available_models(family: str | None = None) -> list[ModelSpec]:
    return [spec for spec in MODEL_REGISTRY.values() if family in (None, spec.family)]


def get_model_spec(name: str) -> ModelSpec:
    """The spec of a listed model, or of any fusion of backbones such as "resnet50+xception"
    (too many combinations to list)."""
    spec = MODEL_REGISTRY.get(name)
    if spec is not None:
        return spec
    if FUSION_SEPARATOR in name:
        return fusion_spec(name)
    raise ConfigError(f"Unknown model {name!r}. Available models: {', '.join(MODEL_REGISTRY)}.")


def register_custom_objects() -> None:
    """Import the module whose custom layers saved models may contain (backbone
    preprocessing), so that `keras.models.load_model` finds them in safe mode."""
    import core.models.preprocessing  # noqa: F401


def check_image_size(name: str, image_size: int) -> None:
    spec = get_model_spec(name)
    if image_size < spec.min_image_size:
        raise ConfigError(
            f"Received image size {image_size} for model {name!r}; it needs at least "
            f"{spec.min_image_size} px. Pass --image-size {spec.default_image_size} (its default)."
        )


def build_model(name: str, num_classes: int, image_size: int, rescale: float = 1 / 255,
                **options):
    """Build the named model (uncompiled) for `num_classes` at `image_size` x `image_size`."""
    check_image_size(name, image_size)
    spec = get_model_spec(name)
    return spec.builder(num_classes=num_classes, image_size=image_size, rescale=rescale,
                        **options)


def backbone_spec(backbone: Backbone) -> ModelSpec:
    """The registry entry of a backbone: a frozen-base classifier with a new head."""
    options = {"weights": list(WEIGHTS_CHOICES) + ["PATH"], "pooling": list(POOLINGS),
               "head": list(HEADS)}
    if backbone.has_alpha:
        options["alpha"] = list(MOBILENET_ALPHAS)
    return ModelSpec(name=backbone.name, title=backbone.title, description=backbone.description,
                     builder=_classifier_builder(backbone.name),
                     default_image_size=backbone.default_size, min_image_size=backbone.min_size,
                     family="transfer", modes=TRANSFER_MODES, seconds_hint=backbone.seconds_hint,
                     options=options)


def _classifier_builder(name: str):
    # Keras is imported only when a model is built, so listing models stays fast.
    def builder(num_classes, image_size, rescale=None, **options):
        from core.models.networks import build_classifier

        return build_classifier(num_classes, image_size, rescale, backbone=name, **options)

    builder.__doc__ = f"{name} classifier (see core.models.networks.build_classifier)."
    return builder


def fusion_spec(model_name: str) -> ModelSpec:
    """A (not registered) ModelSpec for any fusion of registered backbones, "a+b[+c...]"."""
    bases = fusion_bases(model_name)
    titles = " + ".join(get_backbone(name).title for name in bases)
    return ModelSpec(
        name=model_name, title=f"Fusion: {titles}",
        description=f"Global-pooled features of {titles} concatenated under one dropout + "
                    "dense layer, each base at its own input size and preprocessing (the seeds' "
                    "99.6% on cats vs dogs with ResNet50 + Xception + InceptionV3).",
        builder=_fusion_builder(bases),
        default_image_size=max(get_backbone(name).default_size for name in bases),
        min_image_size=max(get_backbone(name).min_size for name in bases),
        family="transfer", modes=("fusion",),
        seconds_hint="the sum of its backbones' extraction times",
        options={"bases": bases, "weights": list(WEIGHTS_CHOICES) + ["PATH"]})


def _fusion_builder(bases: list[str]):
    # Keras is imported only when a model is built, so listing models stays fast.
    def builder(num_classes, image_size, rescale=None, **options):
        from core.models.networks import build_fusion_classifier

        return build_fusion_classifier(num_classes, image_size, rescale, bases=bases, **options)

    return builder


# Built last: it needs the spec makers above.
MODEL_REGISTRY: dict[str, ModelSpec] = _build_registry()
