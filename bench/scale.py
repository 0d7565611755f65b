"""7. Scale: a generated folder of 25,000 JPEGs (two classes, about 400x300, like the Kaggle set).

The folder is generated once into ~/.cache/ics-bench/scale_<n> (override with
ICS_BENCH_CACHE) with OpenCV on all cores, and reused. Each job runs in a child process and
its peak RSS is read from /proc/<pid>/status (VmHWM):
- `python main.py inspect DIR` (wall time),
- one epoch of small_cnn at 224 px (core.training.train via `python main.py train`),
  goal < 2.5 GB peak RSS (one float32 array of 25,000 224 px images is 3.8 GB: the seeds' way),
- bottleneck extraction of mobilenet_v2 alpha 0.35 at 224 px (1 head epoch, no cache).
Quick: 2,000 images, jobs run to the end. Full: each training job is stopped after 100 s
(a full epoch over 25,000 images at 224 px takes far longer than the 15-minute budget on
2 cores); the row then reports the peak so far, and details.rss_trace_mb (every 5 s) shows
whether memory was still growing. Pass BENCH_SCALE_BUDGET=0 to run the jobs to the end.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import sys

from bench.common import CACHE, WEIGHTS, module_main, row, run_child, temp_dir


def _write_block(args):
    import cv2
    import numpy as np

    folder, start, stop = args
    rng = np.random.default_rng(start)
    for index in range(start, stop):
        label = "cat" if index % 2 == 0 else "dog"
        height, width = int(rng.integers(280, 376)), int(rng.integers(350, 500))
        base = rng.integers(0, 255, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
        image = cv2.resize(base, (width, height), interpolation=cv2.INTER_CUBIC)
        if label == "dog":
            cv2.circle(image, (width // 2, height // 2), min(width, height) // 4,
                       (255, 255, 255), -1)
        path = os.path.join(folder, label + "s", f"{label}.{index}.jpg")
        cv2.imwrite(path, image, [cv2.IMWRITE_JPEG_QUALITY, 85])


def generate(count: int):
    folder = CACHE / f"scale_{count}"
    if (folder / ".done").exists():
        return folder
    for name in ("cats", "dogs"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    blocks = [(str(folder), start, min(count, start + 500)) for start in range(0, count, 500)]
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        pool.map(_write_block, blocks)
    (folder / ".done").touch()
    return folder


def _main_py(*args):
    return [sys.executable, "main.py", *args]


def run(quick: bool = False) -> list[dict]:
    count = 2000 if quick else 25000
    budget = os.environ.get("BENCH_SCALE_BUDGET")
    # Seconds per training job (see the module docstring); 0 means no limit.
    budget = (600 if quick else 100) if budget is None else (float(budget) or 1e9)
    folder = generate(count)
    work = temp_dir("scale")
    rows = []
    try:
        inspect = run_child(_main_py("inspect", str(folder)))
        rows.append(row(f"7 inspect {count} JPEGs", "(report)", inspect["seconds"], "s",
                        peak_rss_mb=inspect["peak_rss_mb"], returncode=inspect["returncode"]))
        train = run_child(_main_py("train", str(folder), "--model", "small_cnn", "--epochs", "1",
                                   "--image-size", "224", "--out", str(work / "small")),
                          timeout=budget)
        gb = train["peak_rss_mb"] / 1024
        rows.append(row(f"7 peak RSS small_cnn 1 epoch 224px, {count} JPEGs", "< 2.5 GB", gb,
                        "GB", 2.5 / gb, gb < 2.5 and (train["returncode"] == 0
                                                     or train["capped"]),
                        seconds=train["seconds"], returncode=train["returncode"],
                        capped=train["capped"], rss_trace_mb=train["rss_trace_mb"],
                        stderr=train["stderr"][-500:] if train["returncode"] else None))
        extract = run_child(_main_py("train", str(folder), "--model", "mobilenet_v2",
                                     "--mode", "bottleneck", "--epochs", "1", "--weights",
                                     str(WEIGHTS), "--alpha", "0.35", "--no-cache",
                                     "--out", str(work / "bottleneck")),
                            timeout=budget)
        gb = extract["peak_rss_mb"] / 1024
        rows.append(row(f"7 peak RSS bottleneck extraction 224px, {count} JPEGs", "< 2.5 GB", gb,
                        "GB", 2.5 / gb, gb < 2.5 and (extract["returncode"] == 0
                                                     or extract["capped"]),
                        seconds=extract["seconds"], returncode=extract["returncode"],
                        capped=extract["capped"], rss_trace_mb=extract["rss_trace_mb"],
                        stderr=extract["stderr"][-500:] if extract["returncode"] else None))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    module_main(run)
