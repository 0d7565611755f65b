"""The output layer and loss every classifier uses: one sigmoid unit for two classes, softmax otherwise."""
from __future__ import annotations
from core.errors import ConfigError


def output_layer(num_classes: int):
    """One sigmoid unit for two classes, softmax otherwise (named 'predictions')."""
    from keras import layers

    if num_classes < 2:
        raise ConfigError(f"A classifier needs at least 2 classes; received {num_classes}.")
    # float32 whatever the model's policy: under mixed_bfloat16 (core.training.precision) the
    # probabilities and the loss keep full precision, as Keras's mixed-precision guide advises.
    if num_classes == 2:
        return layers.Dense(1, activation="sigmoid", name="predictions", dtype="float32")
    return layers.Dense(num_classes, activation="softmax", name="predictions", dtype="float32")


def loss_for(num_classes: int) -> str:
    return "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"
