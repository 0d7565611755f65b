"""core.data (scanning): layouts, splits, unreadable and ignored files, duplicates, reports, real data."""
from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from conftest import shared_path
from core.errors import DatasetError
from core.data.samples import DatasetScan, Sample
from core.data.folders import class_from_filename
from core.data.scanning import collect_images, scan_dataset
from core.data.checks import suggest_input_size
from core.util.progress import CancelToken, Cancelled, ProgressListener
from imagefactory import (
    make_class_folders,
    make_split_folders,
    png_header_claiming,
    save,
    snapshot,
    solid,
    write_broken,
    write_noise,
)

REPORT_KEYS = {"root", "layout", "classes", "splits", "num_images", "unreadable", "empty_classes",
               "duplicates", "near_duplicates", "split_note", "image_size", "suggested_input_size",
               "warnings", "picture_warnings"}


def _class_counts(scan: DatasetScan, split: str) -> dict[str, int]:
    return scan.counts()[split]


def _rel(scan: DatasetScan, samples) -> list[str]:
    return [os.path.relpath(sample.path, scan.root).replace(os.sep, "/") for sample in samples]


# --- layouts -----------------------------------------------------------------------------------


def test_class_folders_layout_with_nested_folders(tmp_path):
    make_class_folders(tmp_path, {"cats": 10, "dogs": 10, "birds": 5})
    write_noise(tmp_path / "cats" / "indoor" / "sofa" / "deep.png", 500)  # nested: still a cat

    scan = scan_dataset(tmp_path)

    assert scan.layout == "class_folders"
    assert scan.classes == ["birds", "cats", "dogs"]
    assert scan.root == str(tmp_path)
    assert _class_counts(scan, "validation") == {"birds": 1, "cats": 2, "dogs": 2}
    assert _class_counts(scan, "train") == {"birds": 4, "cats": 9, "dogs": 8}
    assert set(scan.splits) == {"train", "validation"}
    assert scan.num_images == 26
    every = scan.samples("train") + scan.samples("validation")
    assert all(isinstance(sample, Sample) and os.path.isabs(sample.path) for sample in every)
    assert all(Path(sample.path).relative_to(tmp_path).parts[0] == scan.classes[sample.label] for sample in every)
    assert str(tmp_path / "cats" / "indoor" / "sofa" / "deep.png") in {sample.path for sample in every}
    assert scan.samples("train") == sorted(scan.samples("train"))
    assert scan.samples("test") == []
    assert scan.warnings == ["The classes are imbalanced: 'cats' has 11 images but 'birds' only 5 (2.2x). "
                             "Consider class weights or more images of the smaller classes."]


def test_split_layout_unites_class_sets_and_warns(tmp_path):
    make_split_folders(tmp_path, {
        "train": {"cats": 4, "dogs": 4, "foxes": 3},
        "val": {"cats": 2, "dogs": 2},
        "test": {"cats": 1, "dogs": 1, "owls": 1},
    })

    scan = scan_dataset(tmp_path, val_split=0.5)  # fractions are ignored: the folders decide

    assert scan.layout == "split"
    assert scan.classes == ["cats", "dogs", "foxes", "owls"]
    assert _class_counts(scan, "train") == {"cats": 4, "dogs": 4, "foxes": 3, "owls": 0}
    assert _class_counts(scan, "validation") == {"cats": 2, "dogs": 2, "foxes": 0, "owls": 0}
    assert _class_counts(scan, "test") == {"cats": 1, "dogs": 1, "foxes": 0, "owls": 1}
    assert any("val/ has no images of 'foxes', 'owls'" in warning for warning in scan.warnings)
    assert any("train/ has no images of 'owls'" in warning for warning in scan.warnings)
    assert all(sample.path.startswith(str(tmp_path / "val")) for sample in scan.samples("validation"))
    assert scan.evaluation_samples()[0] == "test"
    assert len(scan.evaluation_samples()[1]) == 3


