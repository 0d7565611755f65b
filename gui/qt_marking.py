"""Learning from mistakes (issue 16): what the Predict and evaluation views do when a person
says "right" or "wrong: this is a <class>" about a picture the model answered.

The decision goes to the project's dataset's review store (`core.data.review.ReviewStore.mark`:
a picture of the dataset is moved to that class or kept; one from anywhere else is copied into
the app's settings folder and joins the next run's training pictures). The store's work (a
copy, a digest, a JSON file) runs on the runner's "io" lane; `QtMarking` keeps what it
returned (`Marks`) for the views, and hands the summary for the next training to the
project state, whose `reviewChanged` the Train step follows.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

NEEDS_DATA = "Open your pictures in step 1 to mark answers: marked pictures join its training."


@dataclass
class Marks:
    """What the person said about pictures of one dataset: `labels` (absolute path -> the
    class they said it is), `summary` (what the next training gets, see
    core.data.review_apply) and whether there is a decision to take back."""

    root: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    can_undo: bool = False
    done: str = ""  # a sentence on the change just made


def _snapshot(store, scan, done: str = "") -> Marks:
    classes = {store.relative(s.path): scan.classes[s.label]
               for samples in scan.splits.values() for s in samples}
    labels = {}
    for key, item in store.decisions.items():
        if item["action"] == "add" and item.get("source"):
            labels[item["source"]] = item["label"]
        elif item["action"] in ("keep", "relabel") and key in classes:
            labels[os.path.join(scan.root, *key.split("/"))] = item.get("label") or classes[key]
    _, summary = store.apply(scan, with_added=True)
    return Marks(scan.root, labels, summary, bool(store.history), done)


def load_marks(scan, settings_folder) -> Marks:
    from core.data.review import ReviewStore

    return _snapshot(ReviewStore(scan.root, settings_folder), scan)


def mark_picture(scan, settings_folder, path: str, label: str) -> Marks:
    """Record "`path` is a `label`" (a worker job)."""
    from core.data.review import ReviewStore

    store = ReviewStore(scan.root, settings_folder)
    _, decision = store.mark(scan, path, label)
    name = Path(path).name
    done = {"add": f"{name} will join the training as {label}.",
            "relabel": f"{name} counts as {label} from now on (its folder is unchanged).",
            "keep": f"{name} stays {label}."}[decision["action"]]
    return _snapshot(store, scan, done)


def undo_mark(scan, settings_folder) -> Marks:
    from core.data.review import ReviewStore

    store = ReviewStore(scan.root, settings_folder)
    undone = store.undo()
    return _snapshot(store, scan, "Took back your last mark." if undone else "")


def mark_words(label: str | None, predicted: str | None) -> str:
    """A mark in a few words for captions ("" when unmarked)."""
    if not label:
        return ""
    return "\u2713 right" if label == predicted else f"\u2717 is {label}"


def training_note(summary: dict) -> str:
    """What the Train step says about marked pictures ("" when there are none)."""
    added = (summary or {}).get("num_added", 0)
    held = len((summary or {}).get("held_back") or [])
    if not added and not held:
        return ""
    text = ""
    if added == 1:
        text = ("1 picture you marked will join the training (as a training picture only, never "
                "as a check picture, so the score stays honest).")
    elif added:
        text = (f"{added} pictures you marked will join the training (as training pictures "
                "only, never as check pictures, so the score stays honest).")
    if held:
        text += (f" {held} marked picture{'s are' if held > 1 else ' is'} left out: "
                 f"{'they are' if held > 1 else 'it is'} (nearly) the same as a picture "
                 "already in your folder.")
    return text.strip()


class QtMarking(QObject):
    """Marks on the pictures the model answered, for the project's dataset.

    Signals:
        changed(): `marks` changed (after a mark, an undo, or another dataset).
    """

    changed = Signal()

    def __init__(self, state, runner, page, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state, self._runner, self._page = state, runner, page
        self.marks = Marks()
        state.datasetChanged.connect(self.reload)

    def settings_folder(self):
        from core.models.weights_store import settings_dir

        return settings_dir()

    def classes(self) -> list[str]:
        scan = self._state.scan
        return list(scan.classes) if scan is not None else []

    def label_of(self, path: str) -> str | None:
        """The class the person said `path` is, or None."""
        if not path or not self.marks.root:
            return None
        return self.marks.labels.get(os.path.abspath(path))

    def reload(self) -> None:
        scan = self._state.scan
        if scan is None:
            self._show(Marks())
            return
        self._runner.submit("io", load_marks, scan, self.settings_folder(),
                            doing="reading your marks", on_result=self._show,
                            on_error=self._page.notify_error)

    def mark(self, path: str, label: str) -> None:
        """Say `path` is a `label` (one of the dataset's classes)."""
        scan = self._state.scan
        if scan is None:
            self._page.notify(NEEDS_DATA, "info")
            return
        self._runner.submit("io", mark_picture, scan, self.settings_folder(), path, label,
                            doing="marking the picture", on_result=self._show,
                            on_error=self._page.notify_error)

    def undo(self) -> None:
        scan = self._state.scan
        if scan is not None:
            self._runner.submit("io", undo_mark, scan, self.settings_folder(),
                                doing="taking back your mark", on_result=self._show,
                                on_error=self._page.notify_error)

    def _show(self, marks: Marks) -> None:
        scan = self._state.scan
        if marks.root and (scan is None or scan.root != marks.root):
            return  # another dataset was opened meanwhile
        self.marks = marks
        self._state.set_review_summary(marks.summary)
        if marks.done:
            note = training_note(marks.summary)
            self._page.notify(marks.done + (" " + note if note else ""), "success")
        self.changed.emit()
