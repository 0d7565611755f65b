"""Issue 16, learning from mistakes in the app: on the Predict step a person marks an answer
wrong ("this is a <class>"), the Train step counts the picture for the next training, Undo
takes it back; the evaluation's mistakes can be marked the same way. Folders never change."""
from __future__ import annotations

import os
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt

from core.data.review import ReviewStore
from gui_fit import cut_texts
from test_gui_support import (child, drop_paths, load_dataset, make_window, shapes,  # noqa: F401
                              trained_run)
from test_review import tree_digest


def _window_with_data_and_run(qtbot, make_window, trained_run, shapes):
    window = make_window(runs_root=trained_run.parent)
    load_dataset(qtbot, window, shapes)
    qtbot.waitUntil(lambda: window.sidebar.runs_list.count() == 1, timeout=20000)
    window.sidebar.runs_list.setCurrentRow(0)
    qtbot.mouseClick(window.sidebar.open_run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state.run is not None, timeout=20000)
    return window


def _save_png(widget, name: str, tmp_path: Path) -> None:
    """Render at laptop size; ICS_MARKS_PNG_DIR keeps the pictures for a person to look at."""
    widget.resize(1366, 768)
    image = widget.grab()
    assert image.width() == 1366 and image.height() == 768
    folder = Path(os.environ.get("ICS_MARKS_PNG_DIR", tmp_path))
    assert image.save(str(folder / name))


def test_mark_a_prediction_wrong_see_it_counted_for_training_and_undo(
        qtbot, make_window, trained_run, shapes, tmp_path):
    window = _window_with_data_and_run(qtbot, make_window, trained_run, shapes)
    window.show_step(3)
    page = window.predict_page
    # A picture from outside the dataset: a circle, slightly changed (not the same bytes).
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = inbox / "new_circle.png"
    image = Image.open(sorted((shapes / "circle").iterdir())[0]).convert("RGB")
    image.putpixel((0, 0), (1, 2, 3))
    image.save(outside)
    before = tree_digest(shapes), tree_digest(inbox)

    drop_paths(child(window, "predictDropArea"), [outside])
    qtbot.waitUntil(lambda: page.num_predictions() == 1 and page.current_result() is not None,
                    timeout=60000)
    said = page.current_result()["label"]
    other = next(name for name in window.state.scan.classes if name != said)
    bar = page.mark_bar
    assert bar.right_button.isEnabled() and bar.wrong_button.isEnabled()
    assert not bar.undo_button.isEnabled()
    assert "Marked pictures join your training pictures" in bar.state_label.text()
    menu_classes = [action.data() for action in bar.menu.actions()]
    assert said not in menu_classes and other in menu_classes

    next(action for action in bar.menu.actions() if action.data() == other).trigger()
    qtbot.waitUntil(lambda: window.state.review_summary.get("num_added") == 1, timeout=20000)
    assert f"it is a \u201c{other}\u201d" in bar.state_label.text()
    assert bar.undo_button.isEnabled()
    assert page.gallery.item(0).text().endswith(f"\u2717 is {other}")
    hint = window.train_page.train_hint.text()
    assert "1 picture you marked will join the training" in hint and "never as a check" in hint
    store = ReviewStore(shapes, Path(os.environ["ICS_CONFIG_DIR"]))
    decision = store.decision(outside)
    assert decision["action"] == "add" and decision["label"] == other
    assert Path(decision["file"]).read_bytes() == outside.read_bytes()
    _save_png(window, "predict_marked.png", tmp_path)
    qtbot.wait(120)
    viewport = page.scroll.viewport()  # on a 768-pixel screen the marks are seen unscrolled
    bottom = bar.wrong_button.mapTo(viewport, bar.wrong_button.rect().bottomLeft()).y()
    assert page.scroll.verticalScrollBar().value() == 0 and bottom <= viewport.height(), \
        (bottom, viewport.height())
    window.resize(1024, 640)  # a small laptop: the marks and their sentence are not cut
    qtbot.wait(120)
    assert cut_texts(window) == []
    card = page.answer_card  # nor drawn over each other
    assert card.heat_legend.geometry().top() >= card.class_bars.geometry().bottom(), \
        (card.heat_legend.geometry(), card.class_bars.geometry())
    window.show_step(2)
    _save_png(window, "train_marked.png", tmp_path)
    window.show_step(3)

    bar.undo_button.click()
    qtbot.waitUntil(lambda: not window.state.review_summary.get("num_added"), timeout=20000)
    assert "you marked" not in window.train_page.train_hint.text()
    assert "\u2717" not in page.gallery.item(0).text()
    assert ReviewStore(shapes, Path(os.environ["ICS_CONFIG_DIR"])).decision(outside) is None
    assert (tree_digest(shapes), tree_digest(inbox)) == before


def _with_circles_filed_as_squares(shapes: Path, dest: Path) -> Path:
    """A copy of the shapes in which ten (slightly changed) circles sit in square/: pictures
    in the wrong folder, so the evaluation surely has mistakes to mark."""
    import shutil

    shutil.copytree(shapes, dest)
    for index, path in enumerate(sorted((shapes / "circle").iterdir())[:10]):
        image = Image.open(path).convert("RGB")
        image.putpixel((0, 0), (index, 7, 7))
        image.save(dest / "square" / f"filed_wrong_{index}.png")
    return dest


def test_a_mistake_in_the_evaluation_can_be_marked_right(qtbot, make_window, trained_run, shapes,
                                                        tmp_path):
    data = _with_circles_filed_as_squares(shapes, tmp_path / "shapes_filed_wrong")
    window = _window_with_data_and_run(qtbot, make_window, trained_run, data)
    window.show_step(3)
    page = window.predict_page
    before = tree_digest(data)
    page.evaluate(str(data))
    panel = page.evaluate_panel
    qtbot.waitUntil(lambda: panel.report() is not None, timeout=120000)
    assert panel.shown_items(), "ten circles filed as squares, and no mistake shown"
    assert not panel.mark_bar.right_button.isEnabled()  # nothing selected yet
    panel.gallery.setCurrentRow(0)
    item = panel.selected_item()
    assert panel.mark_bar.right_button.isEnabled()
    panel.mark_bar.right_button.click()  # the model is right: the folder is wrong
    store_path = lambda: ReviewStore(data, Path(os.environ["ICS_CONFIG_DIR"]))  # noqa: E731
    qtbot.waitUntil(lambda: (store_path().decision(item["path"]) or {}).get("label")
                    == item["predicted"], timeout=20000)
    qtbot.waitUntil(lambda: "\u2713 right" in panel.gallery.item(0).text(), timeout=20000)
    assert store_path().decision(item["path"])["action"] == "relabel"
    assert "The next training learns it as that" in panel.mark_bar.state_label.text()
    _save_png(window, "evaluate_marked.png", tmp_path)
    assert tree_digest(data) == before
