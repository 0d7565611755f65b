"""One training request: the user's choices resolved and checked in one place, before any
data is read or anything is written.

The command line, the GUI and `train()` all go through `build_request`, so the same data and
the same choices give the same run (and the same config.json) from either side. The GUI
sends the request itself to its training process (it pickles).

Rules:
- model: "auto" (the default) lets the recommended recipe choose (core.training.recipe):
  the network from the weights on this computer, epochs, optimizer, stages; each choice is
  recorded with its reason in `choices` (config.json "recipe", summary.txt). Else a name
  from core.models.registry (fusions such as "resnet50+xception" included); mode: the one
  asked for, else the model's first; epochs 10, RMSprop, no early stopping unless chosen.
- input size: the size the user chose, else (fine-tuning --from-run) that run's size, else
  the model's default; with the recipe, from the pictures (`resolve`). Not the pictures' own
  suggestion (`DatasetScan.suggested_input_size`), which stays advice the GUI and `inspect`
  show: the size must be known before the data is read, pretrained weights expect their own
  size, and a command reproduces a GUI run without the scan. From the model's minimum up to
  MAX_IMAGE_SIZE.
- augmentation: "auto" (the default) is decided from the pictures in `resolve`
  (core.data.augmentation.decide: mirroring and large turns only where they keep the
  class); a preset, file or dict is loaded once. Saved as the full config.
- transfer options: validated; values equal to their defaults are dropped, so a choice the
  user left alone reads the same whichever side made the request.
- class weights: on or off as chosen; None lets the data decide (`resolve`): on when the
  classes are imbalanced (core.data.checks.is_imbalanced).
- output folder: outside the dataset, a folder, new or empty or an earlier run, writable (an
  earlier run's parent too: the new run is staged beside it); the feature cache folder outside
  the dataset too.
- strategy (core.training.distribute): a known name and replica count; multi-worker needs a
  TF_CONFIG naming this task. Only the chief of a cluster checks (and writes) the output folder.
- transfer options against the model: weights files exist, --alpha fits a backbone that has a
  width, --fusion-base is one of the bases, --from-run is a finetune run of the same model
  and size (its classes are checked against the data in `resolve`).

Example:
    request = build_request(TrainingConfig("data/cats_dogs", "runs/first"))
    request, warnings = request.resolve(scan)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import ConfigError, StudioError, TrainingError
from core.runs.layout import CONFIG_FILE, LOCK_FILE, MAX_IMAGE_SIZE  # Run.open's limit too
from core.training.config import TrainingConfig
from core.util import atomic

AUTO = "auto"  # model and augmentation: chosen by the app (the recommended recipe)


@dataclass(frozen=True)
class TrainingRequest:
    """A checked training request. `config` is the user's `TrainingConfig` with every default
    filled in (mode, image size, augmentation as a dict, transfer options); it is what
    config.json records under "training"."""

    config: TrainingConfig
    family: str  # "scratch" or "transfer"
    recipe: str | None = None  # "auto" when the recommended recipe chose
    choices: tuple = ()  # the recipe's and the data's choices: {"setting", "value", "why"}

    @property
    def model(self) -> str:
        return self.config.model

    @property
    def mode(self) -> str:
        return self.config.mode

    @property
    def image_size(self) -> int:
        return self.config.image_size

    def augmentation(self):
        """The AugmentationConfig (after `resolve`: "auto" is decided from the pictures)."""
        from core.data.augmentation.presets import load_augmentation

        if self.config.augment == AUTO:
            raise TrainingError("The augmentation is decided from the pictures: resolve the "
                                "request with the scanned data first.")
        return load_augmentation(self.config.augment)

    def resolve(self, scan) -> tuple["TrainingRequest", list[str]]:
        """Check the scanned data can train a classifier (raises TrainingError with a sentence
        when it cannot) and let it decide what was left to it (class weights).

        Returns the resolved request and the scan's warnings plus the training ones."""
        from core.data.checks import check_trainable, is_imbalanced

        try:
            notes = check_trainable(scan, self.config.batch_size)
        except StudioError as error:
            raise TrainingError(str(error)) from None
        warnings = list(scan.warnings) + [note for note in notes if note not in scan.warnings]
        from_run = (self.config.extra or {}).get("from_run")
        if from_run:
            labels = _open_from_run(from_run).labels
            if labels != list(scan.classes):
                raise TrainingError(f"--from-run {from_run} has classes {', '.join(labels)}, but "
                                    f"this dataset has {', '.join(scan.classes)}; use a run "
                                    "trained on these classes.")
        config, choices = self.config, list(self.choices)
        if config.class_weights is None:
            config = replace(config, class_weights=is_imbalanced(scan))
        if config.image_size is None:  # left to the recipe: from the pictures' own size
            from core.models.registry import get_model_spec
            from core.training.recipe import input_size

            size, why = input_size(self.family, scan)
            size = max(size, get_model_spec(config.model).min_image_size)
            config = replace(config, image_size=size)
            choices.append(why)
        if config.augment == AUTO:
            from core.data.augmentation.decide import choose_augmentation
            from core.training.recipe import choice

            decided = choose_augmentation(scan.samples("train"), scan.samples("validation"),
                                          scan.num_classes, seed=config.seed)
            config = replace(config, augment=decided.config.to_dict())
            choices.append(choice("augmentation", decided.to_dict(), " ".join(decided.reasons)))
        return replace(self, config=config, choices=tuple(choices)), warnings

    def settings(self) -> dict:
        """The settings config.json records (model, family, mode, image_size, augmentation,
        training): equal requests give equal settings."""
        augmentation = self.augmentation().to_dict()
        settings = {"model": self.model, "family": self.family, "mode": self.mode,
                    "image_size": self.image_size, "augmentation": augmentation,
                    "training": self.config.to_dict() | {"augment": augmentation}}
        if self.choices:
            settings["recipe"] = {"name": self.recipe or "chosen", "choices": list(self.choices)}
        return settings


