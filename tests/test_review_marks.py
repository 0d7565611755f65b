"""Issue 16, learning from mistakes: a person says what a picture is ("this is a dogs") after
the model answered; pictures from outside the dataset join the next run's *training* pictures
(copied into the app's settings folder), pictures of the dataset are relabelled, the person's
folders never change, and a resumed run uses the decisions it started with."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.data.review import ReviewStore
from core.data.scanning import scan_dataset
from core.errors import ConfigError, ImageReadError
from core.util.progress import ProgressListener
from imagefactory import make_class_folders, write_noise
from test_review import tree_digest


@pytest.fixture
def settings():
    return Path(os.environ["ICS_CONFIG_DIR"])


@pytest.fixture
def data(tmp_path):
    return make_class_folders(tmp_path / "pets", {"cats": 8, "dogs": 8})


@pytest.fixture
def outside(tmp_path):
    """Pictures the person classified on the Predict page, from a folder of their own."""
    folder = tmp_path / "downloads"
    return [write_noise(folder / f"photo_{i}.png", 500 + i) for i in range(3)]


def tiny_config(data, out, **overrides):
    from core.training import TrainingConfig

    values = dict(model="lenet", image_size=16, epochs=1, batch_size=8, augment="none",
                  optimizer="adam", seed=1, val_split=0.25)
    return TrainingConfig(str(data), str(out), **(values | overrides))


def test_a_marked_outside_picture_joins_only_the_training_split(data, outside, settings):
    folders = tree_digest(data), tree_digest(outside[0].parent)
    scan = scan_dataset(data, val_split=0.25, seed=1)
    store = ReviewStore(data, settings)
    key, decision = store.mark(scan, outside[0], "dogs")
    assert decision["action"] == "add" and decision["label"] == "dogs"
    copy = Path(decision["file"])
    assert copy.parent == store.added_folder and copy.is_relative_to(settings)
    assert copy.read_bytes() == outside[0].read_bytes() and key.endswith(copy.stem)
    store.mark(scan, outside[1], "cats")

    reviewed, summary = store.apply(scan, with_added=True)
    assert summary["num_added"] == 2 and summary["stale"] == []
    assert {item["name"]: item["label"] for item in summary["added"]} == {
        "photo_0.png": "dogs", "photo_1.png": "cats"}
    train = {s.path: reviewed.classes[s.label] for s in reviewed.samples("train")}
    assert train[str(copy)] == "dogs"
    assert len(train) == len(scan.samples("train")) + 2
    assert reviewed.samples("validation") == scan.samples("validation")  # honest validation
    assert reviewed.info[str(copy)].digest == decision["digest"]
    # evaluation measures the dataset as it is: no added pictures
    assert store.apply(scan)[0].num_images == scan.num_images
    assert (tree_digest(data), tree_digest(outside[0].parent)) == folders


def test_a_wrong_answer_on_a_dataset_picture_relabels_it_and_right_keeps_it(data, settings):
    scan = scan_dataset(data, val_split=0.25, seed=1)
    before = tree_digest(data)
    cat = next(s.path for s in scan.samples("train") if scan.classes[s.label] == "cats")
    other = next(s.path for s in scan.samples("train")
                 if scan.classes[s.label] == "cats" and s.path != cat)
    store = ReviewStore(data, settings)
    assert store.mark(scan, cat, "dogs")[1] == {"action": "relabel", "label": "dogs",
                                                "digest": scan.info[cat].digest}
    assert store.mark(scan, other, "cats")[1]["action"] == "keep"
    reviewed, summary = store.apply(scan, with_added=True)
    assert summary["relabelled"] == {"cats/" + Path(cat).name: "dogs"}
    assert next(reviewed.classes[s.label] for s in reviewed.samples("train") if s.path == cat) \
        == "dogs"
    # the same bytes from outside the dataset are that dataset picture, not a second copy
    twin = data.parent / "twin.png"
    twin.write_bytes(Path(other).read_bytes())
    key, decision = store.mark(scan, twin, "dogs")
    assert key == "cats/" + Path(other).name and decision["action"] == "relabel"
    assert not store.added_folder.exists()
    assert tree_digest(data) == before


def test_marks_and_undo_survive_reopening_the_store(data, outside, settings):
    scan = scan_dataset(data, val_split=0.25, seed=1)
    store = ReviewStore(data, settings)
    store.mark(scan, outside[0], "dogs")
    store.mark(scan, outside[0], "cats")  # changed their mind
    store.mark(scan, outside[2], "cats")

    again = ReviewStore(data, settings)  # the app restarted
    assert again.decisions == store.decisions
    assert again.decision(outside[0])["label"] == "cats"
    assert again.counts()["add"] == 2
    assert again.undo().startswith("added:")  # takes back outside[2]
    assert again.decision(outside[2]) is None
    assert again.undo() and ReviewStore(data, settings).decision(outside[0])["label"] == "dogs"
    assert len(list(again.added_folder.iterdir())) == 2  # copies stay for runs that used them


def test_a_picture_near_a_validation_picture_is_held_back(data, settings, tmp_path):
    scan = scan_dataset(data, val_split=0.25, seed=1)
    held = next(s.path for s in scan.samples("validation"))
    from PIL import Image

    near = tmp_path / "resized.png"
    Image.open(held).resize((32, 32)).save(near)  # a resized copy of a validation picture
    store = ReviewStore(data, settings)
    store.mark(scan, near, "cats")
    reviewed, summary = store.apply(scan, with_added=True)
    assert summary["num_added"] == 0 and len(summary["held_back"]) == 1
    assert "validation" in summary["held_back"][0]["why"]
    assert reviewed.num_images == scan.num_images


def test_wrong_marks_get_a_sentence(data, settings, tmp_path):
    scan = scan_dataset(data, val_split=0.25, seed=1)
    store = ReviewStore(data, settings)
    with pytest.raises(ConfigError, match="not one of the dataset's classes"):
        store.mark(scan, write_noise(tmp_path / "x.png", 9), "birds")
    with pytest.raises(ConfigError, match="does not exist"):
        store.mark(scan, tmp_path / "gone.png", "cats")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    with pytest.raises(ImageReadError):
        store.mark(scan, broken, "cats")
    assert store.decisions == {} and not store.added_folder.exists()


def test_the_next_run_trains_on_marked_pictures_and_records_them(data, outside, settings,
                                                                   tmp_path):
    from core.training import train

    before = tree_digest(data), tree_digest(outside[0].parent)
    scan = scan_dataset(data, val_split=0.25, seed=1)
    store = ReviewStore(data, settings)
    store.mark(scan, outside[0], "dogs")
    store.mark(scan, outside[1], "dogs")
    moved = next(s.path for s in scan.samples("train") if scan.classes[s.label] == "cats")
    store.mark(scan, moved, "dogs")
    logs = []

    class Listener(ProgressListener):
        def on_log(self, text):
            logs.append(text)

    result = train(tiny_config(data, tmp_path / "runs" / "marked"), listener=Listener())
    assert result["status"] == "finished"
    config = json.loads((tmp_path / "runs" / "marked" / "config.json").read_text())
    assert config["review"]["num_added"] == 2
    assert sorted(item["name"] for item in config["review"]["added"]) == ["photo_0.png",
                                                                          "photo_1.png"]
    assert config["review"]["relabelled"] == {"cats/" + Path(moved).name: "dogs"}
    splits, plain = config["dataset"]["splits"], scan.counts()
    assert splits["train"] == {"cats": plain["train"]["cats"] - 1,
                               "dogs": plain["train"]["dogs"] + 3}
    assert splits["validation"] == plain["validation"]
    assert any("added 2 picture(s) you marked" in line for line in logs)

    # Evaluating on a folder holding a marked picture says the run has seen it.
    from core.inference.evaluation import evaluate_run

    elsewhere = tmp_path / "new_photos"
    (elsewhere / "dogs").mkdir(parents=True)
    (elsewhere / "dogs" / "again.png").write_bytes(outside[0].read_bytes())
    write_noise(elsewhere / "cats" / "fresh.png", 900)
    assert evaluate_run(tmp_path / "runs" / "marked", elsewhere)["seen"]["count"] == 1

    # Resuming goes on with the decisions the run recorded, not the ones made since.
    from core.training.resume import resume_training

    store.mark(scan, outside[2], "cats")
    store.decide(next(s.path for s in scan.samples("train")), "exclude")
    logs.clear()
    resumed = resume_training(tmp_path / "runs" / "marked", epochs=2, listener=Listener())
    assert resumed["status"] == "finished" and resumed["epochs_completed"] == 2
    again = json.loads((tmp_path / "runs" / "marked" / "config.json").read_text())
    assert again["dataset"]["splits"] == splits and again["review"] == config["review"]
    assert any("review decisions this run started with (0 excluded, 1 moved to another "
               "class, 2 added)" in line for line in logs)
    assert (tree_digest(data), tree_digest(outside[0].parent)) == before


def test_resume_refuses_when_a_marked_picture_it_trained_on_is_gone(data, outside, settings,
                                                                    tmp_path):
    from core.errors import TrainingError
    from core.training import train
    from core.training.resume import resume_training

    scan = scan_dataset(data, val_split=0.25, seed=1)
    store = ReviewStore(data, settings)
    _, decision = store.mark(scan, outside[0], "dogs")
    train(tiny_config(data, tmp_path / "run"))
    Path(decision["file"]).unlink()
    with pytest.raises(TrainingError, match="no longer in the app's settings folder"):
        resume_training(tmp_path / "run", epochs=2)



def test_the_command_line_marks_lists_and_undoes(data, outside, settings, capsys):
    from core.cli import main

    before = tree_digest(data), tree_digest(outside[0].parent)
    cat = data / "cats" / "cats_000.png"
    assert main(["review", str(data), "--mark", str(outside[0]), str(cat), "--as", "dogs",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [item["action"] for item in report["done"]] == ["add", "relabel"]
    assert report["next_training"]["num_added"] == 1
    assert ReviewStore(data, settings).decision(outside[0])["label"] == "dogs"

    assert main(["review", str(data), "--undo"]) == 0  # takes back the move of the cat
    out = capsys.readouterr().out
    assert "Took back the decision about cats/cats_000.png" in out
    assert "photo_0.png as dogs" in out and "the next training gets 1 added picture" in out
    assert ReviewStore(data, settings).decision(cat) is None

    for argv, words in ((["--mark", str(outside[1])], "needs --as CLASS"),
                        (["--mark", str(outside[1]), "--as", "birds"], "not one of the "
                                                                      "dataset's classes"),
                        (["--exclude", str(outside[1])], "not inside the dataset")):
        assert main(["review", str(data), *argv]) == 2
        errors = [line for line in capsys.readouterr().err.splitlines()
                  if line.startswith("error: ")]  # the rest is the scan's progress
        assert len(errors) == 1 and words in errors[0]
    assert ReviewStore(data, settings).counts() == {"keep": 0, "exclude": 0, "relabel": 0,
                                                    "add": 1}
    assert (tree_digest(data), tree_digest(outside[0].parent)) == before
