"""Heads trained on cached features: Keras dense heads, and scikit-learn logreg / SVM turned into a Dense layer."""
from __future__ import annotations

import contextlib
import math
import time

import numpy as np

from core.util.progress import notify
from core.runs.layout import BEST_MODEL
from core.training.session import TrainingSession, compile_for_training
from core.training.callbacks import current_learning_rate
from core.training.transfer.features import FeatureSet
from core.training.transfer.network import _record_stage
from core.training.transfer.options import LINEAR_HEADS, TransferOptions
from core.errors import ConfigError


# --- heads -------------------------------------------------------------------------------------


class _BestHead:
    """Keeps the best head weights in memory during a stage on cached features (epochs take
    milliseconds there, while writing the full model takes a second); `write` saves the full
    model with them as best.keras once, at the end of the stage or when cancelled."""

    def __init__(self, network):
        self.network = network
        self.weights = None

    def take(self, head_model) -> None:
        self.weights = [np.array(w, copy=True) for w in self.network.head.get_weights()]

    def write(self, writer, keep_best: bool = False) -> None:
        if self.weights is None:
            return
        current = self.network.head.get_weights()
        self.network.head.set_weights(self.weights)
        writer.save_model(self.network.model, BEST_MODEL)
        if not keep_best:
            self.network.head.set_weights(current)


def train_head(session: TrainingSession, network, options: TransferOptions, data: FeatureSet,
               epochs: int, epoch_offset: int = 0, keep_best: bool = False) -> list | None:
    """Stage "head": fit the head on cached features (Keras) or solve it (scikit-learn).
    Returns the head weights that best.keras was written with (None: it was not)."""
    first_epoch = epoch_offset + 1
    if options.head in LINEAR_HEADS:
        _fit_linear_head(session, network, options, data, epoch_offset)
        _record_stage(session, "head", first_epoch, head=options.head, on="features")
        return network.head.get_weights()
    import tensorflow as tf

    from core.models.optimizers import make_optimizer

    config = session.config
    steps = math.ceil(len(data.train_x) / session.batch_size)  # the global batch
    # Batches of features take microseconds: one compiled call per epoch instead of one per
    # batch makes the head stage several times faster (cancel is still checked every epoch).
    # Under a strategy with several replicas, Keras's multi-step loop fails in TensorFlow
    # ("You must feed a value for placeholder tensor ... while/cond/Placeholder"): one step
    # per call there.
    distributed = session.distribution is not None and session.distribution.several
    compile_for_training(network.head, make_optimizer(config.optimizer, config.learning_rate),
                         session.num_classes, steps_per_execution=1 if distributed else steps)
    train_ds = tf.data.Dataset.from_tensor_slices((data.train_x, data.train_y)).shuffle(
        len(data.train_x), seed=config.seed, reshuffle_each_iteration=True).batch(
        session.batch_size).prefetch(2)
    best = _BestHead(network)
    session.model = network.model
    try:
        session.fit(network.head, train_ds, None, epochs, stage="head",
                    epoch_offset=epoch_offset, save_best=best.take, steps_per_epoch=steps,
                    validation_logs=None if data.val_x is None else _feature_validation(data))
    finally:
        best.write(session.writer, keep_best=keep_best)
        _record_stage(session, "head", first_epoch, head=options.head, on="features",
                      optimizer=config.optimizer,
                      learning_rate=current_learning_rate(network.head))
    return best.weights


def _feature_validation(data: FeatureSet):
    """Validation loss and accuracy of a head on the cached validation features, computed
    eagerly: a forward pass over a few hundred feature vectors takes milliseconds, while
    tracing Keras's test function for it took a few tenths of a second of every run."""
    def validation_logs(head) -> dict:
        outputs = np.concatenate([np.asarray(head(data.val_x[start:start + 1024], training=False))
                                  for start in range(0, len(data.val_x), 1024)])
        probs = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs
        return dict(zip(("val_loss", "val_accuracy"), _loss_and_accuracy(probs, data.val_y)))

    return validation_logs


# Candidate regularisation strengths (C on standardised features) for a head left to choose:
# pooled ImageNet features of a few thousand pictures want C around 0.003-0.03 (measured on
# cats/dogs and flowers: larger C only overfits); the ends are there for unusual datasets.
C_CANDIDATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)


def choose_c(kind: str, train_x, train_y, balanced: bool = False, seed: int = 0) -> float:
    """C with the best accuracy on a held-out quarter of the training features (stratified;
    the validation split stays untouched, so its figure stays honest). One hold-out instead
    of k folds, and each fit warm-started from the previous C: a few seconds for thousands
    of pictures, where 3-fold cross-validation took minutes."""
    from sklearn.model_selection import StratifiedShuffleSplit
    from sklearn.preprocessing import StandardScaler

    if int(np.bincount(train_y).min()) < 4:
        return 0.1  # too few pictures per class to hold any out
    fit_rows, held_rows = next(StratifiedShuffleSplit(1, test_size=0.25, random_state=seed)
                               .split(train_x, train_y))
    scaler = StandardScaler().fit(train_x[fit_rows])
    fit_x, held_x = scaler.transform(train_x[fit_rows]), scaler.transform(train_x[held_rows])
    model = _linear_model(kind, C_CANDIDATES[0], balanced, seed)[-1]
    if "warm_start" in model.get_params():  # LogisticRegression; LinearSVC starts afresh
        model.set_params(warm_start=True, tol=1e-3)
    scores = []
    for c in C_CANDIDATES:
        model.set_params(C=c)
        with _quiet_convergence():
            model.fit(fit_x, train_y[fit_rows])
        scores.append(float(np.mean(model.predict(held_x) == train_y[held_rows])))
    # The one-standard-error rule: the strongest regularisation whose accuracy is within the
    # hold-out's noise of the best (a few hundred pictures cannot tell 97.0% from 97.4%, and
    # the weaker setting is the one that overfits: cats/dogs 0.971 at the best-scoring C=0.1,
    # 0.977 at C=0.01).
    best = max(scores)
    noise = float(np.sqrt(max(best * (1 - best), 1e-4) / len(held_rows)))
    return next(c for c, score in zip(C_CANDIDATES, scores) if score >= best - noise)


