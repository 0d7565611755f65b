"""Files the user exports: spreadsheet-safe prediction tables and file names that stay put.

Runs are shared, and their class names (and the image file names they are applied to) come
from whoever made them. Two things must hold whatever those names are:

- A CSV opened in Excel or LibreOffice never runs a formula. A cell that starts with ``=``,
  ``+``, ``-``, ``@``, a tab, CR or LF (also after leading spaces) gets a leading apostrophe,
  as OWASP recommends for CSV injection; cells already starting with an apostrophe get one
  more, so `read_predictions_csv` can undo it exactly.
- A name turned into a file name never leaves the chosen folder and is valid on Windows,
  macOS and Linux: `safe_filename` removes separators and reserved characters, refuses
  ``.``/``..`` and reserved device names (``CON``, ``NUL``, ``COM1``...), and limits the
  length; `output_path` joins such names under a folder and checks the result stays inside.

Example:
    >>> safe_filename("../../etc/passwd")
    'etc_passwd'
    >>> spreadsheet_safe("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

from core.util import atomic
from core.errors import ConfigError

CSV_HEADER = ["path", "label", "probability", "top", "error"]
"""Columns of a predictions table (``heatmap`` is added when any result has one)."""

# Characters that make a spreadsheet treat a cell as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_NAME_BYTES = 120  # well below the 255-byte limit of common file systems, leaving room for suffixes

_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
    | {f"COM{c}" for c in "¹²³"} | {f"LPT{c}" for c in "¹²³"}
)
_UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\ud800-\udfff]')


def spreadsheet_safe(value):
    """A CSV cell that spreadsheets show as text: formula-like strings get a leading ``'``.

    Numbers and None pass unchanged (a negative number is a number, not a formula).
    """
    if not isinstance(value, str) or not value:
        return value
    stripped = value.lstrip(" ")
    if stripped.startswith(FORMULA_STARTS) or value.startswith("'"):
        return "'" + value
    return value


def unspreadsheet(value: str) -> str:
    """Undo `spreadsheet_safe` for a cell read back from a CSV we wrote."""
    return value[1:] if value.startswith("'") else value


def safe_filename(name: str, default: str = "unnamed", max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name (without folders) made from any label or file name.

    Separators, reserved and control characters become ``_``; leading and trailing dots and
    spaces are removed (no hidden files, no ``..``, nothing Windows would silently strip);
    Windows device names get a ``_`` prefix; the result is at most ``max_bytes`` UTF-8 bytes.
    An empty result becomes ``default``. ``"../../etc"`` gives ``"etc"``, ``"a/b"`` gives
    ``"a_b"``, ``"CON"`` gives ``"_CON"``.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE_CHARACTERS.sub("_", text)
    # "../x" -> "_.._x" -> strip the dots/underscores a separator left at the edges.
    text = re.sub(r"_+", "_", text).strip(" ._")
    if not text:
        text = default
    stem = text.split(".", 1)[0].rstrip(" ").upper()
    if stem in _WINDOWS_RESERVED:
        text = "_" + text
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        text = encoded[:max_bytes].decode("utf-8", "ignore").rstrip(" .")
    return text or default


def output_path(folder: str | os.PathLike, name: str, suffix: str = "", *, subfolder: str | None = None,
                unique: bool = True) -> Path:
    """A path for an exported file inside ``folder`` (optionally in a subfolder named after a label).

    ``name`` and ``subfolder`` go through `safe_filename`; with ``unique`` an existing file is
    never overwritten (``_2``, ``_3``... are appended). The folder is created.

    Raises:
        ValueError: the result would lie outside ``folder`` (cannot happen with safe names;
            checked anyway, as the last line of defence).
    """
    folder = Path(folder)
    target_folder = folder / safe_filename(subfolder) if subfolder is not None else folder
    target_folder.mkdir(parents=True, exist_ok=True)
    stem = safe_filename(name, max_bytes=MAX_NAME_BYTES - len(suffix.encode("utf-8")) - 8)
    path = target_folder / f"{stem}{suffix}"
    index = 1
    while unique and os.path.lexists(path):
        index += 1
        path = target_folder / f"{stem}_{index}{suffix}"
    resolved_folder = folder.resolve()
    if resolved_folder not in path.resolve().parents:
        raise ConfigError(f"Refusing to write {path}: it is outside the output folder {folder}.")
    return path


def predictions_table(results: Sequence[dict]) -> tuple[list[str], list[list]]:
    """(header, rows) of a predictions table, cells already spreadsheet-safe."""
    with_heatmaps = any(result.get("cam") for result in results)
    header = CSV_HEADER + (["heatmap"] if with_heatmaps else [])
    rows = []
    for result in results:
        probability = result.get("probability")
        top = "; ".join(f"{label}:{float(p):.4f}" for label, p in result.get("top") or [])
        row = [_display(result.get("path", "")), _display(result.get("label") or ""),
               "" if probability is None else f"{float(probability):.6f}", _display(top),
               _display(result.get("error") or "")]
        if with_heatmaps:
            row.append(_display(result.get("cam") or ""))
        rows.append([spreadsheet_safe(cell) for cell in row])
    return [spreadsheet_safe(cell) for cell in header], rows


def export_predictions_csv(path: str | os.PathLike, results: Iterable[dict]) -> Path:
    """Write predictions (``Predictor.predict_paths`` dicts) as a spreadsheet-safe CSV, atomically.

    Columns: path, label, probability, top (``label:p; label:p``), error, and heatmap when
    any result has one. UTF-8 with a byte-order mark, so Excel shows non-Latin names
    correctly. Returns the path written.
    """
    header, rows = predictions_table(list(results))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = Path(path)
    atomic.write_bytes(path, buffer.getvalue().encode("utf-8-sig"))
    return path


def evaluation_tables(report: dict) -> list[list]:
    """The rows of an evaluation table (``evaluate_run``'s report), cells spreadsheet-safe:
    a summary, one row per class (precision, recall, F1, pictures), the confusion matrix
    (rows: true class, columns: predicted), then every mistake; blank rows between."""
    labels = list(report.get("labels") or [])
    rows: list[list] = [
        ["accuracy", f"{float(report.get('accuracy', 0)):.6f}"],
        ["pictures", str(report.get("n", ""))],
        ["folder", _display(report.get("data", ""))],
        ["split", _display(report.get("split") or "")],
        [],
        ["class", "precision", "recall", "f1", "pictures"],
    ]
    for label in labels:
        scores = (report.get("per_class") or {}).get(label, {})
        rows.append([_display(label)] + [str(scores.get(key, "")) for key in
                                         ("precision", "recall", "f1", "support")])
    rows += [[], ["rows: true class, columns: predicted"] + [_display(label) for label in labels]]
    for label, counts in zip(labels, report.get("confusion") or []):
        rows.append([_display(label)] + [str(count) for count in counts])
    rows += [[], ["mistake: path", "true", "predicted", "probability"]]
    for item in report.get("misclassified") or []:
        rows.append([_display(item.get("path", "")), _display(item.get("true", "")),
                     _display(item.get("predicted", "")),
                     f"{float(item.get('probability', 0)):.6f}"])
    return [[spreadsheet_safe(cell) for cell in row] for row in rows]


def export_evaluation_csv(path: str | os.PathLike, report: dict) -> Path:
    """Write an evaluation report as a spreadsheet-safe CSV (`evaluation_tables`),
    atomically, UTF-8 with a byte-order mark. Returns the path written."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(evaluation_tables(report))
    path = Path(path)
    atomic.write_bytes(path, buffer.getvalue().encode("utf-8-sig"))
    return path


def read_predictions_csv(path: str | os.PathLike) -> list[dict]:
    """Read a table written by `export_predictions_csv` back into prediction dicts."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    results = []
    for row in rows:
        row = {unspreadsheet(key or ""): unspreadsheet(value or "") for key, value in row.items()}
        top = []
        for part in filter(None, row.get("top", "").split("; ")):
            label, _, value = part.rpartition(":")
            try:
                top.append([label, float(value)])
            except ValueError:
                continue
        try:
            probability = float(row["probability"]) if row.get("probability") else None
        except ValueError:
            probability = None
        results.append({"path": row.get("path", ""), "label": row.get("label") or None,
                        "probability": probability, "top": top, "error": row.get("error") or None,
                        "cam": row.get("heatmap") or None})
    return results


def _display(text) -> str:
    """Text for humans: bytes of a file name that are not UTF-8 become U+FFFD."""
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
