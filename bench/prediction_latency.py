"""5. Prediction latency: one dropped photo (classify + heatmap) and a folder of photos.

Times the engine's work for a drop, as the GUI's worker jobs do it (classify with
core.inference.prediction.Predictor, remember it with core.runs.records, then the heatmap; the
GUI only adds turning pictures into QImages), on runs trained here for 1 epoch: small_cnn (150 px) and
mobilenet_v2 alpha 0.35 bottleneck (224 px). Warm: 3 calls first, then p50/p95 over N drops
of different photos. Goals p50 < 100 ms (small_cnn) and < 200 ms (mobilenet_v2).
Folder: Predictor.predict_paths over 500 photos (quick: 100), images/s (no goal given).
"""
from __future__ import annotations

import shutil
import time

from bench.common import (WEIGHTS, median, module_main, percentile, photos, quiet_tensorflow,
                          row, subset_folder, temp_dir)

GOALS_MS = {"small_cnn": 100, "mobilenet_v2": 200}


def _train_run(model: str, data, out, cache):
    from core.training import TrainingConfig
    from core.training import train

    extra = {} if model == "small_cnn" else {"weights": str(WEIGHTS), "alpha": 0.35,
                                              "cache_dir": str(cache)}
    train(TrainingConfig(str(data), str(out), model=model, epochs=1, extra=extra,
                         mode=None if model == "small_cnn" else "bottleneck"))
    return out


def run(quick: bool = False) -> list[dict]:
    quiet_tensorflow()
    from core.data.imageio import read_image
    from core.inference.prediction import Predictor
    from core.runs.records import record_predictions
    from core.runs.run import Run

    data = subset_folder("predict", 40, 10)
    drops = 15 if quick else 40
    folder = 100 if quick else 500
    work = temp_dir("predict")
    rows = []
    try:
        for model in ("small_cnn", "mobilenet_v2"):
            run_dir = _train_run(model, data, work / model, work / "cache")
            predictor = Predictor(Run.open(run_dir))
            pictures = photos(drops + 3)
            latencies = []
            for index, path in enumerate(pictures):
                started = time.perf_counter()
                results = predictor.predict_paths([path])
                record_predictions(run_dir, results)
                predictor.explain(read_image(path), results[0].get("class_index"))
                if index >= 3:
                    latencies.append((time.perf_counter() - started) * 1000)
            p50, p95 = median(latencies), percentile(latencies, 95)
            goal = GOALS_MS[model]
            rows.append(row(f"5 drop predict+heatmap p50 {model}", f"< {goal} ms", p50, "ms",
                            goal / p50, p50 < goal, p95_ms=p95, drops=drops))
            rows.append(row(f"5 drop predict+heatmap p95 {model}", "(report)", p95, "ms"))
            paths = photos(folder)
            predictor.predict_paths(paths[:32])  # warm the batch size
            started = time.perf_counter()
            predictor.predict_paths(paths)
            rate = folder / (time.perf_counter() - started)
            rows.append(row(f"5 folder of {folder} photos {model}", "(report)", rate, "img/s"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    module_main(run)
