"""Finding the labelled images in a folder tree: class folders, split folders, or class names in file names."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from core.data.imageio import IMAGE_EXTENSIONS, is_ignored_name, is_image_name
from core.util.progress import CancelToken
from core.errors import DatasetError
from core.data.samples import SPLITS, SPLIT_FOLDER_NAMES


_EXPECTED = "Expected one subfolder per class (cats/, dogs/) or train/ and validation/ folders."
_CLASS_PREFIX = re.compile(r"[^\W\d_]+")  # a run of letters (any alphabet)


def class_from_filename(name: str) -> str | None:
    """The class in a Kaggle-style file name: the letters before the first digit or separator.

    ``"cat.12.jpg"`` -> ``"cat"``, ``"Dog 3.png"`` -> ``"dog"``, ``"123.jpg"`` -> None.
    """
    match = _CLASS_PREFIX.match(os.path.splitext(name)[0])
    return match.group(0).lower() if match else None


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


def absolute_path(root: str, rel: str) -> str:
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


def find_candidates(root: str, cancel) -> _Found:
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


def _quoted(names: list[str]) -> str:
    shown = ", ".join(f"'{name}'" for name in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
