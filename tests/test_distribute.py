"""`train --strategy`: the same recipe on several devices (mirrored, CPU replicas) and on a
cluster of two worker processes (multi-worker, TF_CONFIG on localhost), on real pictures.

Each training runs in its own `python main.py` process: logical CPU devices and a cluster
must be set up before TensorFlow starts, which the pytest process has done long ago.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, shared_path
from core.cli import main as cli_main
from core.training.distribute import cluster_task, describe
from core.util.atomic import is_temporary

CLASSES = ("00001", "00002", "00003")
WEIGHTS = ("weights", "mobilenet_v2_0.35_imagenet_notop.weights.h5")
LENET = ["--model", "lenet", "--image-size", "32", "--augment", "none", "--optimizer", "adam",
         "--seed", "5"]


@pytest.fixture(scope="module")
def signs(tmp_path_factory) -> Path:
    """3 classes x 60 real traffic-sign pictures (copied into a temporary folder)."""
    source = shared_path("datasets", "traffic_signs", "train")
    root = tmp_path_factory.mktemp("signs") / "signs"
    for label in CLASSES:
        (root / label).mkdir(parents=True)
        for picture in sorted((source / label).iterdir())[:60]:
            shutil.copy(picture, root / label / picture.name)
    return root


def _train(*argv: str, env: dict | None = None, timeout: float = 240):
    return subprocess.Popen([sys.executable, "main.py", "train", *argv], cwd=PROJECT_ROOT,
                            env=os.environ | (env or {}), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process, timeout: float = 240) -> str:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"training did not finish in {timeout}s: {err[-1500:]}")
    assert process.returncode == 0, err[-2000:]
    return out


def _config(run: Path) -> dict:
    return json.loads((run / "config.json").read_text())


def _best(run: Path) -> float:
    return _config(run)["best"]["value"]


# --- the choice, checked before anything runs --------------------------------------------------


@pytest.mark.parametrize("argv, env, words", [
    (["--strategy", "ring"], {}, "Received --strategy 'ring'; expected one of: auto, one"),
    (["--cpu-replicas", "0"], {}, "Received --cpu-replicas 0; expected a whole number"),
    (["--strategy", "multi-worker"], {"TF_CONFIG": ""}, "needs the TF_CONFIG environment"),
    (["--strategy", "multi-worker"], {"TF_CONFIG": '{"task": 1}'}, "names no task of its"),
    (["--strategy", "multi-worker", "--cpu-replicas", "2"],
     {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}'},
     "leave out --cpu-replicas"),
])
def test_a_bad_strategy_gets_one_sentence(tmp_path, capsys, monkeypatch, demo_dataset, argv,
                                          env, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = cli_main(["train", str(demo_dataset), "--out", str(tmp_path / "run"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_the_chief_is_task_zero_or_the_chief_task(monkeypatch):
    workers = {"worker": ["a:1", "b:1", "c:1"]}
    for index, chief in ((0, True), (2, False)):
        monkeypatch.setenv("TF_CONFIG", json.dumps(
            {"cluster": workers, "task": {"type": "worker", "index": index}}))
        assert cluster_task() == (3, index, chief)
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"chief": ["c:1"], **workers}, "task": {"type": "worker", "index": 0}}))
    assert cluster_task() == (4, 1, False)
    assert describe({"strategy": "mirrored", "replicas": 2, "global_batch_size": 64}) == \
        "Trained on 2 devices (mirrored), batch 64"
    assert describe({"strategy": "one", "replicas": 1, "global_batch_size": 32}) == \
        "Trained on 1 device, batch 32"
    assert describe({"strategy": "multi-worker", "replicas": 4, "global_batch_size": 128,
                     "workers": 2}) == "Trained on 4 devices on 2 machines (multi-worker), batch 128"
    assert describe({"replicas": "2"}) is None  # a damaged record says nothing


# --- several local devices ---------------------------------------------------------------------


def test_mirrored_cnn_learns_like_one_device(signs, tmp_path):
    """Same global batch (32), same seed: 2 CPU replicas x 16 reach the accuracy of one
    device, and the run records how it was trained."""
    one, two = tmp_path / "one", tmp_path / "two"
    first = _train(str(signs), "--out", str(one), *LENET, "--epochs", "6", "--batch-size", "32",
                   "--strategy", "one")
    second = _train(str(signs), "--out", str(two), *LENET, "--epochs", "6", "--batch-size", "16",
                    "--strategy", "mirrored", "--cpu-replicas", "2")
    _finish(first), _finish(second)
    assert _config(one)["distribution"] == {"strategy": "one", "replicas": 1,
                                            "global_batch_size": 32}
    assert _config(two)["distribution"] == {"strategy": "mirrored", "replicas": 2,
                                            "global_batch_size": 32}
    assert "Trained on 2 devices (mirrored), batch 32" in (two / "summary.txt").read_text()
    # 36 validation pictures: a few pictures either way is noise; chance is 0.33.
    assert _best(one) > 0.6 and _best(two) > 0.6, (_best(one), _best(two))
    assert abs(_best(one) - _best(two)) <= 0.15, (_best(one), _best(two))


def test_mirrored_bottleneck_extracts_the_same_features_and_head(signs, tmp_path):
    """Extraction split across 2 replicas gives each picture its own features (the cache
    rows equal one device's), and the head learns as well."""
    import h5py
    import numpy as np

    weights = shared_path(*WEIGHTS)
    runs = {}
    for name, argv in (("one", ["--batch-size", "32", "--strategy", "one"]),
                       ("two", ["--batch-size", "16", "--strategy", "mirrored",
                                "--cpu-replicas", "2"])):
        runs[name] = _train(str(signs), "--out", str(tmp_path / name), "--model", "mobilenet_v2",
                            "--mode", "bottleneck", "--weights", str(weights), "--image-size",
                            "64", "--epochs", "6", "--head", "dense", "--augment", "none",
                            "--optimizer", "adam", "--cache-dir", str(tmp_path / f"cache-{name}"),
                            *argv)
    for process in runs.values():
        _finish(process)
    features = {}
    for name in runs:
        (cache,) = (tmp_path / f"cache-{name}").glob("*.h5")
        with h5py.File(cache) as handle:
            features[name] = dict(zip(handle["digests"].asstr()[()], handle["features"][()]))
    assert len(features["one"]) == len(features["two"]) == 180
    assert all(np.allclose(features["one"][d], features["two"][d], atol=1e-4)
               for d in features["one"])
    assert _config(tmp_path / "two")["distribution"]["replicas"] == 2
    bests = _best(tmp_path / "one"), _best(tmp_path / "two")
    assert min(bests) > 0.6 and abs(bests[0] - bests[1]) <= 0.15, bests


def test_a_killed_extraction_resumes_from_the_cache(signs, tmp_path):
    """The cache is written while extraction runs: a run killed halfway leaves rows that
    the next run reuses instead of extracting them again."""
    weights = shared_path(*WEIGHTS)
    cache = tmp_path / "cache"
    argv = ["train", str(signs), "--out", str(tmp_path / "run"), "--model", "mobilenet_v2",
            "--mode", "bottleneck", "--weights", str(weights), "--image-size", "64",
            "--batch-size", "8", "--epochs", "1", "--head", "dense", "--augment", "none",
            "--cache-dir", str(cache)]
    # Saved after every batch here (normally every 10 s), so a kill comes after a save.
    code = ("import sys; import core.training.transfer.extraction as e; "
            "e.SAVE_EVERY_SECONDS = 0; from core.cli import main; "
            f"sys.exit(main({argv!r}))")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not _cache_files(cache) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _cache_files(cache), "the extraction never wrote its cache"
    _finish(_train(*argv[1:]))
    record = _config(tmp_path / "run")["cache"]
    assert record["hits"] > 0 and record["hits"] + record["misses"] == 180
    assert record["misses"] < 180


def _cache_files(folder: Path) -> list[Path]:
    """Feature cache files written whole (not the temporary file of a write under way)."""
    return [path for path in folder.glob("*.h5") if not is_temporary(path.name)]


# --- a cluster of two workers on this machine --------------------------------------------------


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for item in sockets:
        item.bind(("localhost", 0))
    ports = [item.getsockname()[1] for item in sockets]
    for item in sockets:
        item.close()
    return ports


def _cluster(*argv: str, env: dict | None = None) -> list:
    """Start the same `train` command as worker 0 and worker 1 of a localhost cluster."""
    hosts = [f"localhost:{port}" for port in _free_ports(2)]
    return [_train(*argv, env=(env or {}) | {"TF_CONFIG": json.dumps(
        {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})})
        for index in range(2)]


def test_two_workers_make_one_run_that_predicts(signs, tmp_path):
    out = tmp_path / "runs" / "cluster"
    scratch = tmp_path / "tmp"  # where worker 1 keeps its own copy of the run
    scratch.mkdir()
    workers = _cluster(str(signs), "--out", str(out), *LENET, "--epochs", "2",
                       "--batch-size", "16", "--strategy", "multi-worker",
                       env={"TMPDIR": str(scratch)})
    for process in workers:
        _finish(process)
    assert [path.name for path in (tmp_path / "runs").iterdir()] == ["cluster"]
    config = _config(out)
    assert config["pid"] == workers[0].pid  # the chief wrote the run, from start to end
    assert not list((scratch / "ics-workers").glob("run-*"))  # worker 1's copy is gone
    assert config["status"] == "finished" and config["epochs_completed"] == 2
    assert config["distribution"] == {"strategy": "multi-worker", "replicas": 2,
                                      "global_batch_size": 32, "workers": 2}
    predicted = subprocess.run([sys.executable, "main.py", "predict", str(out),
                                str(signs / "00002"), "--json"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=120)
    assert predicted.returncode == 0, predicted.stderr[-1500:]
    rows = json.loads(predicted.stdout)
    assert len(rows) == 60 and all(row["label"] in CLASSES for row in rows)


def test_a_killed_cluster_run_resumes(signs, tmp_path):
    """Both workers killed after the first epoch's checkpoint; the same cluster resumes the
    run folder and finishes every epoch."""
    out = tmp_path / "run"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch)}
    workers = _cluster(str(signs), "--out", str(out), *LENET, "--epochs", "3",
                       "--batch-size", "16", "--strategy", "multi-worker", env=env)
    deadline = time.monotonic() + 180
    while not (out / "last.keras").is_file() and time.monotonic() < deadline \
            and all(worker.poll() is None for worker in workers):
        time.sleep(0.05)
    for worker in workers:
        worker.kill()
        worker.communicate()
    done = _config(out)["epochs_completed"]
    assert 1 <= done < 3, "the run was not killed between its first and last epoch"
    (left,) = (scratch / "ics-workers").glob("run-*")  # the killed worker 1's copy
    os.utime(left, (time.time() - 3600,) * 2)  # ... from an hour ago
    for process in _cluster("--resume", str(out), env=env):
        _finish(process)
    assert not list((scratch / "ics-workers").glob("run-*"))  # cleared, and the new one gone
    config = _config(out)
    assert config["status"] == "finished" and config["epochs_completed"] == 3
    epochs = [int(line.split(",")[0]) for line in
              (out / "history.csv").read_text().splitlines()[1:]]
    assert epochs == [1, 2, 3]
    assert config["resumed"][-1]["at_epoch"] == done
    assert config["distribution"]["strategy"] == "multi-worker"


def test_the_app_says_what_a_run_trained_on(qtbot):
    """The Train step's "Why these settings" and the compare table show the devices."""
    from types import SimpleNamespace

    from gui.qt_compare_dialog import comparison_rows
    from gui.qt_recipe_view import QtRecipeView

    distributed = SimpleNamespace(name="big", config={
        "model": "lenet", "distribution": {"strategy": "mirrored", "replicas": 2,
                                           "global_batch_size": 32}})
    view = QtRecipeView()
    qtbot.addWidget(view)
    assert not view.show_run(distributed)
    assert "Trained on 2 devices (mirrored), batch 32." in view.toPlainText()
    older = SimpleNamespace(name="old", config={"model": "lenet"})
    view.show_run(older)
    assert "Trained on" not in view.toPlainText()
    rows = dict(comparison_rows([SimpleNamespace(config=distributed.config),
                                 SimpleNamespace(config=older.config)]))
    assert rows["Trained on"] == ["Trained on 2 devices (mirrored), batch 32", "1 device"]
