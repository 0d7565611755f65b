"""Issue 17. Training on several devices (tf.distribute), and a killed extraction resumed.

- images/s of `python main.py train` (small_cnn 96 px, cats_dogs subset, global batch 32) with
  `--strategy one` and with `--strategy mirrored --cpu-replicas 2` (2 x 16): the second
  epoch's seconds from history.csv, runs alternating A B B A. (report: on 2 cores the two
  replicas share the same cores, so no speed-up is expected; the row shows what the
  distribution costs.)
- a bottleneck extraction (mobilenet_v2 alpha 0.35, shared weights, 96 px) of N generated
  JPEGs (bench.scale's folder; N = 25,000, quick 2,000; BENCH_DISTRIBUTE_N to change), killed
  with SIGKILL once half the pictures are done, then the same command again: how many rows
  the cache kept, how long the resumed run took, and the time saved (the kept rows at the
  resumed run's extraction rate: what starting over would have cost again).
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

from bench.common import (ROOT, WEIGHTS, median, module_main, row, subset_folder,
                          temp_dir)


def _main_py(*args):
    return [sys.executable, "main.py", *args]


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _images_per_second(data, strategy: list[str], batch: int, folder) -> dict:
    out = folder / f"run-{time.monotonic_ns()}"
    command = _main_py("train", str(data), "--out", str(out), "--model", "small_cnn",
                       "--image-size", "96", "--epochs", "2", "--batch-size", str(batch),
                       "--augment", "none", "--optimizer", "adam", *strategy)
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    rows = list(csv.DictReader((out / "history.csv").open()))
    config = json.loads((out / "config.json").read_text())
    train = config["dataset"]["splits"]["train"]
    count = sum(train.values()) if isinstance(train, dict) else int(train)
    return {"images_per_second": count / float(rows[-1]["seconds"]),
            "distribution": config["distribution"]}


def _training_rows(quick: bool) -> list[dict]:
    data = subset_folder("cats_dogs", 100 if quick else 300, 20)
    folder = temp_dir("distribute")
    variants = {"1 replica": (["--strategy", "one"], 32),
                "2 CPU replicas": (["--strategy", "mirrored", "--cpu-replicas", "2"], 16)}
    results = {name: [] for name in variants}
    order = list(variants) + list(reversed(variants)) if not quick else list(variants)
    for name in order:
        argv, batch = variants[name]
        results[name].append(_images_per_second(data, argv, batch, folder))
    rows = []
    one = median([r["images_per_second"] for r in results["1 replica"]])
    for name, runs in results.items():
        figure = median([r["images_per_second"] for r in runs])
        rows.append(row(f"train images/s, {name} (small_cnn 96 px, global batch 32)",
                        "(report)", figure, "images/s",
                        ratio=figure / one if one else None,
                        repeats=[round(r["images_per_second"], 1) for r in runs],
                        distribution=runs[0]["distribution"]))
    return rows


def _progress(line: str):
    parts = line.strip().split("/")
    if len(parts) == 2 and all(part.isdigit() for part in parts):
        return int(parts[0]), int(parts[1])
    return None


def _extraction_rows(quick: bool) -> list[dict]:
    from bench.scale import generate

    count = int(os.environ.get("BENCH_DISTRIBUTE_N") or (2000 if quick else 25000))
    started = time.perf_counter()
    data = generate(count)
    generated = time.perf_counter() - started
    folder = temp_dir("distribute-extract")
    command = _main_py("train", str(data), "--out", str(folder / "run"), "--model",
                       "mobilenet_v2", "--mode", "bottleneck", "--weights", str(WEIGHTS),
                       "--image-size", "96", "--epochs", "1", "--head", "dense",
                       "--augment", "none", "--val-split", "0.1", "--cache-dir",
                       str(folder / "cache"))
    # First run: killed (SIGKILL, no chance to save) once half the pictures are extracted.
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=_env() | {"PYTHONUNBUFFERED": "1"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done_at_kill, total, extracting = 0, count, False
    for line in process.stderr:  # the command's progress lines
        extracting = extracting or line.startswith("[extract]")
        progress = _progress(line)
        if extracting and progress:
            done_at_kill, total = progress
            if done_at_kill >= total // 2:
                break
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_after = time.perf_counter() - started
    # Second run: the same command.
    started = time.perf_counter()
    again = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True)
    resumed_seconds = time.perf_counter() - started
    if again.returncode:
        raise RuntimeError(again.stderr[-2000:])
    config = json.loads((folder / "run" / "config.json").read_text())
    cache, extraction = config["cache"], config["extraction"]
    rate = extraction["images_per_second"] or float("nan")
    kept = cache["hits"]
    saved = kept / rate
    details = {"pictures": total, "generated_seconds": round(generated, 1),
               "extracted_when_killed": done_at_kill, "killed_after_s": round(killed_after, 1),
               "rows_kept": kept, "rows_lost_at_kill": done_at_kill - kept,
               "resumed_extracted": cache["misses"], "resumed_extraction_s": extraction["seconds"],
               "resumed_command_s": round(resumed_seconds, 1),
               "extraction_images_per_second": rate,
               "full_extraction_estimate_s": round(total / rate, 1)}
    return [
        row(f"extraction of {total} pictures killed halfway: rows the cache kept", "(report)",
            kept, "rows", **details),
        row(f"extraction of {total} pictures killed halfway: time saved by resuming",
            "(report)", saved, "s", ratio=saved / (total / rate), **details),
    ]


def run(quick: bool = False) -> list[dict]:
    from bench.common import quiet_tensorflow

    quiet_tensorflow()  # only to fail early when TensorFlow is missing
    return _training_rows(quick) + _extraction_rows(quick)


if __name__ == "__main__":
    module_main(run)
