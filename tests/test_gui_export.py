"""The "Export model..." action: on the Train and Predict pages and on a past run; the export
runs off the GUI thread and the dialog says what was written, or which command adds a
missing converter."""
from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import Qt

from test_gui_support import make_window, shapes, trained_run  # noqa: F401

SCREENSHOTS = os.environ.get("ICS_SCREENSHOTS")  # a folder: save the dialog as PNG files


def _opened(qtbot, make_window, trained_run):
    window = make_window(runs_root=trained_run.parent)
    qtbot.waitUntil(lambda: window.sidebar.runs_list.count() == 1, timeout=20000)
    window.sidebar.runs_list.setCurrentRow(0)
    qtbot.mouseClick(window.sidebar.open_run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state.run is not None, timeout=20000)
    return window


def _dialog(window):
    from gui.qt_export_dialog import QtExportDialog

    dialogs = [d for d in window.findChildren(QtExportDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def test_export_from_the_predict_page(qtbot, make_window, trained_run, tmp_path):
    window = _opened(qtbot, make_window, trained_run)
    window.resize(1366, 768)
    window.show_step(3)
    button = window.predict_page.export_model_button
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = _dialog(window)
    assert "32 x 32 pixels" in dialog.findChild(type(dialog.use_label), "fieldHint").text()
    dialog.set_format("tflite")
    dialog.folder_edit.setText(str(tmp_path / "export"))
    if SCREENSHOTS:
        window.grab().save(str(Path(SCREENSHOTS) / "predict_page.png"))
        dialog.grab().save(str(Path(SCREENSHOTS) / "export_dialog.png"))
    dialog.start_export()
    assert not dialog.export_button.isEnabled() and dialog.close_button.text() == "Stop"
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=120000)
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=10000)
    info = json.loads((tmp_path / "export" / "model.json").read_text())
    assert info["format"] == "tflite" and info["parity"]["top1_agreement"] == 1.0
    assert "tflite" in dialog.status_label.text() and "100%" in dialog.status_label.text()
    if SCREENSHOTS:
        dialog.grab().save(str(Path(SCREENSHOTS) / "export_done.png"))
    dialog.reject()


def test_train_page_and_past_runs_offer_the_export(qtbot, make_window, trained_run):
    window = _opened(qtbot, make_window, trained_run)
    window.show_step(2)
    assert window.train_page.export_model_button.isEnabled()
    qtbot.mouseClick(window.train_page.export_model_button, Qt.MouseButton.LeftButton)
    _dialog(window).reject()
    runs_list = window.sidebar.runs_list
    menu = runs_list.context_menu(runs_list.item(0))
    actions = {action.text(): action for action in menu.actions()}
    assert set(actions) == {"Open", "Export model\u2026"}
    actions["Export model\u2026"].trigger()
    dialog = _dialog(window)
    assert trained_run.name in dialog.windowTitle() + dialog.findChild(
        type(dialog.use_label), "cardTitle").text()


def test_a_missing_converter_names_the_command(qtbot, make_window, trained_run, monkeypatch):
    import core.export.formats as formats

    real = formats.importlib.util.find_spec
    monkeypatch.setattr(formats.importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    window = _opened(qtbot, make_window, trained_run)
    dialog = window.show_export_dialog(str(trained_run))
    dialog.set_format("onnx")
    assert dialog.tools_label.isVisibleTo(dialog)
    assert 'pip install -e ".[export]"' in dialog.tools_label.text()
    assert not dialog.export_button.isEnabled()
    dialog.set_format("tflite")
    assert dialog.export_button.isEnabled() and not dialog.tools_label.isVisibleTo(dialog)
    dialog.reject()
