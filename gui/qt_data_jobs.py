"""Worker jobs of the Data step (run on the runner's lanes, never on the GUI thread): scan a
folder, load example thumbnails, make the demo dataset."""
from __future__ import annotations

from pathlib import Path

from gui.qt_images import thumbnail


def scan_folder(folder: str, val_split: float, listener=None, cancel=None):
    """Worker job: the engine's scan of `folder` and its report."""
    from core.data.scanning import scan_dataset

    scan = scan_dataset(folder, val_split=val_split, listener=listener, cancel=cancel)
    return scan, scan.report()


def load_thumbnails(scan, per_class: int, size: int, cancel=None) -> dict:
    """Worker job: up to `per_class` small pictures per class, spread over the class."""
    from core.errors import ImageReadError
    from core.data.imageio import read_image

    by_class: dict[str, list[str]] = {name: [] for name in scan.classes}
    for split in ("train", "validation", "test"):
        for sample in scan.splits.get(split, []):
            by_class[scan.classes[sample.label]].append(sample.path)
    thumbnails = {}
    for name, paths in by_class.items():
        step = max(1, len(paths) // per_class)
        chosen = paths[::step][:per_class]
        pictures = []
        for path in chosen:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                pictures.append((path, thumbnail(read_image(path), size)))
            except ImageReadError:
                continue
        thumbnails[name] = pictures
    return thumbnails


def make_demo(dest: Path) -> str:
    """Worker job: generate the built-in demo dataset and return its folder."""
    from core.data.demo import make_demo_dataset

    return str(make_demo_dataset(dest))
