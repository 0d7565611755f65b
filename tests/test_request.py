"""One training request: the app and the command line resolve the same choices alike, and a
request is checked before anything is read or written."""
import json

import pytest
from imagefactory import make_class_folders

from core.cli import build_parser, main, training_config
from core.data.scanning import scan_dataset
from core.training import train
from core.training.request import MAX_IMAGE_SIZE, build_request


@pytest.fixture(autouse=True)
def no_pretrained_weights(tmp_path, monkeypatch):
    """A computer without pretrained weights, whatever earlier tests remembered: the recipe
    then trains its compact network from scratch (the training process inherits this)."""
    monkeypatch.setenv("ICS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory):
    """Small pictures (16 px), one class four times the other: the case where the app once
    chose another input size and class weights than the command line."""
    return make_class_folders(tmp_path_factory.mktemp("req") / "data", {"cats": 16, "dogs": 4})


def gui_config(qtbot, data, out, **choices):
    """The TrainingConfig the app sends when the person changes only `choices` (the
    Augment step left at Recommended: augment "auto", as QtTrainPage sends it)."""
    from gui.qt_training_settings import QtTrainingSettings

    settings = QtTrainingSettings()
    qtbot.addWidget(settings)
    settings.set_scan(scan_dataset(data))
    if "epochs" in choices:
        settings.epochs_spin.setValue(choices["epochs"])
    return settings.training_config(data, out, augment="auto")


def gui_request(qtbot, data, out, **choices):
    return build_request(gui_config(qtbot, data, out, **choices))


def cli_config(data, out, *flags):
    return training_config(build_parser().parse_args(["train", str(data), "--out", str(out),
                                                      *flags]))


def cli_request(data, out, *flags):
    return build_request(cli_config(data, out, *flags))


def test_default_choices_give_the_same_request(qtbot, imbalanced, tmp_path):
    # What each side leaves to the app is the same: the recipe, Automatic everywhere.
    left_to_the_app = ("model", "mode", "image_size", "epochs", "optimizer", "learning_rate",
                       "early_stopping", "augment", "extra", "batch_size", "seed")
    gui_left = gui_config(qtbot, imbalanced, tmp_path / "run")
    cli_left = cli_config(imbalanced, tmp_path / "run")
    assert {name: getattr(gui_left, name) for name in left_to_the_app} == \
        {name: getattr(cli_left, name) for name in left_to_the_app}
    assert (gui_left.model, gui_left.augment, gui_left.epochs, gui_left.image_size) == \
        ("auto", "auto", None, None)
    scan = scan_dataset(imbalanced)
    gui, _ = gui_request(qtbot, imbalanced, tmp_path / "run").resolve(scan)
    cli, _ = cli_request(imbalanced, tmp_path / "run").resolve(scan)
    assert gui.settings() == cli.settings()  # includes the recipe's choices and reasons
    # No weights on this computer: the compact network at the pictures' own size (16 px,
    # raised to the recipe's smallest, 32), not a model's fixed default such as 150.
    assert (gui.model, gui.image_size, gui.config.epochs) == ("compact_cnn", 32, 40)
    assert gui.recipe == "auto" and [c["setting"] for c in gui.choices] == \
        ["model", "epochs", "image_size", "augmentation"]
    assert gui.config.class_weights is True  # 4x imbalanced: decided by the counts


def test_gui_and_cli_runs_record_the_same_settings(qtbot, imbalanced, tmp_path):
    request = gui_request(qtbot, imbalanced, tmp_path / "gui", epochs=1)
    train(request)
    assert main(["train", str(imbalanced), "--out", str(tmp_path / "cli"), "--epochs", "1"]) == 0
    saved = [json.loads((tmp_path / name / "config.json").read_text()) for name in ("gui", "cli")]
    for config in saved:
        config["training"].pop("out_dir")
    keys = ("model", "family", "mode", "image_size", "augmentation", "training", "labels",
            "recipe")
    gui, cli = ({key: config[key] for key in keys} for config in saved)
    assert gui == cli and gui["training"]["class_weights"] is True
    assert (gui["model"], gui["image_size"], gui["training"]["epochs"]) == ("compact_cnn", 32, 1)
    assert gui["recipe"]["name"] == "auto"


def test_an_oversized_input_is_refused_before_anything_is_written(imbalanced, tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["train", str(imbalanced), "--out", str(out), "--image-size",
                   str(MAX_IMAGE_SIZE + 1)])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1 and f"{MAX_IMAGE_SIZE} px" in err
    assert not out.exists()


def test_balanced_data_trains_without_class_weights_unless_asked(imbalanced, tmp_path):
    balanced = make_class_folders(tmp_path / "balanced", {"cats": 5, "dogs": 5})
    scan = scan_dataset(balanced)
    assert cli_request(balanced, tmp_path / "a").resolve(scan)[0].config.class_weights is False
    asked = cli_request(balanced, tmp_path / "b", "--class-weights").resolve(scan)[0]
    assert asked.config.class_weights is True
