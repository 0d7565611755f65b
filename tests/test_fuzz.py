"""Property-based fuzzing (Hypothesis) of what a person can type or a file can hold: any
training settings, any `train` arguments and any config.json give either a working request
or one sentence (a StudioError; exit status 2 with one line), never another exception, a
traceback, or a deleted model."""
from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="needs hypothesis (the test extra)")
from hypothesis import HealthCheck, event, given, settings, strategies as st  # noqa: E402

from core.cli import main  # noqa: E402
from core.errors import StudioError  # noqa: E402
from imagefactory import make_class_folders  # noqa: E402
from cli_checks import one_line_error  # noqa: E402

# FUZZ_EXAMPLES=2000 explores further (random, not the fixed examples of the suite).
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), deadline=None,
                derandomize="FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(["", "0", "-1", "1e9", "nan", "~nobody_here/x", "/dev/null",
                              "imagenet", "none", "avg", "dense", "mobilenet_v2", "adam"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)

TRAINING_FIELDS = ["model", "image_size", "epochs", "batch_size", "optimizer", "learning_rate",
                   "augment", "val_split", "test_split", "seed", "early_stopping",
                   "class_weights", "mode", "precision", "extra"]
TRANSFER_FIELDS = ["weights", "alpha", "head", "pooling", "dropout", "hidden_units",
                   "regularization", "unfreeze", "finetune_epochs", "fine_tune_lr", "from_run",
                   "fusion_base", "cache_dir", "use_cache"]
MODELS = st.sampled_from(["lenet", "small_cnn", "mobilenet_v2", "vgg16", "resnet50+xception",
                          "nope", ""])


class Reached(BaseException):
    """Raised where slow work would start: the request was accepted."""


