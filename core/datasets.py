"""Scanning a dataset folder: its layout, classes, train/validation/test splits and problems.

`scan_dataset(root)` reads a folder in one of three layouts and returns a `DatasetScan`:

- ``"split"``: ``train/`` and ``validation/`` (or ``val/``), optional ``test/``, each holding one
  subfolder per class. Class sets may differ between splits; they are united and a warning
  names what is missing where.
- ``"class_folders"``: one subfolder per class (``cats/``, ``dogs/``); images in nested folders
  belong to the class. A stratified, seeded split into train/validation[/test] is proposed.
- ``"flat"``: images named after their class, Kaggle style (``cat.12.jpg``, ``dog_7.png``,
  ``Dog 3.png``). The class is the run of letters at the start of the name, lower-cased. Split
  like class folders.

Every image is decoded once (in parallel) to find unreadable files, measure sizes and hash the
contents. Unreadable files are listed with a reason and left out; identical files are reported
(within a split, across splits = leakage, across classes = conflicting labels) but kept.
Scanning states facts; policy (e.g. refusing to train on one class) belongs to the caller.
Nothing is ever written inside the dataset folder.

Example:
    >>> scan = scan_dataset("data/flowers", val_split=0.2, seed=1337)   # doctest: +SKIP
    >>> scan.layout, scan.classes[:2], len(scan.samples("validation"))  # doctest: +SKIP
    ('class_folders', ['daisy', 'dandelion'], 864)
"""
from __future__ import annotations

import math
import os
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from core.imageio import (
    IMAGE_EXTENSIONS,
    ImageInfo,
    ImageReadError,
    is_ignored_name,
    is_image_name,
    probe_image,
)
from core.progress import CancelToken, ProgressListener, notify

SPLITS = ("train", "validation", "test")
# Folder names (lower-cased) recognised as splits in the "split" layout.
SPLIT_FOLDER_NAMES = {
    "train": "train", "training": "train",
    "validation": "validation", "val": "validation", "valid": "validation",
    "test": "test", "testing": "test",
}
IMBALANCE_RATIO = 1.5
MIN_INPUT_SIZE, MAX_INPUT_SIZE = 32, 224

_EXPECTED = "Expected one subfolder per class (cats/, dogs/) or train/ and validation/ folders."
_CLASS_PREFIX = re.compile(r"[^\W\d_]+")  # a run of letters (any alphabet)


class Sample(NamedTuple):
    """One labelled image: absolute ``path`` and ``label`` (index into ``DatasetScan.classes``)."""

    path: str
    label: int


