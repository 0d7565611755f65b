"""Issue 16: finding what is wrong in a dataset (core.data.curation, core.training.curation,
`inspect --deep`): pictures in the wrong folder, near-duplicates, outliers."""
from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import shared_path
from core.data.curation import (FEATURE_LIMIT, OUTLIER_LIMIT, label_issues, near_duplicates,
                                outlier_scores, outliers)

WEIGHTS = ("weights", "mobilenet_v2_0.35_imagenet_notop.weights.h5")
SWAP_RATE, SWAP_SEED = 0.05, 16


# --- the pure functions, on made-up numbers ----------------------------------------------------


def test_label_issues_rank_the_pictures_the_model_disagrees_with_first():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 40)
    probabilities = np.full((120, 3), 0.05)
    probabilities[np.arange(120), labels] = 0.9
    probabilities += rng.uniform(0, 0.02, probabilities.shape)
    wrong = [3, 50, 97]
    for index, other in zip(wrong, (1, 2, 0)):
        probabilities[index] = 0.05
        probabilities[index, other] = 0.9
    found = label_issues(probabilities, labels)
    assert sorted(found.ranking[:3].tolist()) == wrong
    assert found.suspects() and set(found.suspects()) <= set(wrong)
    assert [int(found.suggested[i]) for i in wrong] == [1, 2, 0]
    assert found.scores.shape == (120,) and found.scores.min() >= 0


def test_near_duplicates_say_whether_copies_conflict_or_leak():
    rng = np.random.default_rng(1)
    hashes = [(int(rng.integers(0, 2**63)), int(rng.integers(0, 2**63))) for _ in range(8)]
    hashes[1] = hashes[0]  # a copy in the same class and split
    hashes[3] = (hashes[2][0] ^ 0b111, hashes[2][1])  # 3 bits apart, in another class
    hashes[5] = hashes[4]  # in another split
    labels = [0, 0, 0, 1, 1, 1, 0, 1]
    splits = ["train"] * 5 + ["validation", "train", "train"]
    groups = near_duplicates(hashes, labels, splits)
    assert [(group.members, group.kind) for group in groups] == [
        ([0, 1], "same class"), ([2, 3], "conflicting labels"), ([4, 5], "across splits")]


def test_features_join_crops_the_hashes_miss_but_only_with_close_hashes():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(4, 64))
    features[1] = features[0] + 0.1 * rng.normal(size=64)  # a crop: alike in features
    features[3] = features[2] + 0.1 * rng.normal(size=64)  # alike, but the hashes are far apart
    high, low = 0xFFFFFFFF00000000, 0x00000000FFFFFFFF
    hashes = [(0, 0), (0xFFFF, low), (high, high), (low, high)]  # phash: 16 and 64 bits apart
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > FEATURE_LIMIT and unit[2] @ unit[3] > FEATURE_LIMIT
    groups = near_duplicates(hashes, [0] * 4, ["train"] * 4, features)
    assert [group.members for group in groups] == [[0, 1]]


def test_outliers_are_unlike_every_class_and_a_wrong_folder_is_not_one():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 32)) * 3
    labels = np.repeat([0, 1], 100)
    features = centres[labels] + rng.normal(size=(200, 32))
    features[7] = centres[1] + rng.normal(size=32)  # a picture of class 1 in folder 0
    features[150] = centres[2] + rng.normal(size=32)  # unlike both classes
    scores = outlier_scores(features, labels)
    assert scores[150] > OUTLIER_LIMIT and scores[7] < OUTLIER_LIMIT
    assert outliers(features, labels) == [150]


# --- on real photos ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("feature-cache")


@pytest.fixture(scope="module")
def weights():
    from core.models.weights_store import identify_weights

    return identify_weights(shared_path(*WEIGHTS))


def noisy_copy(target: Path, rate: float, seed: int) -> set[str]:
    """cats_dogs/train as symlinks in `target`, with `rate` of the pictures (chosen by `seed`)
    put in the other class's folder. Returns the paths of the swapped pictures."""
    source = shared_path("datasets", "cats_dogs", "train")
    files = [(name, path) for name in ("cats", "dogs")
             for path in sorted((source / name).glob("*.jpg"))]
    swapped = set(random.Random(seed).sample(range(len(files)), round(rate * len(files))))
    moved = set()
    for index, (name, path) in enumerate(files):
        folder = ({"cats": "dogs", "dogs": "cats"}[name] if index in swapped else name)
        (target / folder).mkdir(parents=True, exist_ok=True)
        (target / folder / path.name).symlink_to(path)
        if index in swapped:
            moved.add(str(target / folder / path.name))
    return moved