def reached(*args, **kwargs):
    raise Reached()


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A dataset and a run folder holding a real tiny run (with best.keras and last.keras)."""
    from core.training import TrainingConfig, train

    root = tmp_path_factory.mktemp("fuzz")
    data = make_class_folders(root / "data", {"cats": 4, "dogs": 4})
    run = root / "runs" / "first"
    train(TrainingConfig(str(data), str(run), model="lenet", image_size=16, epochs=1,
                         batch_size=4, augment="none", seed=1))
    return data, run, json.loads((run / "config.json").read_text())


def models_of(run: Path) -> dict:
    return {name: (run / name).read_bytes() for name in ("best.keras", "last.keras")}


def plausible(strategy):
    """Mostly values of the right kind (to reach the deeper checks), sometimes anything."""
    return st.one_of(strategy, strategy, strategy, JSON)


WHOLE = st.integers(-3, 2**33)
FRACTION = st.floats(-0.5, 1.5) | st.floats()
TRANSFER = {
    "weights": st.sampled_from(["imagenet", "none", "x.h5", "~nobody_here/w.h5",
                                "resnet50=none,xception=imagenet", "vgg16=none"]),
    "alpha": st.sampled_from([0.35, 0.5, 0.6, 1.0, 1.4]) | FRACTION,
    "head": st.sampled_from(["dense", "dense-hidden", "logreg", "svm", "x"]),
    "pooling": st.sampled_from(["avg", "flatten", "max"]), "dropout": FRACTION,
    "hidden_units": WHOLE, "regularization": FRACTION, "unfreeze": WHOLE,
    "finetune_epochs": WHOLE, "fine_tune_lr": FRACTION,
    "from_run": st.sampled_from(["nowhere", "RUN"]),
    "fusion_base": st.sampled_from(["resnet50", "xception", "vgg16"]),
    "cache_dir": st.sampled_from(["CACHE", "~nobody_here/cache", "DATA/cache"]),
    "use_cache": st.booleans()}
TRAINING = {
    "model": MODELS, "image_size": st.none() | st.integers(-5, 5000), "epochs": WHOLE,
    "batch_size": WHOLE, "optimizer": st.sampled_from(["adam", "sgd", "rmsprop", "adadelta", "x"]),
    "learning_rate": st.none() | FRACTION,
    "augment": st.sampled_from(["none", "light", "default", "strong", "wild"])
    | st.dictionaries(st.sampled_from(["rotation", "zoom", "flip", "x"]), JSON, max_size=2),
    "val_split": FRACTION, "test_split": FRACTION, "seed": WHOLE, "early_stopping": WHOLE,
    "class_weights": st.none() | st.booleans(),
    "mode": st.none() | st.sampled_from(["scratch", "bottleneck", "frozen", "finetune",
                                         "fusion", "x"]),
    "precision": st.sampled_from(["auto", "float32", "mixed_bfloat16", "x"]),
    "extra": st.fixed_dictionaries({}, optional={k: plausible(v) for k, v in TRANSFER.items()})}


def placed(value, data: Path, run: Path):
    """Put the real folders into the names the strategies use for them."""
    if isinstance(value, dict):
        return {key: placed(item, data, run) for key, item in value.items()}
    if value == "RUN":
        return str(run)
    if isinstance(value, str) and value.startswith(("CACHE", "DATA")):
        return value.replace("CACHE", str(run.parent / "cache")).replace("DATA", str(data))
    return value


@FUZZ
@given(values=st.fixed_dictionaries({}, optional={k: plausible(v) for k, v in TRAINING.items()}))
def test_any_training_settings_give_a_request_or_a_sentence(place, values):
    from core.training.config import TrainingConfig
    from core.training.request import TrainingRequest, build_request

    data, run, _ = place
    values = {"data_dir": str(data), "out_dir": str(run.parent / "new"),
              **placed(values, data, run)}
    try:
        request = build_request(TrainingConfig.from_dict(values))
    except StudioError as error:
        assert error.sentence.strip() and "\n" not in error.sentence
        event(type(error).__name__)
        return
    event("accepted")
    assert isinstance(request, TrainingRequest)


FLAGS = ["--model", "--mode", "--image-size", "--epochs", "--batch-size", "--optimizer", "--lr",
         "--augment", "--val-split", "--test-split", "--seed", "--early-stopping", "--precision",
         "--weights", "--alpha", "--head", "--pooling", "--dropout", "--head-c", "--unfreeze",
         "--finetune-epochs", "--fine-tune-lr", "--from-run", "--fusion-base", "--cache-dir"]
SWITCHES = ["--class-weights", "--no-class-weights", "--no-cache", "--json"]
VALUES = (st.integers(-10**12, 10**12).map(str) | st.floats().map(str) | st.text(max_size=10)
          .filter(lambda t: not t.startswith("-")) | MODELS
          | st.sampled_from(["0", "-1", "1e400", "nan", "inf", "0.5", "1.4", "finetune",
                             "fusion", "bottleneck", "mixed_bfloat16", "svm", "flatten"]))
ARGUMENT = (st.tuples(st.sampled_from(FLAGS), VALUES).map(list)
            | st.sampled_from(SWITCHES).map(lambda s: [s]))


@FUZZ
@given(arguments=st.lists(ARGUMENT, max_size=5).map(lambda parts: sum(parts, [])))
def test_any_train_arguments_exit_0_or_2_and_never_touch_the_old_run(place, arguments,
                                                                     capsys):
    data, run, _ = place
    before = models_of(run)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("core.training.scan_for_training", reached)
        patch.setattr("core.training.train", reached)
        try:
            status = main(["train", str(data), "--out", str(run), *arguments])
        except Reached:
            status = None
    event("accepted" if status is None else "refused")
    if status is not None:
        assert status == 2, arguments
        one_line_error(capsys)
    assert models_of(run) == before
    assert sorted(p.name for p in run.parent.iterdir()) == ["first"]


def mutate(config: dict, changes: list) -> dict:
    config = copy.deepcopy(config)
    for where, key, value in changes:
        target = config if where == "top" or not isinstance(config.get("training"), dict) \
            else config["training"]
        if value == "<delete>":
            target.pop(key, None)
        else:
            target[key] = value
    return config


CONFIG_KEYS = ["training", "dataset", "best", "resumed", "mode", "family", "status",
               "image_size", "labels", "format_version", "epochs_completed", "model"]
CHANGE = st.tuples(st.sampled_from(["top", "training"]),
                   st.sampled_from(CONFIG_KEYS + TRAINING_FIELDS + ["data_dir"]),
                   JSON | st.just("<delete>"))


@FUZZ
@given(changes=st.lists(CHANGE, min_size=1, max_size=4))
def test_any_config_json_on_resume_exits_0_or_2_and_keeps_the_models(place, changes, capsys,
                                                                    tmp_path_factory):
    data, source, config = place
    run = tmp_path_factory.mktemp("resume") / "run"
    shutil.copytree(source, run)
    (run / "config.json").write_text(json.dumps(mutate(config, changes), allow_nan=True))
    before = models_of(run)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("core.training.resume._scan", reached)
        try:
            status = main(["train", "--resume", str(run), "--epochs", "3"])
        except Reached:
            status = None
    event("resumed" if status is None else "refused")
    if status is not None:
        assert status == 2, changes
        one_line_error(capsys)
    assert models_of(run) == before
    shutil.rmtree(run.parent)
