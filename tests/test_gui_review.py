"""Issue 16: the Review window (gui/qt_review_dialog.py) and its button on the Data step."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.data.review import ReviewStore
from core.data.scanning import scan_dataset
from gui.qt_review_dialog import QtReviewDialog
from gui.qt_review_jobs import Findings, Suspect, load_review_pictures
from imagefactory import make_class_folders
from test_gui_support import child, load_dataset, make_window, shapes, window  # noqa: F401
from test_review import tree_digest


@pytest.fixture
def reviewed(tmp_path, qtbot):
    data = make_class_folders(tmp_path / "pets", {"cats": 8, "dogs": 8, "birds": 4})
    scan = scan_dataset(data, val_split=0.0)
    paths = {name: sorted(s.path for split in scan.splits.values() for s in split
                          if scan.classes[s.label] == name) for name in scan.classes}
    findings = Findings(list(scan.classes), examples={name: found[2:6]
                                                       for name, found in paths.items()})
    findings.suspects = [Suspect(paths["cats"][0], "cats", "dogs", 0.04, "looks like dogs"),
                         Suspect(paths["dogs"][0], "dogs", "cats", 0.11, "looks like cats"),
                         Suspect(paths["birds"][0], "birds", None, None, "unlike every class")]
    findings.near_duplicates = [("across splits", paths["cats"][6:8])]
    settings = Path(os.environ["ICS_CONFIG_DIR"])
    dialog = QtReviewDialog(scan, settings)
    qtbot.addWidget(dialog)
    dialog.show_findings(findings)
    dialog.show_pictures(load_review_pictures(list(dialog.rows) + [
        p for found in findings.examples.values() for p in found],
        sizes={path: 150 for path in dialog.rows}))
    return dialog, data, paths, settings


def test_review_decisions_leave_the_folder_unchanged_and_survive_a_restart(reviewed, qtbot):
    dialog, data, paths, settings = reviewed
    before = tree_digest(data)
    cat_row, dog_row, bird_row = (dialog.rows[paths[name][0]] for name in ("cats", "dogs", "birds"))
    assert cat_row.move_button.text() == "Belongs to dogs"
    assert bird_row.move_button.text() == "Belongs to cats"  # an outlier: the first other class

    cat_row.move_button.click()
    dog_row.exclude_button.click()
    bird_row.keep_button.click()
    assert tree_digest(data) == before
    assert dialog.store.decision(paths["cats"][0]) == {
        "action": "relabel", "label": "dogs", "digest": dialog.scan.info[paths["cats"][0]].digest}
    assert "Belongs to dogs" in cat_row.state.text()
    assert dog_row.isHidden() and not cat_row.isHidden()  # excluded: out of view
    dialog.show_excluded.setChecked(True)
    assert not dog_row.isHidden()
    assert "excluded 1, moved 1 and kept 1" in dialog.summary.text()
    assert "1 group(s) of near-identical pictures, 1 of them across classes or splits" \
        in dialog.summary.text()

    dialog.undo_button.click()  # takes back "keep"
    assert dialog.store.decision(paths["birds"][0]) is None
    assert tree_digest(data) == before

    again = ReviewStore(data, settings)  # the app restarted
    assert again.decision(paths["dogs"][0])["action"] == "exclude"
    assert again.decision(paths["cats"][0])["label"] == "dogs"
    assert again.decision(paths["birds"][0]) is None


def test_review_window_renders_at_laptop_size(reviewed, qtbot, tmp_path):
    dialog, _, paths, _ = reviewed
    dialog.rows[paths["dogs"][0]].exclude_button.click()
    dialog.show_excluded.setChecked(True)
    dialog.resize(1366, 768)
    dialog.show()
    qtbot.waitExposed(dialog)
    image = dialog.grab()
    assert image.width() == 1366 and image.height() == 768
    target = Path(os.environ.get("ICS_REVIEW_PNG", tmp_path / "review.png"))
    assert image.save(str(target))
    row = dialog.rows[paths["cats"][0]]
    assert row.pictures[0].pixmap() is not None and not row.pictures[0].pixmap().isNull()


def test_the_data_step_has_a_review_button(window, shapes, qtbot, monkeypatch):  # noqa: F811
    import gui.qt_review_dialog as review

    button = child(window, "reviewButton")
    messages = []
    window.data_page.messageRequested.connect(lambda text, *_: messages.append(text))
    button.click()  # no folder yet: a sentence, no window
    assert messages and "Open a folder of pictures first" in messages[-1]

    load_dataset(qtbot, window, shapes)
    started = []
    monkeypatch.setattr(review.QtReviewDialog, "start", lambda self: started.append(self))
    button.click()
    assert started and started[0].isVisible()
    assert started[0].scan is window.state.scan
    started[0].close()


def test_a_decision_that_cannot_be_saved_is_said_in_the_window(reviewed, monkeypatch):
    """A settings folder that cannot be written: the window says so instead of a traceback
    from a Qt slot, and nothing is shown as decided."""
    from core.errors import NotWritableError

    dialog, data, paths, settings = reviewed

    def refuse(*args, **kwargs):
        raise NotWritableError("The review decisions could not be saved: the app's settings "
                               "folder must be writable.")

    monkeypatch.setattr(dialog.store, "decide", refuse)
    monkeypatch.setattr(dialog.store, "undo", refuse)
    row = dialog.rows[paths["cats"][0]]
    row.exclude_button.click()
    assert "could not be saved" in dialog.summary.text()
    assert not row.isHidden() and "Excluded" not in row.state.text()
    dialog.summary.setText("")
    dialog.undo()
    assert "could not be saved" in dialog.summary.text()
