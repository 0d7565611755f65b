"""The settings of a training run (`TrainingConfig`, saved into config.json) and their own checks."""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields

from core.errors import ConfigError
from core.training.precision import PRECISIONS

MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seeds are 32-bit


def check_types(values: dict, kinds: dict, where: str) -> None:
    """Raise ConfigError naming the first setting in `values` whose value is not of its kind
    in `kinds` (name -> tuple of "int", "number", "text", "bool", "table", "none",
    "augmentation"). Settings missing from `kinds` are not checked."""
    for name, value in values.items():
        allowed = kinds.get(name)
        if allowed is None or any(_is_kind(value, kind) for kind in allowed):
            continue
        wanted = " or ".join(_KIND_WORDS[kind] for kind in allowed)
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ConfigError(f"The {where} setting {name} is {shown}; expected {wanted}.")


_KIND_WORDS = {"int": "a whole number", "number": "a number", "text": "text",
               "bool": "true or false", "table": "a table of settings", "none": "nothing (null)",
               "augmentation": "an augmentation preset, file or table"}


def _is_kind(value, kind: str) -> bool:
    if kind == "none":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if kind == "number":
        return (isinstance(value, numbers.Real) and not isinstance(value, bool)
                and math.isfinite(float(value)))
    if kind == "text":
        return isinstance(value, str) and "\x00" not in value
    if kind == "table":
        return isinstance(value, dict)
    if kind == "augmentation":
        return (isinstance(value, (str, dict)) or hasattr(value, "to_dict")) \
            and not (isinstance(value, str) and "\x00" in value)
    raise ValueError(kind)


_TYPES = {"data_dir": ("text",), "out_dir": ("text",), "model": ("text",),
          "image_size": ("int", "none"), "epochs": ("int", "none"), "batch_size": ("int",),
          "optimizer": ("text", "none"), "learning_rate": ("number", "none"),
          "augment": ("augmentation",), "val_split": ("number",), "test_split": ("number",),
          "seed": ("int",), "early_stopping": ("int", "none"), "class_weights": ("bool", "none"),
          "mode": ("text", "none"), "precision": ("text",), "extra": ("table",),
          "strategy": ("text",), "cpu_replicas": ("int", "none")}


@dataclass
class TrainingConfig:
    """Everything a training run needs; saved into the run's config.json."""

    data_dir: str
    out_dir: str
    model: str = "auto"  # "auto": the recommended recipe (core.training.recipe) chooses
    image_size: int | None = None  # None: the recipe's (auto) or the model's default
    epochs: int | None = None  # None: the recipe's, else 10
    batch_size: int = 32
    optimizer: str | None = None  # None: the recipe's, else rmsprop
    learning_rate: float | None = None  # None: the optimizer's default
    # "auto" (decided from the pictures: core.data.augmentation.decide), a preset name, a
    # JSON file path, a dict or an AugmentationConfig
    augment: object = "auto"
    val_split: float = 0.2
    test_split: float = 0.0
    seed: int = 1337
    early_stopping: int | None = None  # patience in epochs; 0 off; None: the recipe's, else off
    class_weights: bool | None = None  # None: on when the classes are imbalanced (see request)
    mode: str | None = None  # None: the model family's default mode
    precision: str = "auto"  # from-scratch models: "auto", "float32" or "mixed_bfloat16"
    extra: dict = field(default_factory=dict)  # mode-specific options (transfer learning)
    # tf.distribute (core.training.distribute): "auto", "one", "mirrored" or "multi-worker";
    # batch_size is per replica. cpu_replicas: split the CPU into that many logical devices.
    strategy: str = "auto"
    cpu_replicas: int | None = None

    def validate(self) -> None:
        """Raise ConfigError with a sentence naming the first unusable setting."""
        check_types({f.name: getattr(self, f.name) for f in fields(self)}, _TYPES, "training")
        checks = [
            (self.epochs is None or self.epochs >= 1,
             f"Received epochs={self.epochs}; it must be at least 1."),
            (self.batch_size >= 1, f"Received batch size {self.batch_size}; it must be at least 1."),
            (0 <= self.val_split < 1, f"Received validation split {self.val_split}; "
                                      "expected a fraction between 0 and 1, such as 0.2."),
            (0 <= self.test_split < 1 and self.val_split + self.test_split < 1,
             f"Received test split {self.test_split}; validation + test must stay below 1."),
            (self.early_stopping is None or self.early_stopping >= 0,
             "Early-stopping patience cannot be negative."),
            (0 <= self.seed <= MAX_SEED, f"Received seed {self.seed}; expected a whole number "
                                         f"from 0 to {MAX_SEED}."),
            (self.learning_rate is None or self.learning_rate > 0,
             f"Received learning rate {self.learning_rate}; it must be positive, such as 0.001."),
            (self.image_size is None or self.image_size >= 8,
             f"Received image size {self.image_size}; it must be at least 8 pixels."),
            (self.precision in PRECISIONS, f"Received precision {self.precision!r}; expected "
                                           f"one of: {', '.join(PRECISIONS)}."),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        from core.training.distribute import check_names

        check_names(self.strategy, self.cpu_replicas)

    def to_dict(self) -> dict:
        data = asdict(self)
        if not isinstance(data["augment"], (str, dict)):
            data["augment"] = self.augment.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TrainingConfig":
        """The settings in `data` (config.json's "training"); unknown keys are ignored.
        Raises ConfigError naming a setting that is missing or of the wrong kind."""
        if not isinstance(data, dict):
            raise ConfigError(f"The training settings are {type(data).__name__} data; expected "
                              "a table of settings (a JSON object).")
        names = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        for required in ("data_dir", "out_dir"):
            if required not in values:
                raise ConfigError(f"The training settings have no {required}; expected the "
                                  "folder it names.")
        check_types(values, _TYPES, "training")
        config = cls(**values)
        config.validate()
        return config

