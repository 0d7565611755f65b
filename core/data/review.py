"""A person's review of their pictures: per picture "keep", "exclude" (from training and
evaluation) or "relabel" (belongs to another class), kept outside their folders.

Decisions live in one small JSON file per dataset folder, ``reviews/<name>-<hash>.json`` in
the app's settings folder (`core.models.weights_store.settings_dir()`, which callers pass in:
this layer knows no settings). The person's files are never moved, renamed or written:
`ReviewStore.apply` gives training and evaluation a changed *scan*. Each decision remembers
the content digest of the picture it was made on; when the file has changed since, the
decision no longer applies (`stale`). Every change is saved at once (atomically) with an undo
history, so decisions and Undo survive a restart.

Example:
    store = ReviewStore("data/pets", settings_dir())
    store.decide(scan, "data/pets/cats/dog.12.jpg", "relabel", "dogs")
    scan, summary = store.apply(scan)
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from pathlib import Path

from core.errors import ConfigError
from core.util import atomic

REVIEW_FOLDER = "reviews"
ACTIONS = ("keep", "exclude", "relabel")
FORMAT = 1
MAX_UNDO = 500


class ReviewStore:
    """The review decisions of one dataset folder (`root`), saved under `settings_folder`."""

    def __init__(self, root: str | os.PathLike, settings_folder: str | os.PathLike):
        self.root = os.path.realpath(os.path.abspath(os.path.expanduser(os.fspath(root))))
        key = hashlib.sha256(self.root.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(self.root))[:40] or "dataset"
        self.path = Path(settings_folder) / REVIEW_FOLDER / f"{slug}-{key}.json"
        self.decisions: dict[str, dict] = {}  # path relative to root -> decision
        self.history: list[dict] = []  # {"path", "before"}: what Undo restores
        self.problem: str | None = None  # why a saved file could not be read
        self.load()

    # --- reading and writing -------------------------------------------------------------------

    def load(self) -> "ReviewStore":
        self.decisions, self.history, self.problem = {}, [], None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return self
        except (OSError, ValueError) as error:
            self.problem = f"{self.path} could not be read ({error}); starting afresh"
            return self
        if not isinstance(data, dict) or not isinstance(data.get("decisions"), dict):
            self.problem = f"{self.path} is not a review file; starting afresh"
            return self
        self.decisions = {rel: item for rel, item in data["decisions"].items()
                          if isinstance(item, dict) and item.get("action") in ACTIONS}
        self.history = [item for item in data.get("history") or [] if isinstance(item, dict)]
        return self

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_json(self.path, {"format": FORMAT, "root": self.root,
                                      "decisions": self.decisions,
                                      "history": self.history[-MAX_UNDO:]})

    # --- deciding ------------------------------------------------------------------------------

    def relative(self, path: str | os.PathLike) -> str:
        """`path` (absolute, or relative to the root) as the key decisions use."""
        path = os.fspath(path)
        if os.path.isabs(path):
            path = os.path.relpath(path, self._lexical_root(path))
        rel = path.replace(os.sep, "/")
        if rel.startswith("../") or rel == "..":
            raise ConfigError(f"{path} is not inside the dataset {self.root}.")
        return rel

    def _lexical_root(self, path: str) -> str:
        """The root as `path` spells it (a dataset reached through a symlink keeps its
        spelling in the scan's paths)."""
        for candidate in (self.root, os.path.abspath(self.root)):
            if path.startswith(candidate.rstrip(os.sep) + os.sep):
                return candidate
        parent = os.path.dirname(path)
        while parent and parent != os.path.dirname(parent):
            if os.path.realpath(parent) == self.root:
                return parent
            parent = os.path.dirname(parent)
        return self.root

    def decide(self, path: str | os.PathLike, action: str, label: str | None = None,
               digest: str | None = None, classes: list[str] | None = None) -> dict:
        """Record a decision about one picture and save. `label`: the class, for "relabel"
        (checked against `classes` when given); `digest`: the picture's content digest (from
        the scan), so a later change of the file voids the decision."""
        if action not in ACTIONS:
            raise ConfigError(f"Unknown review action {action!r}; expected one of: "
                              f"{', '.join(ACTIONS)}.")
        if action == "relabel" and (not label or (classes is not None and label not in classes)):
            raise ConfigError(f"A picture can be moved to one of the dataset's classes "
                              f"({', '.join(classes or [])}); received {label!r}.")
        rel = self.relative(path)
        decision = {"action": action, **({"label": label} if action == "relabel" else {}),
                    **({"digest": digest} if digest else {})}
        self.history.append({"path": rel, "before": self.decisions.get(rel)})
        self.decisions[rel] = decision
        self.save()
        return decision

    def undo(self) -> str | None:
        """Take back the last decision (restoring what was decided before it) and save.
        Returns the picture's relative path, or None when there is nothing to undo."""
        if not self.history:
            return None
        last = self.history.pop()
        if last.get("before") is None:
            self.decisions.pop(last["path"], None)
        else:
            self.decisions[last["path"]] = last["before"]
        self.save()
        return last["path"]

    def decision(self, path: str | os.PathLike) -> dict | None:
        return self.decisions.get(self.relative(path))

    def excluded(self) -> list[str]:
        return sorted(rel for rel, item in self.decisions.items() if item["action"] == "exclude")

    # --- using them ----------------------------------------------------------------------------

    def apply(self, scan):
        """(scan with the decisions applied, summary). Excluded pictures leave every split,
        relabelled ones take their new class; decisions about files that changed or are gone,
        or naming a class the dataset no longer has, are left out and counted as stale.
        summary: {"file", "excluded", "relabelled", "kept", "stale"} (paths relative), or {}
        when there are no decisions."""
        if not self.decisions:
            return scan, {}
        index_of = {name: i for i, name in enumerate(scan.classes)}
        used: set[str] = set()
        excluded, relabelled, kept = [], {}, []
        splits = {}
        for split, samples in scan.splits.items():
            new = []
            for sample in samples:
                rel = self.relative(sample.path)
                item = self.decisions.get(rel)
                info = scan.info.get(sample.path)
                if item is None or (item.get("digest") and info is not None
                                    and info.digest != item["digest"]):
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
        summary = {"file": str(self.path), "excluded": sorted(excluded),
                   "relabelled": dict(sorted(relabelled.items())), "kept": len(kept),
                   "stale": sorted(set(self.decisions) - used)}
        return replace(scan, splits=splits), summary


def review_note(summary: dict) -> str:
    """One sentence on what a review changed ("" when nothing)."""
    if not summary or not (summary["excluded"] or summary["relabelled"]):
        return ""
    parts = []
    if summary["excluded"]:
        parts.append(f"left out {len(summary['excluded'])} excluded picture(s)")
    if summary["relabelled"]:
        parts.append(f"moved {len(summary['relabelled'])} picture(s) to the class you chose")
    stale = f" ({len(summary['stale'])} decision(s) no longer match their file)" \
        if summary["stale"] else ""
    return "Your review " + " and ".join(parts) + stale + "; your folders are unchanged."


def apply_review(scan, settings_folder: str | os.PathLike):
    """`ReviewStore(scan.root, settings_folder).apply(scan)`: what training and evaluation call
    (their scan, and the summary config.json / evaluation results record)."""
    return ReviewStore(scan.root, settings_folder).apply(scan)
