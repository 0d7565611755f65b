"""Shared fixtures: the read-only real data in ../shared and small generated datasets."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The app remembers weights files people gave (core.models.weights_store) and finds Keras's
# downloads: tests start from a computer with neither, whatever this machine holds.
_ISOLATED = Path(__import__("tempfile").mkdtemp(prefix="ics-test-"))
os.environ["ICS_CONFIG_DIR"] = str(_ISOLATED / "config")
os.environ["KERAS_HOME"] = str(_ISOLATED / "keras")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch, tmp_path_factory):
    """Each test starts with no remembered weights files: one test giving --weights must not
    turn the next test's recommended recipe into a pretrained one."""
    monkeypatch.setenv("ICS_CONFIG_DIR", str(tmp_path_factory.mktemp("settings")))


def run_python(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python process from the project root (fails the test with the
    end of stderr when the process fails); `.stdout` and `.stderr` are text."""
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def shared_path(*parts: str) -> Path:
    """Path inside ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the shared real data at {path} (not present in a fresh clone)")
    return path


@pytest.fixture
def shared():
    return shared_path


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory) -> Path:
    """The built-in shapes dataset, small: 3 classes x 60 images of 40 px, class folders."""
    from core.data.demo import make_demo_dataset

    return make_demo_dataset(tmp_path_factory.mktemp("demo") / "shapes", images_per_class=60,
                             image_size=40, seed=1)


def _train_run(tmp_path_factory, data: Path, model: str, epochs: int = 4) -> Path:
    from core.training import TrainingConfig
    from core.training import train

    out = tmp_path_factory.mktemp("runs") / model
    train(TrainingConfig(str(data), str(out), model=model, image_size=32, epochs=epochs,
                         batch_size=16, optimizer="adam", augment="none", seed=3))
    return out


@pytest.fixture(scope="session")
def small_cnn_run(tmp_path_factory, demo_dataset) -> Path:
    """A small_cnn run (Flatten head: Grad-CAM) trained briefly on the demo shapes."""
    return _train_run(tmp_path_factory, demo_dataset, "small_cnn")


@pytest.fixture(scope="session")
def gap_cnn_run(tmp_path_factory, demo_dataset) -> Path:
    """A gap_cnn run (global-average-pooling head: CAM) trained briefly on the demo shapes."""
    return _train_run(tmp_path_factory, demo_dataset, "gap_cnn", epochs=6)
