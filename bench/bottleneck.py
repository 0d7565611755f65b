"""4. Bottleneck features (mobilenet_v2 alpha 0.35, shared weights, mode "bottleneck").

- extraction images/s (from the run's config.json) / the backbone's in-memory forward pass
  (predict_on_batch on a float batch of the same size), measured before and after. Goal >= 0.9.
- end to end `core.training.train` with a cold feature cache, then again with the cache
  (same cache folder): ratio cold/warm. Goal >= 5x.
- the same as whole commands, `python main.py train ... --mode bottleneck` in a fresh
  process with a fresh cache, then again (TensorFlow's import, model building and saving
  included): what a user waits for. Issue 3 asks this ratio to be >= 5x. Three such pairs
  (one in --quick), the median of their ratios.
- time from the start of `train` (cold cache, scan included) to the first epoch with
  validation accuracy >= 0.95 on cats_dogs. Goal < 120 s.
Full: all of cats_dogs (2000 train, 800 validation), 10 epochs. Quick: 200+100 per class.
"""
from __future__ import annotations

import json
import shutil
import time

from bench.common import (CATS_DOGS, ROOT, WEIGHTS, median, module_main, quiet_tensorflow, row,
                          subset_folder, temp_dir)


class _Clock:
    """A ProgressListener recording when each epoch ended and its validation accuracy."""

    def __init__(self):
        self.started = time.perf_counter()
        self.epochs = []

    def on_epoch_end(self, epoch, logs):
        self.epochs.append((time.perf_counter() - self.started, logs.get("val_accuracy")))

    def __getattr__(self, name):  # every other listener method: ignore
        if name.startswith("on_"):
            return lambda *args: None
        raise AttributeError(name)


def _train(data_dir, out_dir, cache, epochs, batch):
    from core.training import TrainingConfig
    from core.training import train

    config = TrainingConfig(str(data_dir), str(out_dir), model="mobilenet_v2", mode="bottleneck",
                            epochs=epochs, batch_size=batch,
                            extra={"weights": str(WEIGHTS), "alpha": 0.35,
                                   "cache_dir": str(cache)})
    clock = _Clock()
    started = time.perf_counter()
    result = train(config, listener=clock)
    seconds = time.perf_counter() - started
    run_config = json.loads((out_dir / "config.json").read_text())
    return seconds, clock, result, run_config


def _command(data_dir, out_dir, cache, epochs, batch) -> float:
    """Seconds of `python main.py train ... --mode bottleneck` as a child process."""
    import subprocess
    import sys

    command = [sys.executable, "main.py", "train", str(data_dir), "--out", str(out_dir),
               "--model", "mobilenet_v2", "--alpha", "0.35", "--weights", str(WEIGHTS),
               "--mode", "bottleneck", "--epochs", str(epochs), "--batch-size", str(batch),
               "--cache-dir", str(cache), "--json"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def _forward_rate(batch: int, repeats: int = 5) -> float:
    import numpy as np

    from core.models.networks import BaseChoice, build_network

    network = build_network([BaseChoice("mobilenet_v2", 224, str(WEIGHTS), alpha=0.35)], 2,
                            input_size=224)
    branch = network.branches["mobilenet_v2"]
    images = np.random.default_rng(0).uniform(0, 255, (batch, 224, 224, 3)).astype("float32")
    branch.predict_on_batch(images)
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        branch.predict_on_batch(images)
        rates.append(batch / (time.perf_counter() - started))
    return median(rates)


def run(quick: bool = False) -> list[dict]:
    quiet_tensorflow()
    data = subset_folder("bottleneck", 200, 100) if quick else CATS_DOGS
    epochs, batch = (3, 32) if quick else (10, 32)
    work = temp_dir("bottleneck")
    try:
        forward_before = _forward_rate(batch)
        cold_s, clock, result, config = _train(data, work / "cold", work / "cache", epochs, batch)
        forward_after = _forward_rate(batch)
        warm_s, _, _, _ = _train(data, work / "warm", work / "cache", epochs, batch)
        # Whole commands, in pairs (each with a fresh cache) because the host's speed drifts
        # between minutes: the ratio of each pair, and their median.
        command_pairs = []
        for index in range(1 if quick else 3):
            cmd_cache = work / f"cmd_cache_{index}"
            command_pairs.append((
                _command(data, work / f"cmd_cold_{index}", cmd_cache, epochs, batch),
                _command(data, work / f"cmd_warm_{index}", cmd_cache, epochs, batch)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    extraction = config.get("extraction", {})
    extract_rate = extraction.get("images_per_second") or 0.0
    forward = median([forward_before, forward_after])
    ratio = extract_rate / forward
    command_ratio = median([cold / warm for cold, warm in command_pairs])
    reach = next((t for t, acc in clock.epochs if acc is not None and acc >= 0.95), None)
    best = result.get("best_val_accuracy")
    return [
        row("4 extraction/backbone forward mobilenet_v2 224px", ">= 0.9", ratio, "x", ratio,
            ratio >= 0.9, extraction_images_per_s=extract_rate, forward_images_per_s=forward,
            forward_before_after=[forward_before, forward_after], extraction=extraction),
        row("4 bottleneck train cold/warm cache", ">= 5x", cold_s / warm_s, "x", cold_s / warm_s,
            cold_s / warm_s >= 5, cold_seconds=cold_s, warm_seconds=warm_s, epochs=epochs),
        row("4 bottleneck command cold/warm cache (whole process)", ">= 5x", command_ratio,
            "x", command_ratio, command_ratio >= 5, pairs_seconds=command_pairs,
            pair_ratios=[cold / warm for cold, warm in command_pairs],
            cold_seconds=median([cold for cold, _ in command_pairs]),
            warm_seconds=median([warm for _, warm in command_pairs]), epochs=epochs),
        row("4 train start -> val acc 0.95 (cold cache)", "< 120 s",
            reach if reach is not None else float("nan"), "s",
            None if reach is None else 120 / reach, reach is not None and reach < 120,
            best_val_accuracy=best, epoch_times=clock.epochs,
            data=str(data), note=None if reach is not None else "0.95 not reached"),
    ]


if __name__ == "__main__":
    module_main(run)
