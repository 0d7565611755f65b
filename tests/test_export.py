"""`python main.py export`: every format from a small run trained on real traffic signs, each
folder's standalone predict.py run in a subprocess and compared with `python main.py predict`;
a bfloat16 two-class run and a fusion with EfficientNet; and the sentences bad input gets."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, shared_path
from core.cli import main as cli_main
from core.training import TrainingConfig, train

pytestmark = pytest.mark.slow

FORMATS = ("savedmodel", "tflite", "tflite-fp16", "onnx", "tflite-int8")
CLASSES = ("00000", "00001", "00002", "00003")


@pytest.fixture(scope="module")
def signs(tmp_path_factory):
    """Four classes of the real traffic signs (train/ and validation/), copied."""
    source = shared_path("datasets", "traffic_signs")
    root = tmp_path_factory.mktemp("signs") / "signs"
    for split in ("train", "validation"):
        for label in CLASSES:
            shutil.copytree(source / split / label, root / split / label)
    return root


@pytest.fixture(scope="module")
def lenet_run(signs, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lenet"
    train(TrainingConfig(str(signs), str(out), model="lenet", image_size=32, epochs=6,
                         batch_size=32, optimizer="adam", augment="none", seed=1))
    return out


@pytest.fixture(scope="module")
def exported(lenet_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "signs"
    code = cli_main(["export", str(lenet_run), "--format", "all", "--out", str(out), "--json"])
    assert code == 0
    return out


def _csv_labels(text: str) -> dict:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    return {os.path.basename(row["path"]): row["label"] for row in rows}


def test_every_format_predicts_like_the_app(exported, lenet_run, signs, tmp_path):
    pictures = signs / "validation"
    table = tmp_path / "app.csv"
    app = subprocess.run([sys.executable, "main.py", "predict", str(lenet_run), str(pictures),
                          "--csv", str(table)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=300)
    assert app.returncode == 0, app.stderr[-2000:]
    expected = _csv_labels(table.read_text(encoding="utf-8-sig"))
    assert len(expected) >= 20
    # predict.py runs from a copy elsewhere, with nothing of this project importable.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    for name in FORMATS:
        folder = exported / name
        info = json.loads((folder / "model.json").read_text())
        assert info["format"] == name and info["class_names"] == list(CLASSES)
        assert info["input"]["size"] == [32, 32] and info["input"]["channel_order"] == "RGB"
        assert info["input"]["value_range"] == [0, 255]
        assert info["parity"]["passed"] and info["parity"]["split"] == "validation"
        assert info["file_size_bytes"] > 1000 and info["validation_accuracy"] is not None
        assert (folder / "labels.txt").read_text().split() == list(CLASSES)
        assert "predict.py" in (folder / "README.md").read_text()
        assert info["output"]["name"] == ("output_0" if name == "savedmodel" else "probabilities")
        source = (folder / "predict.py").read_text()
        assert "from core" not in source and "import core" not in source
        copy = tmp_path / name
        shutil.copytree(folder, copy)
        out = subprocess.run([sys.executable, str(copy / "predict.py"), str(pictures)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.splitlines()[0] == "path,label,probability"
        labels = _csv_labels(out.stdout)
        assert labels.keys() == expected.keys()
        same = sum(labels[key] == expected[key] for key in expected) / len(expected)
        if name == "tflite-int8":
            assert same >= 0.9, name
            assert info["input"]["dtype"] == "uint8" and info["parity"]["top1_agreement"] >= 0.98
        else:
            assert same == 1.0, name
    float_parity = json.loads((exported / "onnx" / "model.json").read_text())["parity"]
    assert float_parity["top1_agreement"] == 1.0
    assert float_parity["max_probability_difference"] < 1e-4


def test_a_bfloat16_two_class_run_exports_in_float32(tmp_path):
    source = shared_path("datasets", "cats_dogs")
    data = tmp_path / "pets"
    for split, count in (("train", 30), ("validation", 15)):
        for label in ("cats", "dogs"):
            (data / split / label).mkdir(parents=True)
            for path in sorted((source / split / label).iterdir())[:count]:
                shutil.copy(path, data / split / label / path.name)
    run = tmp_path / "compact"
    train(TrainingConfig(str(data), str(run), model="compact_cnn", image_size=64, epochs=1,
                         augment="none", precision="mixed_bfloat16", seed=2))
    from core.export.exporter import export_run

    result = export_run(run, "tflite", tmp_path / "out")
    (item,) = result["formats"]
    info = json.loads((tmp_path / "out" / "model.json").read_text())
    assert info["output"]["shape"] == [None, 2]  # one sigmoid unit -> two probabilities
    assert info["source_run"]["dtype_policy"] == "mixed_bfloat16"
    assert "bfloat16" in info["parity"]["note"] and item["parity"]["passed"]


def test_a_fusion_with_efficientnet_exports_to_onnx(tmp_path):
    """Keras's own ONNX export leaves EfficientNet's normalisation constants as graph inputs."""
    weights = shared_path("weights", "mobilenet_v2_0.35_imagenet_notop.weights.h5")
    source = shared_path("datasets", "cats_dogs")
    data = tmp_path / "pets"
    for split, count in (("train", 12), ("validation", 6)):
        for label in ("cats", "dogs"):
            (data / split / label).mkdir(parents=True)
            for path in sorted((source / split / label).iterdir())[:count]:
                shutil.copy(path, data / split / label / path.name)
    run = tmp_path / "fusion"
    train(TrainingConfig(str(data), str(run), model="mobilenet_v2+efficientnet_b0",
                         image_size=64, epochs=1, batch_size=8, augment="none", seed=4,
                         extra={"weights": f"mobilenet_v2={weights},efficientnet_b0=none",
                                "alpha": 0.35, "cache_dir": str(tmp_path / "cache")}))
    from core.export.exporter import export_run

    result = export_run(run, "onnx", tmp_path / "out")
    assert result["formats"][0]["parity"]["max_probability_difference"] < 1e-4


def _error(argv, capsys) -> str:
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]  # after the progress lines
    assert message.startswith("error: ")
    return message


def test_bad_input_gets_one_sentence(lenet_run, signs, tmp_path, capsys, monkeypatch):
    run = str(lenet_run)
    assert "Unknown export format 'coreml'" in _error(
        ["export", run, "--format", "coreml", "--out", str(tmp_path / "x")], capsys)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert "is a file" in _error(["export", run, "--format", "tflite", "--out", str(a_file)],
                                 capsys)
    assert "inside the dataset" in _error(
        ["export", run, "--format", "tflite", "--out", str(signs / "exports")], capsys)
    untrained = tmp_path / "untrained"
    shutil.copytree(lenet_run, untrained,
                    ignore=shutil.ignore_patterns("*.keras"))
    assert "holds no trained model" in _error(
        ["export", str(untrained), "--format", "tflite", "--out", str(tmp_path / "y")], capsys)
    assert "--data" in _error(["export", run, "--format", "tflite", "--out", str(tmp_path / "z"),
                               "--data", str(tmp_path / "gone")], capsys)

    import core.export.formats as formats

    real = formats.importlib.util.find_spec
    monkeypatch.setattr(formats.importlib.util, "find_spec",
                        lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    message = _error(["export", run, "--format", "onnx", "--out", str(tmp_path / "o")], capsys)
    assert "tf2onnx" in message and 'pip install -e ".[export]"' in message
    assert not (tmp_path / "o").exists()


def test_formats_that_disagree_are_not_saved_and_the_others_are(lenet_run, tmp_path, capsys,
                                                                  monkeypatch):
    import core.export.formats as formats

    for name in ("tflite-fp16", "tflite-int8"):
        strict = formats.ExportFormat(**{**formats.FORMATS[name].__dict__, "min_agreement": 1.01})
        monkeypatch.setitem(formats.FORMATS, name, strict)
    out = tmp_path / "all"
    message = _error(["export", str(lenet_run), "--format", "all", "--out", str(out)], capsys)
    assert "The tflite-fp16 model did not pass its check and was not saved" in message
    assert "tflite-int8 did not pass either" in message
    assert f"savedmodel, tflite, onnx were written to {out}" in message
    assert not (out / "tflite-fp16").exists() or not list((out / "tflite-fp16").iterdir())
    assert not list((out / "tflite-int8").rglob("*.tflite"))
    assert (out / "tflite" / "model.tflite").is_file() and (out / "onnx" / "model.onnx").is_file()