def test_split_layout_without_validation_folder_carves_it_from_train(tmp_path):
    make_split_folders(tmp_path, {"Train": {"cats": 10, "dogs": 10}, "test": {"cats": 2, "dogs": 2}})

    scan = scan_dataset(tmp_path, val_split=0.2)

    assert scan.layout == "split"
    assert _class_counts(scan, "validation") == {"cats": 2, "dogs": 2}
    assert _class_counts(scan, "train") == {"cats": 8, "dogs": 8}
    assert _class_counts(scan, "test") == {"cats": 2, "dogs": 2}
    assert any("no validation/ folder" in warning for warning in scan.warnings)


def test_a_class_named_train_is_not_a_split(tmp_path):
    make_class_folders(tmp_path, {"train": 3, "bus": 3, "car": 3})  # vehicles, images directly inside
    assert scan_dataset(tmp_path).classes == ["bus", "car", "train"]


def test_flat_layout_takes_classes_from_name_prefixes(tmp_path):
    names = ["cat.1.jpg", "cat.2.jpg", "CAT.3.JPG", "cat_4.png", "dog_7.png", "Dog 3.png", "dog.10.jpeg",
             "dog-11.bmp", "12345.jpg"]
    for index, name in enumerate(names):
        write_noise(tmp_path / name, index)

    scan = scan_dataset(tmp_path, val_split=0.25, seed=3)

    assert scan.layout == "flat"
    assert scan.classes == ["cat", "dog"]
    assert scan.num_images == 8
    assert _class_counts(scan, "validation") == {"cat": 1, "dog": 1}
    assert any("12345.jpg" in warning and "no class prefix" in warning for warning in scan.warnings)
    assert "12345.jpg" not in str(scan.splits)


def test_kaggle_dogs_vs_cats_download_reads_train_as_a_flat_split(tmp_path):
    for index in range(10):
        write_noise(tmp_path / "train" / f"{'cat' if index % 2 else 'dog'}.{index}.jpg", index)
    for index in range(3):
        write_noise(tmp_path / "test1" / f"{index}.jpg", 100 + index)  # unlabelled

    scan = scan_dataset(tmp_path)

    assert scan.layout == "split"
    assert scan.classes == ["cat", "dog"]
    assert scan.counts() == {"train": {"cat": 4, "dog": 4}, "validation": {"cat": 1, "dog": 1}}
    assert any("test1/ was ignored" in warning for warning in scan.warnings)


def test_class_from_filename():
    assert class_from_filename("cat.12.jpg") == "cat"
    assert class_from_filename("dog_7.png") == "dog"
    assert class_from_filename("Dog 3.png") == "dog"
    assert class_from_filename("Ziege1.jpg") == "ziege"
    assert class_from_filename("007.jpg") is None
    assert class_from_filename("_x.jpg") is None


@pytest.mark.parametrize("setup, words", [
    (lambda root: root / "missing", ["does not exist", "one subfolder per class"]),
    (lambda root: save(solid(), root / "one.png"), ["is a file, not a folder"]),
    (lambda root: root, ["is empty", "Expected one subfolder per class"]),
    (lambda root: (root / "notes.txt").write_text("hi") and root, ["no class subfolders with images", "notes.txt"]),
    (lambda root: [(root / name).mkdir() for name in ("a", "b")] and root, ["no class subfolders with images", "a/, b/"]),
    (lambda root: [write_noise(root / f"{i:03d}.jpg", i) for i in range(3)] and root, ["no class prefix", "000.jpg"]),
    (lambda root: make_split_folders(root, {"validation": {"cats": 1, "dogs": 1}}), ["no train/ folder"]),
])
def test_wrong_folders_raise_one_clear_sentence(tmp_path, setup, words):
    root = tmp_path / "data"
    root.mkdir()
    target = setup(root)
    with pytest.raises(DatasetError) as caught:
        scan_dataset(target)
    message = str(caught.value)
    assert str(root) in message
    for word in words:
        assert word in message, message
    assert isinstance(caught.value, ValueError)