class DatasetError(ValueError):
    """The folder cannot be used as a dataset. The message says what was found and what is expected."""


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
        image_size: ``{"min", "median", "max"}``, each ``[width, height]`` taken per axis.
        suggested_input_size: A square model input size derived from the images; see
            `suggest_input_size`.
        warnings: Plain sentences about problems worth a look.
        info: `ImageInfo` per absolute sample path.
    """

    root: str
    layout: str
    classes: list[str]
    splits: dict[str, list[Sample]]
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    duplicates: dict = field(default_factory=lambda: _group_duplicates([]))
    image_size: dict = field(default_factory=dict)
    suggested_input_size: int = MAX_INPUT_SIZE
    warnings: list[str] = field(default_factory=list)
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
            raise ValueError(f"Unknown split {split!r}. Expected one of: {', '.join(SPLITS)}.")
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
            "image_size": {key: list(value) for key, value in self.image_size.items()},
            "suggested_input_size": self.suggested_input_size,
            "warnings": list(self.warnings),
        }


def scan_dataset(
    root: str | os.PathLike,
    val_split: float = 0.2,
    test_split: float = 0.0,
    seed: int = 1337,
    listener: ProgressListener | None = None,
    cancel: CancelToken | None = None,
) -> DatasetScan:
    """Find the images and classes in a dataset folder, check every image and split them.

    Use this before training or evaluating, and for ``inspect``. The split is stratified
    (per class) and reproducible for a given ``seed``; identical files of one class always
    land in the same split, so the proposed split never leaks copies into validation. Every
    class with at least 2 images gets at least one validation image when ``val_split > 0``
    (and with 3 or more, one test image when ``test_split > 0``); training keeps at least one.
    In the split layout the folders decide; a missing ``validation/`` (or ``test/``) is carved
    out of ``train/`` with ``val_split`` (or ``test_split``).

    Args:
        root: The dataset folder.
        val_split: Fraction of each class proposed for validation, in [0, 1).
        test_split: Fraction of each class proposed for testing, in [0, 1).
        seed: Seed of the proposed split.
        listener: Receives ``on_stage("scan", num_files)`` then ``on_step(done, total)``.
        cancel: Checked between files; cancelling raises `core.progress.Cancelled`.

    Returns:
        A `DatasetScan`.

    Raises:
        DatasetError: the folder is missing, a file, or holds no usable images.
        ValueError: ``val_split`` or ``test_split`` is out of range.
        Cancelled: ``cancel`` was cancelled.
    """
    _check_fraction("val_split", val_split)
    _check_fraction("test_split", test_split)
    if val_split + test_split >= 1:
        raise ValueError(
            f"val_split + test_split must leave images for training (received {val_split} + "
            f"{test_split} = {val_split + test_split:g}). Use fractions that add up to less than 1."
        )
    root = os.path.abspath(os.path.expanduser(os.fspath(root)))
    found = _find_candidates(root, cancel)
    results = _probe_all([_absolute(root, rel) for rel, _, _ in found.candidates], listener, cancel)
    return _build_scan(root, found, results, val_split, test_split, seed)


def collect_images(paths: list[str | os.PathLike]) -> tuple[list[str], list[tuple[str, str]]]:
    """Expand files and folders (recursively) into a list of image files, e.g. for prediction.

    Folders are searched recursively in sorted order; hidden, system and non-image files in
    them are passed over silently. A named file that is missing or not an image is returned in
    ``skipped`` with a reason. Duplicated paths are kept once. Files are not opened here.

    Returns:
        ``(files, skipped)``: image paths (as given, or joined onto the given folder) and
        ``(path, reason)`` pairs.
    """
    files: list[str] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.normcase(os.path.realpath(path))  # one file reached twice is kept once
        if key not in seen:
            seen.add(key)
            files.append(path)

    for item in paths:
        path = os.fspath(item)
        if os.path.isdir(path):
            walk = _Walk()
            walk.collect(path, "", set())
            for rel in walk.images:
                add(os.path.join(path, *rel.split("/")))
        elif os.path.exists(path):  # a file, or a special file that reading will refuse
            if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
                add(path)
            else:
                skipped.append((path, f"not an image file (expected {_extension_list()})"))
        elif os.path.islink(path):
            skipped.append((path, "broken link: the file it points to does not exist"))
        else:
            skipped.append((path, "does not exist"))
    return files, skipped


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
        empty = (f" ({_quoted(scan.empty_classes)} had no readable images)"
                 if scan.empty_classes else "")
        raise DatasetError(f"{scan.root} has {len(scan.classes)} usable class ({found}){empty}; a "
                           "classifier needs images of at least 2 classes. Add a folder of images "
                           "for each class.")
    counts = scan.counts().get("train", dict.fromkeys(scan.classes, 0))
    missing = [name for name in scan.classes if counts.get(name, 0) == 0]
    if missing:
        raise DatasetError(f"No training images for {_quoted(missing)}: every class needs images in "
                           "train/. Add some, or remove the class folder.")
    small = sorted((count, name) for name, count in counts.items() if count < batch_size)
    if not small:
        return []
    examples = ", ".join(f"'{name}' {count}" for count, name in small[:5])
    more = f" and {len(small) - 5} more" if len(small) > 5 else ""
    return [f"{_count(len(small), 'class')} {'has' if len(small) == 1 else 'have'} fewer training "
            f"images than one batch ({batch_size}): {examples}{more}. Training works, but the model "
            "sees these classes rarely; add images or choose a smaller batch size."]


def class_from_filename(name: str) -> str | None:
    """The class in a Kaggle-style file name: the letters before the first digit or separator.

    ``"cat.12.jpg"`` -> ``"cat"``, ``"Dog 3.png"`` -> ``"dog"``, ``"123.jpg"`` -> None.
    """
    match = _CLASS_PREFIX.match(os.path.splitext(name)[0])
    return match.group(0).lower() if match else None


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


# --- finding files -----------------------------------------------------------------------------


def _extension_list() -> str:
    return ", ".join(sorted(IMAGE_EXTENSIONS))


class _Walk:
    """Recursive listing of image files below a folder, safe against symlink loops.

    ``images`` holds paths relative to the starting folder with ``/`` separators, sorted.
    Broken links and special files with image names are included (probing reports them
    as unreadable).
    """

    def __init__(self, cancel: CancelToken | None = None) -> None:
        self.images: list[str] = []
        self.other_files: list[str] = []
        self.problems: list[str] = []
        self._cancel = cancel

    def collect(self, path: str, rel: str, visited: set) -> None:
        stack = [(path, rel)]
        while stack:
            if self._cancel is not None:
                self._cancel.raise_if_cancelled()
            folder, folder_rel = stack.pop()
            key = _folder_key(folder)
            if key is None or key in visited:  # a link back to a folder already read
                continue
            visited.add(key)
            listing = _list_folder(folder)
            if listing is None:
                self.problems.append(f"The folder {folder_rel or '.'}/ could not be opened "
                                     "(permission denied?) and was skipped.")
                continue
            subfolders, images, others = listing
            self.images.extend(_join(folder_rel, name) for name in images)
            self.other_files.extend(_join(folder_rel, name) for name in others)
            # Reverse so the stack pops in sorted order; the final list is sorted anyway.
            stack.extend((os.path.join(folder, name), _join(folder_rel, name))
                         for name in reversed(subfolders))
        self.images.sort()


def _list_folder(path: str) -> tuple[list[str], list[str], list[str]] | None:
    """Sorted (subfolders, image files, other files) directly inside ``path``; hidden/system names skipped."""
    try:
        entries = list(os.scandir(path))
    except OSError:
        return None
    subfolders, images, others = [], [], []
    for entry in entries:
        name = entry.name
        if is_ignored_name(name):
            continue
        try:
            if entry.is_dir():
                subfolders.append(name)
            else:  # files, links (maybe broken) and special files: probing says which fail
                (images if is_image_name(name) else others).append(name)
        except OSError:
            if is_image_name(name):
                images.append(name)  # probing reports why it cannot be read
    return sorted(subfolders), sorted(images), sorted(others)


def _folder_key(path: str):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


def _absolute(root: str, rel: str) -> str:
    return os.path.join(root, *rel.split("/"))


@dataclass
class _Labelled:
    """Images of one folder read as class subfolders or as Kaggle-style names."""

    kind: str  # "class_folders", "flat" or "empty"
    classes: dict[str, list[str]]  # class -> relative paths
    empty_classes: list[str]
    loose: list[str]  # images not in a class folder, left out
    unlabelled: list[str]  # flat names without a class prefix, left out
    walk_problems: list[str]


@dataclass
class _Found:
    layout: str
    candidates: list[tuple[str, str | None, str]]  # (relative path, split or None, class)
    folder_classes: set[str]  # classes that came from folders (may turn out empty)
    empty_classes: set[str]
    split_folders: dict[str, str]  # split -> folder name as on disk
    warnings: list[str]


def _read_labelled(folder: str, rel: str, visited: set, cancel) -> _Labelled:
    listing = _list_folder(folder)
    if listing is None:
        raise DatasetError(f"{folder} cannot be opened (permission denied). Choose a folder you can read.")
    subfolders, images, _ = listing
    base = visited | {_folder_key(folder)}
    classes, empty, problems = {}, [], []
    for name in subfolders:
        walk = _Walk(cancel)
        walk.collect(os.path.join(folder, name), _join(rel, name), set(base))
        problems.extend(walk.problems)
        if walk.images:
            classes[name] = walk.images
        else:
            empty.append(name)
    loose = [_join(rel, name) for name in images]
    if classes:
        return _Labelled("class_folders", classes, empty, loose, [], problems)
    if loose:
        by_prefix: dict[str, list[str]] = {}
        unlabelled = []
        for path in loose:
            label = class_from_filename(path.rsplit("/", 1)[-1])
            if label is None:
                unlabelled.append(path)
            else:
                by_prefix.setdefault(label, []).append(path)
        return _Labelled("flat", by_prefix, [], [], unlabelled, problems)
    return _Labelled("empty", {}, empty, [], [], problems)


def _find_candidates(root: str, cancel) -> _Found:
    if not os.path.exists(root):
        if os.path.islink(root):
            raise DatasetError(f"{root} is a broken link. Choose the dataset folder itself. {_EXPECTED}")
        raise DatasetError(f"{root} does not exist. Choose a folder that contains one subfolder per class "
                           "(cats/, dogs/) or train/ and validation/ folders.")
    if not os.path.isdir(root):
        raise DatasetError(f"{root} is a file, not a folder. Choose the folder that holds the images. "
                           f"{_EXPECTED}")
    listing = _list_folder(root)
    if listing is None:
        raise DatasetError(f"{root} cannot be opened (permission denied). Choose a folder you can read.")
    subfolders, _, _ = listing
    root_key = {_folder_key(root)}

    split_folders: dict[str, list[str]] = {}
    for name in subfolders:
        split = SPLIT_FOLDER_NAMES.get(name.lower())
        if split:
            split_folders.setdefault(split, []).append(name)
    if "train" in split_folders:
        per_split = {
            split: [(name, _read_labelled(os.path.join(root, name), name, root_key, cancel))
                    for name in names]
            for split, names in split_folders.items()
        }
        # train/ with class folders, or Kaggle-style names of 2+ classes (dogs-vs-cats has
        # train/cat.0.jpg next to an unlabelled test1/): a split dataset.
        train_has_classes = any(
            labelled.kind == "class_folders" or (labelled.kind == "flat" and len(labelled.classes) >= 2)
            for _, labelled in per_split["train"]
        )
        others = [name for name in subfolders if SPLIT_FOLDER_NAMES.get(name.lower()) is None]
        other_walks = {name: _walk(os.path.join(root, name), name, root_key, cancel) for name in others}
        others_with_images = [name for name, walk in other_walks.items() if walk.images]
        if train_has_classes or not others_with_images:
            return _split_candidates(root, per_split, others_with_images)
    elif split_folders and not _has_class_folders(root, subfolders, split_folders, root_key, cancel):
        names = ", ".join(f"{name}/" for names in split_folders.values() for name in names)
        raise DatasetError(f"{root} has {names} but no train/ folder. {_EXPECTED}")

    labelled = _read_labelled(root, "", set(), cancel)
    warnings = list(labelled.walk_problems)
    if labelled.kind == "class_folders":
        if labelled.loose:
            warnings.append(_left_out_loose(labelled.loose, os.path.basename(root) or root))
        candidates = [(path, None, name) for name, paths in labelled.classes.items() for path in paths]
        return _Found("class_folders", sorted(candidates), set(labelled.classes),
                      set(labelled.empty_classes), {}, warnings)
    if labelled.kind == "flat":
        if not labelled.classes:
            example = labelled.unlabelled[0]
            raise DatasetError(
                f"{root} contains {len(labelled.unlabelled)} images but their names have no class prefix "
                f"(e.g. {example}). Expected one subfolder per class (cats/, dogs/), or file names that "
                "start with the class (cat.12.jpg, dog_7.png)."
            )
        if labelled.unlabelled:
            warnings.append(_left_out_unlabelled(labelled.unlabelled))
        candidates = [(path, None, name) for name, paths in labelled.classes.items() for path in paths]
        return _Found("flat", sorted(candidates), set(), set(), {}, warnings)
    raise DatasetError(_nothing_found(root, subfolders, cancel))


def _walk(folder: str, rel: str, visited: set, cancel) -> _Walk:
    walk = _Walk(cancel)
    walk.collect(folder, rel, set(visited))
    return walk


def _has_class_folders(root, subfolders, split_folders, root_key, cancel) -> bool:
    """True when folders other than validation/ or test/ hold images (so those are class names)."""
    split_names = {name for names in split_folders.values() for name in names}
    return any(_walk(os.path.join(root, name), name, root_key, cancel).images
               for name in subfolders if name not in split_names)


def _split_candidates(root: str, per_split: dict, ignored_folders: list[str]) -> _Found:
    candidates, warnings = [], []
    folder_classes, empty_classes = set(), set()
    for folder in ignored_folders:
        warnings.append(f"The folder {folder}/ was ignored: a split dataset is read from train/, "
                        "validation/ and test/ only.")
    for split in SPLITS:
        for folder, labelled in per_split.get(split, []):
            warnings.extend(labelled.walk_problems)
            if labelled.loose:
                warnings.append(_left_out_loose(labelled.loose, f"{folder}/"))
            if labelled.unlabelled:
                warnings.append(_left_out_unlabelled(labelled.unlabelled))
            if labelled.kind == "class_folders":
                folder_classes.update(labelled.classes)
                empty_classes.update(labelled.empty_classes)
            candidates.extend((path, split, name)
                              for name, paths in labelled.classes.items() for path in paths)
    split_folders = {split: ", ".join(f"{name}/" for name, _ in folders)
                     for split, folders in per_split.items()}
    return _Found("split", sorted(candidates), folder_classes, empty_classes, split_folders, warnings)


def _nothing_found(root: str, subfolders: list[str], cancel) -> str:
    walk = _walk(root, "", set(), cancel)
    if subfolders and walk.other_files:
        found = (f"{len(subfolders)} folder(s) but no images (only other files such as "
                 f"{walk.other_files[0]})")
    elif subfolders:
        names = ", ".join(f"{name}/" for name in subfolders[:3]) + (", ..." if len(subfolders) > 3 else "")
        found = f"{len(subfolders)} folder(s) ({names}) but no images in them"
    elif walk.other_files:
        found = f"no images, only other files such as {walk.other_files[0]}"
    else:
        return f"{root} is empty. {_EXPECTED}"
    return f"{root} contains no class subfolders with images (found {found}). {_EXPECTED}"


def _left_out_loose(paths: list[str], where: str) -> str:
    return (f"{_count(len(paths), 'image')} directly inside {where} {'is' if len(paths) == 1 else 'are'} "
            f"not in a class folder and {'was' if len(paths) == 1 else 'were'} left out (e.g. {paths[0]}).")


def _left_out_unlabelled(paths: list[str]) -> str:
    return (f"{_count(len(paths), 'image')} {'has' if len(paths) == 1 else 'have'} no class prefix in the "
            f"file name and {'was' if len(paths) == 1 else 'were'} left out (e.g. {paths[0]}); "
            "name them like cat.12.jpg.")


# --- checking files ----------------------------------------------------------------------------


def _probe_all(paths: list[str], listener, cancel) -> list[ImageInfo | str]:
    """probe_image on every path in a thread pool; returns ImageInfo or the reason it failed."""
    total = len(paths)
    notify(listener, "on_stage", "scan", total)
    results: list[ImageInfo | str | None] = [None] * total
    if not total:
        notify(listener, "on_step", 0, 0)
        return results
    stop = threading.Event()

    def probe(path: str) -> ImageInfo | str | None:
        if stop.is_set() or (cancel is not None and cancel.cancelled):
            return None
        try:
            return probe_image(path)
        except ImageReadError as error:
            return error.reason
        except Exception as error:  # never let one odd file end the whole scan
            return f"file cannot be checked ({type(error).__name__}: {error})"

    # Pillow, hashlib and file reads release the GIL; a few more threads than cores also
    # hide disk latency on cold caches.
    workers = max(2, min(8, (os.cpu_count() or 1) * 2))
    step = max(1, total // 200)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
        futures = [pool.submit(probe, path) for path in paths]
        try:
            for index, future in enumerate(futures):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                results[index] = future.result()
                done = index + 1
                if done % step == 0 or done == total:
                    notify(listener, "on_step", done, total)
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    if cancel is not None:
        cancel.raise_if_cancelled()  # a worker may have skipped its file after the last check
    return results


# --- building the scan -------------------------------------------------------------------------


def _build_scan(root, found: _Found, results, val_split, test_split, seed) -> DatasetScan:
    warnings = list(found.warnings)
    unreadable: list[tuple[str, str]] = []
    readable: list[tuple[str, str | None, str, ImageInfo]] = []
    for (rel, split, label), result in zip(found.candidates, results):
        if isinstance(result, ImageInfo):
            readable.append((rel, split, label, result))
        else:
            unreadable.append((rel, str(result)))
    unreadable.sort()

    if not readable:
        if unreadable:
            rel, reason = unreadable[0]
            raise DatasetError(
                f"None of the {_count(len(unreadable), 'image file')} in {root} could be read "
                f"(e.g. {rel}: {reason}). {_EXPECTED}"
            )
        raise DatasetError(f"{root} contains no class subfolders with images. {_EXPECTED}")

    classes = sorted({label for _, _, label, _ in readable})
    empty_classes = sorted((found.empty_classes | found.folder_classes) - set(classes))
    label_of = {name: index for index, name in enumerate(classes)}

    if found.layout == "split":
        # The folders decide; only a missing validation/ or test/ is carved out of train/.
        assignment = {rel: split for rel, split, _, _ in readable}
        carve = {"validation": val_split, "test": test_split}
        carve = {split: fraction for split, fraction in carve.items()
                 if fraction and split not in found.split_folders}
        if carve:
            train = [(rel, label, info.digest) for rel, split, label, info in readable if split == "train"]
            assignment.update(_propose_split(train, carve.get("validation", 0.0),
                                             carve.get("test", 0.0), seed))
            folders = " or ".join(f"{split}/" for split in carve)
            fractions = " and ".join(f"{fraction:.0%}" for fraction in carve.values())
            warnings.append(f"There is no {folders} folder: {fractions} of train/ was set aside for it.")
        split_names = [split for split in SPLITS if split in found.split_folders or split in carve]
    else:
        items = [(rel, label, info.digest) for rel, _, label, info in readable]
        assignment = _propose_split(items, val_split, test_split, seed)
        fractions = {"train": 1.0, "validation": val_split, "test": test_split}
        split_names = [split for split in SPLITS if fractions[split]]

    splits: dict[str, list[Sample]] = {name: [] for name in split_names}
    info: dict[str, ImageInfo] = {}
    for rel, _, label, image_info in readable:
        path = _absolute(root, rel)
        splits[assignment[rel]].append(Sample(path, label_of[label]))
        info[path] = image_info
    for samples in splits.values():
        samples.sort()

    duplicates = _group_duplicates([(rel, assignment[rel], label, image_info.digest)
                                    for rel, _, label, image_info in readable])
    sizes = [(image_info.width, image_info.height) for *_, image_info in readable]

    scan = DatasetScan(
        root=root,
        layout=found.layout,
        classes=classes,
        splits=splits,
        unreadable=unreadable,
        empty_classes=empty_classes,
        duplicates=duplicates,
        image_size=_size_statistics(sizes),
        suggested_input_size=suggest_input_size(sizes),
        warnings=warnings,
        info=info,
    )
    scan.warnings.extend(_problem_warnings(scan, found, readable, assignment, val_split, test_split))
    return scan


def _propose_split(items: list[tuple[str, str, str]], val_split: float, test_split: float,
                   seed: int) -> dict[str, str]:
    """Stratified, seeded assignment of (relpath, class, digest) items to splits.

    Each class is shuffled on its own (seeded by seed and class name, so adding a class does not
    reshuffle the others). Identical files of a class move as one group, so copies never end up
    on both sides of the split.
    """
    by_class: dict[str, list[tuple[str, str]]] = {}
    for rel, label, digest in items:
        by_class.setdefault(label, []).append((rel, digest))
    assignment = {}
    for label in sorted(by_class):
        members = sorted(by_class[label])
        groups: dict[str, list[str]] = {}
        for rel, digest in members:
            groups.setdefault(digest, []).append(rel)
        ordered = list(groups.values())
        random.Random(f"{seed}:{label}").shuffle(ordered)
        num_val, num_test = _split_sizes(len(members), val_split, test_split)
        counts = {"train": 0, "validation": 0, "test": 0}
        placed = 0
        for group in ordered:
            if counts["train"] == 0 and placed + len(group) == len(members):
                target = "train"  # training keeps at least one image of every class
            elif counts["test"] < num_test:
                target = "test"
            elif counts["validation"] < num_val:
                target = "validation"
            else:
                target = "train"
            counts[target] += len(group)
            placed += len(group)
            for rel in group:
                assignment[rel] = target
    return assignment


def _split_sizes(count: int, val_split: float, test_split: float) -> tuple[int, int]:
    """How many of ``count`` images of one class go to validation and test (rounded half up)."""
    num_val = math.floor(count * val_split + 0.5)
    num_test = math.floor(count * test_split + 0.5)
    if val_split > 0 and count >= 2:
        num_val = max(num_val, 1)
    if test_split > 0 and count >= 3:
        num_test = max(num_test, 1)
    num_val = min(num_val, max(count - 1, 0))
    num_test = min(num_test, max(count - 1 - num_val, 0))
    return num_val, num_test


def _group_duplicates(items: list[tuple[str, str, str, str]]) -> dict:
    """Groups of identical files from (relpath, split, class, digest), classified once each.

    A group whose copies carry different classes is a label conflict; otherwise copies in
    different splits are leakage; otherwise they are plain duplicates within one split.
    """
    by_digest: dict[str, list[tuple[str, str, str]]] = {}
    for rel, split, label, digest in items:
        by_digest.setdefault(digest, []).append((rel, split, label))
    within, across, conflicting = [], [], []
    for members in by_digest.values():
        if len(members) < 2:
            continue
        paths = sorted(rel for rel, _, _ in members)
        if len({label for _, _, label in members}) > 1:
            conflicting.append(paths)
        elif len({split for _, split, _ in members}) > 1:
            across.append(paths)
        else:
            within.append(paths)
    return {
        "within_split": sorted(within),
        "across_splits": sorted(across),
        "conflicting_labels": sorted(conflicting),
        "num_groups": len(within) + len(across) + len(conflicting),
    }


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
        warnings.append(f"The class folder '{name}' contains no readable images; it was left out.")

    if len(classes) == 1:
        hint = ""
        if found.layout == "class_folders":
            hint = (f" If {classes[0]}/ holds one subfolder per class, choose that folder instead.")
        warnings.append(f"Only one class ('{classes[0]}') was found; training needs at least two.{hint}")

    if scan.unreadable:
        rel, reason = scan.unreadable[0]
        count = len(scan.unreadable)
        warnings.append(f"{_count(count, 'file')} could not be read and {'was' if count == 1 else 'were'} "
                        f"left out (e.g. {rel}: {reason}).")

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

    warnings.extend(_duplicate_warnings(scan.duplicates, readable, assignment))
    return warnings


def _duplicate_warnings(duplicates: dict, readable, assignment) -> list[str]:
    warnings = []
    within = duplicates["within_split"]
    if within:
        copies = sum(len(group) - 1 for group in within)
        verb = "is an exact copy" if copies == 1 else "are exact copies"
        warnings.append(f"{_count(copies, 'image')} {verb} of other images in the same split "
                        f"({_count(len(within), 'group')}, e.g. "
                        f"{' and '.join(within[0][:2])}); they are kept but count more than once.")
    digests_by_split: dict[str, set[str]] = {}
    for rel, _, _, info in readable:
        digests_by_split.setdefault(assignment[rel], set()).add(info.digest)
    nouns = {"train": "training", "validation": "validation", "test": "test"}
    for later_index, later in enumerate(SPLITS):
        for earlier in SPLITS[:later_index]:
            earlier_digests = digests_by_split.get(earlier, set())
            leaked = sum(1 for rel, _, _, info in readable
                         if assignment[rel] == later and info.digest in earlier_digests)
            if leaked:
                verb = "is" if leaked == 1 else "are"
                warnings.append(
                    f"{_count(leaked, 'image')} in {later} {verb} identical to {nouns[earlier]} images "
                    f"(data leakage: {later} accuracy will look "
                    "better than it is). Remove the copies from one of the splits."
                )
    conflicting = duplicates["conflicting_labels"]
    if conflicting:
        warnings.append(f"{_count(len(conflicting), 'group')} of identical images carry different classes "
                        f"(conflicting labels, e.g. {' and '.join(conflicting[0][:2])}); keep each image in "
                        "its right class only.")
    return warnings


def _quoted(names: list[str]) -> str:
    shown = ", ".join(f"'{name}'" for name in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _check_fraction(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a fraction in [0, 1), e.g. 0.2 (received {value!r}).")
