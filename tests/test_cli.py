"""The command-line contract: subcommands, JSON shapes, exit status 2 with one clear line."""
import json
import subprocess
import sys

import pytest

from conftest import PROJECT_ROOT
from core.cli import main


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_inspect_json_shape(capsys, demo_dataset):
    report = run_json(capsys, "inspect", str(demo_dataset))
    assert {"layout", "classes", "splits", "unreadable", "duplicates", "image_size",
            "suggested_input_size"} <= set(report)
    assert report["layout"] == "class_folders"
    assert sum(sum(c.values()) for c in report["splits"].values()) == 180


def test_train_then_runs_evaluate_predict(capsys, demo_dataset, tmp_path):
    out = tmp_path / "runs" / "cli"
    result = run_json(capsys, "train", str(demo_dataset), "--out", str(out), "--model", "lenet",
                      "--image-size", "32", "--epochs", "2", "--batch-size", "16",
                      "--optimizer", "adam", "--lr", "0.001", "--augment", "light",
                      "--val-split", "0.25", "--seed", "5")
    assert result["status"] == "finished" and (out / "best.keras").is_file()
    listed = run_json(capsys, "runs", str(tmp_path / "runs"))
    assert listed[0]["name"] == "cli" and listed[0]["best_val_accuracy"] is not None
    report = run_json(capsys, "evaluate", str(out), str(demo_dataset))
    assert {"accuracy", "loss", "n", "labels", "per_class", "confusion", "misclassified"} <= set(report)
    cams = tmp_path / "cams"
    predictions = run_json(capsys, "predict", str(out), str(demo_dataset / "circle"),
                           "--cam", str(cams))
    assert len(predictions) == 60
    for item in predictions:
        assert {"path", "label", "probability", "top", "cam"} <= set(item)
        assert item["cam"] and (cams / item["cam"].split("/")[-1]).is_file()


def test_augment_preview_writes_a_grid(capsys, demo_dataset, tmp_path):
    image = sorted((demo_dataset / "square").iterdir())[0]
    out = tmp_path / "grid.png"
    assert main(["augment-preview", str(image), "--out", str(out), "--n", "4", "--size", "48"]) == 0
    from core.data.imageio import read_image
    grid = read_image(out)
    assert grid.shape[0] > 48 * 2 and grid.shape[1] > 48 * 2


@pytest.mark.parametrize("argv,needle", [
    (["inspect", "/no/such/folder"], "does not exist"),
    (["train", "/no/such/folder", "--out", "x"], "does not exist"),
    (["train", "."], "--out"),
    (["evaluate", "/no/such/run", "."], "not a run folder"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err


def test_subprocess_error_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "main.py", "predict", str(tmp_path / "none"),
                           str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().startswith("error:")


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "inspect" in capsys.readouterr().out