def test_all_images_unreadable_is_an_error(tmp_path):
    write_broken(tmp_path / "cats")
    (tmp_path / "dogs").mkdir()
    (tmp_path / "dogs" / "empty.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="None of the 8 image files"):
        scan_dataset(tmp_path)


def test_single_class_scans_with_a_warning(tmp_path):
    make_class_folders(tmp_path, {"PetImages": 4})
    scan = scan_dataset(tmp_path)
    assert scan.classes == ["PetImages"]
    assert any("Only one class ('PetImages')" in warning for warning in scan.warnings)


# --- files -------------------------------------------------------------------------------------


def test_all_formats_are_read_and_upper_case_extensions_accepted(tmp_path):
    writers = {
        "a.jpg": {}, "b.JPEG": {}, "c.png": {}, "d.BMP": {}, "e.gif": {}, "f.webp": {"lossless": True},
        "g.tif": {}, "h.TIFF": {}, "i.ppm": {},
    }
    for index, (name, options) in enumerate(writers.items()):
        save(Image.new("RGB", (20 + index, 10), (index * 20, 0, 0)), tmp_path / "red" / name, **options)
        save(Image.new("RGB", (20 + index, 10), (0, index * 20, 0)), tmp_path / "green" / name, **options)
    save(Image.new("L", (8, 8), 30), tmp_path / "red" / "grey.pgm")
    save(Image.new("CMYK", (8, 8), (0, 200, 200, 0)), tmp_path / "red" / "print.jpg")

    scan = scan_dataset(tmp_path, val_split=0)

    assert scan.unreadable == []
    assert _class_counts(scan, "train") == {"green": 9, "red": 11}
    assert scan.image_size == {"min": [8, 8], "median": [24, 10], "max": [28, 10]}


def test_broken_files_are_listed_with_reasons_and_left_out(tmp_path):
    make_class_folders(tmp_path, {"cats": 3, "dogs": 3})
    expected = write_broken(tmp_path / "cats")
    (tmp_path / "dogs" / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")

    scan = scan_dataset(tmp_path)

    reasons = dict(scan.unreadable)
    assert set(reasons) == {f"cats/{name}" for name in expected} | {"dogs/dangling.jpg"}
    for name, words in expected.items():
        assert words.lower() in reasons[f"cats/{name}"].lower()
    assert "broken link" in reasons["dogs/dangling.jpg"]
    assert [path for path, _ in scan.unreadable] == sorted(reasons)
    assert scan.num_images == 6
    assert not {path for path in reasons} & {rel for split in scan.splits.values() for rel in _rel(scan, split)}
    assert any("8 files could not be read" in warning for warning in scan.warnings)
    assert {entry["path"]: entry["reason"] for entry in scan.report()["unreadable"]} == reasons


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_unreadable(tmp_path):
    make_class_folders(tmp_path, {"cats": 2, "dogs": 2})
    (tmp_path / "dogs" / "huge.png").write_bytes(png_header_claiming(20000, 20000))
    scan = scan_dataset(tmp_path)
    assert scan.unreadable == [("dogs/huge.png", "image is too large (400 megapixels)")]


def test_hidden_system_and_other_files_are_ignored_silently(tmp_path):
    make_class_folders(tmp_path, {"cats": 3, "dogs": 3})
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "cats" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "dogs" / "desktop.ini").write_text("[.ShellClassInfo]")
    (tmp_path / "dogs" / "._dog_000.png").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork
    (tmp_path / "cats" / "notes.txt").write_text("cats are great")
    (tmp_path / "cats" / "labels.csv").write_text("a,b")
    write_noise(tmp_path / "__MACOSX" / "cats" / "copy.png", 99)
    write_noise(tmp_path / ".cache" / "thumb.png", 98)
    write_noise(tmp_path / "cats" / ".hidden" / "secret.png", 97)

    scan = scan_dataset(tmp_path)

    assert scan.classes == ["cats", "dogs"]
    assert scan.num_images == 6
    assert scan.unreadable == []
    assert scan.warnings == []


def test_empty_class_folder_is_reported_and_left_out(tmp_path):
    make_class_folders(tmp_path, {"cats": 3, "dogs": 3})
    (tmp_path / "birds" / "nested").mkdir(parents=True)
    (tmp_path / "birds" / "readme.txt").write_text("todo")

    scan = scan_dataset(tmp_path)

    assert scan.classes == ["cats", "dogs"]
    assert scan.empty_classes == ["birds"]
    assert any("'birds'" in warning and "no readable images" in warning for warning in scan.warnings)
    assert scan.report()["empty_classes"] == ["birds"]


def test_loose_images_next_to_class_folders_are_left_out_with_a_warning(tmp_path):
    make_class_folders(tmp_path, {"cats": 3, "dogs": 3})
    write_noise(tmp_path / "stray.png", 50)
    scan = scan_dataset(tmp_path)
    assert scan.num_images == 6
    assert any("stray.png" in warning and "not in a class folder" in warning for warning in scan.warnings)


def test_symlinks_are_followed_and_loops_do_not_hang(tmp_path):
    outside = tmp_path / "outside"
    write_noise(outside / "linked.png", 70)
    root = make_class_folders(tmp_path / "data", {"cats": 2, "dogs": 2})
    (root / "cats" / "linked.png").symlink_to(outside / "linked.png")
    (root / "cats" / "loop").symlink_to(root / "cats")  # a folder containing itself
    (root / "dogs" / "up").symlink_to(root)  # back to the top: a loop, skipped
    (root / "dogs" / "more").symlink_to(root / "cats")  # a sibling folder: read again, as dogs
    (root / "birds").symlink_to(outside)  # a whole class folder elsewhere

    result: list = []
    worker = threading.Thread(target=lambda: result.append(scan_dataset(root, val_split=0)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "scan_dataset hung on a symlink loop"
    scan = result[0]

    assert _class_counts(scan, "train") == {"birds": 1, "cats": 3, "dogs": 2 + 3}
    # dogs/more/ holds the cat images again: identical files under two classes.
    assert len(scan.duplicates["conflicting_labels"]) == 3
    assert ["cats/cats_000.png", "dogs/more/cats_000.png"] in scan.duplicates["conflicting_labels"]
    assert str(root / "cats" / "linked.png") in scan.info


# --- splitting ---------------------------------------------------------------------------------


def test_split_is_stratified_reproducible_and_seeded(tmp_path):
    make_class_folders(tmp_path, {"a": 50, "b": 20, "c": 7, "d": 2, "e": 1})

    first = scan_dataset(tmp_path, val_split=0.3, test_split=0.1, seed=1)
    again = scan_dataset(tmp_path, val_split=0.3, test_split=0.1, seed=1)
    other = scan_dataset(tmp_path, val_split=0.3, test_split=0.1, seed=2)

    assert first.splits == again.splits
    assert first.samples("validation") != other.samples("validation")
    assert first.counts() == other.counts()
    assert first.counts() == {
        "train": {"a": 30, "b": 12, "c": 4, "d": 1, "e": 1},
        "validation": {"a": 15, "b": 6, "c": 2, "d": 1, "e": 0},
        "test": {"a": 5, "b": 2, "c": 1, "d": 0, "e": 0},
    }
    assert any("'e' has only one image" in warning for warning in first.warnings)
    paths = [sample.path for samples in first.splits.values() for sample in samples]
    assert len(paths) == len(set(paths)) == 80


def test_every_class_with_two_images_gets_a_validation_image(tmp_path):
    make_class_folders(tmp_path, {name: 2 for name in "abcdefgh"})
    scan = scan_dataset(tmp_path, val_split=0.05)
    assert set(_class_counts(scan, "validation").values()) == {1}
    assert set(_class_counts(scan, "train").values()) == {1}


def test_no_split_puts_everything_in_train(tmp_path):
    make_class_folders(tmp_path, {"cats": 4, "dogs": 4})
    scan = scan_dataset(tmp_path, val_split=0, test_split=0)
    assert list(scan.splits) == ["train"]
    assert scan.num_images == 8
    assert scan.evaluation_samples() == ("all", scan.samples("train"))


@pytest.mark.parametrize("arguments", [{"val_split": 1.0}, {"val_split": -0.1}, {"test_split": 2},
                                       {"val_split": 0.6, "test_split": 0.4}])
def test_bad_fractions_are_rejected(tmp_path, arguments):
    make_class_folders(tmp_path, {"cats": 2, "dogs": 2})
    with pytest.raises(ValueError, match="split"):
        scan_dataset(tmp_path, **arguments)


# --- duplicates --------------------------------------------------------------------------------


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())


def test_duplicates_within_across_splits_and_across_classes(tmp_path):
    make_split_folders(tmp_path, {"train": {"cats": 4, "dogs": 4}, "validation": {"cats": 2, "dogs": 2}})
    _copy(tmp_path / "train/cats/cats_000.png", tmp_path / "train/cats/copy.png")  # within a split
    _copy(tmp_path / "train/dogs/dogs_001.png", tmp_path / "validation/dogs/leak.png")  # leakage
    _copy(tmp_path / "train/dogs/dogs_002.png", tmp_path / "validation/dogs/leak2.png")  # leakage
    _copy(tmp_path / "train/cats/cats_003.png", tmp_path / "train/dogs/which.png")  # conflicting labels

    scan = scan_dataset(tmp_path)

    assert scan.duplicates == {
        "within_split": [["train/cats/cats_000.png", "train/cats/copy.png"]],
        "across_splits": [["train/dogs/dogs_001.png", "validation/dogs/leak.png"],
                          ["train/dogs/dogs_002.png", "validation/dogs/leak2.png"]],
        "conflicting_labels": [["train/cats/cats_003.png", "train/dogs/which.png"]],
        "num_groups": 4,
    }
    text = " ".join(scan.warnings)
    assert "2 images in validation are identical to training images" in text
    assert "conflicting labels" in text
    assert "exact copy" in text
    assert scan.num_images == 16  # duplicates stay


def test_proposed_split_keeps_identical_images_together(tmp_path):
    make_class_folders(tmp_path, {"cats": 20, "dogs": 20})
    for index in range(5):
        _copy(tmp_path / f"cats/cats_{index:03d}.png", tmp_path / f"cats/copy_{index}.png")

    for seed in range(5):
        scan = scan_dataset(tmp_path, seed=seed)
        assert scan.duplicates["across_splits"] == []
        assert len(scan.duplicates["within_split"]) == 5
        assert not any("identical to training" in warning for warning in scan.warnings)


# --- reporting, progress, safety -----------------------------------------------------------------


def test_report_is_json_serialisable_with_the_contract_keys(tmp_path):
    make_class_folders(tmp_path, {"cats": 6, "dogs": 2})
    write_broken(tmp_path / "dogs")

    report = json.loads(json.dumps(scan_dataset(tmp_path).report()))

    assert set(report) == REPORT_KEYS
    assert report["layout"] == "class_folders"
    assert report["splits"] == {"train": {"cats": 5, "dogs": 1}, "validation": {"cats": 1, "dogs": 1}}
    assert report["num_images"] == 8
    assert set(report["unreadable"][0]) == {"path", "reason"}
    assert set(report["duplicates"]) == {"within_split", "across_splits", "conflicting_labels", "num_groups"}
    assert report["image_size"] == {"min": [16, 16], "median": [16, 16], "max": [16, 16]}
    assert report["suggested_input_size"] == 32
    assert any("imbalanced" in warning and "3.0x" in warning for warning in report["warnings"])


def test_suggested_input_size_rule():
    assert suggest_input_size([(500, 375)] * 3) == 224  # clamped
    assert suggest_input_size([(43, 45), (30, 60), (100, 41)]) == 40  # median short side 41
    assert suggest_input_size([(12, 12)]) == 32
    assert suggest_input_size([(150, 100), (130, 90), (4000, 3000)]) == 104  # median short 100
    assert suggest_input_size([]) == 224


def test_native_flags_are_recorded(tmp_path):
    save(solid((10, 20, 30), (16, 16)), tmp_path / "a" / "plain.jpg")
    save(Image.new("RGBA", (16, 16), (1, 2, 3, 100)), tmp_path / "a" / "alpha.png")
    save(solid((10, 20, 30), (16, 16)), tmp_path / "b" / "plain.png")
    save(solid((10, 20, 30), (16, 16)), tmp_path / "b" / "bitmap.bmp")
    scan = scan_dataset(tmp_path, val_split=0)
    native = {Path(path).name: scan.is_native(path) for path in scan.info}
    assert native == {"plain.jpg": True, "alpha.png": False, "plain.png": True, "bitmap.bmp": False}
    assert scan.is_native(tmp_path / "a" / "plain.jpg") is True
    assert scan.is_native(tmp_path / "unknown.jpg") is False


class _Recorder(ProgressListener):
    def __init__(self, cancel_after=None, token=None):
        self.stages, self.steps = [], []
        self._cancel_after, self._token = cancel_after, token

    def on_stage(self, name, total=None):
        self.stages.append((name, total))

    def on_step(self, done, total):
        self.steps.append((done, total))
        if self._cancel_after is not None and done >= self._cancel_after:
            self._token.cancel()


def test_listener_gets_stage_and_steps(tmp_path):
    make_class_folders(tmp_path, {"cats": 6, "dogs": 6})
    write_broken(tmp_path / "dogs")
    recorder = _Recorder()

    scan_dataset(tmp_path, listener=recorder)

    assert recorder.stages == [("scan", 19)]
    assert recorder.steps[-1] == (19, 19)
    assert [done for done, _ in recorder.steps] == sorted(done for done, _ in recorder.steps)


def test_cancel_stops_the_scan(tmp_path):
    make_class_folders(tmp_path, {"cats": 200, "dogs": 200})
    token = CancelToken()
    recorder = _Recorder(cancel_after=1, token=token)
    with pytest.raises(Cancelled):
        scan_dataset(tmp_path, listener=recorder, cancel=token)
    assert recorder.steps[-1][0] < 400

    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        scan_dataset(tmp_path, cancel=token)


def test_dataset_folder_is_left_unchanged(tmp_path):
    root = make_split_folders(tmp_path / "data", {"train": {"cats": 5, "dogs": 5}, "validation": {"cats": 2}})
    write_broken(root / "train" / "cats")
    (root / ".DS_Store").write_bytes(b"junk")
    (root / "train" / "dogs" / "link.png").symlink_to(root / "train" / "cats" / "cats_000.png")
    before = snapshot(root)

    scan = scan_dataset(root, val_split=0.3, test_split=0.2)
    scan.report()
    scan_dataset(root / "train")

    assert snapshot(root) == before
    assert sorted(os.listdir(tmp_path)) == ["data"]


def test_collect_images_from_files_and_folders(tmp_path):
    make_class_folders(tmp_path / "photos", {"a": 2, "b": 1})
    (tmp_path / "photos" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "photos" / "a" / "notes.txt").write_text("x")
    single = write_noise(tmp_path / "single.JPG", 5)
    (tmp_path / "readme.md").write_text("x")

    (tmp_path / "photos" / "b" / "again").symlink_to(tmp_path / "photos")  # loop, and files seen twice
    files, skipped = collect_images([
        str(single), tmp_path / "photos", str(tmp_path / "missing.png"), str(tmp_path / "readme.md"), str(single),
    ])

    assert files == [str(single)] + [str(tmp_path / "photos" / rel) for rel in ("a/a_000.png", "a/a_001.png",
                                                                               "b/b_000.png")]
    reasons = dict(skipped)
    assert reasons[str(tmp_path / "missing.png")] == "does not exist"
    assert "not an image" in reasons[str(tmp_path / "readme.md")]


# --- real data -----------------------------------------------------------------------------------


def test_real_flowers_dataset():
    scan = scan_dataset(shared_path("datasets", "flowers"))

    assert scan.layout == "class_folders"
    assert scan.classes == ["daisy", "dandelion", "rose", "sunflower", "tulip"]
    assert scan.num_images == 4317
    assert set(scan.splits) == {"train", "validation"}
    assert len(scan.samples("train")) + len(scan.samples("validation")) == 4317
    assert abs(len(scan.samples("validation")) / 4317 - 0.2) < 0.01
    assert scan.unreadable == []
    assert 32 <= scan.suggested_input_size <= 224
    json.dumps(scan.report())


def test_real_traffic_signs_dataset():
    scan = scan_dataset(shared_path("datasets", "traffic_signs"))
    assert scan.layout == "split"
    assert len(scan.classes) == 10
    assert scan.samples("train") and scan.samples("validation")
    assert Counter(Path(sample.path).suffix for sample in scan.samples("train")) == {".png": len(scan.samples("train"))}


def test_leakage_advice_fits_who_made_the_split(tmp_path):
    """When the program made the split, copies across splits are copies in different classes
    (a class's copies stay together): the advice is about the classes, not the splits."""
    make_class_folders(tmp_path, {"cats": 20, "dogs": 20})
    for index in range(20):
        _copy(tmp_path / f"cats/cats_{index:03d}.png", tmp_path / f"dogs/cat_{index}.png")
    text = " ".join(scan_dataset(tmp_path, seed=1).warnings)
    assert "identical to training images" in text
    assert "keep each picture in one class only" in text
    assert "one of the splits" not in text


def test_picture_warnings_name_their_pictures_and_fit_who_split(tmp_path):
    """Each warning about pictures carries the pictures (relative paths) so the app can show
    them; the advice says who made the split and what leaving copies out would leave out."""
    yours = tmp_path / "yours"
    make_split_folders(yours, {"train": {"cats": 4, "dogs": 4}, "validation": {"cats": 2, "dogs": 2}})
    _copy(yours / "train/dogs/dogs_001.png", yours / "validation/dogs/leak.png")
    _copy(yours / "train/cats/cats_003.png", yours / "train/dogs/which.png")
    write_broken(yours / "train/cats")
    records = {record["kind"]: record for record in scan_dataset(yours).picture_warnings}
    leak = records["leakage"]
    assert leak["split_by"] == "you" and leak["groups"] == [["train/dogs/dogs_001.png",
                                                             "validation/dogs/leak.png"]]
    assert leak["exclude"] == ["train/dogs/dogs_001.png"]  # the training copy
    assert "your own folders" in leak["text"] and "leave the training copies out" in leak["text"]
    assert records["conflicts"]["groups"] == [["train/cats/cats_003.png", "train/dogs/which.png"]]
    unreadable = records["unreadable"]
    assert unreadable["groups"][0] and set(unreadable["reasons"]) == set(unreadable["groups"][0])
    assert all(path.startswith("train/cats/") for path in unreadable["groups"][0])

    made = tmp_path / "made"
    make_class_folders(made, {"cats": 20, "dogs": 20})
    for index in range(3):
        _copy(made / f"cats/cats_{index:03d}.png", made / f"cats/copy_{index}.png")
    scan = scan_dataset(made, seed=1)
    records = {record["kind"]: record for record in scan.picture_warnings}
    copies = records["copies"]
    assert copies["split_by"] == "app" and len(copies["groups"]) == 3
    assert "Nothing needs doing" in copies["text"] and "one side of the split" in copies["text"]
    assert "leakage" not in records
    near = records["near_duplicates"]  # a note, not a warning
    assert near["level"] == "info" and near["text"] not in scan.warnings
    assert ["cats/cats_000.png", "cats/copy_0.png"] in near["groups"]
    assert json.loads(json.dumps(scan.report()))["picture_warnings"] == scan.picture_warnings
