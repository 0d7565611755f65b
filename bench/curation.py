"""Issue 16: how well `inspect --deep` (core.training.curation) finds what is wrong in a dataset.

- Label issues: cats_dogs/train as symlinks with 5% of the pictures put in the other folder
  (seeds 16, 17, 18; quick: 16). Recall of the swapped pictures among the k lowest label
  quality scores (k = number swapped; goal >= 0.8), and precision / recall of the pictures
  cleanlab's find_label_issues reports.
  The same at 20% swapped (a dataset sorted carelessly).
- Excluding the suspects: a logistic regression on the same cached features (the bottleneck
  "logreg" head, C chosen the same way) trained on the noisy copy, then again without the
  reported suspects (or with them moved to the class suggested); accuracy on cats_dogs/validation (800 photos, labels untouched). The
  clean folder's figure is the ceiling.
- Near-duplicates: 100 validation photos per class and of 20 per class a 50% resized copy, a
  JPEG quality 60 copy, a copy cropped 5% on every side and one cropped 10% off a corner.
  Recall per kind of copy; precision = pairs in the found groups that are a photo and its copy.
- Outliers: 20 traffic-sign photos among cats_dogs/train (10 per folder): recall, and the
  other photos flagged. (The threshold was set on flowers, so this is a fresh check.)
"""
from __future__ import annotations

import io
import random
import shutil
import time
from itertools import combinations
from pathlib import Path

import numpy as np

from bench.common import CATS_DOGS, SHARED, WEIGHTS, module_main, quiet_tensorflow, row, temp_dir


def _noisy_copy(root: Path, seed: int, rate: float = 0.05, extra: list[Path] = ()) -> set[str]:
    if root.exists():
        shutil.rmtree(root)
    files = [(name, path) for name in ("cats", "dogs")
             for path in sorted((CATS_DOGS / "train" / name).glob("*.jpg"))]
    swapped = set(random.Random(seed).sample(range(len(files)), round(rate * len(files))))
    moved = set()
    for index, (name, path) in enumerate(files):
        folder = {"cats": "dogs", "dogs": "cats"}[name] if index in swapped else name
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / path.name).symlink_to(path)
        if index in swapped:
            moved.add(str(root / folder / path.name))
    for index, path in enumerate(extra):
        (root / ("cats", "dogs")[index % 2] / f"foreign_{index}{path.suffix}").symlink_to(path)
    return moved


def _validation_accuracy(train_x, train_y, val_x, val_y) -> float:
    from core.training.transfer.heads import linear_head_weights

    kernel, bias, _ = linear_head_weights("logreg", train_x, train_y, 2)
    logits = val_x.astype(np.float64) @ kernel + bias
    predicted = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(1)
    return float(np.mean(predicted == val_y))


def _label_rows(weights, cache, work, seeds, rate: float = 0.05) -> list[dict]:
    from core.data.scanning import scan_dataset
    from core.training.curation import curate
    from core.training.transfer.dataset_features import dataset_features

    validation = scan_dataset(CATS_DOGS / "validation", val_split=0.0)
    _, val_y, val_x = dataset_features(validation, weights, cache_folder=cache)
    rows, clean_accuracy = [], None
    recalls, precisions, found_recalls, before, after, seconds = [], [], [], [], [], []
    moved = []
    for seed in seeds:
        root = work / f"noisy_{seed}_{rate}" / "pets"
        swapped = _noisy_copy(root, seed, rate)
        scan = scan_dataset(root, val_split=0.0)
        features = dataset_features(scan, weights, cache_folder=cache)
        started = time.perf_counter()
        found = curate(scan, weights, cache_folder=cache, features=features)
        seconds.append(time.perf_counter() - started)
        k = len(swapped)
        ranked = sorted(found.scores, key=found.scores.get)
        recalls.append(len(set(ranked[:k]) & swapped) / k)
        listed = {item["path"] for item in found.label_issues}
        precisions.append(len(listed & swapped) / max(1, len(listed)))
        found_recalls.append(len(listed & swapped) / k)
        paths, labels, matrix = features
        keep = np.array([path not in listed for path in paths])
        before.append(_validation_accuracy(matrix, labels, val_x, val_y))
        after.append(_validation_accuracy(matrix[keep], labels[keep], val_x, val_y))
        suggested = {item["path"]: found.classes.index(item["suggested"])
                     for item in found.label_issues}
        relabelled = np.array([suggested.get(path, label) for path, label in zip(paths, labels)])
        moved.append(_validation_accuracy(matrix, relabelled, val_x, val_y))
        if clean_accuracy is None:
            clean = scan_dataset(CATS_DOGS / "train", val_split=0.0)
            _, clean_y, clean_x = dataset_features(clean, weights, cache_folder=cache)
            clean_accuracy = _validation_accuracy(clean_x, clean_y, val_x, val_y)
    tag = f"{rate:.0%} swapped"
    details = {"seeds": list(seeds), "per_seed": [round(v, 4) for v in recalls]}
    rows.append(row(f"16 {tag}: swapped in top-k suspects (k = swapped)", ">= 0.8",
                    float(np.mean(recalls)), "recall", float(np.mean(recalls)) / 0.8,
                    float(np.min(recalls)) >= 0.8, **details))
    rows.append(row(f"16 {tag}: reported label issues, precision", "(report)",
                    float(np.mean(precisions)), "precision", reported=[
                        round(v, 4) for v in precisions]))
    rows.append(row(f"16 {tag}: reported label issues, recall", "(report)",
                    float(np.mean(found_recalls)), "recall",
                    per_seed=[round(v, 4) for v in found_recalls]))
    rows.append(row(f"16 {tag}: val accuracy, trained on the noisy copy", "(report)",
                    float(np.mean(before)), "acc", per_seed=[round(v, 4) for v in before],
                    clean_train=round(clean_accuracy, 4)))
    rows.append(row(f"16 {tag}: val accuracy, reported suspects excluded", "> noisy",
                    float(np.mean(after)), "acc", float(np.mean(after)) / float(np.mean(before)),
                    float(np.mean(after)) > float(np.mean(before)),
                    per_seed=[round(v, 4) for v in after]))
    rows.append(row(f"16 {tag}: val accuracy, suspects moved to the suggested class",
                    "(report)", float(np.mean(moved)), "acc",
                    per_seed=[round(v, 4) for v in moved]))
    rows.append(row(f"16 {tag}: label analysis time (features cached), 2000 photos",
                    "(report)", float(np.median(seconds)), "s"))
    return rows


