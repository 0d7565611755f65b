"""What a dataset scan produces: `Sample`s split into train / validation / test, in a `DatasetScan`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NamedTuple

from core.data.imageio import ImageInfo
from core.errors import ConfigError
from core.data.splitting import _group_duplicates

MIN_INPUT_SIZE, MAX_INPUT_SIZE = 32, 224  # the range of suggested input sizes


SPLITS = ("train", "validation", "test")
# Folder names (lower-cased) recognised as splits in the "split" layout.
SPLIT_FOLDER_NAMES = {
    "train": "train", "training": "train",
    "validation": "validation", "val": "validation", "valid": "validation",
    "test": "test", "testing": "test",
}


class Sample(NamedTuple):
    """One labelled image: absolute ``path`` and ``label`` (index into ``DatasetScan.classes``)."""

    path: str
    label: int


@dataclass
class DatasetScan:
    """The result of `scan_dataset`: what is in a dataset folder and how it is split.

    Attributes:
        root: Absolute path of the dataset folder.
        layout: ``"split"``, ``"class_folders"`` or ``"flat"``.
        classes: Class names, sorted; ``Sample.label`` indexes this list.
        splits: Samples per split (keys among ``"train"``, ``"validation"``, ``"test"``),
            each list sorted by path.
        unreadable: ``(path relative to root, reason)`` for each file left out.
        empty_classes: Class folders without any readable image (not in ``classes``).
        duplicates: Groups of identical files (relative paths): ``within_split``,
            ``across_splits``, ``conflicting_labels`` and ``num_groups``.
        near_duplicates: When the scan proposed the split (or carved validation/test out of
            train/): ``num_groups`` and ``num_pictures`` of the groups of identical or
            near-identical pictures it kept on one side, and the ``groups`` (relative paths).
            Empty when the folders decided the split.
        image_size: ``{"min", "median", "max"}``, each ``[width, height]`` taken per axis.
        suggested_input_size: A square model input size derived from the images; see
            `suggest_input_size`.
        warnings: Plain sentences about problems worth a look.
        picture_warnings: The sentences about particular pictures (copies, pictures in two
            classes, copies on both sides of the split, near-identical pictures kept
            together, unreadable files) as records naming the pictures
            (`core.data.picture_warnings`), so the app can show them.
        info: `ImageInfo` per absolute sample path.
    """

    root: str
    layout: str
    classes: list[str]
    splits: dict[str, list[Sample]]
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    duplicates: dict = field(default_factory=lambda: _group_duplicates([]))
    near_duplicates: dict = field(default_factory=dict)
    image_size: dict = field(default_factory=dict)
    suggested_input_size: int = MAX_INPUT_SIZE
    warnings: list[str] = field(default_factory=list)
    picture_warnings: list[dict] = field(default_factory=list)
    info: dict[str, ImageInfo] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_images(self) -> int:
        """Readable images in all splits."""
        return sum(len(samples) for samples in self.splits.values())

    def samples(self, split: str) -> list[Sample]:
        """Samples of one split; an empty list when the dataset has no such split.

        Raises:
            ValueError: ``split`` is not one of "train", "validation", "test".
        """
        if split not in SPLITS:
            raise ConfigError(f"Unknown split {split!r}. Expected one of: {', '.join(SPLITS)}.")
        return list(self.splits.get(split, []))

    def evaluation_samples(self) -> tuple[str, list[Sample]]:
        """The images to evaluate a trained model on, and the name of that set.

        Split layout: ``test`` when it has images, else ``validation``. The other layouts have
        no held-out folder of their own, so all their images are returned as ``"all"`` (as
        they are for a split dataset that has neither test nor validation images).
        """
        if self.layout == "split":
            for name in ("test", "validation"):
                if self.splits.get(name):
                    return name, self.samples(name)
        everything = sorted(sample for samples in self.splits.values() for sample in samples)
        return "all", everything

    def is_native(self, path: str | os.PathLike) -> bool:
        """True when TensorFlow's decoder reads this sample exactly like `read_image` (see `ImageInfo`)."""
        info = self.info.get(os.path.abspath(os.fspath(path)))
        return bool(info and info.native)

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of images per split and class (every class listed, zeros included)."""
        result = {}
        for split, samples in self.splits.items():
            per_class = dict.fromkeys(self.classes, 0)
            for sample in samples:
                per_class[self.classes[sample.label]] += 1
            result[split] = per_class
        return result

    def split_note(self) -> str:
        """One sentence on what the proposed split kept together ("" when the folders split)."""
        near = self.near_duplicates
        if not near:
            return ""
        if not near["num_groups"]:
            return "No near-identical pictures were found, so the split is picture by picture."
        groups = near["num_groups"]
        return (f"Kept {groups} {'group' if groups == 1 else 'groups'} of near-identical "
                f"pictures ({near['num_pictures']} pictures) on one side of the split, so "
                "validation does not see copies of training pictures.")

    def report(self) -> dict:
        """A JSON-serialisable summary (what ``inspect --json`` prints)."""
        return {
            "root": self.root,
            "layout": self.layout,
            "classes": list(self.classes),
            "splits": self.counts(),
            "num_images": self.num_images,
            "unreadable": [{"path": path, "reason": reason} for path, reason in self.unreadable],
            "empty_classes": list(self.empty_classes),
            "duplicates": {key: (list(value) if isinstance(value, list) else value)
                           for key, value in self.duplicates.items()},
            "near_duplicates": {key: (list(value) if isinstance(value, list) else value)
                                for key, value in self.near_duplicates.items()},
            "split_note": self.split_note(),
            "image_size": {key: list(value) for key, value in self.image_size.items()},
            "suggested_input_size": self.suggested_input_size,
            "warnings": list(self.warnings),
            "picture_warnings": [dict(record) for record in self.picture_warnings],
        }
