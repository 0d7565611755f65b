"""The "scratch" training mode: a from-scratch CNN trained end to end on augmented images."""
from __future__ import annotations

from core.training.session import TrainingSession, data_summary, compile_for_training


def run_scratch(session: TrainingSession):
    """Train a from-scratch CNN end to end. Returns the trained model."""
    from core.models.registry import build_model
    from core.models.optimizers import make_optimizer
    from core.models.summary import model_summary

    from core.training.precision import dtype_policy, training_policy

    config = session.config
    rescale = session.augmentation.rescale or 1.0
    policy = training_policy(config.precision, session.image_size)
    with dtype_policy(policy):
        model = build_model(config.model, session.num_classes, session.image_size,
                            rescale=rescale)
    compile_for_training(model, make_optimizer(config.optimizer, config.learning_rate),
                         session.num_classes)
    session.writer.write_summary(model_summary(model) + "\n\n" + data_summary(session))
    session.writer.write_config(preprocessing={"input": "RGB pixels 0-255, resized by "
                                               "bilinear with antialias", "rescale": rescale},
                                num_params=int(model.count_params()), dtype_policy=policy)
    train_ds, val_ds = session.datasets()
    session.model = model  # so a cancelled run can still save its final state
    session.checkpoints = True
    session.fit(model, train_ds, val_ds, config.epochs, stage="train")
    return model
