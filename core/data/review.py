"""A person's review of their pictures: per picture "keep", "exclude" (from training and
evaluation), "relabel" (belongs to another class) or "add" (a picture from outside the dataset
that the person marked as one of its classes: it joins the training pictures), kept outside
their folders.

Decisions live in one small JSON file per dataset folder, ``reviews/<name>-<hash>.json`` in
the app's settings folder (`core.models.weights_store.settings_dir()`, which callers pass in:
this layer knows no settings). The person's files are never moved, renamed or written:
`ReviewStore.apply` gives training and evaluation a changed *scan*. Each decision remembers
the content digest of the picture it was made on; when the file has changed since, the
decision no longer applies (`stale`). Every change is saved at once (atomically) with an undo
history, so decisions and Undo survive a restart.

Learning from mistakes: `mark(scan, picture, label)` records what a person says a picture is
(after the model answered on the Predict or evaluation view). A picture of the dataset gets
"keep" (its folder's class) or "relabel"; a picture from anywhere else is copied, named by its
content digest, into ``reviews/<name>-<hash>/added/`` beside the decision file (the person's
folders are never written) and gets "add": `apply(scan, with_added=True)` puts it into the
training split only (see core.data.review_apply). Copies stay when a mark is undone: a run that
trained on one can still be resumed, and a picture marked twice is stored once.

Example:
    store = ReviewStore("data/pets", settings_dir())
    store.decide("data/pets/cats/dog.12.jpg", "relabel", "dogs")
    store.mark(scan, "~/Downloads/puppy.jpg", "dogs")
    scan, summary = store.apply(scan, with_added=True)
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path

from core.data.imageio import probe_image_bytes
from core.data.review_apply import ADDED_PREFIX, apply_decisions
from core.errors import ConfigError, NotWritableError
from core.util import atomic

REVIEW_FOLDER = "reviews"
ACTIONS = ("keep", "exclude", "relabel", "add")
FORMAT = 2  # 2: "add" decisions (pictures from outside the dataset)
MAX_UNDO = 500


class ReviewStore:
    """The review decisions of one dataset folder (`root`), saved under `settings_folder`."""

    def __init__(self, root: str | os.PathLike, settings_folder: str | os.PathLike):
        self.root = os.path.realpath(os.path.abspath(os.path.expanduser(os.fspath(root))))
        key = hashlib.sha256(self.root.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(self.root))[:40] or "dataset"
        self.path = Path(settings_folder) / REVIEW_FOLDER / f"{slug}-{key}.json"
        self.added_folder = self.path.with_suffix("") / "added"  # copies of added pictures
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
        with _writing(self.path.parent):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_json(self.path, {"format": FORMAT, "root": self.root,
                                          "decisions": self.decisions,
                                          "history": self.history[-MAX_UNDO:]})

    # --- deciding ------------------------------------------------------------------------------

    def relative(self, path: str | os.PathLike) -> str:
        """`path` (absolute, or relative to the root) as the key decisions use."""
        given = path = os.fspath(path)
        if os.path.isabs(path):
            path = os.path.relpath(path, self._lexical_root(path))
        rel = path.replace(os.sep, "/")
        if rel.startswith("../") or rel == "..":
            raise ConfigError(f"{given} is not inside the dataset {self.root}; only its own "
                              "pictures can be excluded or moved to another class.")
        return rel

    def inside(self, path: str | os.PathLike) -> bool:
        """True when `path` is a file inside the dataset folder (however it is spelled)."""
        real = os.path.realpath(os.path.abspath(os.path.expanduser(os.fspath(path))))
        return real.startswith(self.root.rstrip(os.sep) + os.sep)

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
        if action == "add":
            raise ConfigError("Pictures from outside the dataset are added with "
                              "ReviewStore.mark(scan, picture, label).")
        decision = {"action": action, **({"label": label} if action == "relabel" else {}),
                    **({"digest": digest} if digest else {})}
        return self._record(self.relative(path), decision)

    def exclude_all(self, pictures: dict) -> list[dict]:
        """Exclude several pictures of the dataset at once (`pictures`: path -> its content
        digest or None), reading and saving the file once; each stays its own Undo step.
        Raises ConfigError, recording nothing, when one is not inside the dataset."""
        keyed = [(self.relative(path), {"action": "exclude", **({"digest": digest} if digest
                                                                 else {})})
                 for path, digest in pictures.items()]
        return self._record_all(keyed)

    def _record(self, key: str, decision: dict) -> dict:
        return self._record_all([(key, decision)])[0]

    def _record_all(self, keyed: list[tuple[str, dict]]) -> list[dict]:
        self.load()  # what another window (or the command line) decided meanwhile is kept
        for key, decision in keyed:
            self.history.append({"path": key, "before": self.decisions.get(key)})
            self.decisions[key] = decision
        if keyed:
            self.save()
        return [decision for _, decision in keyed]

    def mark(self, scan, picture: str | os.PathLike, label: str) -> tuple[str, dict]:
        """The person says `picture` is a `label` (one of `scan.classes`; `scan`: this
        dataset's scan). Returns (key, decision): for a picture of the dataset "keep" when
        that is its class, else "relabel"; for any other picture "add", after copying it into
        `added_folder` (a picture with the same bytes as one of the dataset is that one).
        Raises ConfigError (a class the dataset lacks, a missing file) or ImageReadError."""
        if label not in scan.classes:
            raise ConfigError(f"{label!r} is not one of the dataset's classes "
                              f"({', '.join(scan.classes)}); mark the picture as one of them.")
        picture = os.path.abspath(os.path.expanduser(os.fspath(picture)))
        sample, data, info = self._sample_of(scan, picture), None, None
        if sample is None and not self.inside(picture):
            data, info = _read_picture(picture)  # read and checked once, also for the copy
            sample = _sample_with_digest(scan, info.digest)
        if sample is not None:
            info = scan.info.get(sample.path)
            current = scan.classes[sample.label]
            decision = {"action": "keep"} if current == label else {"action": "relabel",
                                                                    "label": label}
            if info is not None:
                decision["digest"] = info.digest
            key = self.relative(sample.path)
            return key, self._record(key, decision)
        if self.inside(picture):
            raise ConfigError(f"{picture} is inside the dataset but is not one of its pictures "
                              "(unreadable, or not in a class folder); move it into a class "
                              "folder, or mark a picture from elsewhere.")
        digest, copy = self._copy_in(picture, data, info)
        key = ADDED_PREFIX + digest
        return key, self._record(key, {"action": "add", "label": label, "digest": digest,
                                       "file": str(copy), "name": os.path.basename(picture),
                                       "source": picture})

    def _sample_of(self, scan, picture: str):
        if not self.inside(picture):
            return None
        key = self.relative(picture)
        return next((sample for samples in scan.splits.values() for sample in samples
                     if self.relative(sample.path) == key), None)

    def _copy_in(self, picture: str, data: bytes, info) -> tuple[str, Path]:
        """Copy `picture` (its bytes `data`, probed as `info`) into `added_folder` as
        <digest><extension>; (digest, copy)."""
        copy = self.added_folder / (info.digest + os.path.splitext(picture)[1].lower())
        if not copy.is_file() or copy.stat().st_size != len(data):
            with _writing(self.added_folder):
                atomic.write_bytes(copy, data)
        return info.digest, copy

    def undo(self) -> str | None:
        """Take back the last decision (restoring what was decided before it) and save.
        Returns the decision's key (the picture's relative path, or "added:<digest>" for a
        picture from elsewhere), or None when there is nothing to undo."""
        self.load()
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
        """The decision about a picture of the dataset, or about a picture from elsewhere that
        was marked (found by its recorded source path), or None."""
        if not os.path.isabs(os.fspath(path)) or self.inside(path):
            return self.decisions.get(self.relative(path))
        source = os.path.abspath(os.path.expanduser(os.fspath(path)))
        found = [item for item in self.decisions.values()
                 if item["action"] == "add" and item.get("source") == source]
        return found[-1] if found else None

    def excluded(self) -> list[str]:
        return sorted(rel for rel, item in self.decisions.items() if item["action"] == "exclude")

    def added(self) -> dict[str, dict]:
        """The "add" decisions: key -> decision (label, file, name, source)."""
        return {key: item for key, item in sorted(self.decisions.items())
                if item["action"] == "add"}

    def counts(self) -> dict[str, int]:
        """How many decisions of each action ("keep", "exclude", "relabel", "add")."""
        counts = dict.fromkeys(ACTIONS, 0)
        for item in self.decisions.values():
            counts[item["action"]] += 1
        return counts

    # --- using them ----------------------------------------------------------------------------

    def apply(self, scan, with_added: bool = False, decisions: dict | None = None):
        """(scan with the decisions applied, summary); see core.data.review_apply. Excluded
        pictures leave every split, relabelled ones take their new class, and with
        `with_added` (training) the added pictures join the training split. `decisions`:
        others than this store's (a run's recorded ones, when it is resumed). summary:
        {"file", "excluded", "relabelled", "kept", "added", "num_added", "held_back",
        "stale"}, or {} when there are no decisions."""
        decisions = self.decisions if decisions is None else decisions
        if not decisions:
            return scan, {}
        scan, summary = apply_decisions(scan, decisions, self.relative, with_added)
        return scan, {"file": str(self.path), **summary}


@contextlib.contextmanager
def _writing(folder: Path):
    """A failed write in the app's settings folder is a NotWritableError sentence."""
    try:
        yield
    except NotWritableError:
        raise
    except OSError as error:
        raise NotWritableError(f"Could not save your review decisions in {folder} "
                               f"({error.strerror or error}); the app's settings folder must "
                               "be writable.") from None


def _read_picture(picture: str):
    """(bytes, ImageInfo) of a picture file. Raises ConfigError (missing file, a folder) or
    ImageReadError (why it cannot be used as a picture)."""
    try:
        data = Path(picture).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{picture} does not exist; mark a picture file that is on this "
                          "computer.") from None
    except IsADirectoryError:
        raise ConfigError(f"{picture} is a folder; mark one picture at a time.") from None
    except OSError as error:
        raise ConfigError(f"{picture} could not be read ({error.strerror or error}).") from None
    return data, probe_image_bytes(data)


def _sample_with_digest(scan, digest: str):
    """The scan's sample whose file has this content digest (the same bytes), or None."""
    path = next((path for path, info in scan.info.items() if info.digest == digest), None)
    return next((sample for samples in scan.splits.values() for sample in samples
                 if sample.path == path), None) if path else None


def apply_review(scan, settings_folder: str | os.PathLike, with_added: bool = False):
    """`ReviewStore(scan.root, settings_folder).apply(scan, with_added)`: what training (with
    the added pictures) and evaluation (without) call; their scan, and the summary config.json
    / evaluation results record."""
    return ReviewStore(scan.root, settings_folder).apply(scan, with_added)
