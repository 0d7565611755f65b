"""Applying review decisions to a scan: what training and evaluation see (`core.data.review`
keeps the decisions; this module only reads them).

- "exclude": the picture leaves every split; "relabel": it takes the class the person chose.
- "add" (a picture from outside the dataset, copied into the app's settings folder): it joins
  the *training* split only, never validation or test, so the validation score still measures
  pictures the model did not learn from. An added picture that is identical (same bytes) to a
  picture of the dataset, or near-identical (core.data.perceptual) to a validation or test
  picture, is held back: training on it would leak into the validation figure.
- A decision whose file changed or is gone, or that names a class the dataset no longer has,
  is left out and counted as stale.
"""
from __future__ import annotations

import os
from dataclasses import replace

from core.data.imageio import probe_image
from core.data.perceptual import is_near
from core.data.samples import Sample
from core.errors import ImageReadError

ADDED_PREFIX = "added:"  # decision key of an added picture: "added:<sha-256 of its bytes>"


def apply_decisions(scan, decisions: dict, relative, with_added: bool = False):
    """(scan with `decisions` applied, summary). `relative(path)`: the decision key of a sample
    path. `with_added`: put the added pictures into the training split (training does;
    evaluation measures the dataset as it is). summary: {"file", "excluded", "relabelled",
    "kept", "added", "num_added", "held_back", "stale"}."""
    index_of = {name: i for i, name in enumerate(scan.classes)}
    used: set[str] = set()
    excluded, relabelled, kept = [], {}, []
    splits = {}
    for split, samples in scan.splits.items():
        new = []
        for sample in samples:
            rel = relative(sample.path)
            item = decisions.get(rel)
            info = scan.info.get(sample.path)
            if item is None or item["action"] == "add" or (
                    item.get("digest") and info is not None and info.digest != item["digest"]):
                new.append(sample)
                continue
            if item["action"] == "relabel" and item.get("label") not in index_of:
                new.append(sample)
                continue
            used.add(rel)
            if item["action"] == "exclude":
                excluded.append(rel)
                continue
            if item["action"] == "relabel":
                relabelled[rel] = item["label"]
                sample = sample._replace(label=index_of[item["label"]])
            else:
                kept.append(rel)
            new.append(sample)
        splits[split] = sorted(new)
    added, held_back, info = [], [], dict(scan.info)
    additions = {key: item for key, item in decisions.items() if item["action"] == "add"}
    if with_added and additions and "train" in splits:
        added, held_back, new_info = _added_samples(scan, additions, index_of)
        used.update(item["key"] for item in added + held_back)
        info.update(new_info)
        splits["train"] = sorted(splits["train"] + [Sample(item["file"], index_of[item["label"]])
                                                    for item in added])
    elif additions:
        used.update(additions)  # not stale: they only wait for the next training
    summary = {"excluded": sorted(excluded), "relabelled": dict(sorted(relabelled.items())),
               "kept": len(kept), "added": added, "num_added": len(added),
               "held_back": held_back, "stale": sorted(set(decisions) - used)}
    return replace(scan, splits=splits, info=info), summary


def _added_samples(scan, additions: dict, index_of: dict):
    """(added, held back, ImageInfo per copy) for the "add" decisions: each a {"key", "file",
    "label", "name"}, in key order."""
    digests = {info.digest for info in scan.info.values()}
    held_out = [(scan.info[s.path].phash, scan.info[s.path].dhash)
                for split in ("validation", "test") for s in scan.splits.get(split, [])
                if s.path in scan.info]
    added, held_back, infos = [], [], {}
    for key, item in sorted(additions.items()):
        path = item.get("file")
        if item.get("label") not in index_of or not path:
            continue
        try:
            info = _probe_copy(path)
        except (ImageReadError, OSError):
            continue  # the copy is gone or damaged: stale
        if info.digest != item.get("digest"):
            continue
        entry = {"key": key, "file": os.fspath(path), "label": item["label"],
                 "name": item.get("name") or os.path.basename(path)}
        if info.digest in digests:
            held_back.append(entry | {"why": "the same picture is in the dataset"})
        elif any(is_near((info.phash, info.dhash), other) for other in held_out):
            held_back.append(entry | {"why": "nearly the same as a validation picture"})
        else:
            added.append(entry)
            infos[entry["file"]] = info
    return added, held_back, infos


# ImageInfo of the copies of added pictures by (path, size, modification time): the app's
# marks re-apply the decisions after every mark, and a copy is only ever replaced whole, so
# a copy is decoded once per process instead of once per mark.
_probed: dict = {}


def _probe_copy(path: str):
    stat = os.stat(path)
    key = (os.fspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _probed:
        _probed[key] = probe_image(path)
    return _probed[key]


def recorded_decisions(review: dict | None) -> dict:
    """The decisions a run's config.json "review" summary records (what was applied when the
    run started): keys as `apply_decisions` reads them, without digests."""
    if not isinstance(review, dict):
        return {}
    decisions: dict[str, dict] = {}
    for rel in review.get("excluded") or []:
        decisions[rel] = {"action": "exclude"}
    for rel, label in (review.get("relabelled") or {}).items():
        decisions[rel] = {"action": "relabel", "label": label}
    for item in review.get("added") or []:
        if isinstance(item, dict) and item.get("key") and item.get("file"):
            decisions[item["key"]] = {"action": "add", "label": item.get("label"),
                                      "file": item["file"], "name": item.get("name"),
                                      "digest": item["key"][len(ADDED_PREFIX):]}
    return decisions


def review_note(summary: dict) -> str:
    """One sentence on what a review changed ("" when nothing)."""
    if not summary or not (summary["excluded"] or summary["relabelled"]
                           or summary.get("num_added") or summary.get("held_back")):
        return ""
    parts = []
    if summary["excluded"]:
        parts.append(f"left out {len(summary['excluded'])} excluded picture(s)")
    if summary["relabelled"]:
        parts.append(f"moved {len(summary['relabelled'])} picture(s) to the class you chose")
    if summary.get("num_added"):
        parts.append(f"added {summary['num_added']} picture(s) you marked to the training "
                     "pictures (never to validation)")
    if summary.get("held_back"):
        parts.append(f"held back {len(summary['held_back'])} marked picture(s) that are (nearly) "
                     "the same as pictures of the dataset")
    stale = f" ({len(summary['stale'])} decision(s) no longer match their file)" \
        if summary["stale"] else ""
    return "Your review " + ", ".join(parts) + stale + "; your folders are unchanged."