def _jpeg(image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _copies_rows(weights, cache, work, per_class_copies) -> list[dict]:
    from PIL import Image

    from core.data.scanning import scan_dataset
    from core.training.curation import curate

    root = work / "copies" / "pets"
    truth = {}  # copy -> original
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for index, path in enumerate(sorted((CATS_DOGS / "validation" / name).glob("*.jpg"))[:100]):
            (root / name / path.name).symlink_to(path)
            if index >= per_class_copies:
                continue
            image = Image.open(path).convert("RGB")
            w, h = image.size
            copies = {"half": image.resize((w // 2, h // 2), Image.Resampling.LANCZOS),
                      "q60": image, "crop": image.crop((w // 20, h // 20, w - w // 20, h - h // 20)),
                      "corner": image.crop((w // 10, h // 10, w, h))}
            for kind, copy in copies.items():
                target = root / name / f"{path.stem}_{kind}.jpg"
                target.write_bytes(_jpeg(copy, 60 if kind == "q60" else 95))
                truth[str(target)] = str(root / name / path.name)
    found = curate(scan_dataset(root, val_split=0.0), weights, cache_folder=cache)
    group_of = {path: index for index, group in enumerate(found.near_duplicates) for path in group}
    rows = []
    for kind in ("half", "q60", "crop", "corner"):
        copies = [copy for copy in truth if copy.endswith(f"_{kind}.jpg")]
        hit = sum(copy in group_of and group_of[copy] == group_of.get(truth[copy])
                  for copy in copies)
        rows.append(row(f"16 near-duplicates found: {kind} copies", ">= 0.9" if kind != "corner"
                        else "(report)", hit / len(copies), "recall",
                        hit / len(copies) / 0.9 if kind != "corner" else None,
                        hit / len(copies) >= 0.9 if kind != "corner" else None, copies=len(copies)))
    pairs = [pair for group in found.near_duplicates for pair in combinations(group, 2)]
    good = sum(truth.get(a, a) == truth.get(b, b) for a, b in pairs)
    rows.append(row("16 near-duplicate pairs that are copies", "(report)",
                    good / max(1, len(pairs)), "precision", pairs=len(pairs),
                    groups=len(found.near_duplicates)))
    return rows


def _outlier_rows(weights, cache, work) -> list[dict]:
    from core.data.scanning import scan_dataset
    from core.training.curation import curate

    signs = sorted((SHARED / "datasets" / "traffic_signs").rglob("*.*"))
    signs = random.Random(0).sample([p for p in signs if p.suffix.lower() in
                                     (".jpg", ".jpeg", ".png", ".ppm")], 20)
    root = work / "foreign" / "pets"
    _noisy_copy(root, seed=0, rate=0.0, extra=signs)
    found = curate(scan_dataset(root, val_split=0.0), weights, cache_folder=cache)
    hits = sum("foreign_" in Path(path).name for path in found.outliers)
    return [row("16 outliers: foreign photos found", "(report)", hits / len(signs), "recall",
                foreign=len(signs)),
            row("16 outliers: other photos flagged", "(report)",
                len(found.outliers) - hits, "photos", of=2000)]


def run(quick: bool = False) -> list[dict]:
    from core.models.weights_store import identify_weights

    quiet_tensorflow()
    weights = identify_weights(WEIGHTS)
    work = temp_dir("curation")
    cache = work / "features"  # deleted afterwards, like every bench feature cache
    try:
        seeds = (16,) if quick else (16, 17, 18)
        rows = _label_rows(weights, cache, work, seeds)
        rows += _label_rows(weights, cache, work, seeds, rate=0.2)
        rows += _copies_rows(weights, cache, work, 10 if quick else 20)
        rows += _outlier_rows(weights, cache, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    module_main(run)
