"""Worker jobs of the Review window (no widgets: they run on a worker lane).

`find_suspects` asks the engine (`core.training.curation.curate`) which pictures are probably
in the wrong folder or unlike every class; `load_review_pictures` makes the thumbnails of the
suspects and of a few examples per class. Both check the cancel token between pictures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUSPECT_SIZE = 150  # side of a suspect's thumbnail, px
EXAMPLE_SIZE = 64  # side of an example's thumbnail, px
EXAMPLES_PER_CLASS = 4
MAX_SUSPECTS = 60  # rows shown at once (the most suspicious first)


@dataclass
class Suspect:
    """One picture to review: why it is shown and what the engine suggests."""

    path: str
    given: str  # its folder's class
    suggested: str | None  # the class it looks like (None: an outlier, unlike every class)
    score: float | None  # label quality (0..1, low: suspicious); None for outliers
    why: str


@dataclass
class Findings:
    """What the Review window shows: suspects, examples per class (paths), near-duplicates."""

    classes: list[str]
    suspects: list[Suspect] = field(default_factory=list)
    examples: dict = field(default_factory=dict)  # class -> example paths
    near_duplicates: list = field(default_factory=list)  # (kind, [paths])
    details: dict = field(default_factory=dict)


def findings_from(curation, scan) -> Findings:
    """The window's view of a `core.training.curation.Curation`: label issues first (most
    suspicious first), then outliers that are not label issues."""
    found = Findings(list(scan.classes), details=dict(curation.details))
    for item in curation.label_issues:
        found.suspects.append(Suspect(item["path"], item["given"], item["suggested"],
                                      item["score"],
                                      f"looks like {item['suggested']}"))
    listed = {suspect.path for suspect in found.suspects}
    label_of = {sample.path: scan.classes[sample.label]
                for samples in scan.splits.values() for sample in samples}
    for path in curation.outliers:
        if path not in listed and path in label_of:
            found.suspects.append(Suspect(path, label_of[path], None, None,
                                          "unlike every class"))
    found.near_duplicates = list(zip(curation.near_duplicate_kinds, curation.near_duplicates))
    suspicious = {suspect.path for suspect in found.suspects}
    for name in scan.classes:
        typical = sorted((path for path, label in label_of.items()
                          if label == name and path not in suspicious),
                         key=lambda path: -curation.scores.get(path, 0.0))
        step = max(1, len(typical) // (EXAMPLES_PER_CLASS * 4))
        found.examples[name] = typical[::step][:EXAMPLES_PER_CLASS]
    return found


def find_suspects(scan, listener=None, cancel=None) -> Findings:
    """Worker job: the engine's look at every picture with the pretrained weights on this
    computer (a sentence saying what is needed when there are none)."""
    from core.training.transfer.dataset_features import pick_weights

    weights = pick_weights(None)
    from core.util.tf_runtime import load_tensorflow

    load_tensorflow()
    from core.training.curation import curate

    return findings_from(curate(scan, weights, listener, cancel), scan)


def load_review_pictures(paths: list[str], cancel=None, sizes: dict | None = None) -> dict:
    """Worker job: {path: QImage} square thumbnails (`sizes`: path -> side, default
    EXAMPLE_SIZE); pictures that cannot be read are left out."""
    from core.data.imageio import read_image
    from core.errors import ImageReadError
    from gui.qt_images import square_thumbnail

    pictures = {}
    for path in dict.fromkeys(paths):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            pictures[path] = square_thumbnail(read_image(path),
                                              (sizes or {}).get(path, EXAMPLE_SIZE))
        except (ImageReadError, OSError, ValueError):
            continue
    return pictures
