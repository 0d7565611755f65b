"""Step 4 and past runs: drop pictures, see label and heatmap, save, export, evaluate, reopen."""
from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt

from test_gui_support import (child, drop_paths, make_window, shapes, trained_run,  # noqa: F401
                              wait_engine, window)


def _open_trained_run(qtbot, make_window, trained_run):
    window = make_window(runs_root=trained_run.parent)
    qtbot.waitUntil(lambda: window.sidebar.runs_list.count() == 1, timeout=20000)
    runs_list = window.sidebar.runs_list
    runs_list.setCurrentRow(0)
    qtbot.mouseClick(window.sidebar.open_run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state.run is not None, timeout=20000)
    return window


def test_open_a_past_run_brings_back_its_curves(qtbot, make_window, trained_run):
    window = _open_trained_run(qtbot, make_window, trained_run)
    run = window.state.run
    assert Path(run.path) == trained_run
    assert window.pages.currentWidget() is window.train_page
    x, y = window.train_page.plots.epoch_points("loss", "train")
    assert len(x) == len(run.history) >= 1
    assert trained_run.name in window.train_page.run_caption.full_text()
    assert window.sidebar.step_buttons[2].is_done()


def test_drop_a_picture_and_see_label_and_heatmap(qtbot, make_window, trained_run, shapes):
    window = _open_trained_run(qtbot, make_window, trained_run)
    window.show_step(3)
    page = window.predict_page
    qtbot.waitUntil(page.model_ready, timeout=60000)
    picture = sorted((shapes / "circle").iterdir())[0]
    drop_paths(child(window, "predictDropArea"), [picture])
    label = child(window, "predictionLabel")

    def shown() -> str:  # a briefly trained model may say "Not sure \u2013 maybe circle"
        return label.text().split("maybe ", 1)[-1]

    qtbot.waitUntil(lambda: shown() in window.state.run.labels, timeout=60000)
    cam = child(window, "camView")
    qtbot.waitUntil(cam.has_heatmap, timeout=60000)
    assert page.class_bars.top()[0][0] == shown()
    assert "Heatmap:" in page.method_label.text()
    # The three views and the opacity slider change what is drawn.
    blend = cam.rendered()
    page.view_buttons["heatmap"].click()
    heat = cam.rendered()
    page.view_buttons["original"].click()
    original = cam.rendered()
    assert len({bytes(image.constBits()) for image in (blend, heat, original)}) == 3
    page.view_buttons["blend"].click()
    page.opacity_slider.setValue(90)
    assert bytes(cam.rendered().constBits()) != bytes(blend.constBits())
    assert window.sidebar.step_buttons[3].is_done()


def test_folders_fill_the_gallery_and_export(qtbot, make_window, trained_run, shapes, tmp_path):
    window = _open_trained_run(qtbot, make_window, trained_run)
    window.show_step(3)
    page = window.predict_page
    broken = tmp_path / "inbox" / "broken.png"
    broken.parent.mkdir()
    broken.write_bytes(b"not a png")
    page.add_paths([str(shapes / "square"), str(broken)])
    qtbot.waitUntil(lambda: page.num_predictions() == 61, timeout=120000)
    assert page.gallery.count() == 61
    errors = [r for r in page.results() if r.get("error")]
    assert len(errors) == 1 and errors[0]["path"] == str(broken)
    out = tmp_path / "predictions.csv"
    page.export(str(out))
    qtbot.waitUntil(out.exists, timeout=20000)
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))  # BOM for Excel
    assert len(rows) == 61 and {"path", "label", "probability", "top", "error"} <= set(rows[0])
    annotated = tmp_path / "annotated"
    page.save_annotated(str(annotated))
    qtbot.waitUntil(lambda: annotated.is_dir() and len(list(annotated.glob("*.png"))) == 60,
                    timeout=120000)


def test_predictions_come_back_when_the_run_is_reopened(qtbot, make_window, trained_run, shapes):
    window = _open_trained_run(qtbot, make_window, trained_run)
    page = window.predict_page
    pictures = sorted((shapes / "triangle").iterdir())[:3]
    page.add_paths([str(p) for p in pictures])
    qtbot.waitUntil(lambda: page.num_predictions() == 3, timeout=60000)
    window.close()
    again = _open_trained_run(qtbot, make_window, trained_run)
    qtbot.waitUntil(lambda: again.predict_page.num_predictions() == 3, timeout=20000)
    assert {r["path"] for r in again.predict_page.results()} == {str(p) for p in pictures}


def test_evaluate_a_folder_and_click_the_confusion_matrix(qtbot, make_window, trained_run, shapes):
    window = _open_trained_run(qtbot, make_window, trained_run)
    window.show_step(3)
    page = window.predict_page
    page.evaluate(str(shapes))
    panel = page.evaluate_panel
    qtbot.waitUntil(lambda: panel.report() is not None, timeout=120000)
    report = panel.report()
    assert panel.matrix.rowCount() == panel.matrix.columnCount() == 3
    assert sum(panel.matrix.count_at(i, j) for i in range(3) for j in range(3)) == report["n"]
    assert f"{report['accuracy']:.1%}" in panel.summary_label.text()
    assert panel.gallery.count() == len(report["misclassified"])
    labels = report["labels"]
    off = [(i, j) for i in range(3) for j in range(3) if i != j and panel.matrix.count_at(i, j)]
    if off:
        i, j = off[0]
        panel.matrix.cellClicked.emit(i, j)
        assert panel.gallery.count() == panel.matrix.count_at(i, j)
        assert all(item["true"] == labels[i] and item["predicted"] == labels[j]
                   for item in panel.shown_items())
    panel.matrix.cellClicked.emit(0, 0)
    assert panel.gallery.count() == 0 and "recognised correctly" in panel.gallery_note.text()
