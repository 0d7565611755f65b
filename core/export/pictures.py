"""The real pictures an export is checked and calibrated on: the run's own validation and
training pictures, found by scanning its dataset again with the run's split settings (the
split is reproducible for the same seed, core.data.scanning)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DatasetError, ExportError
from core.runs.run import Run

PARITY_PICTURES = 200
"""At most this many validation pictures for the parity check (spread over the classes)."""

CALIBRATION_PICTURES = 200
"""At most this many training pictures calibrate an int8 model (TensorFlow advises 100-500)."""


@dataclass
class RunPictures:
    dataset: Path  # the dataset folder scanned
    split: str  # where the parity pictures come from: "validation" (or "train" without one)
    parity: list[str]
    calibration: list[str]


def dataset_folder(run: Run, data: str | os.PathLike | None = None) -> Path:
    """The run's dataset folder (or `data`, when the person points to a copy elsewhere)."""
    if data is not None:
        return Path(data)
    root = (run.config.get("training") or {}).get("data_dir") or (
        run.config.get("dataset") or {}).get("root")
    if not root:
        raise ExportError(f"{run.path} does not say which dataset it was trained on; pass the "
                          "dataset folder with --data so the export can be checked on its "
                          "pictures.")
    return Path(root)


def find_pictures(run: Run, data: str | os.PathLike | None = None, listener=None,
                  cancel=None) -> RunPictures:
    """Validation pictures for the parity check and training pictures for calibration.

    Raises:
        ExportError: the dataset folder is gone (say --data) or holds none of the run's classes.
    """
    from core.data.scanning import scan_dataset

    folder = dataset_folder(run, data)
    if not folder.is_dir():
        raise ExportError(f"The dataset of this run ({folder}) is not on this computer; the export "
                          "is checked on its validation pictures, so pass the dataset folder "
                          "with --data.")
    training = run.config.get("training") or {}
    try:
        scan = scan_dataset(folder, val_split=float(training.get("val_split", 0.2)),
                            test_split=float(training.get("test_split", 0.0)),
                            seed=int(training.get("seed", 1337)), listener=listener,
                            cancel=cancel)
    except DatasetError as error:
        raise ExportError(f"The export is checked on the run's own pictures, and its dataset "
                          f"cannot be used: {error.sentence}") from None
    index = {label: i for i, label in enumerate(run.labels)}

    def usable(split: str) -> list[tuple[str, int]]:
        return [(sample.path, index[scan.classes[sample.label]]) for sample in scan.samples(split)
                if scan.classes[sample.label] in index]

    validation, train = usable("validation"), usable("train")
    if not validation and not train:
        raise ExportError(f"{folder} holds none of this run's classes ({', '.join(run.labels)}), "
                          "so the export cannot be checked on it; pass the run's dataset with "
                          "--data.")
    split = "validation" if validation else "train"
    return RunPictures(dataset=folder, split=split,
                       parity=spread(validation or train, PARITY_PICTURES),
                       calibration=spread(train or validation, CALIBRATION_PICTURES))


def spread(samples: list[tuple[str, int]], limit: int) -> list[str]:
    """At most `limit` paths taken evenly over `samples` (sorted by class then path, so every
    class keeps its share)."""
    ordered = sorted(samples, key=lambda item: (item[1], item[0]))
    if len(ordered) > limit:
        ordered = [ordered[round(i * len(ordered) / limit)] for i in range(limit)]
    return [path for path, _ in ordered]


def load_batch(paths: list[str], image_size: int) -> np.ndarray:
    """Pictures as the app feeds them to the model: float32 RGB 0-255 at the input size.
    Pictures that became unreadable since the scan are left out."""
    from core.data.imageio import read_image
    from core.data.pipeline import prepare_arrays
    from core.errors import ImageReadError

    images = []
    for path in paths:
        try:
            images.append(read_image(path))
        except ImageReadError:
            continue
    return prepare_arrays(images, image_size)
