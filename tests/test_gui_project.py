"""The project: a dataset, its runs and its settings, reopened at launch; switching datasets
leaves nothing stale; runs can be renamed, deleted, compared, hidden and resumed."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from test_gui_support import child, load_dataset, make_window, shapes, trained_run  # noqa: F401


def _open(qtbot, window, run_dir: Path) -> None:
    window.open_run(str(run_dir))
    qtbot.waitUntil(lambda: window.state.run is not None
                    and Path(window.state.run.path) == Path(run_dir), timeout=20000)


def _two_classes(shapes: Path, dest: Path) -> Path:
    for name in ("circle", "square"):
        shutil.copytree(shapes / name, dest / name)
    return dest


def _marks(window) -> list[bool]:
    """Which of the four steps the sidebar marks done."""
    return [button.is_done() for button in window.sidebar.step_buttons]


def test_switching_dataset_leaves_nothing_stale(make_window, trained_run, shapes, qtbot,
                                                tmp_path):
    window = make_window(runs_root=trained_run.parent, warm_up=False)
    load_dataset(qtbot, window, shapes)
    _open(qtbot, window, trained_run)
    window.show_step(1)
    window.show_step(2)
    page = window.train_page
    # Data and Augment are done once seen, Train by the opened run; the recommendation for the
    # shapes may still be being decided (its late result must not count for the other pictures).
    assert _marks(window)[:3] == [True, True, True], f"step marks {_marks(window)}"
    caption = page.run_caption.full_text()
    assert "Showing the run" in caption, f"Train caption {caption!r}"
    assert page.plots.num_epochs() == len(window.state.run.history), \
        f"{page.plots.num_epochs()} epochs plotted, the run has {len(window.state.run.history)}"

    window.show_step(0)
    other = _two_classes(shapes, tmp_path / "pets")
    load_dataset(qtbot, window, other)
    run = window.state.run  # the shapes' model does not follow to other pictures
    assert run is None, f"state.run is still {getattr(run, 'path', run)}"
    assert _marks(window)[1:3] == [False, False], f"step marks {_marks(window)}"
    caption = page.run_caption.full_text()
    assert caption == "No training yet on these pictures.", f"Train caption {caption!r}"
    assert page.plots.num_epochs() == 0, f"{page.plots.num_epochs()} epochs still plotted"
    status = page.progress_card.status.text()
    assert "%" not in status, f"progress text {status!r}"
    model = window.sidebar.model_value.text()
    assert "none yet" in model, f"sidebar model {model!r}"
    predict = window.predict_page
    shown = predict.picture_stack.currentWidget()
    assert shown is predict.no_model_state, f"Predict shows {shown.objectName() or shown!r}"

    # A run of other classes opened on purpose says so before predicting.
    _open(qtbot, window, trained_run)
    assert "other classes" in window.state.run_mismatch()
    assert window.banner.level() == "warning" and "other classes" in window.banner.text(), \
        f"banner {window.banner.level()}: {window.banner.text()!r}"
    window.banner.hide()
    window.show_step(3)
    assert window.banner.isVisible() and "other classes" in window.banner.text(), \
        f"banner visible={window.banner.isVisible()}: {window.banner.text()!r}"
    model = window.sidebar.model_value.text()
    assert "other classes" in model, f"sidebar model {model!r}"


def test_augment_step_is_done_when_seen_after_it_was_decided(make_window, shapes, qtbot):
    """Regression: step 2's mark needs the page seen; when the recommendation had been decided
    before the visit (fast in a warm process, e.g. the full suite), no later signal marked it
    and the wait for it timed out."""
    window = make_window(warm_up=False)
    load_dataset(qtbot, window, shapes)
    qtbot.waitUntil(lambda: window.state.augmentation_choice is not None, timeout=60000)
    assert not _marks(window)[1], "step 2 done before it was seen"
    window.show_step(1)
    assert _marks(window)[1], f"step 2 not done after it was seen: marks {_marks(window)}"


def test_late_recommendation_of_old_pictures_is_dropped(make_window, shapes, qtbot, tmp_path,
                                                        monkeypatch):
    """The shapes' recommendation is held until other pictures are loaded: it ends late and
    changes nothing (the choice is the new pictures' and step 2 stays to be done)."""
    import threading

    from gui import qt_augment_page

    release = threading.Event()
    real = qt_augment_page.decide_augmentation
    decided: dict = {}  # classes -> the choice the job returned

    def held(scan):
        if len(scan.classes) == 3:  # the shapes
            release.wait(30)
        decided[tuple(scan.classes)] = choice = real(scan)
        return choice

    monkeypatch.setattr(qt_augment_page, "decide_augmentation", held)
    window = make_window(warm_up=False)
    try:
        load_dataset(qtbot, window, shapes)
        window.show_step(1)
        window.show_step(0)
        load_dataset(qtbot, window, _two_classes(shapes, tmp_path / "pets"))
    finally:
        release.set()
    qtbot.waitUntil(lambda: len(decided) == 2 and not window.runner.is_busy(), timeout=60000)
    classes = tuple(window.state.scan.classes)
    assert window.state.augmentation_choice is decided[classes], \
        f"the choice is not the one decided for {classes}"
    assert not _marks(window)[1], f"step marks {_marks(window)}"


def test_restart_restores_the_project(make_window, trained_run, shapes, qtbot, monkeypatch):
    from gui import qt_ask

    window = make_window(runs_root=trained_run.parent, warm_up=False)
    child(window, "validationSplitSlider").setValue(30)
    qtbot.waitUntil(lambda: window.state.val_split == 0.3, timeout=5000)
    load_dataset(qtbot, window, shapes)
    qtbot.waitUntil(lambda: window.state.scan is not None and not window.data_page._split_timer
                    .isActive() and window.data_page._scan_job is None, timeout=20000)
    _open(qtbot, window, trained_run)
    child(window, "epochsSpin").setValue(7)
    window.augment_page.controls.choose_preset("strong")
    qtbot.waitUntil(lambda: window.sidebar.runs_list.count() == 1, timeout=10000)
    window.sidebar.runs_list.setCurrentRow(0)
    monkeypatch.setattr(qt_ask, "ask_text", lambda *args: "My first shapes model")
    window.run_actions.rename(str(trained_run))
    window.close()

    again = make_window(runs_root=trained_run.parent, warm_up=False)
    qtbot.waitUntil(lambda: again.state.scan is not None and again.state.run is not None,
                    timeout=30000)
    assert again.state.data_dir.resolve() == shapes.resolve()
    assert Path(again.state.run.path) == trained_run
    assert again.state.val_split == 0.3 and child(again, "validationSplitSlider").value() == 30
    assert child(again, "epochsSpin").value() == 7
    assert again.augment_page.controls.preset() == "strong"
    assert again.state.augment_setting() == again.augment_page.controls.config()
    qtbot.waitUntil(lambda: again.sidebar.runs_list.count() == 1, timeout=10000)
    assert again.sidebar.runs_list.item(0).text().startswith("My first shapes model")
    assert "My first shapes model" in again.train_page.run_caption.full_text()
    assert again.sidebar.step_buttons[2].is_done()


def test_rename_compare_hide_and_delete_runs(make_window, trained_run, qtbot, monkeypatch):
    from gui import qt_ask

    second = Path(shutil.copytree(trained_run, trained_run.parent / "2026-01-02_120000_small_cnn"))
    broken = trained_run.parent / "2026-01-03_broken"
    broken.mkdir()
    (broken / "labels.json").write_text('["a", "b"]')
    window = make_window(runs_root=trained_run.parent, warm_up=False)
    runs = window.sidebar.runs_list
    qtbot.waitUntil(lambda: runs.count() == 3, timeout=10000)
    dataset = Path(json.loads((trained_run / "config.json").read_text())["dataset"]["root"]).name
    assert dataset in runs.item(0).text() or dataset in runs.item(1).text()  # which pictures
    assert any("damaged" in runs.item(row).text() for row in range(runs.count()))

    # Hide failed runs (remembered in the project).
    child(window, "hideFailedCheck").setChecked(True)
    assert runs.count() == 2 and str(broken) not in runs.paths()
    assert window.state.settings.project()["hide_failed"] is True

    # Rename.
    monkeypatch.setattr(qt_ask, "ask_text", lambda *args: "  Longer training  ")
    window.run_actions.rename(str(second))
    assert any(runs.item(row).text().startswith("Longer training\n") for row in range(2))
    assert second.name == "2026-01-02_120000_small_cnn"  # nothing on disk moved

    # Compare the two: curves overlaid, settings side by side.
    runs.selectAll()
    assert child(window, "compareRunsButton").isEnabled()
    qtbot.mouseClick(child(window, "compareRunsButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.run_actions.compare_dialog is not None, timeout=10000)
    dialog = window.run_actions.compare_dialog
    assert dialog.curve_count() == 2
    assert dialog.table.columnCount() == 2
    headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(2)]
    assert "Longer training" in headers
    rows = [dialog.table.verticalHeaderItem(r).text() for r in range(dialog.table.rowCount())]
    assert rows[0] == "Best validation accuracy" and "Input size" in rows
    assert dialog.table.item(0, 0).text().endswith("%")
    dialog.close()

    # Delete asks first; "no" keeps the run.
    runs.clearSelection()
    runs.setCurrentRow(runs.paths().index(str(second)))
    monkeypatch.setattr(qt_ask, "confirm", lambda *args: False)
    window.run_actions.delete([str(second)])
    assert second.exists()
    monkeypatch.setattr(qt_ask, "confirm", lambda *args: True)
    window.run_actions.delete([str(second)])
    qtbot.waitUntil(lambda: not second.exists() and runs.count() == 1, timeout=10000)
    assert str(second) not in window.state.run_names


def test_quitting_while_training_asks_first(make_window, qtbot, monkeypatch):
    from gui import qt_ask

    window = make_window(warm_up=False)
    asked = []
    monkeypatch.setattr(qt_ask, "confirm", lambda *args: asked.append(args[1]) or False)
    window.state.set_training(True)
    window.close()
    assert window.isVisible() and asked == ["Quit while training?"]
    window.state.set_training(False)
    window.close()
    assert not window.isVisible() and len(asked) == 1


def test_resume_an_interrupted_run(make_window, trained_run, shapes, qtbot):
    """A run killed mid-way (status "running", lock file left, nobody holds it) offers Resume,
    which goes on from its checkpoint to the total in its settings."""
    config_path = trained_run / "config.json"
    config = json.loads(config_path.read_text())
    done = len(config_path.parent.joinpath("history.csv").read_text().strip().splitlines()) - 1
    config["status"] = "running"
    config["training"]["epochs"] = done + 1
    config_path.write_text(json.dumps(config))
    (trained_run / ".training.lock").write_text("")
    window = make_window(runs_root=trained_run.parent)
    runs = window.sidebar.runs_list
    qtbot.waitUntil(lambda: runs.count() == 1, timeout=10000)
    assert "interrupted" in runs.item(0).text()
    runs.setCurrentRow(0)
    resume = child(window, "resumeRunButton")
    assert resume.isVisibleTo(window)
    qtbot.mouseClick(resume, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.train_page.is_training(), timeout=10000)
    assert window.pages.currentIndex() == 2
    qtbot.waitUntil(lambda: not window.train_page.is_training(), timeout=180000)
    run = window.state.run
    assert run is not None and Path(run.path) == trained_run, window.banner.text()
    assert run.status == "finished" and len(run.history) == done + 1
    assert window.train_page.plots.num_epochs() == done + 1
    qtbot.waitUntil(lambda: "finished" in runs.item(0).text(), timeout=10000)
