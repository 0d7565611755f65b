"""Step 2: every augmentation knob has a control, and the preview follows it live and fast."""
from __future__ import annotations

import dataclasses

from core.data.augmentation.presets import PRESETS
from core.data.augmentation.config import AugmentationConfig
from gui.qt_augment_controls import KNOBS
from test_gui_support import (StallProbe, child, load_dataset, make_window, record_stall, record_threads,  # noqa: F401
                              shapes, wait_engine, window)


def _grid_bytes(window) -> list[bytes]:
    return [bytes(image.constBits()) for image in child(window, "augmentPreview").images()]


def test_every_engine_knob_has_a_labelled_control(window):
    controls = window.augment_page.controls
    for field in dataclasses.fields(AugmentationConfig):
        assert field.name in KNOBS, f"no label/tooltip for the engine knob {field.name}"
        editor = controls.editor(field.name)
        assert editor.toolTip() and editor.accessibleName()
    # Recommended (decided from the pictures) first and by default, then every engine preset.
    presets = [controls.preset_combo.itemData(i) for i in range(controls.preset_combo.count())]
    assert presets == ["auto", *PRESETS, "custom"] and controls.preset() == "auto"


def test_preset_round_trips_through_the_controls(window):
    controls = window.augment_page.controls
    for name, preset in PRESETS.items():
        controls.set_config(preset.to_dict(), name)
        assert AugmentationConfig.from_dict(controls.config()) == preset


def _open_augment(qtbot, window, shapes):
    wait_engine(qtbot, window)
    load_dataset(qtbot, window, shapes)
    window.show_step(1)
    grid = child(window, "augmentPreview")
    qtbot.waitUntil(lambda: grid.generation > 0, timeout=60000)
    return grid


def test_slider_change_redraws_the_preview_and_updates_the_project(window, shapes, qtbot):
    grid = _open_augment(qtbot, window, shapes)
    before, generation = _grid_bytes(window), grid.generation
    slider = window.augment_page.controls.editor("rotation_range").slider
    slider.setValue(slider.value() + 60)
    qtbot.waitUntil(lambda: grid.generation > generation, timeout=20000)
    assert _grid_bytes(window) != before
    assert window.state.augmentation["rotation_range"] == slider.value()
    assert window.augment_page.controls.preset() == "custom"
    generation = grid.generation
    window.augment_page.reshuffle_button.click()
    qtbot.waitUntil(lambda: grid.generation > generation, timeout=20000)
    window.augment_page.count_combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: len(grid.images()) == 16, timeout=20000)


def test_preview_is_drawn_off_the_gui_thread(window, shapes, qtbot, monkeypatch):
    import gui.qt_augment_page

    on_gui_thread = record_threads(monkeypatch, gui.qt_augment_page, "render_preview")
    grid = _open_augment(qtbot, window, shapes)
    page = window.augment_page
    slider = page.controls.editor("zoom_range").slider
    for value in (10, 20, 30, 40):  # warm the engine's cache of augmenters
        slider.setValue(value)
        generation = grid.generation
        qtbot.waitUntil(lambda: grid.generation > generation and not page._in_flight, timeout=30000)
    times = []
    page.previewUpdated.connect(times.append)
    probe = StallProbe().start()
    for value in list(range(0, 50, 5)) * 2:  # drag the slider back and forth
        slider.setValue(value)
        qtbot.wait(30)
    qtbot.waitUntil(lambda: not page._in_flight and page._pending is None, timeout=30000)
    worst = probe.stop()
    record_stall("augmentation preview", worst)
    print(f"[preview] {len(times)} redraws, median {sorted(times)[len(times) // 2]:.0f} ms, "
          f"worst {max(times):.0f} ms")
    assert times
    assert on_gui_thread and not any(on_gui_thread)  # every preview rendered on a worker
