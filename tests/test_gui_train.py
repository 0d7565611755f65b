"""Step 3: train to the end with live curves, stop midway, readable errors, no stalls."""
from __future__ import annotations

import os

from pathlib import Path

from PySide6.QtCore import Qt

from test_gui_support import (StallProbe, child, load_dataset, make_window, record_stall,  # noqa: F401
                              shapes, wait_engine, window)


def _prepare(qtbot, window, shapes, epochs: int, model: str | None = "small_cnn") -> None:
    """Load the shapes and set the epochs; with `model` None, the rest stays as it opens
    (Recommended, Automatic)."""
    wait_engine(qtbot, window)
    load_dataset(qtbot, window, shapes)
    window.show_step(2)
    child(window, "epochsSpin").setValue(epochs)
    if model is not None:
        combo = child(window, "modelCombo")
        combo.setCurrentIndex(combo.findData(model))
        window.train_page.settings.size_spin.setValue(32)
    window.train_page.settings.batch_combo.setCurrentIndex(window.train_page.settings.batch_combo.findData(32))
    # A user spends a few seconds on the settings; meanwhile the training process loads.
    qtbot.waitUntil(window.train_page.engine_ready, timeout=60000)


def test_train_to_the_end_with_one_point_per_epoch(window, shapes, qtbot):
    _prepare(qtbot, window, shapes, epochs=2, model=None)  # the defaults: the recipe
    said_before = window.train_page.settings.size_hint.text()
    page = window.train_page
    train, stop = child(window, "trainButton"), child(window, "stopButton")
    assert train.isEnabled() and not stop.isEnabled()
    batches = []
    probe = StallProbe().start()
    qtbot.mouseClick(train, Qt.MouseButton.LeftButton)
    assert stop.isEnabled() and not train.isEnabled()
    page._worker.batchEnd.connect(lambda *args: batches.append(args))
    events = []
    for name in ("stage", "trainBegin", "epochEnd", "succeeded"):
        getattr(page._worker, name).connect(
            lambda *args, name=name: events.append((probe._since_start.elapsed() / 1000, name)))
    qtbot.waitUntil(lambda: window.state.run is not None and not page.is_training(), timeout=120000)
    worst = probe.stop()
    print("stalls over 40 ms (s, ms):", probe.stalls, "events:", events)
    for metric in ("loss", "accuracy"):
        for split in ("train", "validation"):
            x, y = page.plots.epoch_points(metric, split)
            assert list(x) == [1.0, 2.0], (metric, split)
    assert len(batches) >= 2  # curves and progress also moved batch by batch
    progress = child(window, "trainProgress")
    assert progress.value() == progress.maximum()
    assert "finished" in progress.format().lower()
    run = window.state.run
    assert run.status == "finished" and len(run.history) == 2
    assert Path(run.path).parent == window.state.runs_root
    qtbot.waitUntil(lambda: window.sidebar.runs_list.count() == 1, timeout=10000)
    assert window.sidebar.step_buttons[2].is_done()
    # Success, or a warning when 2 epochs leave the model close to guessing (the compact
    # network's batch statistics need a few more): either way it says training finished.
    assert window.banner.level() in ("success", "warning")
    assert window.banner.text().startswith("Training finished")
    record_stall("training", worst)
    assert run.config["pid"] != os.getpid()  # trained in the child process, not the GUI's
    # The recipe chose (no weights here: the compact network near the shapes' 40 px, in steps
    # of 16), as the settings said beforehand, and the page lists its reasons.
    assert (run.config["model"], run.image_size) == ("compact_cnn", 48)
    assert said_before.startswith("Automatic: 48 px")
    assert "compact network from scratch" in page.recipe_view.toPlainText()
    assert "Why these settings" in page.progress_card.status.text()


def test_smoothing_adds_a_smoothed_curve(window, shapes, qtbot):
    plots = window.train_page.plots
    for step in range(20):
        plots.add_batch(step / 10, {"loss": 1.0 + (step % 2), "accuracy": 0.5})
    plots.redraw()
    assert plots.curves[("loss", "smoothed")].getData()[0] is None or \
        len(plots.curves[("loss", "smoothed")].getData()[0]) == 0
    window.train_page.smooth_check.setChecked(True)
    x, y = plots.curves[("loss", "smoothed")].getData()
    assert len(y) == 20 and y.max() - y.min() < 1.0  # smoother than the raw 1-2 zigzag


def test_stop_midway_keeps_the_best_model(window, shapes, qtbot):
    _prepare(qtbot, window, shapes, epochs=40)
    page = window.train_page
    qtbot.mouseClick(child(window, "trainButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.plots.num_epochs() >= 1, timeout=120000)
    qtbot.mouseClick(child(window, "stopButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_training(), timeout=60000)
    run = window.state.run
    assert run is not None and run.status == "cancelled"
    assert 1 <= len(run.history) < 40
    assert run.model_path().name == "best.keras"
    assert "best model so far is kept" in page.progress_card.status.text()
    assert child(window, "trainButton").isEnabled() and not child(window, "stopButton").isEnabled()


def test_single_class_data_says_why_train_is_off(window, shapes, tmp_path, qtbot):
    """The engine would refuse one class (at least 2 classes): the page says so first."""
    import shutil

    one_class = tmp_path / "one_class"
    shutil.copytree(shapes / "circle", one_class / "circle")
    load_dataset(qtbot, window, one_class)
    window.show_step(2)
    assert not child(window, "trainButton").isEnabled()
    assert "at least 2 classes" in window.train_page.train_hint.text()
    window.train_page.start_training()  # even when asked directly, nothing starts
    assert not window.train_page.is_training()


def test_feature_extraction_progress_is_shown(window):
    """Bottleneck modes report on_stage("extract") and on_step; the progress card shows both."""
    progress = window.train_page.progress_card
    progress.show_starting()
    progress.on_stage("extract", 200)
    assert "Looking at every picture once" in progress.status.text()
    progress.on_step(50, 200)
    assert (progress.bar.value(), progress.bar.maximum()) == (50, 200)
    assert "50 of 200 pictures" in progress.status.text() and "left" in progress.status.text()
    progress.on_train_begin({"epochs": 4, "steps_per_epoch": 5, "initial_epoch": 0, "stage": "train"})
    assert progress.bar.maximum() == 20 and progress.bar.format() == "Epoch 1 of 4"
