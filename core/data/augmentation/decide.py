"""Augmentation decided from the person's own pictures: mirror and turn only where it keeps
the class.

A mirrored "50 km/h" sign is no speed-limit sign, a mirrored left arrow is a right arrow,
while a mirrored cat is a cat. Which is which cannot be read from folder names, so it is
measured: a quick classifier (logistic regression on small orientation-sensitive features:
gradient histograms and a colour thumbnail) learns from the training pictures as they are,
then labels the validation pictures as they are, mirrored, and turned. Where the classes
survive mirroring, mirrored pictures are recognised about as well as the originals; where
mirroring changes or destroys the class, accuracy falls (for arrows, to below chance).

The measurement is cheap (a few hundred small pictures, a few seconds) and errs on the safe
side: when it cannot tell (the quick classifier does no better than chance), pictures are
not mirrored or turned far, because augmentation that changes the class makes a model worse
while the augmentation it leaves out costs little.

Example:
    choice = choose_augmentation(train_samples, val_samples, num_classes=2, seed=1337)
    choice.config       # AugmentationConfig: shifts and zoom always; flips and turns if allowed
    choice.reasons      # plain sentences for summary.txt and the app
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from core.data.augmentation.config import AugmentationConfig

PROBE_SIZE = 32  # px: enough for the shape of a sign or an arrow, and fast
TRAIN_PER_CLASS = 150  # the probe's pictures per class: a few seconds to read
TEST_PER_CLASS = 80
LARGE_TURN = 30  # degrees: the turn that needs the classes' permission
SMALL_TURN = 10  # degrees: a hand-held camera's tilt, safe for nearly everything
# A transformation keeps the class when the probe loses at most this share of what it knows
# beyond chance on transformed pictures (plus the measurement's own noise).
KEEP_SHARE = 0.25
MIN_SIGNAL = 0.1  # the probe must beat chance by this much before its verdict counts


@dataclass(frozen=True)
class AugmentationChoice:
    """The augmentation chosen for a dataset and why."""

    config: AugmentationConfig
    mirror: bool
    large_turns: bool
    reasons: list[str] = field(default_factory=list)
    measured: dict = field(default_factory=dict)  # accuracies of the quick classifier

    def to_dict(self) -> dict:
        return {"mirror": self.mirror, "large_turns": self.large_turns,
                "reasons": list(self.reasons), "measured": dict(self.measured)}


def augmentation_for(mirror: bool, large_turns: bool) -> AugmentationConfig:
    """The recommended augmentation: small shifts and zoom always (a framing that varies),
    mirroring and large turns only where allowed."""
    return AugmentationConfig(rotation_range=LARGE_TURN if large_turns else SMALL_TURN,
                              width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1,
                              horizontal_flip=mirror)


def choose_augmentation(train_samples, test_samples, num_classes: int, seed: int = 1337,
                        read=None) -> AugmentationChoice:
    """Measure whether mirroring and large turns keep the classes of these pictures.

    Args:
        train_samples, test_samples: `core.data.samples.Sample`s (path, label); with no test
            samples, a part of the training samples is held out instead.
        num_classes: number of classes (labels index them).
        read: reads a path to an (H, W, 3) uint8 array (default `core.data.imageio.read_image`).
    """
    rng = random.Random(seed)
    train = _per_class(train_samples, TRAIN_PER_CLASS, rng)
    test = _per_class(test_samples, TEST_PER_CLASS, rng)
    if not test:  # no validation split: hold out a third of each class
        train, test = _hold_out(train, rng)
    read = read or _default_reader()
    train_x, train_y = _features(train, read)
    test_images, test_y = _thumbnails(test, read)
    if len(set(train_y.tolist())) < 2 or len(test_y) == 0:
        return _cannot_tell("there are too few readable pictures to measure it")
    probe = _fit(train_x, train_y)
    measured = {"as_they_are": _accuracy(probe, [_describe(t) for t in test_images], test_y),
                "mirrored": _accuracy(probe, [_describe(t[:, ::-1]) for t in test_images], test_y),
                "turned": _accuracy(probe, [_describe(_turn(t, LARGE_TURN * sign))
                                            for t, sign in zip(test_images, _signs(len(test_y)))],
                                    test_y)}
    counts = np.bincount(train_y, minlength=num_classes)
    chance = float(counts.max() / counts.sum())
    measured["chance"] = round(chance, 4)
    measured = {key: round(value, 4) for key, value in measured.items()}
    signal = measured["as_they_are"] - chance
    if signal < MIN_SIGNAL:
        return _cannot_tell("a quick look at the pictures could not tell the classes apart",
                            measured)
    noise = 2 * np.sqrt(max(measured["as_they_are"] * (1 - measured["as_they_are"]), 0.01)
                        / len(test_y))
    allowed = signal * KEEP_SHARE + noise
    mirror = bool(measured["as_they_are"] - measured["mirrored"] <= allowed)
    turns = bool(measured["as_they_are"] - measured["turned"] <= allowed)
    reasons = [_mirror_reason(mirror, measured), _turn_reason(turns, measured)]
    return AugmentationChoice(augmentation_for(mirror, turns), mirror, turns, reasons, measured)


def _mirror_reason(mirror: bool, measured: dict) -> str:
    found = (f"a quick classifier recognised {measured['as_they_are']:.0%} of the validation "
             f"pictures as they are and {measured['mirrored']:.0%} of them mirrored")
    if mirror:
        return f"Pictures are mirrored during training: {found}, so mirroring keeps the class."
    return (f"Pictures are not mirrored: {found}, so in these classes a mirrored picture is "
            "something else (like a mirrored sign or arrow).")


def _turn_reason(turns: bool, measured: dict) -> str:
    found = (f"{measured['turned']:.0%} of the validation pictures turned by {LARGE_TURN} "
             "degrees were recognised")
    if turns:
        return f"Pictures are turned by up to {LARGE_TURN} degrees: {found}."
    return (f"Pictures are turned by at most {SMALL_TURN} degrees: {found}, against "
            f"{measured['as_they_are']:.0%} upright.")


def _cannot_tell(why: str, measured: dict | None = None) -> AugmentationChoice:
    reason = (f"Pictures are neither mirrored nor turned more than {SMALL_TURN} degrees, to be "
              f"safe: {why}, so it is unknown whether a mirrored picture keeps its class.")
    return AugmentationChoice(augmentation_for(False, False), False, False, [reason],
                              dict(measured or {}))


# --- the quick classifier ----------------------------------------------------------------------


def _per_class(samples, limit: int, rng: random.Random) -> list:
    by_class: dict[int, list] = {}
    for sample in samples:
        by_class.setdefault(sample.label, []).append(sample)
    chosen = []
    for label in sorted(by_class):
        members = sorted(by_class[label], key=lambda s: s.path)
        rng.shuffle(members)
        chosen += members[:limit]
    return chosen


def _hold_out(samples: list, rng: random.Random) -> tuple[list, list]:
    by_class: dict[int, list] = {}
    for sample in samples:
        by_class.setdefault(sample.label, []).append(sample)
    train, test = [], []
    for members in by_class.values():
        cut = len(members) // 3
        test += members[:cut]
        train += members[cut:]
    return train, test


def _default_reader():
    from core.data.imageio import read_image

    return read_image


def _thumbnails(samples, read) -> tuple[list[np.ndarray], np.ndarray]:
    import cv2

    from core.errors import StudioError

    images, labels = [], []
    for sample in samples:
        try:
            image = read(sample.path)
        except (StudioError, OSError, ValueError):
            continue  # the scan lists unreadable files; the probe just does without
        images.append(cv2.resize(image, (PROBE_SIZE, PROBE_SIZE), interpolation=cv2.INTER_AREA))
        labels.append(sample.label)
    return images, np.asarray(labels, dtype=int)


def _features(samples, read) -> tuple[np.ndarray, np.ndarray]:
    images, labels = _thumbnails(samples, read)
    return np.array([_describe(image) for image in images]).reshape(len(images), -1), labels


def _describe(image: np.ndarray) -> np.ndarray:
    """Gradient-orientation histograms per 8x8 cell (shape, and which way it faces) and an 8x8
    colour thumbnail (where the colours are): both change when a picture is mirrored or turned."""
    import cv2

    image = np.ascontiguousarray(image)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    colour = cv2.resize(image, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return np.concatenate([_gradient_histograms(grey), colour.ravel()])


def _gradient_histograms(grey: np.ndarray, cell: int = 8, bins: int = 9) -> np.ndarray:
    """HOG-like: per cell, gradient magnitude summed into unsigned orientation bins, each cell
    normalised (OpenCV builds without HOGDescriptor, and scikit-image is not a dependency)."""
    dy, dx = np.gradient(grey)
    magnitude = np.hypot(dx, dy)
    angle = (np.degrees(np.arctan2(dy, dx)) % 180) // (180 / bins)
    cells = grey.shape[0] // cell
    histograms = np.zeros((cells, cells, bins), np.float32)
    rows, cols = np.indices(grey.shape) // cell
    np.add.at(histograms, (rows.ravel(), cols.ravel(), angle.astype(int).ravel() % bins),
              magnitude.ravel())
    histograms /= np.linalg.norm(histograms, axis=2, keepdims=True) + 1e-6
    return histograms.ravel()


def _turn(image: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    centre = (PROBE_SIZE / 2, PROBE_SIZE / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(image, matrix, (PROBE_SIZE, PROBE_SIZE),
                          borderMode=cv2.BORDER_REPLICATE)


def _signs(count: int) -> list[int]:
    return [1 if index % 2 == 0 else -1 for index in range(count)]


def _fit(features: np.ndarray, labels: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    return probe.fit(features, labels)


def _accuracy(probe, features: list, labels: np.ndarray) -> float:
    return float(np.mean(probe.predict(np.asarray(features)) == labels))
