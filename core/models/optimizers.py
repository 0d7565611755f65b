"""The optimizers a user can choose, with their default learning rates."""
from __future__ import annotations
from core.errors import ConfigError


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
        raise ConfigError(f"Unknown optimizer {name!r}. Choose one of: {', '.join(OPTIMIZERS)}.")
    rate = OPTIMIZERS[name][0] if learning_rate is None else float(learning_rate)
    if not rate > 0:
        raise ConfigError(f"Received learning rate {learning_rate}; it must be positive.")
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=rate)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=0.9)
    return keras.optimizers.Adadelta(learning_rate=rate)
