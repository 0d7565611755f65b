"""The settings of a training run (`TrainingConfig`, saved into config.json) and their own checks."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from core.errors import ConfigError
from core.training.precision import PRECISIONS


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

    def validate(self) -> None:
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
            (self.image_size is None or self.image_size >= 8,
             f"Received image size {self.image_size}; it must be at least 8 pixels."),
            (self.precision in PRECISIONS, f"Received precision {self.precision!r}; expected "
                                           f"one of: {', '.join(PRECISIONS)}."),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict:
        data = asdict(self)
        if not isinstance(data["augment"], (str, dict)):
            data["augment"] = self.augment.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TrainingConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})

