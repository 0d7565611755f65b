"""Issue 14: a Data-step warning about pictures opens them side by side, says what to do in
words that fit who made the split, and acts without touching the person's folders."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.data.review import ReviewStore
from core.models.weights_store import settings_dir

from test_gui_support import load_dataset, make_window, shapes  # noqa: F401
from test_review import tree_digest


def _row(page, kind: str) -> int:
    rows = page.checks_list.rows
    return next(i for i, row in enumerate(rows) if row.record and row.record["kind"] == kind)


def _open(qtbot, page, kind: str):
    page.checks_list.open_pictures(_row(page, kind))
    qtbot.waitUntil(lambda: page.pictures_dialog is not None, timeout=5000)
    dialog = page.pictures_dialog
    qtbot.waitUntil(lambda: all(tile.picture.pixmap() is not None and not tile.picture.pixmap()
                                .isNull() for tile in dialog.tiles.values()
                                if tile.path in dialog._where), timeout=20000)
    return dialog


def test_app_made_split_warning_opens_the_pictures_and_needs_nothing(make_window, shapes,  # noqa: F811
                                                                     qtbot, tmp_path):
    data = Path(shutil.copytree(shapes, tmp_path / "mine"))
    first, second = sorted((data / "square").iterdir())[:2]
    shutil.copy(first, data / "square" / "again.png")  # a copy in the same class
    shutil.copy(second, data / "triangle" / "square_here.png")  # the same picture in two classes
    (data / "circle" / "broken.jpg").write_bytes(b"this is not a picture")
    window = make_window(warm_up=False)
    load_dataset(qtbot, window, data)
    page = window.data_page
    assert "Show the pictures" in page.checks_list.rows[_row(page, "copies")].text()

    dialog = _open(qtbot, page, "copies")
    paths = {str(first), str(data / "square" / "again.png")}
    assert paths <= set(dialog.tiles)  # side by side, with class, split and file name
    tile = dialog.tiles[str(first)]
    assert tile.where.full_text() == "square" and tile.name.full_text() == first.name
    assert tile.split.full_text() in ("in training", "in validation")
    assert "one side of the split" in dialog.finding.text()
    assert "Nothing needs doing" in dialog.finding.text() and "nothing is needed" in dialog.advice.text()
    assert "one of the splits" not in dialog.finding.text() + dialog.advice.text()
    assert not dialog.review_button.isVisible()
    dialog.close()

    dialog = _open(qtbot, page, "conflicts")
    assert {dialog.where(p).split(" \u00b7 ")[0] for p in dialog.tiles} == {"square", "triangle"}
    assert dialog.review_button.isVisible()
    dialog.review_button.click()
    review = dialog.review  # the Review window on these pictures only
    assert set(review.rows) == set(dialog.tiles)
    moved = str(data / "triangle" / "square_here.png")
    assert review.rows[moved].move_button.text() == "Belongs to square"
    before = tree_digest(data)
    review.rows[moved].move_button.click()
    assert ReviewStore(data, settings_dir()).decision(moved)["label"] == "square"
    assert tree_digest(data) == before  # the folders are never changed
    review.close()
    dialog.close()

    dialog = _open(qtbot, page, "unreadable")
    tile = dialog.tiles[str(data / "circle" / "broken.jpg")]
    assert tile.note.text() and "JPEG or PNG" in dialog.advice.text()
    dialog.close()


def test_own_split_leak_names_the_files_and_leaves_training_copies_out(make_window, shapes,  # noqa: F811
                                                                       qtbot, tmp_path):
    data = tmp_path / "split"
    for split, part in (("train", slice(0, 40)), ("validation", slice(40, 60))):
        for name in ("circle", "square", "triangle"):
            (data / split / name).mkdir(parents=True)
            for picture in sorted((shapes / name).iterdir())[part]:
                shutil.copy(picture, data / split / name / picture.name)
    leaked = sorted((data / "train" / "circle").iterdir())[0]
    shutil.copy(leaked, data / "validation" / "circle" / "seen_before.png")
    window = make_window(warm_up=False)
    load_dataset(qtbot, window, data)
    page = window.data_page

    dialog = _open(qtbot, page, "leakage")
    text = dialog.finding.text() + " " + dialog.advice.text()
    assert "your own" in text.lower() and leaked.name in text and "Nothing needs doing" not in text
    assert dialog.where(str(leaked)) == "circle \u00b7 training"
    assert dialog.where(str(data / "validation/circle/seen_before.png")) == "circle \u00b7 validation"
    button = dialog.exclude_button
    assert button.isVisible() and button.text() == "Leave the training copies out"
    before = tree_digest(data)
    button.click()
    store = ReviewStore(data, settings_dir())
    assert store.excluded() == [os.path.relpath(leaked, data).replace(os.sep, "/")]
    assert not button.isEnabled() and "Left out of training: 1 picture" in dialog.status.text()
    assert tree_digest(data) == before
    row = page.checks_list.rows[_row(page, "leakage")]  # the Data step says it is done
    assert row.level == "ok" and "Done: the app leaves these copies out" in row.plain
    from core.data.review import apply_review

    scan, _ = apply_review(window.state.scan, settings_dir())
    assert str(leaked) not in [s.path for s in scan.samples("train")]  # training leaves it out
    assert str(data / "validation/circle/seen_before.png") in [s.path for s in
                                                               scan.samples("validation")]


def test_a_long_list_of_unreadable_files_is_shown_in_part(qtbot, tmp_path):
    """Hundreds of unreadable files: the window shows the first ones and counts the rest."""
    from core.data.picture_warnings import unreadable_record
    from core.data.samples import DatasetScan
    from gui.qt_warning_pictures import MAX_TILES, QtWarningPicturesDialog

    files = [(f"cats/broken_{index:03d}.jpg", "file is empty") for index in range(300)]
    record = unreadable_record(files)[0]
    scan = DatasetScan(root=str(tmp_path), layout="class_folders", classes=["cats", "dogs"],
                       splits={"train": []})
    dialog = QtWarningPicturesDialog(record, scan, tmp_path / "settings")
    qtbot.addWidget(dialog)
    assert len(dialog.tiles) == MAX_TILES
    assert "300 files could not be read" in dialog.finding.text()
    assert not dialog.exclude_button.isVisibleTo(dialog) and not dialog.review_button.isVisibleTo(dialog)
