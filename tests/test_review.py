"""Issue 16: review decisions (core.data.review) are kept outside the person's folders,
survive a restart, and training and evaluation honour them."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from core.data.review import ReviewStore, apply_review
from core.data.scanning import scan_dataset
from core.errors import ConfigError
from imagefactory import make_class_folders, write_noise


def tree_digest(root: Path) -> str:
    """Every file and folder under `root`: names, sizes, modes, modification times, bytes."""
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        digest.update(f"D {os.path.relpath(folder, root)} {os.stat(folder).st_mtime_ns}".encode())
        for name in sorted(files):
            path = os.path.join(folder, name)
            info = os.stat(path)
            digest.update(f"F {name} {info.st_size} {info.st_mode} {info.st_mtime_ns}".encode())
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()


@pytest.fixture
def settings():
    return Path(os.environ["ICS_CONFIG_DIR"])


@pytest.fixture
def data(tmp_path):
    return make_class_folders(tmp_path / "pets", {"cats": 6, "dogs": 6})


def paths_of(scan, label=None):
    return [s.path for split in scan.splits.values() for s in split
            if label is None or scan.classes[s.label] == label]


def test_every_review_action_leaves_the_folder_byte_for_byte_unchanged(data, settings):
    before = tree_digest(data)
    scan = scan_dataset(data, val_split=0.0)
    cat, other_cat, dog = paths_of(scan, "cats")[0], paths_of(scan, "cats")[1], paths_of(scan, "dogs")[0]
    store = ReviewStore(data, settings)
    actions = [
        lambda: store.decide(cat, "relabel", "dogs", scan.info[cat].digest, scan.classes),
        lambda: store.decide(dog, "exclude", digest=scan.info[dog].digest),
        lambda: store.decide(other_cat, "keep"),
        lambda: store.decide(dog, "keep"),
        store.undo,
        lambda: store.apply(scan),
        lambda: ReviewStore(data, settings).apply(scan_dataset(data, val_split=0.0)),
    ]
    for action in actions:
        action()
        assert tree_digest(data) == before
    assert data not in store.path.parents and store.path.is_relative_to(settings)
    reviewed, summary = store.apply(scan)
    assert summary["excluded"] == ["dogs/" + Path(dog).name]
    assert summary["relabelled"] == {"cats/" + Path(cat).name: "dogs"}
    assert summary["kept"] == 1 and summary["stale"] == []
    assert dog not in paths_of(reviewed)
    assert cat in paths_of(reviewed, "dogs") and cat not in paths_of(reviewed, "cats")
    assert reviewed.num_images == scan.num_images - 1
    assert scan.num_images == 12  # the scan given is not changed


def test_decisions_and_undo_survive_a_restart(data, settings):
    scan = scan_dataset(data, val_split=0.0)
    first, second = paths_of(scan)[:2]
    store = ReviewStore(data, settings)
    store.decide(first, "exclude")
    store.decide(second, "relabel", "cats", classes=scan.classes)
    store.decide(first, "keep")

    again = ReviewStore(str(data) + os.sep, settings)  # a restart, the folder spelled otherwise
    assert again.path == store.path
    assert again.decisions == store.decisions
    assert again.decision(first) == {"action": "keep"}
    assert again.undo() == "cats/" + Path(first).name
    assert ReviewStore(data, settings).decision(first) == {"action": "exclude"}
    assert ReviewStore(data, settings).excluded() == ["cats/" + Path(first).name]
    saved = json.loads(store.path.read_text())
    assert saved["root"] == os.path.realpath(data)


def test_a_changed_file_or_a_class_that_is_gone_voids_the_decision(data, settings):
    scan = scan_dataset(data, val_split=0.0)
    target = paths_of(scan, "cats")[0]
    store = ReviewStore(data, settings)
    store.decide(target, "exclude", digest=scan.info[target].digest)
    write_noise(Path(target), 999)  # the person replaced the picture
    reviewed, summary = store.apply(scan_dataset(data, val_split=0.0))
    assert target in paths_of(reviewed) and summary["stale"] == ["cats/" + Path(target).name]


def test_wrong_requests_get_a_sentence(data, settings, tmp_path):
    store = ReviewStore(data, settings)
    scan = scan_dataset(data, val_split=0.0)
    with pytest.raises(ConfigError, match="one of the dataset's classes"):
        store.decide(paths_of(scan)[0], "relabel", "birds", classes=scan.classes)
    with pytest.raises(ConfigError, match="Unknown review action"):
        store.decide(paths_of(scan)[0], "delete")
    with pytest.raises(ConfigError, match="not inside the dataset"):
        store.decide(tmp_path / "elsewhere.png", "exclude")
    assert store.undo() is None and not store.path.exists()


def test_several_exclusions_are_saved_at_once_and_undone_one_by_one(data, settings, tmp_path):
    scan = scan_dataset(data, val_split=0.0)
    first, second = paths_of(scan, "cats")[:2]
    store = ReviewStore(data, settings)
    with pytest.raises(ConfigError, match="not inside the dataset"):
        store.exclude_all({first: None, str(tmp_path / "elsewhere.png"): None})
    assert not store.path.exists()  # all or nothing
    decisions = store.exclude_all({first: scan.info[first].digest, second: None})
    assert decisions == [{"action": "exclude", "digest": scan.info[first].digest},
                         {"action": "exclude"}]
    again = ReviewStore(data, settings)
    assert again.excluded() == sorted(["cats/" + Path(first).name, "cats/" + Path(second).name])
    assert again.undo() == "cats/" + Path(second).name
    assert ReviewStore(data, settings).excluded() == ["cats/" + Path(first).name]


def test_a_settings_folder_that_cannot_be_written_gets_a_sentence(data, tmp_path):
    from core.errors import NotWritableError

    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "reviews").write_text("a file where the reviews folder should be")
    store = ReviewStore(data, settings)
    with pytest.raises(NotWritableError, match="settings folder must be writable"):
        store.decide(paths_of(scan_dataset(data, val_split=0.0), "cats")[0], "exclude")


def test_a_damaged_review_file_starts_afresh(data, settings):
    store = ReviewStore(data, settings)
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json")
    again = ReviewStore(data, settings)
    assert again.decisions == {} and "could not be read" in again.problem


def test_training_and_evaluation_honour_the_review(demo_dataset, small_cnn_run, settings,
                                                   tmp_path):
    from core.inference.evaluation import evaluate_run
    from core.training import TrainingConfig, train

    plain = evaluate_run(small_cnn_run, demo_dataset)
    scan = scan_dataset(demo_dataset, val_split=0.2, seed=3)
    train_paths = [s.path for s in scan.samples("train")]
    store = ReviewStore(demo_dataset, settings)
    store.decide(train_paths[0], "exclude")
    moved = next(p for p in train_paths if Path(p).parent.name != scan.classes[0])
    store.decide(moved, "relabel", scan.classes[0], classes=scan.classes)
    before = tree_digest(demo_dataset)

    result = train(TrainingConfig(str(demo_dataset), str(tmp_path / "run"), model="small_cnn",
                                  image_size=32, epochs=1, batch_size=16, optimizer="adam",
                                  augment="none", seed=3))
    assert result["status"] == "finished"
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    rel = os.path.relpath(train_paths[0], demo_dataset).replace(os.sep, "/")
    assert config["review"]["excluded"] == [rel]
    assert list(config["review"]["relabelled"].values()) == [scan.classes[0]]
    counts = config["dataset"]["splits"]
    assert sum(sum(split.values()) for split in counts.values()) == scan.num_images - 1
    first = scan.classes[0]
    excluded_from_first = Path(train_paths[0]).parent.name == first
    assert counts["train"][first] == scan.counts()["train"][first] + 1 - excluded_from_first

    reviewed = evaluate_run(small_cnn_run, demo_dataset)
    assert reviewed["n"] == plain["n"] - 1 and reviewed["review"]["excluded"] == [rel]
    assert tree_digest(demo_dataset) == before


def test_apply_review_without_decisions_returns_the_scan_as_is(data, settings):
    scan = scan_dataset(data, val_split=0.0)
    assert apply_review(scan, settings) == (scan, {})
