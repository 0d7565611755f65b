"""Arguments, damaged settings and a sick machine give one sentence and exit status 2, never a
traceback: sizes beyond the limits, unreadable images, config.json with values of the wrong
kind, a full or read-only disk; and the sentences say what a person needs to know."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.cli import main
from core.runs.layout import MAX_IMAGE_SIZE
from core.runs.run import Run
from imagefactory import make_class_folders
from cli_checks import one_line_error


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_class_folders(tmp_path_factory.mktemp("data") / "data", {"cats": 6, "dogs": 6})


TINY = ["--model", "lenet", "--image-size", "16", "--batch-size", "4", "--augment", "none",
        "--optimizer", "adam"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory, data):
    """A finished one-epoch run with its checkpoint."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert main(["train", str(data), "--out", str(out), "--epochs", "1", *TINY]) == 0
    return out


@pytest.fixture
def run_copy(finished, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    return out


# --- sizes --------------------------------------------------------------------------------------


def test_the_largest_training_size_is_the_largest_a_run_opens_with(tmp_path, data, capsys):
    assert main(["train", str(data), "--out", str(tmp_path / "big"), "--image-size",
                 str(MAX_IMAGE_SIZE + 1)]) == 2
    assert f"{MAX_IMAGE_SIZE} px" in one_line_error(capsys)
    assert not (tmp_path / "big").exists()
    for size, opens in ((MAX_IMAGE_SIZE, True), (MAX_IMAGE_SIZE + 1, False)):
        folder = tmp_path / f"run{size}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(
            {"format_version": 1, "model": "lenet", "image_size": size, "labels": ["a", "b"]}))
        try:
            Run.open(folder)
            assert opens
        except ValueError:
            assert not opens


def test_augment_preview_refuses_unreadable_images_huge_tiles_and_a_dataset_folder(
        data, tmp_path, capsys):
    bad = tmp_path / "in" / "bad.jpg"
    bad.parent.mkdir()
    bad.write_text("not an image")
    image = data / "cats" / "cats_000.png"
    assert main(["augment-preview", str(bad), "--out", str(tmp_path / "out" / "g.png")]) == 2
    assert "bad.jpg" in one_line_error(capsys)
    assert main(["augment-preview", str(image), "--out", str(tmp_path / "g.png"),
                 "--size", "100000"]) == 2
    assert "--size 100000" in one_line_error(capsys)
    assert main(["augment-preview", str(image), "--out", str(data / "cats" / "grid.png")]) == 2
    assert "inside" in one_line_error(capsys)
    assert not (data / "cats" / "grid.png").exists()


# --- config.json of the wrong kind, on --resume ----------------------------------------------------


@pytest.mark.parametrize("change,words", [
    (lambda c: c["training"].update(val_split="abc"), "val_split is 'abc'"),
    (lambda c: c["training"].update(seed="x"), "seed is 'x'"),
    (lambda c: c["training"].update(seed=-1), "seed -1"),
    (lambda c: c["training"].update(early_stopping=2.5), "early_stopping is 2.5"),
    (lambda c: c["training"].update(extra=[1]), "extra is [1]"),
    (lambda c: c["training"].pop("data_dir"), "no data_dir"),
    (lambda c: c.update(training=[1, 2]), "training settings are list"),
    (lambda c: c.update(dataset="cats"), "dataset is str"),
    (lambda c: c.update(best=[0.5]), "best is list"),
])
def test_resume_names_the_damaged_setting(run_copy, capsys, change, words):
    path = run_copy / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))
    before = (run_copy / "best.keras").read_bytes()
    assert main(["train", "--resume", str(run_copy), "--epochs", "3"]) == 2
    error = one_line_error(capsys)
    assert words in error and "config.json is damaged" in error
    assert (run_copy / "best.keras").read_bytes() == before


def test_resume_after_a_kill_while_saving_the_first_checkpoint_points_at_best(run_copy, capsys):
    (run_copy / "last.keras").unlink()  # killed while last.keras was being written
    assert main(["train", "--resume", str(run_copy), "--epochs", "3"]) == 2
    error = one_line_error(capsys)
    assert "best.keras (epoch 1) can be used" in error and "first epoch ended" not in error


def test_resume_replaces_a_damaged_best_model_by_the_checkpoint(run_copy, capsys):
    best = run_copy / "best.keras"
    best.write_bytes(best.read_bytes()[:200])
    assert main(["train", "--resume", str(run_copy), "--epochs", "2"]) == 0
    assert "best.keras was missing or damaged" in capsys.readouterr().err
    run = Run.open(run_copy)
    run.load_model("best")
    assert run.config["status"] == "finished" and run.config["best"]["epoch"] in (1, 2)


# --- the data: say why a class is empty, and what a validation split lacks ----------------------------


def test_a_class_of_heic_files_says_the_format_is_not_supported(tmp_path, capsys):
    data = make_class_folders(tmp_path / "data", {"cats": 6})
    (data / "dogs").mkdir()
    for i in range(3):
        (data / "dogs" / f"phone{i}.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(40))
    assert main(["train", str(data), "--out", str(tmp_path / "run"), *TINY]) == 2
    error = one_line_error(capsys)
    assert "only HEIC images" in error and "convert them to JPEG or PNG" in error


def test_a_validation_split_without_some_classes_is_pointed_out(tmp_path, capsys):
    data = make_class_folders(tmp_path / "data", {"cats": 8, "dogs": 1})
    assert main(["train", str(data), "--out", str(tmp_path / "run"), "--epochs", "1",
                 *TINY]) == 0
    captured = capsys.readouterr()
    assert "The validation split has no images of 'dogs'" in captured.err
    assert "(of the classes it holds)" in captured.out


# --- a full or read-only disk (a real tmpfs; skipped where mounting is not allowed) ---------------


@pytest.fixture
def small_disk(tmp_path):
    mounted = []

    def mount(size: str, read_only: bool = False) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a small disk here ({result.stderr.strip()})")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], capture_output=True)


def test_a_full_disk_is_a_sentence_naming_the_folder_and_the_run_says_failed(
        data, small_disk, capsys):
    out = small_disk("96k") / "run"
    assert main(["train", str(data), "--out", str(out), "--epochs", "1", *TINY]) == 2
    error = one_line_error(capsys)
    assert f"The disk holding {out} is full" in error
    assert Run.open(out).status == "failed"


def test_a_read_only_disk_is_called_read_only(data, small_disk, capsys):
    out = small_disk("1m", read_only=True) / "run"
    assert main(["train", str(data), "--out", str(out), *TINY]) == 2
    assert "the disk is read-only" in one_line_error(capsys)
