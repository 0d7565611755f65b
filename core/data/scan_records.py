"""Scan records: what earlier scans found out about files that did not change, so that a
second scan of the same data (a second transfer run on cached features) does not decode and
hash every image again.

Records are JSON files in a records folder, one per dataset root; a file counts as unchanged
when its size, modification and change time are the same.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from core.data.imageio import ImageInfo
from core.util import atomic
from core.util.progress import notify

SCAN_CACHE_FORMAT = 2  # 2: ImageInfo gained phash and dhash


def probe_with_records(root: str, paths: list[str], record_dir, probe, listener=None,
                       cancel=None) -> list:
    """`probe(paths, listener, cancel)` (one ImageInfo or reason per path) for the files that
    changed since the last recorded scan of `root`; the others come from the record, which is
    then brought up to date."""
    record_path = Path(record_dir) / (hashlib.sha256(root.encode()).hexdigest()[:20] + ".json")
    records = _read_scan_record(record_path, root)
    results, stamps, todo = [None] * len(paths), [None] * len(paths), []
    for index, path in enumerate(paths):
        try:
            stat = os.stat(path)
            stamps[index] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
        except OSError:
            todo.append(index)
            continue
        entry = records.get(path)
        if entry is not None and entry[0] == stamps[index]:
            result = entry[1]
            results[index] = ImageInfo(*result) if isinstance(result, list) else str(result)
        else:
            todo.append(index)
    if todo:
        probed = probe([paths[i] for i in todo], listener, cancel)
        for index, result in zip(todo, probed):
            results[index] = result
    else:
        notify(listener, "on_stage", "scan", len(paths))
        notify(listener, "on_step", len(paths), len(paths))
    if todo or len(records) != len(paths):
        fresh = {path: [stamp, list(result) if isinstance(result, ImageInfo) else str(result)]
                 for path, stamp, result in zip(paths, stamps, results)
                 if stamp is not None and result is not None}
        try:
            atomic.write_json(record_path, {"format": SCAN_CACHE_FORMAT, "root": root,
                                            "files": fresh})
        except OSError as error:  # a read-only cache folder only costs speed
            notify(listener, "on_log", f"Could not record the scan in {record_path}: {error}")
    return results


def _read_scan_record(path: Path, root: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") == SCAN_CACHE_FORMAT and data.get("root") == root:
            return dict(data["files"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # missing or damaged: scan everything again
    return {}
