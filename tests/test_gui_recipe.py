"""The app's defaults are the recommended recipe, and it says what the recipe does in plain
words: settings left Automatic are sent as None, a weights file given in the app changes the
plan, the Augment step shows the augmentation decided from the pictures, and the Train step
lists a run's choices with their reasons."""
from __future__ import annotations

from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from core.data.scanning import scan_dataset
from core.training.config import TrainingConfig
from core.training.request import build_request
from test_gui_support import record_threads
from test_recipe import arrow, make_dataset

AUTOMATIC = ("model", "image_size", "epochs", "optimizer", "learning_rate", "early_stopping")


@pytest.fixture(autouse=True)
def no_pretrained_weights(tmp_path, monkeypatch):
    """A computer with no pretrained weights and nothing remembered (this test's own)."""
    monkeypatch.setenv("ICS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))


@pytest.fixture(scope="module")
def arrows(tmp_path_factory):
    """Arrows pointing left or right (test_recipe's): a mirrored picture is the other class."""
    return make_dataset(tmp_path_factory.mktemp("gui_arrows") / "arrows", arrow,
                        ("left", "right"), per_class=(40, 20))


@pytest.fixture
def runner():
    from gui.qt_workers import QtWorkerRunner

    runner = QtWorkerRunner()
    yield runner
    runner.shutdown()


def fake_weights_file(path, arrays=260, total=410_208):
    """An .h5 file with the fingerprint of MobileNetV2 at width 0.35 (its number of weight
    arrays and of weights: core.models.weights_store.FINGERPRINTS), a few KB of zeros."""
    with h5py.File(path, "w") as handle:
        for index in range(arrays - 1):
            handle[f"layers/layer_{index}/vars/0"] = np.zeros(1, np.float32)
        handle["layers/last/vars/0"] = np.zeros(total - (arrays - 1), np.float32)
    return path


def test_recommended_sends_none_for_what_the_person_left_alone(qtbot):
    from gui.qt_training_settings import QtTrainingSettings

    settings = QtTrainingSettings()
    qtbot.addWidget(settings)
    values = settings.values()
    assert values["model"] == "auto" and values["mode"] is None and values["extra"] == {}
    assert all(values[name] is None for name in AUTOMATIC[1:]), values
    assert settings.epochs_spin.text() == "Automatic" == settings.size_spin.text()
    assert settings.rate_combo.currentText() == "Automatic"
    assert not settings.auto_button.isVisibleTo(settings)
    # A change is sent; one step up from Automatic starts at what the app would use.
    settings.epochs_spin.stepBy(1)
    assert settings.values()["epochs"] == 40  # the recipe's, with no pretrained weights
    settings.optimizer_combo.setCurrentIndex(settings.optimizer_combo.findData("adam"))
    settings.patience_spin.setValue(0)
    assert (settings.values()["optimizer"], settings.values()["early_stopping"]) == ("adam", 0)
    assert settings.patience_spin.text() == "never"
    assert settings.auto_button.isVisibleTo(settings)
    settings.auto_button.click()  # back to Automatic
    assert all(settings.values()[name] is None for name in AUTOMATIC[1:])
    assert not settings.auto_button.isVisibleTo(settings)


def test_a_chosen_size_is_not_carried_to_the_next_model(qtbot):
    from gui.qt_training_settings import QtTrainingSettings

    settings = QtTrainingSettings()
    qtbot.addWidget(settings)
    settings.model_picker.set_model("small_cnn")
    assert "150 px, this model" in settings.size_hint.text()
    settings.size_spin.setValue(64)
    assert settings.values()["image_size"] == 64 and "You chose 64 px" in settings.size_hint.text()
    settings.model_picker.set_model("lenet")
    assert settings.values()["image_size"] is None
    assert settings.size_hint.text().startswith("Set back to Automatic")
    assert "32 px" in settings.size_hint.text()  # lenet's own size
    settings.model_picker.set_model("auto")
    assert settings.values()["model"] == "auto" and settings.values()["mode"] is None


def test_choosing_a_weights_file_updates_the_explanation(qtbot, tmp_path, runner, monkeypatch):
    import gui.qt_recipe_note
    from core.models.weights_store import available_weights
    from gui.qt_training_settings import QtTrainingSettings

    on_gui_thread = record_threads(monkeypatch, gui.qt_recipe_note, "identify_and_remember")
    settings = QtTrainingSettings(runner)
    qtbot.addWidget(settings)
    note = settings.model_picker.recipe_note
    assert "compact network from scratch" in note.text.text()
    assert note.weights_button.text() == "Choose a weights file\u2026"

    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not a weights file")
    note.choose_file(str(broken))
    qtbot.waitUntil(lambda: note.error.isVisibleTo(note), timeout=10000)
    assert note.error.text().startswith("Cannot read the weights file")
    assert "Traceback" not in note.error.text() and note.weights is None

    path = fake_weights_file(tmp_path / "mobilenet_v2_0.35.h5")
    note.choose_file(str(path))
    qtbot.waitUntil(lambda: note.weights is not None, timeout=10000)
    assert "Uses MobileNetV2 (width 0.35), pretrained on photos" in note.text.text()
    assert not note.error.isVisibleTo(note)
    assert on_gui_thread == [False, False]  # the files were read on a worker
    assert available_weights()[0].path == str(path)  # remembered for later runs
    # The recipe now starts from a pretrained network: one epoch for its head, not 40.
    settings.epochs_spin.stepBy(1)
    assert settings.values()["epochs"] == 1
    # A pretrained model chosen by name starts from that file, at the file's width.
    settings.model_picker.set_model("mobilenet_v2")
    extra = settings.values()["extra"]
    assert extra["weights"] == str(path) and extra["alpha"] == 0.35


def test_the_augment_step_shows_what_was_decided_from_the_pictures(qtbot, tmp_path, arrows,
                                                                    runner, monkeypatch):
    import gui.qt_augment_page
    from gui.qt_augment_page import QtAugmentPage
    from gui.qt_project_state import ProjectState
    from gui.qt_settings import AppSettings

    on_gui_thread = record_threads(monkeypatch, gui.qt_augment_page, "decide_augmentation")
    state = ProjectState(tmp_path / "runs", AppSettings(tmp_path / "settings.ini"))
    page = QtAugmentPage(state, runner)
    qtbot.addWidget(page)
    controls = page.controls
    assert controls.preset() == "auto" and state.augment_setting() == "auto"
    assert controls.preset_combo.currentText() == "Recommended for your pictures"

    scan = scan_dataset(arrows)
    state.set_dataset(arrows, scan)
    qtbot.waitUntil(lambda: state.augmentation_choice is not None, timeout=30000)
    assert on_gui_thread == [False]
    reasons = controls.reasons_label.text()
    assert reasons.startswith("Pictures are not mirrored") and "arrow" in reasons
    assert controls.reasons_label.isVisibleTo(page)
    assert not controls.editor("horizontal_flip").isChecked()
    assert state.augment_setting() == "auto"  # training decides the same again
    # ... and it does: the engine's decision for these pictures is the one shown.
    request, _ = build_request(TrainingConfig(str(arrows), str(tmp_path / "run"))).resolve(scan)
    assert request.config.augment == state.augmentation == controls.config()

    controls.choose_preset("keras_blog")  # the person prefers another preset: that is sent
    assert state.augment_setting()["horizontal_flip"] is True
    assert "Careful" in controls.preset_note.text()  # it mirrors pictures that should not be
    assert not controls.reasons_label.isVisibleTo(page)
    controls.choose_preset("auto")
    assert state.augment_setting() == "auto" and not controls.config()["horizontal_flip"]


def test_the_train_step_lists_what_the_app_chose_for_a_run(qtbot, tmp_path, arrows, runner):
    from gui.qt_project_state import ProjectState
    from gui.qt_settings import AppSettings
    from gui.qt_train_page import QtTrainPage

    request, _ = build_request(TrainingConfig(str(arrows), str(tmp_path / "run"))).resolve(
        scan_dataset(arrows))
    config = request.settings() | {"labels": ["left", "right"]}
    run = SimpleNamespace(config=config, name="2026-12-01_120000_recommended", history=[],
                          path=tmp_path / "run", status="finished", best_val_accuracy=None)
    state = ProjectState(tmp_path / "runs", AppSettings(tmp_path / "settings.ini"))
    page = QtTrainPage(state, runner)
    qtbot.addWidget(page)
    state.set_run(run)  # a reopened run
    text = page.recipe_view.toPlainText()
    assert "compact network from scratch, because no pretrained weights are on this" in text
    assert "Pictures are not mirrored" in text and "48 px" in text
    assert "--weights" not in text  # the command line's hint, not the app's
    assert page.curves_stack.currentWidget() is page.plots
    page.recipe_view.toggle.click()
    assert page.curves_stack.currentWidget() is page.recipe_view
