"""history.csv: one row per finished epoch, read and written."""
from __future__ import annotations

import csv
from pathlib import Path

from core.util import atomic


HISTORY_COLUMNS = ["epoch", "stage", "loss", "accuracy", "val_loss", "val_accuracy",
                   "learning_rate", "seconds"]


def read_history(path: Path) -> list[dict]:
    """Rows of history.csv. A damaged file (cut off, binary garbage) never stops a run from
    opening: unreadable rows and cells are left out, a file that cannot be parsed gives []."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            raw_rows = list(csv.DictReader(handle))
    except (OSError, csv.Error):
        return []
    rows = []
    for raw in raw_rows:
        row = {}
        for key, value in raw.items():
            if key is None or not isinstance(value, str):
                continue
            if key == "stage":
                row[key] = value
            elif key == "epoch":
                try:
                    row[key] = int(value) if value else None
                except ValueError:
                    row[key] = None
            else:
                try:
                    row[key] = float(value) if value else None
                except ValueError:
                    row[key] = None
        if row.get("epoch") is not None:  # a line cut off before its epoch is no row
            rows.append(row)
    return rows


def write_history(path: Path, rows: list[dict]) -> None:
    atomic.write_csv(path, HISTORY_COLUMNS,
                     [["" if row.get(col) is None else row.get(col) for col in HISTORY_COLUMNS]
                      for row in rows])
