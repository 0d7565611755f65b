"""From-scratch CNNs: small_cnn, cnn4, lenet, gap_cnn and compact_cnn (the recipe's)."""
from __future__ import annotations

from core.models.outputs import output_layer
from core.models.spec import ModelSpec

SCRATCH_MODELS: list[ModelSpec] = []  # filled by @_scratch_model below, in menu order


def _scratch_model(name: str, **spec_fields):
    """Decorator: record a builder `builder(num_classes, image_size, rescale)` with its spec."""

    def decorate(builder):
        SCRATCH_MODELS.append(ModelSpec(name=name, builder=builder, **spec_fields))
        return builder

    return decorate


def _scratch_input(image_size: int, rescale: float):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(image_size, image_size, 3), name="image")
    return inputs, layers.Rescaling(rescale, name="rescale")(inputs)


@_scratch_model(
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


@_scratch_model(
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


@_scratch_model(
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


@_scratch_model(
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


@_scratch_model(
    "compact_cnn",
    title="Compact CNN (recommended without pretrained weights)",
    description="Seven conv layers (32 to 256 filters) with batch normalization, ending in "
                "global average pooling. Trains fast and steadily with Adam from a few "
                "thousand pictures; its heatmaps are class activation maps.",
    default_image_size=64,
    min_image_size=16,
    seconds_hint="about 10 s per 1000 images per epoch at 48 px, 1 minute at 128 px",
)
def build_compact_cnn(num_classes: int, image_size: int, rescale: float = 1 / 255):
    import keras
    from keras import layers

    inputs, x = _scratch_input(image_size, rescale)
    index = 0
    # Batch normalization after every convolution lets Adam take large steps from the first
    # epoch; global pooling instead of a large dense layer keeps it small and shift-tolerant.
    for block, filters in enumerate((32, 64, 128, 256)):
        for _ in range(1 if filters == 256 else 2):
            index += 1
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
            x = layers.BatchNormalization(name=f"bn{index}")(x)
            x = layers.ReLU(name=f"relu{index}")(x)
        if filters != 256:
            x = layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    return keras.Model(inputs, output_layer(num_classes)(x), name="compact_cnn")
