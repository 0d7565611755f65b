"""Issue 14: several projects. The Data step's Recent menu lists the projects opened lately;
each comes back with its own run in use and its own settings, and a project whose folder is
gone is taken off the list with a note."""
from __future__ import annotations

import shutil
from pathlib import Path

from test_gui_support import child, load_dataset, make_window, shapes, trained_run  # noqa: F401


def _two_classes(shapes: Path, dest: Path) -> Path:
    for name in ("circle", "square"):
        shutil.copytree(shapes / name, dest / name)
    return dest


def _settle(qtbot, window) -> None:
    page = window.data_page
    qtbot.waitUntil(lambda: window.state.scan is not None and page._scan_job is None
                    and not page._split_timer.isActive(), timeout=20000)


def _pick(qtbot, window, folder: Path) -> None:
    menu = window.data_page.recent_menu
    menu.aboutToShow.emit()  # what opening the menu does
    action = next(a for a in menu.actions() if a.data() == str(folder.resolve()))
    action.trigger()
    qtbot.waitUntil(lambda: window.state.data_dir is not None
                    and window.state.data_dir.resolve() == folder.resolve(), timeout=20000)
    _settle(qtbot, window)


def test_recent_projects_come_back_with_their_run_and_settings(make_window, trained_run,  # noqa: F811
                                                                shapes, qtbot, tmp_path):
    window = make_window(runs_root=trained_run.parent, warm_up=False)
    state, epochs, slider = window.state, child(window, "epochsSpin"), \
        child(window, "validationSplitSlider")
    slider.setValue(30)
    load_dataset(qtbot, window, shapes)
    _settle(qtbot, window)
    window.open_run(str(trained_run))
    qtbot.waitUntil(lambda: state.run is not None, timeout=20000)
    epochs.setValue(7)
    window.augment_page.controls.choose_preset("strong")

    pets = _two_classes(shapes, tmp_path / "pets")
    slider.setValue(20)
    load_dataset(qtbot, window, pets)
    _settle(qtbot, window)
    assert state.run is None  # the shapes' model stays with the shapes
    epochs.setValue(12)
    window.augment_page.controls.choose_preset("light")
    window.data_page.recent_menu.aboutToShow.emit()
    assert window.data_page.recent_menu.folders()[:2] == [str(pets.resolve()),
                                                          str(shapes.resolve())]

    _pick(qtbot, window, shapes)  # back to the shapes: their model and their settings
    qtbot.waitUntil(lambda: state.run is not None and Path(state.run.path) == trained_run,
                    timeout=20000)
    assert epochs.value() == 7 and window.augment_page.controls.preset() == "strong"
    assert state.val_split == 0.3 and slider.value() == 30
    share = len(state.scan.samples("validation")) / state.scan.num_images
    assert abs(share - 0.3) < 0.05  # scanned with the shapes' own 30%
    assert "Showing the run" in window.train_page.run_caption.full_text()

    _pick(qtbot, window, pets)  # and to the pets: no model, their own settings
    qtbot.waitUntil(lambda: state.run is None, timeout=5000)
    assert epochs.value() == 12 and window.augment_page.controls.preset() == "light"
    assert state.val_split == 0.2 and slider.value() == 20
    assert window.train_page.run_caption.full_text() == "No training yet on these pictures."

    # A project whose folder is gone is taken off the list, with a plain note.
    _pick(qtbot, window, shapes)
    shutil.rmtree(pets)
    menu = window.data_page.recent_menu
    menu.aboutToShow.emit()
    assert str(pets.resolve()) not in menu.folders()
    assert str(pets.resolve()) not in [p["dataset"] for p in state.settings.recent_projects()]
    notes = [a.text() for a in menu.actions() if not a.isEnabled()]
    assert any("pets" in note and "no longer there" in note for note in notes)
    assert window.banner.isVisible() and "no longer there" in window.banner.text()
    menu.aboutToShow.emit()  # said once
    assert not any("no longer there" in a.text() for a in menu.actions())
