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

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from core.data.imageio import IMAGE_EXTENSIONS, ImageInfo, probe_image
from core.errors import ImageReadError
from core.util.progress import CancelToken, ProgressListener, notify
from core.data.checks import _count, _problem_warnings, _size_statistics, suggest_input_size
from core.data.scan_records import probe_with_records
from core.data.folders import _EXPECTED, _Found, _Walk, absolute_path, _extension_list, find_candidates
from core.errors import DatasetError
from core.data.samples import DatasetScan, SPLITS, Sample
from core.data.splitting import _group_duplicates, _propose_split
from core.errors import ConfigError


def scan_dataset(
    root: str | os.PathLike,
    val_split: float = 0.2,
    test_split: float = 0.0,
    seed: int = 1337,
    listener: ProgressListener | None = None,
    cancel: CancelToken | None = None,
    record_dir: str | os.PathLike | None = None,
) -> DatasetScan:
    """Find the images and classes in a dataset folder, check every image and split them.

    Use this before training or evaluating, and for ``inspect``. The split is stratified
    (per class) and reproducible for a given ``seed``; identical files and near-identical
    pictures (resized or re-encoded copies, bursts; see core.data.perceptual) of one class
    always land in the same split, so the proposed split never leaks copies into validation. Every
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
        cancel: Checked between files; cancelling raises `core.util.progress.Cancelled`.
        record_dir: Keep scan records there (see core.data.scan_records): files that did not
            change since an earlier scan are not decoded and hashed again.

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
        raise ConfigError(
            f"val_split + test_split must leave images for training (received {val_split} + "
            f"{test_split} = {val_split + test_split:g}). Use fractions that add up to less than 1."
        )
    root = os.path.abspath(os.path.expanduser(os.fspath(root)))
    found = find_candidates(root, cancel)
    paths = [absolute_path(root, rel) for rel, _, _ in found.candidates]
    if record_dir is None:
        results = _probe_all(paths, listener, cancel)
    else:
        results = probe_with_records(root, paths, record_dir, _probe_all, listener, cancel)
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

    kept: list[list[str]] | None = None  # stays None when the folders decide the split
    if found.layout == "split":
        # The folders decide; only a missing validation/ or test/ is carved out of train/.
        assignment = {rel: split for rel, split, _, _ in readable}
        carve = {"validation": val_split, "test": test_split}
        carve = {split: fraction for split, fraction in carve.items()
                 if fraction and split not in found.split_folders}
        if carve:
            train = [(rel, label, info.digest, (info.phash, info.dhash))
                     for rel, split, label, info in readable if split == "train"]
            proposed, kept = _propose_split(train, carve.get("validation", 0.0),
                                            carve.get("test", 0.0), seed)
            assignment.update(proposed)
            folders = " or ".join(f"{split}/" for split in carve)
            fractions = " and ".join(f"{fraction:.0%}" for fraction in carve.values())
            warnings.append(f"There is no {folders} folder: {fractions} of train/ was set aside for it.")
        split_names = [split for split in SPLITS if split in found.split_folders or split in carve]
    else:
        items = [(rel, label, info.digest, (info.phash, info.dhash)) for rel, _, label, info in readable]
        assignment, kept = _propose_split(items, val_split, test_split, seed)
        fractions = {"train": 1.0, "validation": val_split, "test": test_split}
        split_names = [split for split in SPLITS if fractions[split]]

    splits: dict[str, list[Sample]] = {name: [] for name in split_names}
    info: dict[str, ImageInfo] = {}
    for rel, _, label, image_info in readable:
        path = absolute_path(root, rel)
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
        near_duplicates=_kept_together(kept),
        image_size=_size_statistics(sizes),
        suggested_input_size=suggest_input_size(sizes),
        warnings=warnings,
        info=info,
    )
    scan.warnings.extend(_problem_warnings(scan, found, readable, assignment, val_split, test_split))
    return scan


def _kept_together(kept: list[list[str]] | None) -> dict:
    """DatasetScan.near_duplicates from the groups a proposed split kept on one side."""
    if kept is None:
        return {}
    return {"num_groups": len(kept), "num_pictures": sum(len(group) for group in kept),
            "groups": kept}


def _check_fraction(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ConfigError(f"{name} must be a fraction in [0, 1), e.g. 0.2 (received {value!r}).")
