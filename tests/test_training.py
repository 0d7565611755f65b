"""Training runs: the run folder, progress events, cancellation, early stopping, bad input."""
import json

import numpy as np
import pytest

from core.util.progress import CancelToken, ProgressListener
from core.runs.run import Run, list_runs
from core.training.config import TrainingConfig
from core.errors import TrainingError
from core.training import train


class Recorder(ProgressListener):
    def __init__(self, cancel=None, cancel_at=None):
        self.events = []
        self.cancel, self.cancel_at = cancel, cancel_at
        self.batches_after_cancel = 0

    def on_stage(self, name, total=None):
        self.events.append(("stage", name))

    def on_train_begin(self, info):
        self.events.append(("begin", info))

    def on_batch_end(self, epoch, batch, logs):
        self.events.append(("batch", epoch, batch, logs))
        if self.cancel is not None and self.cancel.cancelled:
            self.batches_after_cancel += 1
        if self.cancel_at == (epoch, batch):
            self.cancel.cancel()

    def on_epoch_end(self, epoch, logs):
        self.events.append(("epoch", epoch, logs))

    def on_train_end(self, result):
        self.events.append(("end", result))

    def of(self, kind):
        return [e for e in self.events if e[0] == kind]


def config(data, out, **overrides):
    values = dict(model="lenet", image_size=32, epochs=2, batch_size=16, optimizer="adam",
                  augment="none", seed=7)
    values.update(overrides)
    return TrainingConfig(str(data), str(out), **values)


def test_run_folder_holds_everything_needed(demo_dataset, tmp_path):
    recorder = Recorder()
    result = train(config(demo_dataset, tmp_path / "run", augment="light"), listener=recorder)
    run_dir = tmp_path / "run"
    for name in ("config.json", "labels.json", "history.csv", "best.keras", "final.keras",
                 "summary.txt"):
        assert (run_dir / name).is_file(), name
    assert result["status"] == "finished" and result["epochs_completed"] == 2
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["model"] == "lenet" and saved["image_size"] == 32
    assert saved["labels"] == ["circle", "square", "triangle"]
    assert saved["augmentation"]["horizontal_flip"] is not None
    assert saved["preprocessing"]["rescale"] == pytest.approx(1 / 255)
    assert saved["status"] == "finished"
    assert json.loads((run_dir / "labels.json").read_text()) == saved["labels"]
    assert "Total params" in (run_dir / "summary.txt").read_text()
    run = Run.open(run_dir)
    assert [row["epoch"] for row in run.history] == [1, 2]
    assert all(row["val_accuracy"] is not None for row in run.history)
    assert run.best_val_accuracy == pytest.approx(result["best_val_accuracy"])
    assert run.load_model().output_shape == (None, 3)
    # progress: batches every epoch, one epoch event per epoch, stages in order
    assert [e[1] for e in recorder.of("epoch")] == [0, 1]
    steps = recorder.of("begin")[0][1]["steps_per_epoch"]
    assert len(recorder.of("batch")) == 2 * steps
    assert {"loss", "accuracy"} <= set(recorder.of("batch")[0][3])
    assert {"val_loss", "val_accuracy", "seconds"} <= set(recorder.of("epoch")[0][2])
    assert recorder.of("end")[0][1]["status"] == "finished"
    summaries = list_runs(tmp_path)
    assert [s.name for s in summaries] == ["run"] and summaries[0].best_val_accuracy is not None


def test_training_learns_the_demo_shapes(demo_dataset, tmp_path):
    result = train(config(demo_dataset, tmp_path / "run", model="small_cnn", epochs=15))
    # Chance is 0.33; near-identical shapes stay on one side of the split, so 36 validation
    # pictures are new ones (0.58-0.72 over seeds; 0.55 is above chance beyond the noise).
    assert result["best_val_accuracy"] >= 0.55


def test_cancel_stops_within_one_batch_and_keeps_the_best_model(demo_dataset, tmp_path):
    cancel = CancelToken()
    recorder = Recorder(cancel=cancel, cancel_at=(1, 1))
    result = train(config(demo_dataset, tmp_path / "run", epochs=5), listener=recorder,
                   cancel=cancel)
    assert result["status"] == "cancelled"
    assert recorder.batches_after_cancel == 0
    run = Run.open(tmp_path / "run")
    assert len(run.history) == 1 and run.status == "cancelled"
    assert (tmp_path / "run" / "best.keras").is_file() and (tmp_path / "run" / "final.keras").is_file()


def test_cancel_in_the_first_epoch_still_leaves_a_usable_run(demo_dataset, tmp_path):
    cancel = CancelToken()
    train(config(demo_dataset, tmp_path / "run", epochs=3), listener=Recorder(cancel, (0, 0)),
          cancel=cancel)
    run = Run.open(tmp_path / "run")
    assert run.history == [] and run.model_path().name == "final.keras"


def test_same_seed_same_result_without_augmentation(demo_dataset, tmp_path):
    first = train(config(demo_dataset, tmp_path / "a"))
    second = train(config(demo_dataset, tmp_path / "b"))
    losses = [[row["loss"] for row in Run.open(tmp_path / name).history] for name in "ab"]
    assert np.allclose(losses[0], losses[1], rtol=1e-3)
    assert first["best_val_accuracy"] == pytest.approx(second["best_val_accuracy"])


def test_early_stopping_ends_a_run_that_stopped_improving(demo_dataset, tmp_path):
    # A learning rate that underflows leaves the weights unchanged: no improvement at all.
    result = train(config(demo_dataset, tmp_path / "run", epochs=6, early_stopping=1,
                          optimizer="sgd", learning_rate=1e-30))
    assert result["epochs_completed"] == 2


def test_class_weights_are_recorded(demo_dataset, tmp_path):
    train(config(demo_dataset, tmp_path / "run", epochs=1, class_weights=True))
    assert Run.open(tmp_path / "run").config["training"]["class_weights"] is True


def test_reusing_a_run_folder_replaces_the_old_run(demo_dataset, tmp_path):
    train(config(demo_dataset, tmp_path / "run", epochs=2))
    train(config(demo_dataset, tmp_path / "run", epochs=1))
    assert len(Run.open(tmp_path / "run").history) == 1


@pytest.mark.parametrize("overrides,message", [
    (dict(epochs=0), "epochs"), (dict(val_split=1.5), "validation split"),
    (dict(model="nope"), "Unknown model"), (dict(model="cnn4", image_size=32), "at least 48"),
    (dict(optimizer="nope"), "Unknown optimizer"), (dict(augment="wild"), "wild"),
])
def test_bad_settings_fail_before_training(demo_dataset, tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        train(config(demo_dataset, tmp_path / "run", **overrides))
    assert not (tmp_path / "run" / "best.keras").exists()


def test_refuses_one_class_and_output_inside_the_dataset(demo_dataset, tmp_path):
    single = tmp_path / "single"
    (single / "circle").mkdir(parents=True)
    for path in sorted((demo_dataset / "circle").iterdir())[:5]:
        (single / "circle" / path.name).write_bytes(path.read_bytes())
    with pytest.raises(TrainingError, match="at least 2 classes"):
        train(config(single, tmp_path / "run"))
    with pytest.raises(TrainingError, match="inside the dataset"):
        train(config(demo_dataset, demo_dataset / "run"))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(TrainingError, match="already holds other files"):
        train(config(demo_dataset, foreign))
    assert (foreign / "notes.txt").read_text() == "mine"
