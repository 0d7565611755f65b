"""Step 1: loading folders (typed, dropped, demo), what the scan shows, problems in words."""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from test_gui_support import (child, drop_paths, load_dataset, make_window, settle,  # noqa: F401
                              shapes, window)


def test_enter_in_path_field_loads_and_shows_the_scan(window, shapes, qtbot):
    load_dataset(qtbot, window, shapes)
    page = window.data_page
    report = window.state.scan.report()
    assert page.images_tile.value.text() == str(report["num_images"])
    assert page.classes_tile.value.text() == "3"
    # What the Recommended recipe trains at: the 40 px shapes from scratch -> 48 px (no weights).
    assert page.input_tile.value.text() == "48 px"
    ticks = page.chart.getPlotItem().getAxis("left")._tickLevels[0]
    assert sorted(name for _, name in ticks) == ["circle", "square", "triangle"]
    qtbot.waitUntil(lambda: page.strips.num_thumbnails() >= 9, timeout=20000)
    assert page.checks_list.count() >= 1
    assert window.sidebar.step_buttons[0].is_done()
    assert "shapes" in window.sidebar.dataset_value.text()
    assert page.next_button.isEnabled()


def test_folder_dropped_on_the_window_is_loaded(window, shapes, qtbot):
    drop_paths(window, [shapes])
    qtbot.waitUntil(lambda: window.state.scan is not None, timeout=30000)
    assert window.pages.currentWidget() is window.data_page
    assert child(window, "datasetPathEdit").text() == str(shapes)


def test_recent_folders_menu_reloads(window, shapes, qtbot):
    load_dataset(qtbot, window, shapes)
    actions = [a for a in window.data_page.recent_menu.actions() if a.isEnabled()]
    assert actions and actions[0].text() == str(shapes.resolve())


def test_problems_are_explained_in_words(window, shapes, tmp_path, qtbot):
    data = tmp_path / "messy"
    shutil.copytree(shapes, data)
    (data / "circle" / "broken.jpg").write_bytes(b"this is not a picture")
    first = sorted((data / "square").iterdir())[0]
    shutil.copy(first, data / "triangle" / "copy_of_square.jpg")
    load_dataset(qtbot, window, data)
    texts = window.data_page.checks_list.texts()
    joined = "\n".join(texts)
    assert "broken.jpg" in joined
    assert "Traceback" not in joined
    assert len(texts) >= 2  # unreadable file + conflicting duplicate


def test_unusable_folders_give_a_sentence_not_a_traceback(window, tmp_path, qtbot):
    load = window.data_page.load_folder
    load(str(tmp_path / "does-not-exist"))
    assert window.banner.isVisible() and "not a folder" in window.banner.text()
    empty = tmp_path / "empty"
    empty.mkdir()
    load(str(empty))
    qtbot.waitUntil(lambda: window.banner.level() == "error", timeout=20000)
    assert "Traceback" not in window.banner.text() and len(window.banner.text()) > 20
    assert window.state.scan is None


def test_validation_share_rescans(window, shapes, qtbot):
    load_dataset(qtbot, window, shapes)
    before = len(window.state.scan.samples("validation"))
    window.data_page.split_slider.setValue(40)
    qtbot.waitUntil(lambda: len(window.state.scan.samples("validation")) > before, timeout=20000)
    assert window.state.val_split == 0.4


def test_try_the_demo_makes_and_loads_a_dataset(window, qtbot):
    qtbot.mouseClick(window.data_page.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state.scan is not None, timeout=60000)
    assert window.state.data_dir == window.state.demo_dir
    assert Path(window.state.demo_dir).is_dir()
    assert len(window.state.scan.classes) >= 2
    # Like any pictures, the demo's get the augmentation decided from them (Recommended).
    assert window.state.augmentation_preset == "auto"
    qtbot.waitUntil(lambda: window.state.augmentation_choice is not None, timeout=30000)
    assert window.state.augment_setting() == "auto"
    assert window.augment_page.controls.reasons_label.text().startswith("Pictures are")
