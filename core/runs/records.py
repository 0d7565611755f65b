"""What a run folder remembers besides its training: the predictions made with it
(predictions.csv) and its last evaluation (evaluation.json).

Both the command line (`predict`, `evaluate`) and the app record them, so they come back when
the run is reopened, whichever side made them. Written atomically; a run folder that cannot be
written (read-only, shared) only loses the memory, never the answer: `record_*` return False.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from core.runs.export import export_predictions_csv, read_predictions_csv
from core.util import atomic

PREDICTIONS_FILE = "predictions.csv"
EVALUATION_FILE = "evaluation.json"


def read_predictions(run_path: str | os.PathLike) -> list[dict]:
    """Predictions remembered in a run folder, as `Predictor.predict_paths` dicts."""
    path = Path(run_path) / PREDICTIONS_FILE
    return read_predictions_csv(path) if path.is_file() else []


def record_predictions(run_path: str | os.PathLike, results: list[dict]) -> bool:
    """Add `results` to the run's predictions (a picture classified again replaces its row)."""
    path = Path(run_path) / PREDICTIONS_FILE
    try:
        known = {row["path"]: row for row in read_predictions(run_path)}
        for result in results:
            known[result["path"]] = result
        export_predictions_csv(path, list(known.values()))
    except OSError:
        return False
    return True


def read_evaluation(run_path: str | os.PathLike) -> dict | None:
    """The run's last evaluation report, or None (none yet, or unreadable)."""
    try:
        return json.loads((Path(run_path) / EVALUATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_evaluation(run_path: str | os.PathLike, report: dict) -> bool:
    """Keep `report` as the run's last evaluation."""
    try:
        atomic.write_json(Path(run_path) / EVALUATION_FILE, report)
    except OSError:
        return False
    return True
