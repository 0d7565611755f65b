"""The model zoo: a registry of architectures, each built by a factory with the same arguments.

Every model takes raw RGB pixels in [0, 255] at its input size and carries its own input
normalisation (a `Rescaling` layer, or a backbone's `preprocess_input`), so train, evaluate
and predict feed it exactly the same tensors. Two classes get one sigmoid unit and binary
cross-entropy; more classes get softmax.

Example:
    model = build_model("small_cnn", num_classes=2, image_size=150)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class ModelSpec:
    """What the GUI and CLI need to know about an architecture before building it."""

    name: str
    title: str
    description: str
    builder: Callable
    default_image_size: int
    min_image_size: int
    family: str = "scratch"  # "scratch" or "transfer"
    modes: tuple = ("scratch",)
    seconds_hint: str = ""  # how long it takes on a 2-core laptop, in words
    options: dict = field(default_factory=dict)


MODEL_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, **spec_fields):
    """Decorator recording a model factory `builder(num_classes, image_size, **options)`."""

    def decorate(builder):
        if name in MODEL_REGISTRY:
            raise ValueError(f"A model named {name!r} is already registered.")
        spec = ModelSpec(name=name, builder=builder, **spec_fields)
        if spec.min_image_size > spec.default_image_size:
            raise ValueError(f"Model {name!r}: min_image_size exceeds default_image_size.")
        MODEL_REGISTRY[name] = spec
        return builder

    return decorate


def available_models(family: str | None = None) -> list[ModelSpec]:
    _load_transfer_models()
    return [spec for spec in MODEL_REGISTRY.values() if family in (None, spec.family)]


def get_model_spec(name: str) -> ModelSpec:
    _load_transfer_models()
    try:
        return MODEL_REGISTRY[name]
    except KeyError:
        names = ", ".join(MODEL_REGISTRY)
        raise ValueError(f"Unknown model {name!r}. Available models: {names}.") from None


def _load_transfer_models() -> None:
    # The transfer-learning backbones register themselves when their module is imported.
    import importlib.util

    if importlib.util.find_spec("core.backbones") is not None:
        import core.backbones  # noqa: F401


def register_custom_objects() -> None:
    """Import the modules whose custom layers saved models may contain (backbone
    preprocessing), so that `keras.models.load_model` finds them in safe mode."""
    _load_transfer_models()


def check_image_size(name: str, image_size: int) -> None:
    spec = get_model_spec(name)
    if image_size < spec.min_image_size:
        raise ValueError(
            f"Received image size {image_size} for model {name!r}; it needs at least "
            f"{spec.min_image_size} px. Pass --image-size {spec.default_image_size} (its default)."
        )


def output_layer(num_classes: int):
    """One sigmoid unit for two classes, softmax otherwise (named 'predictions')."""
    from keras import layers

    if num_classes < 2:
        raise ValueError(f"A classifier needs at least 2 classes; received {num_classes}.")
    # float32 whatever the model's policy: under mixed_bfloat16 (core.precision) the
    # probabilities and the loss keep full precision, as Keras's mixed-precision guide advises.
    if num_classes == 2:
        return layers.Dense(1, activation="sigmoid", name="predictions", dtype="float32")
    return layers.Dense(num_classes, activation="softmax", name="predictions", dtype="float32")


def loss_for(num_classes: int) -> str:
    return "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"


def build_model(name: str, num_classes: int, image_size: int, rescale: float = 1 / 255,
                **options):
    """Build the named model (uncompiled) for `num_classes` at `image_size` x `image_size`."""
    check_image_size(name, image_size)
    spec = get_model_spec(name)
    return spec.builder(num_classes=num_classes, image_size=image_size, rescale=rescale,
                        **options)


def _scratch_input(image_size: int, rescale: float):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(image_size, image_size, 3), name="image")
    return inputs, layers.Rescaling(rescale, name="rescale")(inputs)


@register_model(
    "small_cnn",
    title="Small CNN",
    description="Three conv layers (32-32-64) and a small dense head, as in the Keras blog "
                "'very little data' post. A good first model for a few thousand images.",
    default_image_size=150,
    min_image_size=32,
    seconds_hint="about 1 minute per 1000 images per epoch at 150 px",
)
def build_small_cnn(num_classes: int, image_size: int, rescale: float = 1 / 255):
    import keras
    from keras import layers

    inputs, x = _scratch_input(image_size, rescale)
    for index, filters in enumerate((32, 32, 64)):
        x = layers.Conv2D(filters, 3, activation="relu", name=f"conv{index + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{index + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    return keras.Model(inputs, output_layer(num_classes)(x), name="small_cnn")


@register_model(
    "cnn4",
    title="CNN with four conv blocks",
    description="Conv 32-64-128-128 and a 512-unit dense head with dropout (Deep Learning with "
                "Python, ch. 5). More capacity than the small CNN; needs more images and time.",
    default_image_size=150,
    min_image_size=48,
    seconds_hint="about 3 minutes per 1000 images per epoch at 150 px",
)
def build_cnn4(num_classes: int, image_size: int, rescale: float = 1 / 255):
    import keras
    from keras import layers

    inputs, x = _scratch_input(image_size, rescale)
    for index, filters in enumerate((32, 64, 128, 128)):
        x = layers.Conv2D(filters, 3, activation="relu", name=f"conv{index + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{index + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    return keras.Model(inputs, output_layer(num_classes)(x), name="cnn4")


@register_model(
    "lenet",
    title="LeNet",
    description="Two 5x5 conv layers (20 and 50 filters) and a 500-unit dense layer. Fast on "
                "small, simple images such as traffic signs or digits at 28-32 px.",
    default_image_size=32,
    min_image_size=8,
    seconds_hint="a few seconds per 1000 images per epoch at 32 px",
)
def build_lenet(num_classes: int, image_size: int, rescale: float = 1 / 255):
    import keras
    from keras import layers

    inputs, x = _scratch_input(image_size, rescale)
    x = layers.Conv2D(20, 5, padding="same", activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(2, strides=2, name="pool1")(x)
    x = layers.Conv2D(50, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, strides=2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(500, activation="relu", name="dense")(x)
    return keras.Model(inputs, output_layer(num_classes)(x), name="lenet")


@register_model(
    "gap_cnn",
    title="CAM-ready CNN",
    description="Four conv blocks (32-64-128-128) ending in global average pooling, so its "
                "heatmaps are true class activation maps. Fewer weights than the small CNN.",
    default_image_size=128,
    min_image_size=32,
    seconds_hint="about 2 minutes per 1000 images per epoch at 128 px",
)
def build_gap_cnn(num_classes: int, image_size: int, rescale: float = 1 / 255):
    import keras
    from keras import layers

    inputs, x = _scratch_input(image_size, rescale)
    for index, filters in enumerate((32, 64, 128, 128)):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{index + 1}")(x)
        if index < 3:  # the last block keeps its resolution for a sharper heatmap
            x = layers.MaxPooling2D(2, name=f"pool{index + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    return keras.Model(inputs, output_layer(num_classes)(x), name="gap_cnn")


OPTIMIZERS = {
    # name: (default learning rate, description)
    "rmsprop": (1e-3, "RMSprop, the Keras blog's choice for small CNNs"),
    "adam": (1e-3, "Adam, a robust default"),
    "sgd": (1e-2, "SGD with momentum 0.9, for fine-tuning at a low learning rate"),
    "adadelta": (1.0, "Adadelta, as in the classic Keras examples"),
}


def make_optimizer(name: str, learning_rate: float | None = None):
    import keras

    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}. Choose one of: {', '.join(OPTIMIZERS)}.")
    rate = OPTIMIZERS[name][0] if learning_rate is None else float(learning_rate)
    if not rate > 0:
        raise ValueError(f"Received learning rate {learning_rate}; it must be positive.")
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=rate)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=0.9)
    return keras.optimizers.Adadelta(learning_rate=rate)


def model_summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=100)
    return "\n".join(lines)
