"""Run folders survive crashes, kills and damage: every file is written atomically, a training
killed with SIGKILL at any moment leaves a run that lists, reopens and predicts, damaged or
foreign run folders give one clear line (never a traceback), and problems that need no data
are reported before any slow work starts."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT
from core.util import atomic
from core.cli import main
from core.runs.layout import LOCK_FILE
from core.errors import RunError
from core.runs.run import Run, list_runs
from core.runs.lock import RunLock
from hostile import lenet, make_run_folder
from imagefactory import make_class_folders
from cli_checks import one_line_error

# --- atomic writes --------------------------------------------------------------------------------

_AUDIT: dict = {"root": None, "events": []}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _audit_hook(event, args):
    root = _AUDIT["root"]
    if root is None or event not in ("open", "os.rename", "os.remove", "os.truncate"):
        return
    paths = [os.fsdecode(a) for a in args if isinstance(a, (str, bytes))]
    if any(path.startswith(root) for path in paths):
        _AUDIT["events"].append((event, args))


sys.addaudithook(_audit_hook)  # hooks cannot be removed; it only records while "root" is set


@pytest.fixture
def tiny_data(tmp_path):
    return make_class_folders(tmp_path / "data", {"cats": 8, "dogs": 8})


def tiny_config(data, out, **overrides):
    from core.training import TrainingConfig

    values = dict(model="lenet", image_size=16, epochs=2, batch_size=8, augment="none",
                  optimizer="adam", seed=1)
    values.update(overrides)
    return TrainingConfig(str(data), str(out), **values)


def test_training_writes_every_run_file_atomically(tiny_data, tmp_path):
    from core.training import train

    run_dir = tmp_path / "run"
    _AUDIT.update(root=str(run_dir), events=[])
    try:
        train(tiny_config(tiny_data, run_dir))
    finally:
        _AUDIT["root"] = None
    written, renamed = set(), []
    for event, args in _AUDIT["events"]:
        if event == "open":
            path, mode, flags = args
            path = os.fsdecode(path)
            if (isinstance(flags, int) and flags & _WRITE_FLAGS) or (mode and set(mode) & set("wax+")):
                written.add(os.path.basename(path))
        elif event == "os.rename":
            renamed.append((os.path.basename(os.fsdecode(args[0])), os.path.basename(os.fsdecode(args[1]))))
        elif event == "os.truncate":
            pytest.fail(f"a run file was truncated in place: {args}")
    written.discard(LOCK_FILE)  # the training lock holds no data
    assert written, "the audit saw no writes"
    assert all(atomic.is_temporary(name) for name in written), sorted(written)
    finals = {final for _, final in renamed}
    assert {"config.json", "labels.json", "history.csv", "best.keras", "final.keras",
            "summary.txt"} <= finals
    assert all(atomic.is_temporary(source) for source, _ in renamed)
    leftovers = [p.name for p in run_dir.iterdir() if atomic.is_temporary(p.name)]
    assert not leftovers


def test_run_files_are_readable_by_others(tiny_data, tmp_path):
    """Run folders are shared: files must not keep mkstemp's private 0600 mode."""
    from core.training import train

    train(tiny_config(tiny_data, tmp_path / "run", epochs=1))
    umask = atomic._umask()
    for path in (tmp_path / "run").iterdir():
        if not path.name.startswith("."):
            assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "config.json"
    atomic.write_json(target, {"version": 1})
    target.chmod(0o640)

    class PowerCut(Exception):
        pass

    with pytest.raises(PowerCut):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text('{"version": 2, "half')
            raise PowerCut()
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
    atomic.write_json(target, {"version": 3})
    assert target.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its permissions


