"""Folders as users really have them: every hostile case of tests/hostile.py, through the
whole app. `inspect` lists exactly the unusable files with a reason; `train`, `evaluate` and
`predict` proceed on the rest; the dataset folder is byte-for-byte unchanged afterwards."""
from __future__ import annotations

import errno
import json
import os
import threading

import pytest

from core.cli import main
from core.data.scanning import collect_images, scan_dataset
from core.runs.export import read_predictions_csv
from core.errors import ImageReadError
from core.data.imageio import probe_image, read_image
from hostile import CLASSES, NON_UTF8_NAME, deny_reading, make_hostile_dataset, snapshot


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile dataset (written once) and its snapshot right after it was made."""
    expect = make_hostile_dataset(tmp_path_factory.mktemp("hostile") / "my photos")
    return expect, snapshot(expect.root)


@pytest.fixture
def denied(hostile, monkeypatch):
    """The hostile dataset with its no-permission file really unreadable (also as root)."""
    expect, before = hostile
    with deny_reading(expect, monkeypatch):
        yield expect
    assert snapshot(expect.root) == before, "the dataset folder was changed"


def run_json(capsys, *argv):
    code = main([str(arg) for arg in argv] + ["--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_the_generator_covers_every_hostile_case(hostile):
    expect, before = hostile
    reasons = " ".join(expect.unreadable.values())
    for words in ("empty", "truncated", "html", "text", "not an image", "header", "broken link",
                  "permission denied", "not a regular file", "too large"):
        assert words in reasons, words
    used = " ".join(expect.used)
    for name in ("7000x5000", "one pixel", "3000x3", "2x2000", "sixteen bit", "cmyk", "palette",
                 "animated.gif", "animated.png", "animated.webp", ".webp", ".tiff", ".ppm", ".bmp",
                 ".JPG", ".PNG", "my cat", "кошка", "猫", NON_UTF8_NAME, "2019/summer",
                 "link to cat", "=1+1"):
        assert name in used, name
    kinds = {entry[0] for entry in before.values()}
    assert {"file", "dir", "link", "special"} <= kinds
    assert any(name.endswith((".DS_Store", "Thumbs.db")) for name in expect.ignored)
    assert expect.empty_classes and expect.denied
    assert os.stat(expect.path(expect.denied[0])).st_mode & 0o777 == 0


def test_inspect_lists_exactly_the_unusable_files_with_a_reason(denied, capsys):
    report = run_json(capsys, "inspect", denied.root)
    unreadable = {item["path"]: item["reason"] for item in report["unreadable"]}
    assert set(unreadable) == set(denied.unreadable)
    for path, words in denied.unreadable.items():
        assert words in unreadable[path].lower(), (path, unreadable[path])
        assert "Traceback" not in unreadable[path] and "\n" not in unreadable[path]
    assert report["classes"] == list(CLASSES)
    assert report["empty_classes"] == denied.empty_classes
    assert report["num_images"] == len(denied.used)
    assert report["image_size"]["max"] == [7000, 5000] and report["image_size"]["min"] == [1, 1]
    warnings = " ".join(report["warnings"])
    assert "could not be read" in warnings and "birds" in warnings and "loose at the top" in warnings


def test_inspect_text_output_survives_odd_file_names(denied, capsys):
    assert main(["inspect", str(denied.root)]) == 0
    out = capsys.readouterr().out
    assert "unreadable: cats/zero bytes.jpg: file is empty" in out
    assert out.count("unreadable: ") == len(denied.unreadable)


def test_scan_uses_exactly_the_readable_images(denied):
    scan = scan_dataset(denied.root, val_split=0.25, seed=3)
    used = {os.path.relpath(sample.path, denied.root).replace(os.sep, "/")
            for samples in scan.splits.values() for sample in samples}
    assert used == denied.used
    assert not used & set(denied.unreadable) and not used & denied.ignored


def test_permission_denied_is_reported_even_for_root(tmp_path, monkeypatch):
    """chmod 000 does not stop root, so the refusal itself is simulated: same code path."""
    from imagefactory import noise

    path = tmp_path / "secret.png"
    noise(1).save(path)
    real_open = open

    def refuse(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    for read in (read_image, probe_image):
        with pytest.raises(ImageReadError, match="permission denied"):
            read(path)


@pytest.mark.parametrize("rel", ["dogs/named pipe.jpg", "dogs/zero device.jpg"])
def test_pipes_and_devices_are_refused_without_hanging(hostile, rel):
    expect, _ = hostile
    outcome = []

    def attempt():
        try:
            read_image(expect.path(rel))
        except ImageReadError as error:
            outcome.append(error.reason)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), f"reading {rel} hung"
    assert outcome and "not a regular file" in outcome[0]


def test_collect_images_for_prediction_skips_hidden_and_system_files(hostile):
    expect, _ = hostile
    files, skipped = collect_images([expect.root])
    rels = {os.path.relpath(path, expect.root).replace(os.sep, "/") for path in files}
    assert not skipped
    assert not rels & expect.ignored - {"loose at the top.png"}
    assert set(expect.unreadable) <= rels  # reading them tells why each one is skipped
    # the link to cat_000.png is the same file: classified once
    expected = expect.used - {"cats/link to cat.png"}
    assert expected <= rels, expected - rels


def test_train_evaluate_predict_proceed_on_the_rest_and_leave_the_dataset_unchanged(
        denied, capsys, tmp_path):
    out, cams, table = tmp_path / "run", tmp_path / "cams", tmp_path / "predictions.csv"
    result = run_json(capsys, "train", denied.root, "--out", out, "--model", "lenet",
                      "--image-size", 32, "--epochs", 1, "--batch-size", 8, "--augment", "none",
                      "--val-split", 0.25, "--seed", 3)
    assert result["status"] == "finished" and result["epochs_completed"] == 1
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["labels"] == list(CLASSES)
    assert config["dataset"]["num_unreadable"] == len(denied.unreadable)
    assert sum(sum(counts.values()) for counts in config["dataset"]["splits"].values()) == len(denied.used)

    report = run_json(capsys, "evaluate", out, denied.root)
    assert report["n"] == len(denied.used) and report["split"] == "all"
    assert {item["path"] for item in report["unreadable"]} == set(denied.unreadable)

    predictions = run_json(capsys, "predict", out, denied.root, "--cam", cams, "--csv", table)
    by_rel = {os.path.relpath(item["path"], denied.root).replace(os.sep, "/"): item
              for item in predictions}
    for rel in denied.used - {"cats/link to cat.png"}:
        item = by_rel[rel]
        assert item["label"] in CLASSES and item["error"] is None, rel
        assert item["cam"] and os.path.dirname(item["cam"]) == str(cams), item["cam"]
        assert os.path.isfile(item["cam"])
    for rel, words in denied.unreadable.items():
        assert by_rel[rel]["label"] is None and words in by_rel[rel]["error"].lower(), rel
    assert not set(by_rel) & (denied.ignored - {"loose at the top.png"})
    huge = read_image(by_rel["cats/huge 7000x5000.jpg"]["cam"])
    assert max(huge.shape[:2]) == 2048  # overlays of huge photos are scaled down
    assert len(os.listdir(cams)) == sum(1 for item in predictions if item["cam"])

    rows = read_predictions_csv(table)
    assert len(rows) == len(predictions)
    assert {row["path"] for row in rows if row["label"]} == {
        item["path"].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        for item in predictions if item["label"]}
