"""The "finetune" mode: a head first (cached features or --from-run), then the top block unfrozen at a low rate."""
from __future__ import annotations

import numpy as np

from core.runs.layout import BEST_MODEL
from core.errors import TrainingError
from core.training.session import TrainingSession, compile_for_training
from core.training.transfer.features import extract_features
from core.training.transfer.heads import train_head
from core.training.transfer.network import _build, _describe_run, _options, _record_stage
from core.training.transfer.options import LINEAR_HEADS, TransferOptions


# --- fine-tuning -------------------------------------------------------------------------------


def _finetune_stage(session, model, base, base_name: str, head_layers, options,
                    epoch_offset: int) -> None:
    from core.models.networks import unfreeze_top
    from core.models.optimizers import make_optimizer

    unfrozen = unfreeze_top(base, base_name, options.unfreeze)
    for layer in head_layers:
        layer.trainable = True
    # The whole network moves with Adam (per-weight steps suit layers of very different
    # scales); the top block alone keeps the Keras blog's SGD with momentum.
    optimizer = "adam" if options.unfreeze == "all" else "sgd"
    compile_for_training(model, make_optimizer(optimizer, options.fine_tune_lr),
                         session.num_classes)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    what = "all" if options.unfreeze == "all" else "the top"
    session.log(f"Fine-tuning {what} {len(unfrozen)} layers of {base_name} and the head "
                f"({trainable:,} weights) with {'Adam' if optimizer == 'adam' else 'SGD (momentum 0.9)'}"
                f" at {options.fine_tune_lr:g}, augmentation on; BatchNormalization stays "
                "as trained.")
    session.writer.write_config(trainable_params=trainable)
    train_ds, val_ds = session.datasets(session.image_size, augment=True)
    session.model = model
    try:
        session.fit(model, train_ds, val_ds, options.finetune_epochs, stage="finetune",
                    epoch_offset=epoch_offset)
    finally:
        _record_stage(session, "finetune", epoch_offset + 1, optimizer=optimizer,
                      momentum=0.9 if optimizer == "sgd" else None,
                      learning_rate=options.fine_tune_lr, unfrozen_layers=unfrozen,
                      trainable_params=trainable)


def _start_from_run(session: TrainingSession, options: TransferOptions):
    """Stage 1 taken from an earlier run: its model, history and best accuracy carry over."""
    from core.runs.run import Run
    from core.errors import RunError

    try:
        source = Run.open(options.from_run)
    except RunError as error:
        raise TrainingError(f"--from-run: {error}") from None
    config = source.config
    if config.get("family") != "transfer" or config.get("model") != session.config.model:
        raise TrainingError(f"--from-run {options.from_run} was trained with model "
                            f"{config.get('model')!r} ({config.get('mode')}); fine-tuning "
                            "continues a run of the same backbone, so pass --model "
                            f"{config.get('model')} or train a head first.")
    if source.labels != session.labels:
        raise TrainingError(f"--from-run {options.from_run} has classes "
                            f"{', '.join(source.labels)}, but this dataset has "
                            f"{', '.join(session.labels)}; use a run trained on these classes.")
    if source.image_size != session.image_size:
        if session.config.image_size is not None:
            raise TrainingError(f"--from-run {options.from_run} was trained at "
                                f"{source.image_size} px; leave out --image-size or pass "
                                f"{source.image_size}.")
        session.image_size = source.image_size
        session.writer.write_config(image_size=source.image_size)
    model = source.load_model("best")
    backbones = config.get("backbones") or [{"name": session.config.model,
                                             "layer": session.config.model}]
    base = model.get_layer(backbones[0].get("layer", session.config.model))
    names = [layer.name for layer in model.layers]
    # The head: every layer after the pooling that follows the base.
    start = names.index("pool") + 1 if "pool" in names else names.index(base.name) + 2
    head_layers = model.layers[start:]
    for layer in model.layers:
        layer.trainable = layer is not base and layer in head_layers
    writer = session.writer
    writer.write_config(from_run=str(source.path.resolve()), backbones=backbones,
                        weights=config.get("weights"), transfer=config.get("transfer"),
                        preprocessing=config.get("preprocessing"),
                        num_params=int(model.count_params()), heatmap=config.get("heatmap"),
                        stages=[dict(stage, from_run=True) for stage in config.get("stages", [])])
    from core.models.summary import model_summary
    from core.training.session import data_summary

    writer.write_summary(model_summary(model) + "\n\n" + data_summary(session))
    for row in source.history:
        writer.add_epoch(dict(row))
    offset = max([row.get("epoch") or 0 for row in source.history], default=0)
    # The starting point is the bar fine-tuning has to beat: best.keras never gets worse.
    baseline = _evaluate_images(session, model)
    if baseline is not None:
        writer.best_value = baseline
        writer.best_epoch = (config.get("best") or {}).get("epoch") or offset or None
        writer.save_model(model, BEST_MODEL)
        writer.write_config(epochs_completed=offset,
                            best={"epoch": writer.best_epoch, "monitor": session.monitor,
                                  "value": baseline})
        session.log(f"Starting from {source.path.name}: {session.monitor} {baseline:.4f}.")
    return model, base, backbones[0].get("name", session.config.model), head_layers, offset


def _evaluate_images(session, model) -> float | None:
    from core.models.outputs import loss_for

    train_ds, val_ds = session.datasets(session.image_size, augment=False)
    dataset = val_ds if session.monitor == "val_accuracy" else train_ds
    if dataset is None:
        return None
    import warnings

    session.log("Measuring the starting model ...")
    model.compile(loss=loss_for(session.num_classes), metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ran out of data")
        results = model.evaluate(dataset, verbose=0, return_dict=True)
    return float(results["accuracy"])


def run_finetune(session: TrainingSession):
    """Mode "finetune": stage "head" (on cached features, or --from-run), then stage
    "finetune" with the top block unfrozen at a low learning rate."""
    options = _options(session)
    if options.head in LINEAR_HEADS and not options.from_run:
        session.log(f"The {options.head} head is fitted first, then fine-tuned as a Dense layer.")
    if options.from_run:
        model, base, base_name, head_layers, offset = _start_from_run(session, options)
    else:
        network = _build(session, options)
        _describe_run(session, network, options)
        data = extract_features(session, network, options)
        train_head(session, network, options, data, session.config.epochs, keep_best=True)
        model, base_name = network.model, network.choices[0].name
        base, head_layers = network.bases[base_name], network.head_layers
        offset = int(session.writer.config.get("epochs_completed") or 0)
    session.cancel.raise_if_cancelled()
    head_accuracy = session.writer.best_value
    if options.finetune_below is not None and session.monitor == "val_accuracy" \
            and head_accuracy is not None and head_accuracy >= options.finetune_below:
        session.log(f"The head alone reaches {head_accuracy:.1%} on the validation pictures; "
                    "fine-tuning is skipped (it takes minutes for little gain at this level).")
        session.writer.write_config(finetune_skipped={"head_accuracy": head_accuracy,
                                                      "threshold": options.finetune_below})
        return model
    _finetune_stage(session, model, base, base_name, head_layers, options, offset)
    return model