@pytest.fixture(scope="module")
def noisy_and_clean(tmp_path_factory, cache_folder, weights):
    from core.data.scanning import scan_dataset
    from core.training.curation import curate

    results = {}
    for name, rate in (("noisy", SWAP_RATE), ("clean", 0.0)):
        root = tmp_path_factory.mktemp(name) / "pets"
        swapped = noisy_copy(root, rate, SWAP_SEED)
        found = curate(scan_dataset(root, val_split=0.0), weights, cache_folder=cache_folder)
        results[name] = (found, swapped)
    return results


def test_top_k_suspects_hold_most_of_the_swapped_pictures(noisy_and_clean):
    found, swapped = noisy_and_clean["noisy"]
    k = len(swapped)
    assert k == 100
    ranked = sorted(found.scores, key=found.scores.get)
    assert len(set(ranked[:k]) & swapped) >= 0.8 * k
    listed = [item["path"] for item in found.label_issues]
    assert len(set(listed) & swapped) >= 0.8 * len(listed)  # precision of what is reported
    first = found.label_issues[0]
    assert first["path"] in swapped and first["suggested"] != first["given"]
    assert [item["score"] for item in found.label_issues] == sorted(
        item["score"] for item in found.label_issues)


def test_the_clean_folder_has_few_pictures_scoring_as_badly(noisy_and_clean):
    noisy, swapped = noisy_and_clean["noisy"]
    clean, _ = noisy_and_clean["clean"]
    kth = sorted(noisy.scores.values())[len(swapped) - 1]
    as_bad = sum(score <= kth for score in clean.scores.values())
    assert as_bad <= 0.02 * len(clean.scores)
    assert len(clean.label_issues) <= 0.01 * len(clean.scores)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def copies_folder(tmp_path_factory):
    """200 distinct validation photos, and of 20 of them a 50% resized, a JPEG quality 60
    and a 10% cropped copy (5% off every side), in the same class folder."""
    source = shared_path("datasets", "cats_dogs", "validation")
    root = tmp_path_factory.mktemp("copies") / "pets"
    originals = {}
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for index, path in enumerate(sorted((source / name).glob("*.jpg"))[:100]):
            (root / name / path.name).symlink_to(path)
            if index < 10:
                image = Image.open(path).convert("RGB")
                width, height = image.size
                stem = root / name / path.stem
                kinds = {"half": _jpeg(image.resize((width // 2, height // 2),
                                                   Image.Resampling.LANCZOS), 95),
                         "q60": _jpeg(image, 60),
                         "crop": _jpeg(image.crop((width // 20, height // 20,
                                                   width - width // 20,
                                                   height - height // 20)), 95)}
                for kind, data in kinds.items():
                    Path(f"{stem}_{kind}.jpg").write_bytes(data)
                originals[str(root / name / path.name)] = [f"{stem}_{kind}.jpg" for kind in kinds]
    return root, originals


def test_resized_reencoded_and_cropped_copies_are_found_and_distinct_photos_are_not(
        copies_folder, cache_folder, weights):
    from core.data.scanning import scan_dataset
    from core.training.curation import curate

    root, originals = copies_folder
    found = curate(scan_dataset(root, val_split=0.0), weights, cache_folder=cache_folder)
    group_of = {path: tuple(group) for group in found.near_duplicates for path in group}
    missed = [copy for original, copies in originals.items() for copy in copies
              if group_of.get(copy) != group_of.get(original) or original not in group_of]
    assert len(missed) <= 1, missed  # 60 copies: at most one 10% crop may slip through
    distinct = [group for group in found.near_duplicates
                if sum(path in originals or "_" not in Path(path).name for path in group) > 1]
    assert not distinct  # no group holds two distinct photos
    assert set(found.near_duplicate_kinds) <= {"same class"}


def test_inspect_deep_adds_the_lists_to_the_json_report(copies_folder, cache_folder, capsys,
                                                        monkeypatch):
    from core.cli import main

    weights_file = shared_path(*WEIGHTS)
    root, _ = copies_folder
    monkeypatch.setenv("ICS_CACHE_DIR", str(cache_folder))
    assert main(["inspect", str(root), "--deep", "--weights", str(weights_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"label_issues", "near_duplicates", "outliers"} <= set(report)
    assert len(report["near_duplicates"]) >= 19
    for item in report["label_issues"]:
        assert set(item) == {"path", "given", "suggested", "score"}
        assert (root / item["path"]).is_file()
    assert all(isinstance(path, str) for group in report["near_duplicates"] for path in group)


def test_inspect_deep_without_weights_says_what_it_needs(tmp_path, capsys, monkeypatch):
    from core.cli import main
    from imagefactory import make_class_folders

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    root = make_class_folders(tmp_path / "data", {"a": 4, "b": 4})
    assert main(["inspect", str(root), "--deep", "--json"]) == 2
    error = capsys.readouterr().err
    assert "--deep needs a pretrained weights file (--weights FILE)" in error
    assert len(error.strip().splitlines()) == 1
    assert main(["inspect", str(root), "--deep", "--weights", str(tmp_path / "no.h5")]) == 2
    assert "does not exist" in capsys.readouterr().err
