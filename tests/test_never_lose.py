"""A new training into a folder that holds a run never destroys the old run before it has a
model to put in its place: every option is checked before anything is touched, the new run
is staged beside the old one and swapped in when its first model is saved, and a failed,
stopped or killed new run (a real SIGKILL) leaves the old run's best.keras loadable."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT
from core.cli import main
from core.errors import RunError
from core.runs import staging
from core.runs.lock import RunLock
from core.runs.run import Run, list_runs
from core.util.progress import CancelToken, ProgressListener
from imagefactory import make_class_folders
from cli_checks import one_line_error


def tiny_config(data, out, **overrides):
    from core.training import TrainingConfig

    values = dict(model="lenet", image_size=16, epochs=1, batch_size=4, augment="none",
                  optimizer="adam", seed=1)
    values.update(overrides)
    return TrainingConfig(str(data), str(out), **values)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_class_folders(tmp_path_factory.mktemp("data") / "data", {"cats": 6, "dogs": 6})


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data):
    from core.training import train

    out = tmp_path_factory.mktemp("trained") / "first"
    train(tiny_config(data, out))
    return out


@pytest.fixture
def old_run(trained, tmp_path):
    """A copy of a finished run in runs/first, and the fingerprint of its files."""
    out = tmp_path / "runs" / "first"
    shutil.copytree(trained, out)
    return out, fingerprint(out)


def fingerprint(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def assert_old_run_kept(out: Path, before: dict) -> None:
    assert fingerprint(out) == before
    run = Run.open(out)
    assert run.status == "finished"
    assert run.load_model("best").output_shape == (None, 1)
    listed = list_runs(out.parent)
    assert [(r.name, r.error) for r in listed] == [("first", None)]


@pytest.fixture
def no_slow_work(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("slow work started before the problem was reported")

    monkeypatch.setattr("core.training.scan_for_training", forbidden)
    monkeypatch.setattr("core.training.train", forbidden)


# --- every option is checked before anything is touched ----------------------------------------


@pytest.mark.parametrize("argv,words", [
    (["--model", "mobilenet_v2", "--weights", "typo.weights.h5"], "neither 'imagenet'"),
    (["--model", "vgg16", "--alpha", "0.5"], "no width multiplier"),
    (["--model", "mobilenet_v2", "--alpha", "0.6"], "expected one of 0.35"),
    (["--model", "resnet50+xception", "--fusion-base", "vgg16"], "choose one of this model"),
    (["--model", "resnet50+xception", "--weights", "nonet=x.h5"], "bases are"),
    (["--model", "mobilenet_v2", "--mode", "finetune", "--from-run", "nowhere"], "--from-run"),
    (["--model", "mobilenet_v2", "--from-run", "nowhere"], "mode finetune only"),
])
def test_a_bad_option_is_reported_before_the_old_run_is_touched(old_run, data, capsys, argv,
                                                                words, no_slow_work):
    out, before = old_run
    assert main(["train", str(data), "--out", str(out), *argv]) == 2
    assert words in one_line_error(capsys)
    assert_old_run_kept(out, before)
    assert sorted(p.name for p in out.parent.iterdir()) == ["first"]


def test_from_run_of_another_model_is_refused_before_anything_is_touched(old_run, data, capsys,
                                                                         no_slow_work):
    out, before = old_run
    assert main(["train", str(data), "--out", str(out), "--model", "mobilenet_v2",
                 "--image-size", "32", "--mode", "finetune", "--from-run", str(out)]) == 2
    assert "was trained with model 'lenet'" in one_line_error(capsys)
    assert_old_run_kept(out, before)


# --- the new run is staged and swapped in once it has a model ------------------------------------


class Watcher(ProgressListener):
    """Records what the run folder holds while the new run is in its first epoch."""

    def __init__(self, out: Path, cancel: CancelToken | None = None, fail: bool = False):
        self.out, self.cancel, self.fail, self.seen = out, cancel, fail, None

    def on_batch_end(self, epoch, batch, logs):
        if self.seen is None:
            self.seen = {"target": fingerprint(self.out),
                         "siblings": sorted(p.name for p in self.out.parent.iterdir()),
                         "listed": [r.name for r in list_runs(self.out.parent)]}
        if self.cancel is not None:
            self.cancel.cancel()
        if self.fail:
            raise RuntimeError("the machine broke")


def test_a_new_run_replaces_the_old_one_only_when_it_has_a_model(old_run, data):
    from core.training import train

    out, before = old_run
    watcher = Watcher(out)
    result = train(tiny_config(data, out, epochs=2, seed=2), listener=watcher)
    assert watcher.seen["target"] == before  # in the first epoch, the old run is untouched
    staged = [name for name in watcher.seen["siblings"] if name != "first"]
    assert len(staged) == 1 and staging.is_transient(staged[0])
    assert watcher.seen["listed"] == ["first"]
    assert result["status"] == "finished" and result["run_dir"] == str(out)
    run = Run.open(out)
    assert [row["epoch"] for row in run.history] == [1, 2] and run.config["training"]["seed"] == 2
    assert fingerprint(out)["best.keras"] != before["best.keras"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["first"]
    run.load_model("best")
    with pytest.raises(RunError, match="Another training"):  # the swapped-in lock file works
        with RunLock(out):
            RunLock(out).acquire()


def test_a_failed_new_run_keeps_the_old_run(old_run, data):
    from core.training import train

    out, before = old_run
    with pytest.raises(RuntimeError, match="machine broke"):
        train(tiny_config(data, out), listener=Watcher(out, fail=True))
    assert_old_run_kept(out, before)
    assert sorted(p.name for p in out.parent.iterdir()) == ["first"]


def test_a_stopped_new_run_keeps_the_old_run(old_run, data):
    from core.training import train

    out, before = old_run
    cancel = CancelToken()
    result = train(tiny_config(data, out), listener=Watcher(out, cancel=cancel), cancel=cancel)
    assert result["status"] == "cancelled" and result["kept_previous_run"]
    assert_old_run_kept(out, before)
    assert sorted(p.name for p in out.parent.iterdir()) == ["first"]


def test_out_of_memory_is_a_sentence_and_keeps_the_old_run(old_run, data, capsys, monkeypatch):
    out, before = old_run

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr("core.training.session.TrainingSession.fit", exhausted)
    assert main(["train", str(data), "--out", str(out), "--model", "lenet", "--image-size",
                 "16", "--batch-size", "4", "--epochs", "1"]) == 2
    error = one_line_error(capsys)
    assert "Ran out of memory training at 16 px with batches of 4" in error
    assert "--image-size" in error and "--batch-size" in error
    assert_old_run_kept(out, before)


def test_ctrl_c_records_cancelled_not_failed(data, tmp_path, monkeypatch):
    from core.training import train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt()

    monkeypatch.setattr("core.training.session.TrainingSession.fit", interrupted)
    out = tmp_path / "new"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(data, out))
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "cancelled" and "error" not in config


# --- SIGKILL: a real process killed in the new run's first epoch ---------------------------------

KILL_DRIVER = r"""
import os, signal, sys
sys.path.insert(0, os.getcwd())
from core.util.progress import ProgressListener
from core.training import TrainingConfig, train