def build_request(config: TrainingConfig) -> TrainingRequest:
    """Resolve and check everything about a training that needs no data.

    Raises a `core.errors.StudioError` (TrainingError, ConfigError, NotWritableError) with one
    sentence when a setting, the model, the mode, the input size, the augmentation, the
    transfer options or the output folder cannot be used. Nothing is written."""
    from core.data.augmentation.presets import load_augmentation
    from core.models.registry import get_model_spec

    from core.training.distribute import check_choice, writes_the_run

    config.validate()
    check_choice(config.strategy, config.cpu_replicas)  # multi-worker: TF_CONFIG too
    recipe, choices = None, []
    if config.model == AUTO:
        from core.training.recipe import plan

        config, choices = plan(config)
        recipe = AUTO
    else:
        config = replace(config, epochs=10 if config.epochs is None else config.epochs,
                         optimizer=config.optimizer or "rmsprop",
                         early_stopping=config.early_stopping or 0)
    spec = get_model_spec(config.model)
    mode = config.mode or spec.modes[0]
    if mode not in spec.modes:
        raise TrainingError(f"Model {config.model!r} does not support mode {mode!r}; "
                            f"choose one of: {', '.join(spec.modes)}.")
    image_size = config.image_size or _from_run_size(config, spec) \
        or (None if recipe else spec.default_image_size)  # the recipe's: from the pictures
    if image_size is not None and image_size < spec.min_image_size:
        raise TrainingError(f"Received image size {image_size} for model {config.model!r}; it "
                            f"needs at least {spec.min_image_size} px. Pass --image-size "
                            f"{spec.default_image_size} (its default).")
    if image_size is not None and image_size > MAX_IMAGE_SIZE:
        raise TrainingError(f"Received image size {image_size}; the largest input size is "
                            f"{MAX_IMAGE_SIZE} px (models train at a few hundred, such as "
                            f"{spec.default_image_size}).")
    augment = config.augment if config.augment == AUTO else \
        load_augmentation(config.augment).to_dict()
    extra = _transfer_extra(config, mode, image_size) if spec.family == "transfer" else {}
    if writes_the_run(config.strategy):
        check_output_folder(Path(config.out_dir), Path(config.data_dir))
    resolved = replace(config, mode=mode, image_size=image_size, extra=extra, augment=augment)
    return TrainingRequest(config=resolved, family=spec.family, recipe=recipe,
                           choices=tuple(choices))


def _from_run_size(config: TrainingConfig, spec) -> int | None:
    """Fine-tuning continues an earlier run: its input size (the run is checked later, in
    `_check_from_run`, with a sentence when it cannot be used)."""
    from_run = (config.extra or {}).get("from_run") if spec.family == "transfer" else None
    if not from_run or not isinstance(from_run, str):
        return None
    try:
        return _open_from_run(from_run).image_size
    except StudioError:
        return None


def _open_from_run(from_run: str):
    from core.errors import RunError
    from core.runs.run import Run

    try:
        return Run.open(from_run)
    except RunError as error:
        raise TrainingError(f"--from-run: {error}") from None


def _transfer_extra(config: TrainingConfig, mode: str, image_size: int) -> dict:
    """The transfer options, checked (also against the model: weights, width, fusion base,
    --from-run), without those left at their defaults."""
    from core.training.transfer.options import (TransferOptions, cache_dir,
                                                check_cache_outside_data)

    options = TransferOptions.from_extra(config.extra)
    _match_weights_file(config.model, options)
    if options.use_cache:
        check_cache_outside_data(cache_dir(options), config.data_dir)
    _check_bases(config.model, options)
    if options.from_run:
        _check_from_run(config, options.from_run, mode, image_size)
    defaults = TransferOptions()
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)
            if getattr(options, f.name) != getattr(defaults, f.name)}


