"""Building and describing a transfer-learning network for a session (bases, head, summary, stages)."""
from __future__ import annotations

from core.training.session import TrainingSession
from core.training.transfer.options import TransferOptions, check_cache_outside_data, cache_dir
from core.errors import ConfigError


# --- building and describing -------------------------------------------------------------------


def _options(session: TrainingSession) -> TransferOptions:
    options = TransferOptions.from_extra(session.config.extra)
    if options.use_cache:
        check_cache_outside_data(cache_dir(options), session.config.data_dir)
    return options


def _choices(session: TrainingSession, options: TransferOptions) -> list:
    """One BaseChoice per base: its size, weights and width."""
    from core.models.fusion import FUSION_SEPARATOR, fusion_bases, fusion_sizes
    from core.models.networks import BaseChoice
    from core.models.backbones import get_backbone
    from core.models.weights import parse_weights

    name = session.config.model
    if FUSION_SEPARATOR in name:
        bases = fusion_bases(name)
        sizes = fusion_sizes(bases, session.image_size)
    else:
        bases, sizes = [name], {name: session.image_size}
    if options.alpha is not None and not any(get_backbone(b).has_alpha for b in bases):
        raise ConfigError(f"Received --alpha {options.alpha} for {name}, which has no width "
                         "multiplier; --alpha applies to mobilenet_v2 only.")
    if options.fusion_base is not None and options.fusion_base not in bases:
        raise ConfigError(f"Received --fusion-base {options.fusion_base!r}; choose one of this "
                         f"model's bases: {', '.join(bases)}.")
    sources = parse_weights(options.weights, bases)
    return [BaseChoice(base, sizes[base], sources[base],
                       options.alpha if get_backbone(base).has_alpha else None,
                       seed=session.config.seed) for base in bases]


def _build(session: TrainingSession, options: TransferOptions, choices: list | None = None):
    from core.models.networks import build_network

    network = build_network(choices or _choices(session, options), session.num_classes,
                            options.pooling,
                            options.head, options.dropout, options.hidden_units,
                            input_size=session.image_size,
                            snapshot_dir=cache_dir(options) if options.use_cache else None)
    for base in network.bases.values():
        base.trainable = False
    return network


def _describe_run(session: TrainingSession, network, options: TransferOptions) -> dict:
    """Record what the run is made of (config.json) and the model summary (summary.txt).
    Returns that description (see `_write_description`)."""
    description = _description(network, options)
    _write_description(session, description)
    return description


def _write_description(session: TrainingSession, description: dict) -> None:
    from core.training.session import data_summary

    session.writer.write_config(**description["config"])
    session.writer.write_summary(description["summary"] + "\n\n" + data_summary(session))


def _description(network, options: TransferOptions) -> dict:
    from core.models.backbones import get_backbone
    from core.models.summary import model_summary

    choices = network.choices
    base_names = [choice.name for choice in choices]
    fused = len(choices) > 1
    weights = {c.name: c.weights.label for c in choices} if fused else choices[0].weights.label
    config = dict(
        backbones=[choice.describe() for choice in choices],
        weights=weights,
        transfer={"pooling": options.pooling, "head": options.head, "dropout": options.dropout,
                  "hidden_units": options.hidden_units if options.head == "dense-hidden" else None,
                  "feature_dim": int(network.extractor.output.shape[-1]),
                  "input_size": network.input_size},
        preprocessing={"input": "RGB pixels 0-255, resized by bilinear with antialias",
                       "inside_model": {c.name: get_backbone(c.name).preprocessing
                                        for c in choices}},
        num_params=int(network.model.count_params()),
        heatmap={"feature_layer": (options.fusion_base or base_names[0]) if fused else None,
                 "choices": base_names},
        stages=[])
    return {"config": config, "summary": model_summary(network.model)}


def _record_stage(session: TrainingSession, name: str, first_epoch: int, **details) -> None:
    last = int(session.writer.config.get("epochs_completed") or 0)
    stages = list(session.writer.config.get("stages") or [])
    stages.append({"name": name, "first_epoch": first_epoch,
                   "last_epoch": last if last >= first_epoch else None, **details})
    session.writer.write_config(stages=stages)