data, out = sys.argv[1:]

class Killer(ProgressListener):
    def on_batch_end(self, epoch, batch, logs):
        os.kill(os.getpid(), signal.SIGKILL)

train(TrainingConfig(data, out, model="lenet", image_size=16, epochs=1, batch_size=4,
                     augment="none", optimizer="adam", seed=5), listener=Killer())
"""


def test_a_new_run_killed_in_its_first_epoch_keeps_the_old_run(old_run, data):
    from core.training import train

    out, before = old_run
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    proc = subprocess.run([sys.executable, "-c", KILL_DRIVER, str(data), str(out)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert_old_run_kept(out, before)  # also: the leftover staging folder is not listed
    leftovers = [p.name for p in out.parent.iterdir() if p.name != "first"]
    assert len(leftovers) == 1 and staging.is_transient(leftovers[0])
    train(tiny_config(data, out, seed=6))  # the next training cleans it up
    assert sorted(p.name for p in out.parent.iterdir()) == ["first"]
    assert Run.open(out).config["training"]["seed"] == 6


def test_a_swap_interrupted_between_two_renames_is_repaired(old_run, tmp_path, monkeypatch):
    """Where the file system cannot exchange two folders in one step, the old run is renamed
    aside first; a kill right then leaves it hidden, and the next training puts it back."""
    out, before = old_run
    new = staging.make_staging(out)
    (new / "config.json").write_text("{}")
    monkeypatch.setattr(staging, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename_then_die(src, dst):
        real_rename(src, dst)
        if Path(dst).name.startswith(".first.retired-"):
            raise SystemExit("killed")

    monkeypatch.setattr(staging.os, "rename", rename_then_die)
    with pytest.raises(SystemExit):
        staging.swap_into_place(new, out)
    monkeypatch.setattr(staging.os, "rename", real_rename)
    assert not out.exists() and list_runs(out.parent) == []
    assert len(staging.remove_leftovers(out)) == 2
    assert_old_run_kept(out, before)
    assert sorted(p.name for p in out.parent.iterdir()) == ["first"]


def test_a_lock_taken_on_a_run_that_was_just_replaced_is_refused(old_run, monkeypatch):
    """Another process opened the old run's lock file just before the swap and locks it just
    after: that lock belongs to the deleted old run, so the folder counts as busy."""
    out, _ = old_run
    lock = RunLock(out)
    real_acquire = lock._lock.acquire

    def swap_first(*args, **kwargs):
        result = real_acquire(*args, **kwargs)
        new = staging.make_staging(out)
        (new / "config.json").write_text("{}")
        (new / ".training.lock").write_text("")
        staging.swap_into_place(new, out)
        return result

    monkeypatch.setattr(lock._lock, "acquire", swap_first)
    with pytest.raises(RunError, match="Another training"):
        lock.acquire()