def test_stale_temporaries_are_recognised_and_removed(tmp_path):
    (tmp_path / ".best.keras.ab12cd34.keras").write_bytes(b"half")
    (tmp_path / ".history.csv.x_y9z8w7.csv.tmp").write_text("epoch")
    (tmp_path / "best.keras").write_bytes(b"model")
    (tmp_path / ".training.lock").write_text("")
    removed = atomic.remove_stale_temporaries(tmp_path)
    assert sorted(removed) == [".best.keras.ab12cd34.keras", ".history.csv.x_y9z8w7.csv.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".training.lock", "best.keras"]


# --- SIGKILL at chosen moments -----------------------------------------------------------------

KILL_DRIVER = r"""
import os, signal, sys
sys.path.insert(0, os.getcwd())
from core.util import atomic
from core.util.progress import ProgressListener
from core.training import TrainingConfig, train

data, out, kind, *where = sys.argv[1:]
replaced = {}
real_replace = os.replace

def replace_then_maybe_die(src, dst, *args, **kwargs):
    name = os.path.basename(os.fspath(dst))
    replaced[name] = replaced.get(name, 0) + 1
    if kind == "replace" and name == where[0] and replaced[name] == int(where[1]):
        os.kill(os.getpid(), signal.SIGKILL)  # the new file is written, not yet in place
    return real_replace(src, dst, *args, **kwargs)

atomic.os.replace = replace_then_maybe_die

class Killer(ProgressListener):
    def on_batch_end(self, epoch, batch, logs):
        if kind == "batch" and (epoch, batch) == (int(where[0]), int(where[1])):
            os.kill(os.getpid(), signal.SIGKILL)

train(TrainingConfig(data, out, model="lenet", image_size=16, epochs=4, batch_size=4,
                     augment="none", optimizer="adam", seed=1), listener=Killer())
print("finished without being killed")
"""


def train_and_kill(data: Path, out: Path, *moment: str) -> None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    proc = subprocess.run([sys.executable, "-c", KILL_DRIVER, str(data), str(out), *moment],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr[-2000:])


@pytest.fixture(scope="module")
def kill_data(tmp_path_factory):
    return make_class_folders(tmp_path_factory.mktemp("kill") / "data", {"cats": 6, "dogs": 6})


@pytest.mark.parametrize("moment,epochs_done,has_model", [
    (("batch", "0", "1"), 0, False),                # in the first epoch: no model yet
    (("replace", "history.csv", "3"), 1, True),     # while recording epoch 2
    (("replace", "final.keras", "1"), 4, True),     # while saving the final model
])
def test_a_run_killed_at_any_moment_lists_reopens_and_predicts(kill_data, tmp_path, capsys, moment,
                                                               epochs_done, has_model):
    out = tmp_path / "runs" / "killed"
    train_and_kill(kill_data, out, *moment)
    listed = list_runs(tmp_path / "runs")
    assert [run.name for run in listed] == ["killed"] and listed[0].error is None
    run = Run.open(out)
    assert [row["epoch"] for row in run.history] == list(range(1, epochs_done + 1))
    assert run.status in ("running", "interrupted")
    if (out / LOCK_FILE).exists():
        assert run.status == "interrupted"
    image = kill_data / "cats" / "cats_000.png"
    if has_model:
        assert main(["predict", str(out), str(image), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["label"] in ("cats", "dogs")
    else:
        assert main(["predict", str(out), str(image)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "no trained model yet" in err


def test_resume_continues_from_the_last_finished_epoch(kill_data, tmp_path, capsys):
    out = tmp_path / "runs" / "killed"
    train_and_kill(kill_data, out, "batch", "2", "0")  # epochs 1 and 2 finished, in epoch 3
    assert [run.name for run in list_runs(tmp_path / "runs")] == ["killed"]
    before = Run.open(out).history
    assert [row["epoch"] for row in before] == [1, 2]
    assert main(["predict", str(out), str(kill_data / "dogs"), "--json"]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    run = Run.open(out)
    assert result["status"] == "finished" and run.status == "finished"
    assert [row["epoch"] for row in run.history] == [1, 2, 3, 4]
    assert run.history[:2] == before  # history intact
    assert not [p for p in out.iterdir() if atomic.is_temporary(p.name)]


def test_resume_refuses_a_finished_or_foreign_folder(tiny_data, tmp_path, capsys):
    from core.training import train

    train(tiny_config(tiny_data, tmp_path / "done", epochs=1))
    assert main(["train", "--resume", str(tmp_path / "done")]) == 2
    assert "finished" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "nothing")]) == 2


def test_two_trainings_cannot_share_a_run_folder_and_a_dead_one_is_interrupted(tmp_path):
    run_dir = make_run_folder(tmp_path / "run", lenet(), status="running")
    assert Run.open(run_dir).status == "running"  # no lock file: an older run, trust it
    with RunLock(run_dir):
        assert Run.open(run_dir).status == "running"
        with pytest.raises(RunError, match="Another training"):
            RunLock(run_dir).acquire()
    assert Run.open(run_dir).status == "interrupted"  # lock file left, nobody holds it


# --- damaged, stale and foreign run folders ---------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _json_edit(name, change):
    def edit(run_dir: Path) -> None:
        path = run_dir / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return edit


def _remove(*names):
    def edit(run_dir: Path) -> None:
        for name in names:
            (run_dir / name).unlink()
    return edit


DAMAGE = {
    # name: (edit of a good run folder, words in the one-line error)
    "models damaged": (lambda d: [(d / n).write_bytes(os.urandom(3000)) for n in ("best.keras", "final.keras")],
                       "not a complete .keras archive"),
    "best truncated": (lambda d: _truncate(d / "best.keras"), "final.keras; try that one (--which final)"),
    "best empty": (lambda d: (d / "best.keras").write_bytes(b""), "the file is empty"),
    "models missing": (_remove("best.keras", "final.keras"), "no trained model yet"),
    "config truncated": (lambda d: _truncate(d / "config.json"), "is damaged"),
    "config not ours": (lambda d: (d / "config.json").write_text("[1, 2]"), "not a run configuration"),
    "config binary": (lambda d: (d / "config.json").write_bytes(b"\xff\xfe\x00garbage"), "is damaged"),
    "config missing": (_remove("config.json"), "not a run folder"),
    "labels do not match the model": (lambda d: (_json_edit("labels.json", lambda x: x.append("birds"))(d),
                                                 _json_edit("config.json", lambda c: c["labels"].append("birds"))(d)),
                                      "predicts 2 classes but labels.json lists 3"),
    "labels disagree with config": (_json_edit("labels.json", lambda x: x.reverse()), "inconsistent"),
    "labels truncated": (lambda d: _truncate(d / "labels.json"), "is damaged"),
    "future format": (_json_edit("config.json", lambda c: c.update(format_version=99)), "newer version"),
    "older version": (_json_edit("config.json", lambda c: c.pop("format_version")), "older version"),
    "format not a number": (_json_edit("config.json", lambda c: c.update(format_version="1")), "not a number"),
    "keras 2 model": (lambda d: (_remove("best.keras", "final.keras")(d), (d / "best.h5").write_bytes(b"\x89HDF")),
                      "older format (best.h5"),
    "image size missing": (_json_edit("config.json", lambda c: c.pop("image_size")), "image_size"),
    "image size mismatch": (_json_edit("config.json", lambda c: c.update(image_size=32)),
                            "takes 16 x 16 px images but config.json says 32"),
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    return make_run_folder(tmp_path_factory.mktemp("good") / "run", lenet(image_size=16))


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    return make_class_folders(tmp_path_factory.mktemp("small") / "data", {"cats": 2, "dogs": 2})


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_damaged_runs_give_one_clear_line(good_run, small_data, tmp_path, capsys, damage, command):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(good_run, run_dir)
    edit, words = DAMAGE[damage]
    edit(run_dir)
    assert main([command, str(run_dir), str(small_data)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    assert words in err, err
    listed = list_runs(tmp_path)  # listing never fails; broken runs are shown as such
    assert [run.name for run in listed] == ["run"]


def test_a_damaged_best_model_can_be_replaced_by_the_final_one(good_run, small_data, tmp_path, capsys):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(good_run, run_dir)
    _truncate(run_dir / "best.keras")
    assert main(["predict", str(run_dir), str(small_data), "--which", "final"]) == 0


def test_damaged_history_does_not_stop_a_run_from_opening(good_run, small_data, tmp_path, capsys):
    import shutil

    for content in (os.urandom(500), b"epoch,loss\n1,0.5\n2,0.4\n3,0.", b"epoch,loss\nabc,x\n\x00\x00"):
        run_dir = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        shutil.copytree(good_run, run_dir)
        (run_dir / "history.csv").write_bytes(content)
        run = Run.open(run_dir)
        assert all(isinstance(row["epoch"], int) for row in run.history)
        assert main(["predict", str(run_dir), str(small_data), "--json"]) == 0
        capsys.readouterr()


def test_runs_listing_survives_a_folder_of_broken_runs(good_run, tmp_path, capsys):
    import shutil

    for name in ("good", "future", "truncated"):
        shutil.copytree(good_run, tmp_path / name)
    _json_edit("config.json", lambda c: c.update(format_version=7))(tmp_path / "future")
    _truncate(tmp_path / "truncated" / "config.json")
    _json_edit("config.json", lambda c: c.update(created=12345))(tmp_path / "good")
    (tmp_path / "not a run").mkdir()
    (tmp_path / "a file.txt").write_text("x")
    assert main(["runs", str(tmp_path), "--json"]) == 0
    listed = {run["name"]: run for run in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"good", "future", "truncated"}
    assert listed["future"]["status"] == "broken" and "newer version" in listed["future"]["error"]
    assert listed["truncated"]["status"] == "broken" and listed["good"]["status"] == "finished"


# --- up-front checks: before any slow work ------------------------------------------------------


@pytest.fixture
def no_slow_work(monkeypatch):
    """Fails the test if the dataset is scanned, a model is built or training starts."""
    def forbidden(*args, **kwargs):
        raise AssertionError("slow work started before the problem was reported")

    monkeypatch.setattr("core.data.scanning.scan_dataset", forbidden)
    monkeypatch.setattr("core.training.train", forbidden)
    monkeypatch.setattr("core.models.registry.build_model", forbidden)
    monkeypatch.setattr("core.inference.prediction.Predictor", forbidden)


def test_unwritable_output_folder_is_reported_first(tiny_data, tmp_path, capsys, monkeypatch,
                                                    no_slow_work):
    locked = tmp_path / "read-only"
    locked.mkdir()
    real_access = os.access
    # Root may write anywhere, so the refusal a normal user would get is simulated.
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k:
                        False if Path(path) == locked else real_access(path, mode, *a, **k))
    assert main(["train", str(tiny_data), "--out", str(locked / "run")]) == 2
    assert "Cannot write to" in one_line_error(capsys) and not (locked / "run").exists()
    assert main(["predict", str(tmp_path), str(tiny_data), "--cam", str(locked / "cams")]) == 2
    assert "Cannot write to" in one_line_error(capsys)
    assert main(["predict", str(tmp_path), str(tiny_data), "--csv", str(locked / "t.csv")]) == 2
    assert "Cannot write to" in one_line_error(capsys)


def test_a_folder_the_system_refuses_is_reported_even_for_root(tiny_data, capsys, no_slow_work):
    assert main(["train", str(tiny_data), "--out", "/proc/ics-run"]) == 2
    assert "Cannot write to /proc" in one_line_error(capsys)


def test_an_output_path_that_is_a_file_is_reported(tiny_data, tmp_path, capsys, no_slow_work):
    (tmp_path / "file").write_text("x")
    assert main(["train", str(tiny_data), "--out", str(tmp_path / "file" / "run")]) == 2
    assert "is a file" in one_line_error(capsys)


@pytest.mark.parametrize("argv,words", [
    (["--model", "cnn4", "--image-size", "32"], "at least 48"),
    (["--model", "small_cnn", "--image-size", "16"], "at least 32"),
    (["--epochs", "0"], "epochs"),
    (["--augment", "wild"], "wild"),
])
def test_bad_settings_are_reported_before_the_scan(tiny_data, tmp_path, capsys, no_slow_work, argv, words):
    assert main(["train", str(tiny_data), "--out", str(tmp_path / "run"), *argv]) == 2
    assert words in one_line_error(capsys)


def test_output_inside_the_dataset_is_reported_before_the_scan(tiny_data, capsys, no_slow_work):
    assert main(["train", str(tiny_data), "--out", str(tiny_data / "run")]) == 2
    assert "inside the dataset" in one_line_error(capsys)
    assert not (tiny_data / "run").exists()


def test_heatmaps_inside_the_images_folder_are_refused(tiny_data, capsys, no_slow_work):
    assert main(["predict", "run", str(tiny_data), "--cam", str(tiny_data / "cats" / "cams")]) == 2
    assert "inside" in one_line_error(capsys)


def test_one_class_is_reported_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("core.training.train", lambda *a, **k: pytest.fail("training started"))
    data = make_class_folders(tmp_path / "data", {"cats": 5})
    (data / "dogs").mkdir()
    assert main(["train", str(data), "--out", str(tmp_path / "run")]) == 2
    err = one_line_error(capsys)
    assert "at least 2 classes" in err and "'dogs'" in err


def test_a_class_smaller_than_a_batch_is_reported_before_training(tmp_path, capsys):
    data = make_class_folders(tmp_path / "data", {"cats": 40, "dogs": 5})
    assert main(["train", str(data), "--out", str(tmp_path / "run"), "--model", "lenet",
                 "--image-size", "16", "--epochs", "1", "--batch-size", "16"]) == 0
    err = capsys.readouterr().err
    note = "fewer training images than one batch (16): 'dogs' 4"
    assert err.count(note) == 1 and err.index(note) < err.index("[train]")


def test_check_trainable_is_quiet_for_healthy_data(tmp_path):
    from core.data.checks import check_trainable
    from core.data.scanning import scan_dataset

    scan = scan_dataset(make_class_folders(tmp_path / "data", {"a": 10, "b": 10}), val_split=0.2)
    assert check_trainable(scan, batch_size=8) == []
    assert check_trainable(scan, batch_size=9)  # 8 training images per class


def test_resume_is_offered_only_through_a_run_folder(tmp_path, capsys):
    assert main(["train", str(tmp_path), "--resume", str(tmp_path)]) == 2
    assert "leave out" in one_line_error(capsys)
    assert main(["train"]) == 2
    assert "DATA and --out" in one_line_error(capsys)


def test_config_fields_used_by_the_cli_exist():
    from core.training import TrainingConfig

    names = {field.name for field in fields(TrainingConfig)}
    assert {"data_dir", "out_dir", "epochs", "batch_size", "image_size"} <= names
