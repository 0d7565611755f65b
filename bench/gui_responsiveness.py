"""6. GUI responsiveness (QT_QPA_PLATFORM=offscreen).

- start-up: `python main.py` in a child process (the window's show() is hooked to print a
  mark and exit); wall time from launch to the window shown, median of repeats. Goal < 2.5 s.
- event-loop stalls: a QTimer probe every 10 ms records the largest gap between ticks
  (minus the 10 ms period) while (a) the window warms up TensorFlow in the background,
  (b) training runs through the Train page (QtTrainPage.start_training on a small
  cats_dogs subset, the product's training child process), (c) a slider of the Augment page
  is swept (one step every 20 ms). Goal < 50 ms.
- preview redraw, 9 tiles: time from request_preview() to the tiles being set
  (QtAugmentPage._on_preview_ready), median over the sweep. Goal < 100 ms.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.common import (ROOT, median, module_main, photos, row, subset_folder, temp_dir)

STARTUP_CHILD = r"""
import os, sys, time
sys.argv = ["main.py"]
import gui
from PySide6.QtCore import QTimer
_create = gui.create_main_window
def create(*args, **kwargs):
    window = _create(runs_root=os.environ["BENCH_RUNS"], settings_path=os.environ["BENCH_INI"])
    _show = window.show
    def show():
        _show()
        QTimer.singleShot(0, lambda: (print("SHOWN", flush=True), os._exit(0)))
    window.show = show
    return window
gui.create_main_window = create
import runpy
runpy.run_path("main.py", run_name="__main__")
"""


def startup_seconds(work) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
           "BENCH_RUNS": str(work / "runs"), "BENCH_INI": str(work / "settings.ini")}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", STARTUP_CHILD], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if line.startswith("SHOWN"):
            seconds = time.perf_counter() - started
            break
    else:
        seconds = float("nan")
    process.wait(timeout=60)
    return seconds


class Probe:
    """Largest gap between 10 ms timer ticks, per named phase."""

    def __init__(self, app):
        from PySide6.QtCore import QTimer

        self.app = app
        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last - 0.010)
        self.last = now

    def reset(self):
        self.last, self.worst = time.perf_counter(), 0.0

    def spin(self, seconds: float, until=None):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not (until and until()):
            self.app.processEvents()
            time.sleep(0.001)


def run(quick: bool = False) -> list[dict]:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    work = temp_dir("gui")
    rows = []
    starts = [startup_seconds(work) for _ in range(2 if quick else 4)]
    start = median(starts)
    rows.append(row("6 python main.py -> window shown", "< 2.5 s", start, "s", 2.5 / start,
                    start < 2.5, repeats=starts))

    import gui

    window = gui.create_main_window(runs_root=work / "runs", settings_path=work / "s.ini")
    window.show()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    probe = Probe(app)
    probe.spin(6 if quick else 10, until=lambda: getattr(window, "engine_ready", False))
    rows.append(row("6 worst stall while TensorFlow warms up", "< 50 ms", probe.worst * 1000,
                    "ms", 0.05 / max(probe.worst, 1e-9), probe.worst < 0.05))

    # (c) slider sweep + preview redraw times
    page = window.augment_page
    window.show_step(page_index(window, page))
    redraws, engine = [], []
    ready = page._on_preview_ready

    def timed_ready(result, asked):
        redraws.append((time.perf_counter() - asked) * 1000)
        engine.append(result.get("engine_ms", float("nan")))
        ready(result, asked)

    page._on_preview_ready = timed_ready  # the worker's result slot looks it up at call time
    probe.reset()
    started = time.perf_counter()
    page.set_image(photos(1)[0])
    probe.spin(60, until=lambda: bool(redraws))
    first = (time.perf_counter() - started) * 1000
    rows.append(row("6 first preview after opening Augment (cold)", "(report)", first, "ms",
                    worst_stall_ms=probe.worst * 1000))
    slider = page.controls.editor("rotation_range").slider
    probe.spin(0.5)
    redraws.clear(), engine.clear()
    probe.reset()
    low, high = slider.minimum(), slider.maximum()
    steps = list(range(low, high + 1, max(1, (high - low) // (30 if quick else 90))))
    for value in steps + steps[::-1]:
        slider.setValue(value)
        probe.spin(0.02)
    probe.spin(1.0)
    rows.append(row("6 worst stall sweeping a slider", "< 50 ms", probe.worst * 1000, "ms",
                    0.05 / max(probe.worst, 1e-9), probe.worst < 0.05, moves=2 * len(steps),
                    redraws_during_sweep=len(redraws)))
    # Separate changes, each after the previous grid is shown: the redraw time a user sees.
    redraws.clear(), engine.clear()
    for value in steps[:: max(1, len(steps) // (5 if quick else 10))]:
        count = len(redraws)
        slider.setValue(value + 1 if value < high else value - 1)
        probe.spin(5, until=lambda: len(redraws) > count)
        probe.spin(0.1)
    if redraws:
        redraw = median(redraws)
        rows.append(row("6 preview redraw 9 tiles (request -> shown)", "< 100 ms", redraw, "ms",
                        100 / redraw, redraw < 100, num_redraws=len(redraws),
                        worst_ms=max(redraws), engine_ms_median=median(engine),
                        all_ms=redraws))

    # (b) training through the Train page
    from core.data.scanning import scan_dataset

    data = subset_folder("gui", 100 if quick else 300, 25)
    window.train_page._state.set_dataset(data, scan_dataset(data))
    probe.spin(0.5)
    note = None
    try:
        window.train_page.start_training()
        probe.reset()
        probe.spin(20 if quick else 60, until=lambda: not window.train_page.is_training())
        worst = probe.worst
        window.train_page.stop_training()
        probe.spin(5, until=lambda: not window.train_page.is_training())
    except Exception as error:  # noqa: BLE001 - report, do not fail the whole bench
        worst, note = float("nan"), f"could not drive training: {error!r}"
    rows.append(row("6 worst stall while training", "< 50 ms", worst * 1000, "ms",
                    0.05 / worst if worst == worst and worst > 0 else None,
                    worst == worst and worst < 0.05, note=note))
    window.close()
    return rows


def page_index(window, page) -> int:
    return window.pages.indexOf(page)


if __name__ == "__main__":
    module_main(run)
