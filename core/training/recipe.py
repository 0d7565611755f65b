"""The recommended recipe (`--model auto`, the default): the app chooses the network, input
size, augmentation, epochs, learning rate and stages from the data and from the pretrained
weights on this computer, and records each choice with its reason.

People who use the app cannot tune; these choices are the ones measured to hold up on new
pictures (bench/README.md):

- Pretrained weights available (a file given with --weights, one given earlier and
  remembered, or an ImageNet file Keras downloaded): that network, features cached once, a
  logistic-regression head whose strength is chosen on a held-out part of the training
  pictures, at an input size near the pictures' own (larger inputs let an ImageNet network
  see more detail: MobileNetV2-0.35 on cats/dogs, 0.962 at 224 px, 0.977 at 352 px). Then,
  when the head leaves more than a few pictures in a hundred wrong, the whole network is
  fine-tuned at a low learning rate with BatchNormalization kept as trained and
  augmentation on, keeping the best epoch (flowers: 0.72 -> see bench).
- No weights: a compact network with batch normalization trained from scratch with Adam,
  at the pictures' own size (small pictures stay small), early stopping on the validation
  accuracy, the best epoch kept.
- Augmentation: decided from the pictures (core.data.augmentation.decide): mirroring and
  large turns only where they keep the class.

Choices the person made themselves (an input size, epochs, an augmentation, ...) are kept;
the recipe fills in only what was left to it.
"""
from __future__ import annotations

import math
from dataclasses import replace

from core.training.config import TrainingConfig

AUTO = "auto"
SCRATCH_MODEL = "compact_cnn"
SCRATCH_SIZES = (32, 128)  # px: from-scratch inputs stay near the pictures' own size
PRETRAINED_SIZES = (160, 352)  # px: at least what the features need, at most what a CPU affords
SCRATCH_EPOCHS, SCRATCH_PATIENCE = 40, 8
HEAD_GOOD_ENOUGH = 0.95  # validation accuracy of the head beyond which fine-tuning is skipped
FINETUNE_EPOCHS, FINETUNE_LR = 8, 1e-4


def choice(setting: str, value, why: str) -> dict:
    return {"setting": setting, "value": value, "why": why}


def plan(config: TrainingConfig) -> tuple[TrainingConfig, list[dict]]:
    """The recipe's choices that need no data: the network (from the weights available),
    optimizer, learning rate, epochs and stages. Returns the config with the model named and
    the choices made, each with its reason."""
    from core.models.weights_store import (available_weights, identify_weights,
                                            remember_weights)

    from core.training.transfer.options import TransferOptions

    TransferOptions.from_extra(config.extra)  # its sentence for a mistyped option, first
    extra = dict(config.extra or {})
    given = extra.get("weights")
    if given and given not in ("imagenet", "none"):
        weights, source = identify_weights(given), "the weights file you gave"
        remember_weights(weights)  # later runs find it without --weights
    elif given == "imagenet":
        weights, source = None, "imagenet"
    elif given == "none":
        weights, source = None, None
    else:
        found = available_weights()
        weights = found[0] if found else None
        source = ("the weights file you gave earlier" if weights and weights.source == "file"
                  else "the ImageNet weights Keras downloaded earlier")
    if weights is not None or source == "imagenet":
        return _pretrained(config, extra, weights, source)
    return _scratch(config, given)


def _pretrained(config, extra, weights, source) -> tuple[TrainingConfig, list[dict]]:
    if weights is None:  # --weights imagenet asked for by name: the recipe's network
        backbone, alpha, path, title = "mobilenet_v2", extra.get("alpha") or 1.0, "imagenet", \
            "MobileNetV2"
    else:
        backbone, alpha, path, title = weights.backbone, weights.alpha, weights.path, weights.title
    extra.update(weights=path, head=extra.get("head") or "logreg")
    if alpha is not None:
        extra["alpha"] = alpha
    extra.setdefault("finetune_epochs", FINETUNE_EPOCHS)
    extra.setdefault("fine_tune_lr", FINETUNE_LR)
    extra.setdefault("unfreeze", "all")
    extra.setdefault("finetune_below", HEAD_GOOD_ENOUGH)
    choices = [
        choice("model", backbone, f"Using {title}, a network pretrained on photos, because "
               f"{source} {'is' if weights else 'can be downloaded'} on this computer: it "
               "knows shapes and textures from a million photos, so a few hundred of yours "
               "per class go a long way."),
        choice("stages", "features, then fine-tuning where it helps",
               "Its features of your pictures are computed once and cached; a logistic "
               "regression learns your classes from them, with its strength chosen on "
               "a held-out part of the training pictures. If that leaves more than "
               f"{100 - HEAD_GOOD_ENOUGH * 100:.0f} in 100 validation pictures wrong, the whole "
               f"network is then fine-tuned for up to {extra['finetune_epochs']} epochs at a "
               f"low learning rate ({extra['fine_tune_lr']:g}), keeping the best epoch."),
    ]
    epochs = config.epochs if config.epochs is not None else 1
    resolved = replace(config, model=backbone, mode=config.mode or "finetune", extra=extra,
                       epochs=epochs, optimizer=config.optimizer or "adam",
                       early_stopping=config.early_stopping if config.early_stopping
                       is not None else 3)
    return resolved, choices


def _scratch(config, given) -> tuple[TrainingConfig, list[dict]]:
    from core.models.weights import keras_models_folder

    why_none = ("you chose to start from random weights" if given == "none" else
                "no pretrained weights are on this computer (pass --weights FILE once, or put "
                f"the ImageNet file of MobileNetV2 into {keras_models_folder()}, and later "
                "runs use them)")
    epochs = config.epochs if config.epochs is not None else SCRATCH_EPOCHS
    patience = config.early_stopping if config.early_stopping is not None else SCRATCH_PATIENCE
    extra = {key: value for key, value in (config.extra or {}).items() if key != "weights"}
    choices = [
        choice("model", SCRATCH_MODEL, "Training a compact network from scratch, because "
               f"{why_none}."),
        choice("epochs", epochs, f"Up to {epochs} epochs with Adam; training stops when the "
               f"validation loss has not improved for {patience} epochs, and the best "
               "epoch is kept."),
    ]
    resolved = replace(config, model=SCRATCH_MODEL, mode=config.mode or "scratch",
                       epochs=epochs, early_stopping=patience, extra=extra,
                       optimizer=config.optimizer or "adam")
    return resolved, choices


def input_size(model_family: str, scan) -> tuple[int, dict]:
    """The input size from the pictures' median short side: near the pictures' own size,
    within what the network needs and a CPU affords."""
    low, high = PRETRAINED_SIZES if model_family == "transfer" else SCRATCH_SIZES
    step = 32 if model_family == "transfer" else 16
    median = scan.image_size.get("median") if scan.image_size else None
    short = min(median) if median else high
    size = max(low, min(high, int(step * math.floor(short / step + 0.5))))
    if model_family == "transfer":
        why = (f"Your pictures are about {short} px on their short side; the pretrained network "
               f"sees them at {size} px (between {low} and {high}: larger shows it more detail, "
               "smaller is faster).")
    else:
        why = (f"Your pictures are about {short} px on their short side; the network learns at "
               f"{size} px (near their own size: enlarging adds no detail, only time).")
    return size, choice("image_size", size, why)
