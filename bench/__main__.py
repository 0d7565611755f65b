"""python -m bench [--quick] [--only NAME[,NAME]] [--json PATH]: run the measurements."""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import DIAGNOSTICS, MODULES
from bench.common import ROOT
from bench.report import format_table


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    memory = next((line.split(":", 1)[1].strip() for line in open("/proc/meminfo")
                   if line.startswith("MemTotal")), "?")
    return {"cpu": model, "cores": os.cpu_count(), "memory": memory,
            "load_average_at_start": os.getloadavg(), "python": platform.python_version()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--only", default=None, help=f"comma-separated: {', '.join(MODULES + DIAGNOSTICS)}")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results.json"),
                        help="where to write the results (default bench/results.json)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(MODULES)
    unknown = [n for n in names if n not in MODULES + DIAGNOSTICS]
    if unknown:
        parser.error(f"unknown measurement(s) {', '.join(unknown)}; "
                     f"choose from {', '.join(MODULES)}")
    info = machine()
    rows, timings = [], {}
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    for name in names:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = handle.name
        command = [sys.executable, "-m", f"bench.{name}", "--json", out] + (
            ["--quick"] if args.quick else [])
        print(f"[bench] {name} ...", flush=True)
        t0 = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        timings[name] = round(time.perf_counter() - t0, 1)
        try:
            module_rows = json.loads(Path(out).read_text())
        except (OSError, ValueError):
            module_rows = [{"name": f"{name} FAILED", "goal": "", "figure": float("nan"),
                            "unit": "", "ratio": None, "met": False,
                            "details": {"stderr": result.stderr[-3000:]}}]
            print(result.stderr[-3000:], file=sys.stderr)
        finally:
            Path(out).unlink(missing_ok=True)
        rows.extend(module_rows)
        print(format_table(module_rows), f"\n[bench] {name}: {timings[name]} s", flush=True)
    total = round(time.perf_counter() - started, 1)
    info["load_average_at_end"] = os.getloadavg()
    print("\n" + format_table(rows))
    print(f"\ntotal {total} s ({'quick' if args.quick else 'full'}); machine: {info['cpu']}, "
          f"{info['cores']} cores, load {info['load_average_at_start']}")
    Path(args.json).write_text(json.dumps({"machine": info, "quick": args.quick,
                                           "seconds": total, "module_seconds": timings,
                                           "rows": rows}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
