"""Memory stops growing: 50 short trainings in one process (a GUI session) and 1,000
predictions with heatmaps through one Predictor.

Resident memory (VmRSS from /proc/self/status) is read after a warm-up ("start"), halfway
("middle") and at the end. The first runs legitimately grow the process (TensorFlow's
kernels, caches and allocator pools fill up), so the check is on the second half only:

- Training: a leaked train step of LeNet at 16 px costs about 8 MB per run (that is what
  TensorFlow's custom-gradient registry kept alive before `released_tensorflow_graphs`), so
  25 runs would add 200 MB. After the fix the second half grows by about 10 MB (allocator
  noise). The bound, 40 MB for 25 runs (1.6 MB per run), is a quarter of one leaked graph
  per run and four times the noise: a real leak fails, noise does not.
- Prediction: a leak per image (a retraced function, a kept heatmap or batch) costs at least
  tens of kilobytes; 500 predictions with heatmaps then add 15 MB or more, while the
  measured second half grows by well under 1 MB. Bound: 15 MB.

Run with ``pytest -s`` to see the figures.
"""
from __future__ import annotations

import gc
import os
import time

import numpy as np
import pytest

from hostile import make_run_folder
from imagefactory import make_class_folders

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"),
                                reason="reads VmRSS from /proc (Linux)")

NUM_RUNS = 50
TRAINING_GROWTH_LIMIT_MB = 40
NUM_PREDICTIONS = 1000
PREDICTION_GROWTH_LIMIT_MB = 15


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


def report(name: str, figures: dict[str, float], seconds: float) -> None:
    print(f"\n{name}: RSS " + ", ".join(f"{key} {value:.1f} MB" for key, value in figures.items())
          + f"; middle->end {figures['end'] - figures['middle']:+.1f} MB; {seconds:.0f} s")


def test_fifty_trainings_in_one_process_do_not_grow_memory(tmp_path):
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
    for index in range(1, NUM_RUNS + 1):
        one_run(index)
        if index == NUM_RUNS // 2:
            figures["middle"] = rss_mb()
    figures["end"] = rss_mb()
    report(f"{NUM_RUNS} trainings", figures, time.perf_counter() - started)
    assert figures["end"] - figures["middle"] < TRAINING_GROWTH_LIMIT_MB, figures


def test_a_thousand_predictions_with_heatmaps_do_not_grow_memory(tmp_path):
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
    for index in range(NUM_PREDICTIONS):
        predict(index)
        if index + 1 == NUM_PREDICTIONS // 2:
            figures["middle"] = rss_mb()
    figures["end"] = rss_mb()
    report(f"{NUM_PREDICTIONS} predictions with heatmaps", figures, time.perf_counter() - started)
    assert len(os.listdir(out)) == NUM_PREDICTIONS // 50 + 1
    assert figures["end"] - figures["middle"] < PREDICTION_GROWTH_LIMIT_MB, figures
