"""Shared helpers: side-by-side timing, result rows, data folders, peak memory of a child."""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # /work/main
SHARED = ROOT.parent / "shared"
CATS_DOGS = SHARED / "datasets" / "cats_dogs"
WEIGHTS = SHARED / "weights" / "mobilenet_v2_0.35_imagenet_notop.weights.h5"
CACHE = Path(os.environ.get("ICS_BENCH_CACHE", "~/.cache/ics-bench")).expanduser()


def row(name: str, goal: str, figure: float, unit: str, ratio: float | None = None,
        met: bool | None = None, **details) -> dict:
    """One line of the table: what was measured, the goal, the figure and the ratio."""
    return {"name": name, "goal": goal, "figure": round(float(figure), 4), "unit": unit,
            "ratio": None if ratio is None else round(float(ratio), 4), "met": met,
            "details": details}


def median(values):
    return statistics.median(values) if values else float("nan")


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def alternate(candidates: dict, repeats: int) -> dict:
    """Run each callable `repeats` times, A B A B ..., so load changes hit all alike.

    Each callable returns a figure (e.g. images/s). Returns {name: [figures]}."""
    results = {name: [] for name in candidates}
    for index in range(repeats):
        names = list(candidates) if index % 2 == 0 else list(reversed(candidates))
        for name in names:
            results[name].append(candidates[name]())
    return results


def paired_ratios(results: dict, numerator: str, denominator: str) -> list[float]:
    """Per-repeat ratios (measured side by side), whose median is what we report."""
    return [a / b for a, b in zip(results[numerator], results[denominator]) if b]


def subset_folder(name: str, per_class_train: int, per_class_val: int) -> Path:
    """A train/validation folder of symlinks to the first photos of cats_dogs (reused)."""
    root = CACHE / "subsets" / f"{name}_{per_class_train}_{per_class_val}"
    if (root / ".done").exists():
        return root
    for split, count in (("train", per_class_train), ("validation", per_class_val)):
        for cls in ("cats", "dogs"):
            source = CATS_DOGS / split / cls
            target = root / split / cls
            target.mkdir(parents=True, exist_ok=True)
            files = sorted(source.iterdir(), key=lambda p: p.name)[:count]
            for path in files:
                link = target / path.name
                if not link.exists():
                    link.symlink_to(path)
    (root / ".done").touch()
    return root


def photos(count: int) -> list[str]:
    """`count` real photo paths from cats_dogs (cycled when asking for more)."""
    files = sorted(str(p) for split in ("train", "validation") for p in
                   (CATS_DOGS / split).rglob("*.jpg"))
    return [files[i % len(files)] for i in range(count)]


def run_child(args: list[str], env: dict | None = None, timeout: float = 1800) -> dict:
    """Run a child process; return wall seconds, peak RSS (MB, VmHWM), exit code, output.

    After `timeout` seconds the child is stopped and "capped" is True: the peak is then the
    peak so far. "rss_trace_mb" samples the RSS every 5 s, to show whether it still grows."""
    import threading

    started = time.perf_counter()
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    process = subprocess.Popen(args, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    output = {}
    reader = threading.Thread(target=lambda: output.update(zip(("out", "err"),
                                                                process.communicate())))
    reader.start()  # drain the pipes while we poll, so a chatty child never blocks
    peak_kb, trace, capped, next_sample = 0, [], False, 0.0
    status = f"/proc/{process.pid}/status"
    while process.poll() is None:
        rss_kb = 0
        try:
            with open(status) as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
                    elif line.startswith("VmRSS:"):
                        rss_kb = int(line.split()[1])
        except OSError:
            pass
        elapsed = time.perf_counter() - started
        if elapsed >= next_sample:
            trace.append(round(rss_kb / 1024))
            next_sample += 5.0
        time.sleep(0.05)
        if elapsed > timeout:
            capped = True
            process.kill()
            break
    reader.join()
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": peak_kb / 1024,
            "returncode": process.returncode, "stdout": output.get("out", ""),
            "stderr": output.get("err", ""), "capped": capped, "rss_trace_mb": trace}


def quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from core.util.tf_runtime import load_tensorflow

    return load_tensorflow()


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"ics-bench-{prefix}-"))


def emit(rows: list[dict], json_path: str | None) -> None:
    """Write the module's rows as JSON (for bench.__main__) or print them."""
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=1))
    else:
        from bench.report import format_table

        print(format_table(rows))


def module_main(run) -> None:
    """Standard command line of a measurement module: --quick, --json PATH."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", default=None, help="write the rows to this file")
    args = parser.parse_args()
    emit(run(quick=args.quick), args.json)
    sys.stdout.flush()
