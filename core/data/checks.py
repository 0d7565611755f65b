"""What a scan warns about (imbalance, duplicates, small classes, image sizes) and whether a classifier can be trained."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from core.data.folders import _Found, _count, _quoted
from core.data.picture_warnings import (duplicate_records, near_duplicate_record,
                                        unreadable_record)
from core.data.samples import MAX_INPUT_SIZE, MIN_INPUT_SIZE, DatasetScan
from core.errors import DatasetError


IMBALANCE_RATIO = 1.5


def check_trainable(scan: DatasetScan, batch_size: int) -> list[str]:
    """Can a classifier be trained on this scan? Raises for what makes it impossible and
    returns warnings (plain sentences) for what makes it poor. Cheap: call it before training.

    Raises:
        DatasetError: fewer than 2 classes, or a class without training images.

    Returns:
        Warnings, e.g. a class with fewer training images than one batch (each batch then
        holds all of them, and the model sees that class far less often than the others).
    """
    if len(scan.classes) < 2:
        found = f"only '{scan.classes[0]}'" if scan.classes else "none"
        empty = (f" ({_quoted(scan.empty_classes)} had no readable images"
                 f"{_unsupported(scan, scan.empty_classes)})" if scan.empty_classes else "")
        raise DatasetError(f"{scan.root} has {len(scan.classes)} usable class ({found}){empty}; a "
                           "classifier needs images of at least 2 classes. Add a folder of images "
                           "for each class.")
    counts = scan.counts().get("train", dict.fromkeys(scan.classes, 0))
    missing = [name for name in scan.classes if counts.get(name, 0) == 0]
    if missing:
        raise DatasetError(f"No training images for {_quoted(missing)}: every class needs images in "
                           "train/. Add some, or remove the class folder.")
    notes = []
    small = sorted((count, name) for name, count in counts.items() if count < batch_size)
    if small:
        examples = ", ".join(f"'{name}' {count}" for count, name in small[:5])
        more = f" and {len(small) - 5} more" if len(small) > 5 else ""
        notes.append(f"{_count(len(small), 'class')} {'has' if len(small) == 1 else 'have'} fewer "
                     f"training images than one batch ({batch_size}): {examples}{more}. Training "
                     "works, but the model sees these classes rarely; add images or choose a "
                     "smaller batch size.")
    validation = scan.counts().get("validation") or {}
    if sum(validation.values()):
        absent = [name for name in scan.classes if not validation.get(name)]
        if absent:
            notes.append(f"The validation split has no images of {_quoted(absent)} (too few to "
                         "set any aside), so validation accuracy measures only the other "
                         "classes; add images of these classes.")
    return notes


def suggest_input_size(sizes: list[tuple[int, int]]) -> int:
    """A square model input size for images of these ``(width, height)`` sizes.

    Rule: the median of the images' short sides, rounded to the nearest multiple of 8 and
    clamped to [32, 224]. Upscaling small images adds nothing, and above 224 training on a
    CPU gets slow while pretrained backbones expect 224 at most.
    """
    if not sizes:
        return MAX_INPUT_SIZE
    short_side = float(np.median([min(width, height) for width, height in sizes]))
    rounded = int(8 * math.floor(short_side / 8 + 0.5))
    return max(MIN_INPUT_SIZE, min(MAX_INPUT_SIZE, rounded))


def _size_statistics(sizes: list[tuple[int, int]]) -> dict:
    if not sizes:
        return {}
    widths = np.array([width for width, _ in sizes])
    heights = np.array([height for _, height in sizes])
    return {
        "min": [int(widths.min()), int(heights.min())],
        "median": [int(round(float(np.median(widths)))), int(round(float(np.median(heights))))],
        "max": [int(widths.max()), int(heights.max())],
    }


def _problem_warnings(scan: DatasetScan, found: _Found, readable, assignment, val_split,
                      test_split) -> list[str]:
    warnings = []
    classes = scan.classes
    counts = scan.counts()

    if found.layout == "split":
        for split, per_class in counts.items():
            missing = [name for name in classes if per_class[name] == 0]
            if missing and len(missing) == len(classes):
                warnings.append(f"{found.split_folders.get(split, split + '/')} has no readable images.")
            elif missing:
                folder = found.split_folders.get(split, split + "/")
                consequence = ("the model cannot learn them" if split == "train"
                               else "their accuracy cannot be measured there")
                warnings.append(f"{folder} has no images of {_quoted(missing)}; {consequence}. "
                                "Classes differ between splits, so all of them are used.")

    for name in scan.empty_classes:
        warnings.append(f"The class folder '{name}' contains no readable images"
                        f"{_unsupported(scan, [name])}; it was left out.")

    if len(classes) == 1:
        hint = ""
        if found.layout == "class_folders":
            hint = (f" If {classes[0]}/ holds one subfolder per class, choose that folder instead.")
        warnings.append(f"Only one class ('{classes[0]}') was found; training needs at least two.{hint}")

    records = unreadable_record(scan.unreadable)
    warnings.extend(record["text"] for record in records)

    totals = {name: sum(per_class[name] for per_class in counts.values()) for name in classes}
    if len(classes) >= 2:
        largest = max(classes, key=lambda name: (totals[name], name))
        smallest = min(classes, key=lambda name: (totals[name], name))
        if totals[smallest] and totals[largest] / totals[smallest] > IMBALANCE_RATIO:
            warnings.append(
                f"The classes are imbalanced: '{largest}' has {totals[largest]} images but '{smallest}' "
                f"only {totals[smallest]} ({totals[largest] / totals[smallest]:.1f}x). Consider class "
                "weights or more images of the smaller classes."
            )

    if found.layout != "split" and (val_split or test_split):
        single = [name for name in classes if totals[name] == 1]
        if single:
            warnings.append(f"{_quoted(single)} {'has' if len(single) == 1 else 'have'} only one image, "
                            "used for training only, so validation cannot measure "
                            f"{'it' if len(single) == 1 else 'them'}.")

    records += duplicate_records(scan.duplicates, readable, assignment)
    records += near_duplicate_record(scan.near_duplicates)
    scan.picture_warnings = records
    warnings.extend(record["text"] for record in records
                    if record["level"] == "warning" and record["kind"] != "unreadable")
    return warnings


def imbalance_ratio(scan: DatasetScan) -> float:
    """Images of the largest class per image of the smallest (all splits, as the imbalance
    warning counts them); 1.0 when balanced or when a class has no image."""
    sizes = np.bincount([sample.label for samples in scan.splits.values() for sample in samples],
                        minlength=len(scan.classes))
    if len(sizes) < 2 or sizes.min() == 0:
        return 1.0
    return float(sizes.max() / sizes.min())


def is_imbalanced(scan: DatasetScan) -> bool:
    """True when the largest class has more than IMBALANCE_RATIO times the images of the
    smallest: class weights then keep the model from just guessing the biggest class."""
    return imbalance_ratio(scan) > IMBALANCE_RATIO


UNSUPPORTED_EXTENSIONS = {".heic": "HEIC", ".heif": "HEIC", ".avif": "AVIF"}


def _unsupported(scan, classes) -> str:
    """", only HEIC images, which this program cannot read: convert them to JPEG or PNG" when
    the classes hold only images in formats that are not supported (files named .heic or
    .avif, which the scan passes over, or files of those formats under other names), else ""."""
    reasons = [reason for path, reason in scan.unreadable
               if set(path.split("/")[:-1]) & set(classes)]
    formats = {reason.split()[0] for reason in reasons if "images are not supported" in reason}
    if any("images are not supported" not in reason for reason in reasons):
        return ""
    for folder in _class_folders(Path(scan.root), classes):
        try:
            names = [entry.name for entry in os.scandir(folder) if entry.is_file()]
        except OSError:
            continue
        formats |= {UNSUPPORTED_EXTENSIONS[Path(name).suffix.lower()] for name in names
                    if Path(name).suffix.lower() in UNSUPPORTED_EXTENSIONS}
    if not formats:
        return ""
    return (f", only {' and '.join(sorted(formats))} images, which this program cannot read: "
            "convert them to JPEG or PNG")


def _class_folders(root: Path, classes) -> list[Path]:
    """The folders named after `classes` in the dataset root or one level below (splits)."""
    folders = [root / name for name in classes]
    try:
        folders += [entry.path / Path(name) for entry in os.scandir(root) if entry.is_dir()
                    for name in classes]
    except OSError:
        pass
    return [Path(folder) for folder in folders if Path(folder).is_dir()]
