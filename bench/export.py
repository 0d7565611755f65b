"""9. Export: per format, file size, single-picture CPU latency and agreement with the .keras model.

Runs trained here for 1 epoch on a cats_dogs subset (40 + 10 per class): small_cnn (150 px,
from scratch) and mobilenet_v2 alpha 0.35 bottleneck (224 px, shared weights). Each is exported
with `core.export.exporter.export_run(run, "all", ...)` (its parity check included), then every
format is loaded as its predict.py loads it (`core.export.standalone.ExportedModel`) and timed
against the run's .keras model (`Model.predict_on_batch`): one picture at a time (batch 1,
already resized), 3 warm-up calls, then the median of N calls (quick: 20, full: 100).
Agreement: the share of 200 cats_dogs photos (quick: 60) whose top label matches the .keras
model's, and the largest probability difference. No goals in the issue: every row is (report).
"""
from __future__ import annotations

import shutil
import time

import numpy as np

from bench.common import WEIGHTS, median, module_main, photos, quiet_tensorflow, row, \
    subset_folder, temp_dir

MODELS = {"small_cnn": 150, "mobilenet_v2": 224}


def _train(model: str, data, out, cache):
    from core.training import TrainingConfig
    from core.training import train

    extra = {} if model == "small_cnn" else {"weights": str(WEIGHTS), "alpha": 0.35,
                                              "cache_dir": str(cache)}
    train(TrainingConfig(str(data), str(out), model=model, epochs=1, image_size=MODELS[model],
                         extra=extra, mode=None if model == "small_cnn" else "bottleneck"))
    return out


def _latency_ms(predict, pictures: np.ndarray, calls: int) -> float:
    for picture in pictures[:3]:
        predict(picture[None])
    times = []
    for index in range(calls):
        picture = pictures[index % len(pictures)][None]
        started = time.perf_counter()
        predict(picture)
        times.append((time.perf_counter() - started) * 1000)
    return median(times)


def run(quick: bool = False) -> list[dict]:
    quiet_tensorflow()
    from core.export.convert import serving_model
    from core.export.exporter import export_run
    from core.export.pictures import load_batch
    from core.export.standalone import ExportedModel
    from core.runs.run import Run

    data = subset_folder("export", 40, 10)
    calls = 20 if quick else 100
    work = temp_dir("export")
    rows = []
    try:
        for model_name, size in MODELS.items():
            run_dir = _train(model_name, data, work / model_name, work / "cache")
            run = Run.open(run_dir)
            started = time.perf_counter()
            result = export_run(run, "all", work / f"{model_name}-export")
            export_seconds = time.perf_counter() - started
            keras_model = serving_model(run.load_model(), size)
            pictures = load_batch(photos(60 if quick else 200), size)
            reference = np.concatenate([keras_model.predict_on_batch(pictures[i:i + 32])
                                        for i in range(0, len(pictures), 32)])
            keras_ms = _latency_ms(keras_model.predict_on_batch, pictures, calls)
            keras_bytes = run.model_path().stat().st_size
            rows.append(row(f"9 {model_name} {size}px .keras", "(report)", keras_ms, "ms",
                            size_mb=keras_bytes / 2**20, export_all_seconds=export_seconds))
            for item in result["formats"]:
                exported = ExportedModel(item["folder"])
                probabilities = np.concatenate([exported.predict(pictures[i:i + 32])
                                                for i in range(0, len(pictures), 32)])
                agreement = float((probabilities.argmax(1) == reference.argmax(1)).mean())
                difference = float(np.abs(probabilities - reference).max())
                latency = _latency_ms(exported.predict, pictures, calls)
                rows.append(row(f"9 {model_name} {size}px {item['format']}", "(report)", latency,
                                "ms", size_mb=item["file_size_bytes"] / 2**20,
                                agreement=agreement, max_difference=difference,
                                pictures=len(pictures), seconds=item["seconds"],
                                parity=item["parity"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    module_main(run)
