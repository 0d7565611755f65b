"""The transfer-learning options (`TransferOptions`, from `TrainingConfig.extra`) and the feature-cache folder."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from core.errors import ConfigError, TrainingError
from core.models.backbones import HEADS, POOLINGS  # the catalog: no Keras import


CACHE_ENV = "ICS_CACHE_DIR"
DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "image-classifier-studio", "features")
LINEAR_HEADS = ("logreg", "svm")


@dataclass
class TransferOptions:
    """The transfer-learning options in `TrainingConfig.extra` (see `add_cli_arguments`)."""

    weights: str = "imagenet"  # "imagenet", "none", a file, or "base=SPEC,..." for fusion
    alpha: float | None = None  # MobileNetV2 width
    head: str = "dense"
    pooling: str = "avg"
    dropout: float = 0.5
    hidden_units: int = 256
    regularization: float | None = None  # C of logreg / svm heads; None: cross-validated
    unfreeze: int | str | None = None  # None: the backbone's top block; "all": every layer
    # Fine-tuning is skipped when the head alone reaches this validation accuracy (None:
    # always fine-tune); the recommended recipe sets it, since fine-tuning costs minutes.
    finetune_below: float | None = None
    finetune_epochs: int = 5
    fine_tune_lr: float = 1e-4
    from_run: str | None = None
    fusion_base: str | None = None  # the base whose heatmap `predict --cam` shows
    cache_dir: str | None = None
    use_cache: bool = True

    @classmethod
    def from_extra(cls, extra: dict | None) -> "TransferOptions":
        from core.training.config import check_types

        if extra is not None and not isinstance(extra, dict):
            raise ConfigError(f"The transfer-learning options are {type(extra).__name__} data; "
                              "expected a table of options.")
        extra = dict(extra or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(extra) - names)
        if unknown:
            raise ConfigError(f"Received unknown transfer-learning option(s) {', '.join(unknown)}; "
                             f"expected some of: {', '.join(sorted(names))}.")
        values = {key: value for key, value in extra.items() if value is not None}
        check_types(values, _TYPES, "transfer-learning")
        options = cls(**values)
        options.validate()
        return options

    def validate(self) -> None:
        checks = [
            (self.head in HEADS, f"Received --head {self.head!r}; expected one of: "
                                 f"{', '.join(HEADS)}."),
            (self.pooling in POOLINGS, f"Received --pooling {self.pooling!r}; expected one of: "
                                       f"{', '.join(POOLINGS)}."),
            (0 <= self.dropout < 1, f"Received --dropout {self.dropout}; expected a fraction "
                                    "from 0 to below 1, such as 0.5."),
            (self.hidden_units >= 1, f"Received {self.hidden_units} hidden units; expected at "
                                     "least 1."),
            (self.regularization is None or self.regularization > 0, f"Received regularization C={self.regularization}; it "
                                      "must be positive."),
            (self.unfreeze is None or self.unfreeze == "all"
             or (isinstance(self.unfreeze, int) and self.unfreeze >= 1),
             f"Received --unfreeze {self.unfreeze}; expected at least 1 layer (or leave it out "
             "to unfreeze the top block, or 'all')."),
            (self.finetune_below is None or 0 < self.finetune_below <= 1,
             f"Received finetune_below {self.finetune_below}; expected an accuracy between 0 "
             "and 1, such as 0.95."),
            (self.finetune_epochs >= 1, f"Received --finetune-epochs {self.finetune_epochs}; "
                                        "expected at least 1."),
            (self.fine_tune_lr > 0, f"Received --fine-tune-lr {self.fine_tune_lr}; it must be "
                                    "positive, such as 0.0001."),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


_TYPES = {"weights": ("text",), "alpha": ("number",), "head": ("text",), "pooling": ("text",),
          "dropout": ("number",), "hidden_units": ("int",), "regularization": ("number",),
          "unfreeze": ("int", "text"), "finetune_epochs": ("int",), "fine_tune_lr": ("number",),
          "finetune_below": ("number",),
          "from_run": ("text",), "fusion_base": ("text",), "cache_dir": ("text",),
          "use_cache": ("bool",)}


# --- cache folder ------------------------------------------------------------------------------


def cache_dir(options: TransferOptions | None = None) -> Path:
    """Feature cache folder: --cache-dir, else $ICS_CACHE_DIR, else
    ~/.cache/image-classifier-studio/features. Scan records live in its scans/ subfolder."""
    if options is not None and options.cache_dir:
        return Path(os.path.expanduser(options.cache_dir)).resolve()  # "~nobody": kept as is
    return Path(os.path.expanduser(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR)).resolve()


def check_cache_outside_data(directory: Path, data_dir: str) -> None:
    data = Path(os.path.expanduser(data_dir)).resolve()
    if directory == data or data in directory.parents:
        raise TrainingError(f"The cache folder {directory} is inside the dataset {data}; "
                            "choose a --cache-dir outside it (the dataset is never written to).")
