"""The window shell: fast start without TensorFlow, the automation contract, empty states."""
from __future__ import annotations

import os
import subprocess
import sys

import pyqtgraph as pg
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit,
                               QProgressBar, QSlider, QWidget)

from conftest import PROJECT_ROOT
from test_gui_support import child, make_window, shapes, trained_run, window  # noqa: F401 - fixtures

REQUIRED = {
    "datasetPathEdit": QLineEdit, "trainButton": QAbstractButton, "stopButton": QAbstractButton,
    "modelCombo": QComboBox, "epochsSpin": QAbstractSpinBox, "trainProgress": QProgressBar,
    "lossPlot": pg.PlotWidget, "accuracyPlot": pg.PlotWidget, "augmentPreview": QWidget,
    "predictDropArea": QWidget, "predictionLabel": QWidget, "camView": QWidget,
}


def test_window_opens_without_tensorflow(tmp_path):
    # How fast it opens is a row of `python -m bench` (gui_responsiveness), not a test.
    code = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "import gui\n"
        f"window = gui.create_main_window(runs_root={str(tmp_path / 'runs')!r}, "
        f"settings_path={str(tmp_path / 's.ini')!r}, warm_up=False)\n"
        "window.show()\n"
        "from PySide6.QtWidgets import QApplication\n"
        "QApplication.processEvents()\n"
        "print(round(time.perf_counter() - start, 3), 'tensorflow' in sys.modules,"
        " 'keras' in sys.modules)\n"
        "window.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr[-2000:]
    seconds, has_tf, has_keras = out.stdout.split()[-3:]
    assert has_tf == "False" and has_keras == "False", "the GUI imported TensorFlow at start-up"
    print(f"\n[startup] window shown after {seconds} s")


def test_automation_names_and_types(window):
    import gui

    assert callable(gui.create_main_window)
    for name, kind in REQUIRED.items():
        assert isinstance(child(window, name), kind), name
    combo = child(window, "modelCombo")
    assert combo.itemData(0) == "auto" and combo.currentData() == "auto"  # Recommended
    assert "small_cnn" in " ".join(combo.itemText(i) for i in range(combo.count()))
    assert child(window, "predictDropArea").acceptDrops()


def _is_internal(widget: QWidget) -> bool:
    """Sub-widgets Qt or pyqtgraph build inside a control (spin box editors, combo popups)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractSpinBox, QComboBox, QLineEdit, pg.PlotWidget)):
            return True
        parent = parent.parentWidget()
    return widget.objectName().startswith("qt_") or type(widget).__name__ == "QScrollBar"


def test_every_control_explains_itself(window):
    kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider, QLineEdit)
    missing = []
    for widget in window.findChildren(QWidget):
        if isinstance(widget, kinds) and not _is_internal(widget):
            if not (widget.toolTip() or widget.accessibleName()):
                missing.append(f"{type(widget).__name__} {widget.objectName()!r} {getattr(widget, 'text', lambda: '')()!r}")
    assert not missing, "controls without tooltip or accessible name:\n" + "\n".join(missing)


def test_empty_states_guide_a_first_time_user(window):
    assert not child(window, "trainButton").isEnabled()
    assert not child(window, "stopButton").isEnabled()
    assert window.predict_page.picture_stack.currentWidget() is window.predict_page.no_model_state
    assert window.augment_page._preview_stack.currentIndex() == 0  # "load pictures first"
    assert "none yet" in window.sidebar.dataset_value.text()
    window.predict_page.add_paths(["/nonexistent.png"])
    assert window.banner.isVisible() and "no model" in window.banner.text().lower()


def test_settings_are_redirected(window, tmp_path, shapes, qtbot):
    from test_gui_support import load_dataset

    load_dataset(qtbot, window, shapes)
    ini = (tmp_path / "settings.ini").read_text()
    assert str(shapes.resolve()) in ini
    assert window.state.settings.recent_folders()[0] == str(shapes.resolve())


def test_every_step_fits_1280x800(make_window, trained_run, shapes, qtbot, tmp_path):
    """With data and a model loaded, no page asks for more room than a 1280x800 window."""
    from test_gui_support import load_dataset

    window = make_window(runs_root=trained_run.parent)
    window.resize(1280, 800)
    load_dataset(qtbot, window, shapes)
    window.open_run(str(trained_run))
    qtbot.waitUntil(lambda: window.state.run is not None, timeout=20000)
    window.show_message("A long message that wraps, as error sentences from the engine can be: "
                        * 4, "error", "details")
    for step in range(4):
        window.show_step(step)
        qtbot.wait(50)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 800, (step, hint)
        assert (window.width(), window.height()) == (1280, 800), step
        window.grab().save(str(tmp_path / f"step_{step + 1}.png"))
