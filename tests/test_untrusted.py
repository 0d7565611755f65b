"""Shared run folders and exports are untrusted: no code from a model file runs, nothing is
unpickled, names from labels and files cannot leave the output folder, and CSV cells never
become spreadsheet formulas."""
from __future__ import annotations

import ast
import csv
import io
import json
import os
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import PROJECT_ROOT
from core.cli import main
from core.runs.export import (export_predictions_csv, output_path, read_predictions_csv,
                              safe_filename, spreadsheet_safe)
from core.runs.run import Run
from core.errors import RunError
from core.runs.archive import check_model_archive
from hostile import lenet, make_run_folder

ENGINE_FOLDERS = ("core", "gui")


# --- models carrying code ----------------------------------------------------------------------


def lambda_model(marker: Path, image_size: int = 16):
    """A classifier whose Lambda layer, if ever called, writes ``marker``."""
    import keras
    from keras import layers

    def touch_marker(tensor):
        marker.write_text("the model's code ran")
        return tensor * 2.0

    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Lambda(lambda tensor: touch_marker(tensor), name="sneaky")(inputs)
    x = layers.Flatten()(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    marker.unlink()  # building the model called it once; loading must not
    return model


def test_a_lambda_layer_is_refused_with_a_plain_sentence(tmp_path):
    marker = tmp_path / "marker.txt"
    run_dir = make_run_folder(tmp_path / "shared run", lambda_model(marker))
    with pytest.raises(RunError) as caught:
        Run.open(run_dir).load_model()
    message = str(caught.value)
    assert message.startswith("This model contains Python code (a Lambda layer) and was not loaded, "
                              "for your safety")
    assert "Traceback" not in message and "\n" not in message
    assert not marker.exists(), "code from the model file ran"


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_cli_refuses_a_lambda_model_in_one_line(tmp_path, capsys, command):
    from imagefactory import make_class_folders

    marker = tmp_path / "marker.txt"
    run_dir = make_run_folder(tmp_path / "run", lambda_model(marker))
    data = make_class_folders(tmp_path / "data", {"cats": 2, "dogs": 2})
    assert main([command, str(run_dir), str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Lambda layer" in err and "Traceback" not in err
    assert not marker.exists()


def test_keras_safe_mode_alone_also_refuses_lambda(tmp_path, monkeypatch):
    """If our archive check were bypassed, Keras safe mode still stops the code."""
    marker = tmp_path / "marker.txt"
    run_dir = make_run_folder(tmp_path / "run", lambda_model(marker))
    monkeypatch.setattr("core.runs.run.check_model_archive", lambda path: None)
    with pytest.raises(RunError, match="(?i)lambda"):
        Run.open(run_dir).load_model()
    assert not marker.exists()


def rewrite_archive(path: Path, edit) -> None:
    """Apply ``edit(config_dict)`` to the config.json inside a .keras file."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_an_unknown_custom_class_is_refused(tmp_path):
    run_dir = make_run_folder(tmp_path / "run", lenet())

    def smuggle(config):
        dense = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")
        dense.update(module="os", class_name="system", registered_name="os>system")

    rewrite_archive(run_dir / "best.keras", smuggle)
    with pytest.raises(RunError, match=r"custom component \(os\.system\).*for your safety"):
        Run.open(run_dir).load_model()


def test_our_own_models_pass_the_archive_check(tmp_path):
    run_dir = make_run_folder(tmp_path / "run", lenet())
    check_model_archive(run_dir / "best.keras")
    assert Run.open(run_dir).load_model().output_shape == (None, 1)


# --- never unpickle, always safe mode: checked in the source -----------------------------------


def engine_sources():
    for folder in ENGINE_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def call_name(node: ast.Call) -> str:
    parts, target = [], node.func
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if isinstance(target, ast.Name):
        parts.append(target.id)
    return ".".join(reversed(parts))


def keyword(node: ast.Call, name: str):
    for item in node.keywords:
        if item.arg == name:
            return item.value
    return None


def test_no_pickle_anywhere_in_the_engine_or_gui():
    banned = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
    problems = []
    for path, tree in engine_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                problems += [f"{path}: import {a.name}" for a in node.names
                             if a.name.split(".")[0] in banned]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in banned:
                problems.append(f"{path}: from {node.module} import ...")
            elif isinstance(node, ast.Call):
                name = call_name(node)
                if name.endswith(("read_pickle", "torch.load")):
                    problems.append(f"{path}:{node.lineno}: {name}")
                if name in ("np.load", "numpy.load"):
                    flag = keyword(node, "allow_pickle")
                    if not (isinstance(flag, ast.Constant) and flag.value is False):
                        problems.append(f"{path}:{node.lineno}: np.load without allow_pickle=False")
    assert not problems, problems


def test_every_model_load_uses_safe_mode():
    loads, problems = 0, []
    for path, tree in engine_sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            if name.endswith("enable_unsafe_deserialization"):
                problems.append(f"{path}:{node.lineno}: {name}")
            if name.endswith("load_model") and name.startswith(("keras", "tf.keras")):
                loads += 1
                flag = keyword(node, "safe_mode")
                if not (isinstance(flag, ast.Constant) and flag.value is True):
                    problems.append(f"{path}:{node.lineno}: {name} without safe_mode=True")
    assert loads >= 1 and not problems, problems


# --- names that must stay inside the output folder ---------------------------------------------

HOSTILE_NAMES = ["../../etc", "a/b", "CON", "con.txt", "NUL.png", "com1", "LPT9.jpg", "..", ".",
                 "", "   ", "...", "\x00", "a\\b", "..\\..\\windows", "C:evil", "/etc/passwd",
                 "~/x", ".hidden", "trailing. ", "name\nwith\nlines", "tab\tname", "x" * 400,
                 "猫" * 200, "caf\udce9", "?*<>|\":", "=cmd|' /C calc'!A0", "-rf", "$(reboot)"]


def assert_safe(name: str) -> None:
    assert name and name not in (".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith((".", " ")) and not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= 120
    assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    assert not any(ord(ch) < 32 for ch in name)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_filename_cannot_escape_or_be_reserved(tmp_path, name):
    safe = safe_filename(name)
    assert_safe(safe)
    for subfolder in (None, name):
        path = output_path(tmp_path / "out", name, ".png", subfolder=subfolder)
        assert (tmp_path / "out").resolve() in path.resolve().parents
        path.write_bytes(b"x")  # a valid file name on this system
    assert safe_filename("../../etc") == "etc" and safe_filename("a/b") == "a_b"
    assert safe_filename("CON") == "_CON"


def test_safe_filename_random_garbage(tmp_path):
    rng = random.Random(11)
    alphabet = "./\\:*?\"<>| \t\n\x00\x7f.aZ猫é-_=+@" + "".join(chr(c) for c in range(0xdc80, 0xdc90))
    for _ in range(500):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert_safe(safe_filename(name))
        assert (tmp_path).resolve() in output_path(tmp_path, name, ".png").resolve().parents


def test_heatmap_overlays_get_safe_unique_names(tmp_path):
    from core.inference.prediction import Predictor, save_heatmap_overlay

    run_dir = make_run_folder(tmp_path / "run", lenet(), labels=["../../etc/cron.d", "CON"])
    predictor = Predictor(run_dir)
    image = np.full((20, 24, 3), 128, np.uint8)
    out = tmp_path / "heatmaps"
    written = []
    for path_name in ("../../escape.png", "CON.jpg", "/abs/../x/.hidden.png", "../../escape.png"):
        result = predictor.predict_arrays([image])[0]
        entry = {"path": path_name, "label": predictor.labels[0], "probability": float(result.max()),
                 "class_index": 0}
        written.append(save_heatmap_overlay(predictor, image, entry, out)[0])
    assert all(path.parent == out for path in written) and len(set(written)) == 4
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert [p.name for p in written][:2] == ["escape_gradcam.png", "CON_gradcam.png"]  # not reserved
    assert not (tmp_path / "escape_gradcam.png").exists()


# --- spreadsheet-safe CSV -----------------------------------------------------------------------


@pytest.mark.parametrize("cell,expected", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("  =1", "'  =1"), ("'quoted", "''quoted"),
    ("cat", "cat"), ("a=b", "a=b"), ("", ""), (0.25, 0.25), (-1.5, -1.5), (None, None),
])
def test_spreadsheet_safe(cell, expected):
    assert spreadsheet_safe(cell) == expected


def test_export_neutralises_formulas_and_reads_back_exactly(tmp_path):
    results = [
        {"path": "=HYPERLINK(\"http://evil\",\"click\").png", "label": "=cmd|' /C calc'!A0",
         "probability": 0.75, "top": [["=cmd|' /C calc'!A0", 0.75], ["@dogs", 0.25]], "error": None},
        {"path": "-2+3.png", "label": None, "probability": None, "top": [],
         "error": "+not an image"},
        {"path": "猫/caf\udce9.png", "label": "cats", "probability": 1.0,
         "top": [["cats", 1.0]], "error": None, "cam": "@x.png"},
    ]
    path = export_predictions_csv(tmp_path / "predictions.csv", results)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["path", "label", "probability", "top", "error", "heatmap"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert rows[1][1] == "'=cmd|' /C calc'!A0" and rows[1][2] == "0.750000"
    back = read_predictions_csv(path)
    assert back[0]["path"] == results[0]["path"] and back[0]["label"] == results[0]["label"]
    assert back[0]["top"] == [["=cmd|' /C calc'!A0", 0.75], ["@dogs", 0.25]]
    assert back[1]["error"] == "+not an image" and back[1]["label"] is None
    assert back[2]["path"] == "猫/caf\ufffd.png" and back[2]["cam"] == "@x.png"
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]  # no temporary left


def test_a_failed_export_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "predictions.csv"
    export_predictions_csv(path, [{"path": "a.png", "label": "cats", "probability": 1.0,
                                   "top": [["cats", 1.0]], "error": None}])
    before = path.read_bytes()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        export_predictions_csv(path, [])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]


def test_cli_predict_csv(tmp_path, capsys):
    from imagefactory import write_noise

    run_dir = make_run_folder(tmp_path / "run", lenet(), labels=["=evil()", "dogs"])
    images = tmp_path / "images"
    write_noise(images / "@first.png", 1)
    write_noise(images / "second.jpg", 2)
    (images / "broken.jpg").write_bytes(b"")
    table = tmp_path / "out" / "table.csv"
    assert main(["predict", str(run_dir), str(images), "--csv", str(table)]) == 0
    assert "Table written to" in capsys.readouterr().out
    rows = read_predictions_csv(table)
    assert len(rows) == 3 and {row["label"] for row in rows} <= {"=evil()", "dogs", None}
    text = table.read_text(encoding="utf-8-sig")
    assert ",=evil()" not in text and "file is empty" in text