def _linear_model(kind: str, c: float, balanced: bool, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    weight = "balanced" if balanced else None
    if kind == "logreg":
        model = LogisticRegression(C=c, max_iter=3000, class_weight=weight)
    elif kind == "svm":
        model = LinearSVC(C=c, class_weight=weight, max_iter=5000, random_state=seed)
    else:
        raise ConfigError(f"Received linear head {kind!r}; expected one of: "
                         f"{', '.join(LINEAR_HEADS)}.")
    return make_pipeline(StandardScaler(), model)


@contextlib.contextmanager
def _quiet_convergence():
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*converge")  # a near-optimum is fine here
        yield


def linear_head_weights(kind: str, train_x, train_y, num_classes: int, c: float | None = None,
                        balanced: bool = False, seed: int = 0):
    """Fit a scikit-learn linear classifier on standardised features and fold the scaling
    into its weights. Returns (kernel (D, units), bias (units,), C) for the Dense output
    layer; C None is chosen on held-out training features (`choose_c`).

    "logreg" is LogisticRegression: sigmoid / softmax of the Dense layer gives exactly its
    predict_proba. "svm" is LinearSVC: the Dense layer computes its decision function, and
    sigmoid (2 classes) or softmax (one-vs-rest scores) turns that into probability-like
    values (not calibrated probabilities; the ranking and the predicted class are the SVM's).
    """
    if c is None:  # chosen for logistic regression; LinearSVC keeps 0.1 (tuning it took minutes)
        c = choose_c(kind, train_x, train_y, balanced, seed) if kind == "logreg" else 0.1
    pipeline = _linear_model(kind, c, balanced, seed)
    with _quiet_convergence():
        pipeline.fit(train_x, train_y)
    scaler, model = pipeline[0], pipeline[-1]
    coef = np.asarray(model.coef_, np.float64)  # (1 or classes, D)
    intercept = np.asarray(model.intercept_, np.float64)
    if num_classes > 2 and coef.shape[0] != num_classes:
        raise ConfigError(f"The {kind} head saw {coef.shape[0]} of the {num_classes} classes in "
                         "the training features; every class needs training images.")
    kernel = (coef / scaler.scale_).T
    bias = intercept - (coef * (scaler.mean_ / scaler.scale_)).sum(axis=1)
    return kernel.astype(np.float32), bias.astype(np.float32), c


def _probabilities(features, kernel, bias) -> np.ndarray:
    logits = features.astype(np.float64) @ kernel + bias
    if logits.shape[1] == 1:
        positive = 1 / (1 + np.exp(-logits[:, 0]))
        return np.stack([1 - positive, positive], axis=1)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _loss_and_accuracy(probs, labels) -> tuple[float, float]:
    picked = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
    return float(-np.log(picked).mean()), float((probs.argmax(axis=1) == labels).mean())


def _fit_linear_head(session, network, options, data: FeatureSet, epoch_offset: int) -> None:
    writer, config = session.writer, session.config
    notify(session.listener, "on_stage", "head", 1)
    notify(session.listener, "on_train_begin", {
        "epochs": epoch_offset + 1, "initial_epoch": epoch_offset, "stage": "head",
        "steps_per_epoch": 1, "run_dir": str(writer.target)})
    started = time.perf_counter()
    kernel, bias, c = linear_head_weights(options.head, data.train_x, data.train_y,
                                       session.num_classes, options.regularization,
                                       config.class_weights, config.seed)
    network.head_layers[-1].set_weights([kernel, bias])
    session.model = network.model
    logs = dict(zip(("loss", "accuracy"), _loss_and_accuracy(
        _probabilities(data.train_x, kernel, bias), data.train_y)))
    if data.val_x is not None:
        logs.update(zip(("val_loss", "val_accuracy"), _loss_and_accuracy(
            _probabilities(data.val_x, kernel, bias), data.val_y)))
    seconds = time.perf_counter() - started
    row = {"epoch": epoch_offset + 1, "stage": "head", **logs, "learning_rate": None,
           "seconds": round(seconds, 3)}
    writer.record_epoch(row, session.monitor, lambda: writer.save_model(network.model, BEST_MODEL))
    notify(session.listener, "on_epoch_end", epoch_offset, {**logs, "seconds": seconds})
    solver = "LogisticRegression" if options.head == "logreg" else "LinearSVC"
    chosen = "" if options.regularization is not None or options.head != "logreg" else \
        ", chosen on a held-out quarter of the training pictures"
    session.log(f"{solver} head (C={c:g}{chosen}) fitted in {seconds:.1f}s and stored as an "
                "equivalent Dense layer.")
    session.writer.write_config(head_c=c)
