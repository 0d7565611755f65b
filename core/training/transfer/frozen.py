"""The "frozen" mode: frozen base + new head, trained end to end on augmented images."""
from __future__ import annotations

import numpy as np

from core.errors import TrainingError
from core.training.session import TrainingSession, compile_for_training
from core.training.callbacks import current_learning_rate
from core.training.transfer.network import _build, _describe_run, _options, _record_stage
from core.training.transfer.options import LINEAR_HEADS


def run_frozen(session: TrainingSession):
    """Mode "frozen": frozen base + head trained end to end on augmented images."""
    from core.models.optimizers import make_optimizer

    options = _options(session)
    if options.head in LINEAR_HEADS:
        raise TrainingError(f"The {options.head} head is fitted on cached features; use "
                            "--mode bottleneck with it (or --head dense for --mode frozen).")
    network = _build(session, options)
    _describe_run(session, network, options)
    model, config = network.model, session.config
    compile_for_training(model, make_optimizer(config.optimizer, config.learning_rate),
                         session.num_classes)
    session.writer.write_config(
        trainable_params=int(sum(np.prod(w.shape) for w in model.trainable_weights)))
    train_ds, val_ds = session.datasets(session.image_size, augment=True)
    session.model = model
    try:
        session.fit(model, train_ds, val_ds, config.epochs, stage="frozen")
    finally:
        _record_stage(session, "frozen", 1, optimizer=config.optimizer,
                      learning_rate=current_learning_rate(model))
    return model
