"""8. Memory: resident memory stops growing in a long GUI session: 50 short trainings in one
process and 1,000 predictions with heatmaps through one Predictor (quick: 10 and 200).

Resident memory (VmRSS from /proc/self/status, Linux) is read after a warm-up ("start"),
halfway ("middle") and at the end; the first runs legitimately grow the process (TensorFlow's
kernels, caches and allocator pools), so the figure is the second half's growth.

- Training: a leaked train step of LeNet at 16 px costs about 8 MB per run (what TensorFlow's
  custom-gradient registry kept alive before `released_tensorflow_graphs`), so 25 runs would
  add 200 MB; after the fix the second half grows by about 10 MB (allocator noise). Goal:
  under 40 MB for 25 runs.
- Prediction: a leak per image costs tens of kilobytes, so 500 predictions with heatmaps add
  15 MB or more; measured growth is well under 1 MB. Goal: under 15 MB.

The unit tests (tests/test_leaks.py) check the causes instead (no graph kept per training, no
objects kept per prediction), which does not depend on the machine's load.
"""
from __future__ import annotations

import gc
import os
import shutil
import sys
import time

import numpy as np

from bench.common import ROOT, module_main, quiet_tensorflow, row, temp_dir

sys.path.insert(0, str(ROOT / "tests"))  # the tests' data makers: the same folders as there
from hostile import make_run_folder  # noqa: E402
from imagefactory import make_class_folders  # noqa: E402

TRAINING_GROWTH_GOAL_MB = 40
PREDICTION_GROWTH_GOAL_MB = 15


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


def _trainings(tmp_path, num_runs: int) -> dict:
    from core.training import TrainingConfig
    from core.training import train

    data = make_class_folders(tmp_path / "data", {"cats": 8, "dogs": 8})

    def one_run(index: int) -> None:
        # No validation split: evaluation would trace a second function and double the time
        # without exercising anything the training path does not.
        result = train(TrainingConfig(str(data), str(tmp_path / f"run{index % 2}"), model="lenet",
                                      image_size=16, epochs=1, batch_size=8, augment="none",
                                      optimizer="adam", val_split=0.0, seed=index))
        assert result["status"] == "finished"

    started = time.perf_counter()
    one_run(0)  # warm-up: TensorFlow's kernels and caches
    figures = {"start": rss_mb()}
    for index in range(1, num_runs + 1):
        one_run(index)
        if index == num_runs // 2:
            figures["middle"] = rss_mb()
    figures["end"] = rss_mb()
    figures["seconds"] = time.perf_counter() - started
    return figures


def _predictions(tmp_path, num_predictions: int) -> dict:
    from core.inference.heatmaps import annotate, overlay
    from core.models.registry import build_model
    from core.inference.prediction import Predictor, save_heatmap_overlay

    run_dir = make_run_folder(tmp_path / "run", build_model("gap_cnn", 3, 32),
                              labels=["circle", "square", "triangle"])
    predictor = Predictor(run_dir)
    rng = np.random.default_rng(0)
    # Varying sizes, as dropped photos are: resizing must not retrace anything per size.
    images = [rng.integers(0, 256, (30 + i % 7, 40 - i % 5, 3), dtype=np.uint8) for i in range(20)]
    out = tmp_path / "heatmaps"

    def predict(index: int) -> None:
        image = images[index % len(images)]
        probabilities = predictor.predict_arrays([image])[0]
        heatmap, method = predictor.explain(image)
        assert heatmap.shape == image.shape[:2] and method == "cam"
        label = int(np.argmax(probabilities))
        annotate(overlay(image, heatmap), predictor.labels[label], float(probabilities[label]))
        if index % 50 == 0:  # and some written to disk, as the GUI's export does
            save_heatmap_overlay(predictor, image, {"path": f"image{index}.png",
                                                    "label": predictor.labels[label],
                                                    "probability": float(probabilities[label]),
                                                    "class_index": label}, out)

    started = time.perf_counter()
    for index in range(10):  # warm-up
        predict(index)
    figures = {"start": rss_mb()}
    for index in range(num_predictions):
        predict(index)
        if index + 1 == num_predictions // 2:
            figures["middle"] = rss_mb()
    figures["end"] = rss_mb()
    figures["seconds"] = time.perf_counter() - started
    return figures


def run(quick: bool = False) -> list[dict]:
    quiet_tensorflow()
    if not os.path.exists("/proc/self/status"):
        return []
    work = temp_dir("memory")
    try:
        runs = 10 if quick else 50
        figures = _trainings(work, runs)
        growth = figures["end"] - figures["middle"]
        rows = [row(f"8 RSS growth, 2nd half of {runs} trainings", f"< {TRAINING_GROWTH_GOAL_MB} MB",
                    growth, "MB", TRAINING_GROWTH_GOAL_MB / max(growth, 0.1),
                    growth < TRAINING_GROWTH_GOAL_MB, **figures)]
        count = 200 if quick else 1000
        figures = _predictions(work, count)
        growth = figures["end"] - figures["middle"]
        rows.append(row(f"8 RSS growth, 2nd half of {count} predictions + heatmaps",
                        f"< {PREDICTION_GROWTH_GOAL_MB} MB", growth, "MB",
                        PREDICTION_GROWTH_GOAL_MB / max(growth, 0.1),
                        growth < PREDICTION_GROWTH_GOAL_MB, **figures))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    module_main(run)