def _match_weights_file(model: str, options) -> None:
    """A weights file names its own network: the width is read from it when not given, and a
    file of another network is refused now, with the fix, rather than after the data is read."""
    import os

    from core.models.weights_store import identify_weights

    weights = options.weights or ""
    if "+" in model or weights in ("imagenet", "none") or "=" in weights \
            or not os.path.isfile(weights):
        return  # fusions name a file per base; a missing file gets its sentence later
    try:
        found = identify_weights(weights)
    except StudioError:
        return  # an unknown layout may still load (Keras checks every shape)
    if found.backbone != model:
        raise TrainingError(f"The weights file {weights} holds {found.title}, not {model}; "
                            f"pass --model {found.backbone}"
                            + (f" --alpha {found.alpha:g}" if found.alpha else "")
                            + ", or leave out --model to let the app choose.")
    if found.alpha is not None and options.alpha is None:
        options.alpha = found.alpha
    elif found.alpha is not None and options.alpha != found.alpha:
        raise TrainingError(f"The weights file {weights} holds {found.title}, but --alpha "
                            f"{options.alpha:g} was given; pass --alpha {found.alpha:g} or "
                            "leave it out.")


def _check_bases(model: str, options) -> None:
    """--weights, --alpha and --fusion-base against the model's backbones (as the network
    builder would find them, but before anything is written)."""
    from core.models.backbones import check_alpha, get_backbone
    from core.models.fusion import FUSION_SEPARATOR, fusion_bases
    from core.models.weights import parse_weights

    bases = fusion_bases(model) if FUSION_SEPARATOR in model else [model]
    if options.alpha is not None and not any(get_backbone(b).has_alpha for b in bases):
        raise ConfigError(f"Received --alpha {options.alpha} for {model}, which has no width "
                          "multiplier; --alpha applies to mobilenet_v2 only.")
    for base in bases:
        if get_backbone(base).has_alpha:
            check_alpha(base, options.alpha)
    if options.fusion_base is not None and options.fusion_base not in bases:
        raise ConfigError(f"Received --fusion-base {options.fusion_base!r}; choose one of this "
                          f"model's bases: {', '.join(bases)}.")
    parse_weights(options.weights, bases)


def _check_from_run(config: TrainingConfig, from_run: str, mode: str, image_size: int) -> None:
    if mode != "finetune":
        raise ConfigError(f"Received --from-run {from_run} with mode {mode!r}; --from-run "
                          "continues an earlier run in mode finetune only (pass --mode finetune).")
    source = _open_from_run(from_run)
    if source.config.get("family") != "transfer" or source.config.get("model") != config.model:
        raise TrainingError(f"--from-run {from_run} was trained with model "
                            f"{source.config.get('model')!r} ({source.config.get('mode')}); "
                            "fine-tuning continues a run of the same backbone, so pass --model "
                            f"{source.config.get('model')} or train a head first.")
    if source.image_size != image_size:
        raise TrainingError(f"--from-run {from_run} was trained at {source.image_size} px; "
                            f"leave out --image-size or pass {source.image_size}.")
    try:
        source.model_path("best")
    except StudioError as error:
        raise TrainingError(f"--from-run: {error}") from None


def check_output_folder(out: Path, data_dir: Path, replace: bool = True) -> None:
    """The run folder must be outside the dataset, a folder, new or empty or an earlier run,
    and writable (with `replace`, an earlier run's parent too). Raises TrainingError (or
    NotWritableError) with a sentence."""
    out_resolved, data_resolved = out.resolve(), data_dir.resolve()
    if out_resolved == data_resolved or data_resolved in out_resolved.parents:
        raise TrainingError(f"The output folder {out} is inside the dataset {data_dir}; choose a "
                            "folder outside it (the dataset is never written to).")
    if out.exists() and not out.is_dir():
        raise TrainingError(f"The output path {out} is a file; choose a folder.")
    holds_run = (out / CONFIG_FILE).is_file()
    if out.is_dir() and not holds_run and any(
            entry.name != LOCK_FILE and not atomic.is_temporary(entry.name)
            for entry in out.iterdir()):
        raise TrainingError(f"The output folder {out} already holds other files; choose a new or "
                            "empty folder (or an earlier run folder to replace it).")
    atomic.check_writable(out)  # also right for root and read-only disks, unlike os.access
    if holds_run and replace:
        # The new run is trained beside the old one and takes its place when it has a model.
        try:
            atomic.check_writable(out_resolved.parent)
        except StudioError:
            raise TrainingError(f"Cannot replace the run in {out}: its parent folder "
                                f"{out_resolved.parent} is not writable, and a new run is "
                                "trained beside the old one until it has a model. Choose "
                                "another output folder.") from None
