"""What is probably wrong in a dataset, from numbers about its pictures: label issues (from
out-of-fold predicted probabilities), near-duplicates (perceptual hashes and, when given,
pretrained features) and outliers (pictures unlike the rest of their class).

Pure functions on arrays: computing the probabilities and features is the caller's work
(`core.training.curation`), so this module needs numpy, scikit-learn and cleanlab only.

Thresholds, measured on cats_dogs/train (2000 photos; 40 photos per class copied resized to
50%, re-encoded at JPEG quality 60, cropped 5% on every side, cropped 10% off one corner;
numbers in bench/curation.py and issue 16):

- Perceptual hashes (core.data.perceptual) find every resized and re-encoded copy (phash
  distance <= 4) but only 58% of centre crops (median phash distance 10, up to 18) and no
  corner crop (median 20).
- Cosine similarity of MobileNetV2 (0.35) pooled features: copies score 0.86-0.99; the closest
  pair of distinct photos scored 0.89 (two photos of the same cat, phash distance 32), the
  next 0.85. A pair is near-identical when its features are at least FEATURE_LIMIT alike and
  its phash is within PHASH_GATE bits, or when its hashes are near (`perceptual.is_near`):
  all resized and re-encoded copies, 99% of centre crops and 88% of corner crops, no
  distinct pair.
- Outliers: 20 flower photos put among 2020 cats/dogs (10 per class, 100 of them swapped)
  scored z 4.0-7 from the nearest class centre; at OUTLIER_LIMIT 4.0 all 20 were found, no
  swapped picture, and 2 of the other 1900 photos. Distances to the pictures' k nearest
  neighbours instead found none (the flowers are each other's neighbours), and distances
  to their own class's centre also flagged 19 swapped pictures (label issues, reported as such).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.perceptual import UnionFind, _bit_count, near_duplicate_pairs

FEATURE_LIMIT = 0.88
"""Smallest cosine similarity of pretrained features between near-identical pictures."""
PHASH_GATE = 24
"""Largest phash distance of a pair found by its features (distinct photos: about 32)."""
OUTLIER_LIMIT = 4.0
"""Robust z-score (see `outlier_scores`) above which a picture is an outlier."""
_BLOCK_ROWS = 1024


# --- label issues ------------------------------------------------------------------------------


@dataclass
class LabelIssues:
    """Per picture (in the order given): ``scores`` (label quality in [0, 1], low is
    suspicious), ``suggested`` (the most probable class other than the given one when the
    picture is flagged, else the most probable), ``flagged`` (cleanlab's find_label_issues);
    ``ranking``: every index, most suspicious first."""

    scores: np.ndarray
    suggested: np.ndarray
    flagged: np.ndarray
    ranking: np.ndarray

    def suspects(self) -> list[int]:
        """The flagged pictures, most suspicious first."""
        return [int(i) for i in self.ranking if self.flagged[i]]


def label_issues(probabilities: np.ndarray, labels: np.ndarray) -> LabelIssues:
    """Rank pictures by how likely their folder is wrong, from out-of-fold probabilities.

    cleanlab's `get_label_quality_scores` (self-confidence: the probability of the given
    class, from a model that never saw the picture) scores every picture; its
    `find_label_issues` (confident learning, pruned by the estimated noise rate) says which
    ones are issues."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    probabilities = np.asarray(probabilities, np.float64)
    labels = np.asarray(labels, np.int64)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    scores = get_label_quality_scores(labels, probabilities, method="self_confidence")
    if len(np.unique(labels)) == probabilities.shape[1] and len(labels) > probabilities.shape[1]:
        flagged = np.asarray(find_label_issues(labels, probabilities,
                                               filter_by="prune_by_noise_rate"), bool)
    else:  # cleanlab needs every class present: fall back to the model disagreeing
        flagged = probabilities.argmax(axis=1) != labels
    others = probabilities.copy()
    others[np.arange(len(labels)), labels] = -1
    suggested = np.where(flagged, others.argmax(axis=1), probabilities.argmax(axis=1))
    ranking = np.lexsort((np.arange(len(labels)), scores))
    return LabelIssues(np.asarray(scores), suggested, flagged, ranking)


# --- near-duplicates ---------------------------------------------------------------------------


@dataclass
class NearDuplicateGroup:
    """Indices of near-identical pictures and what kind of trouble they are:
    "conflicting labels" (copies in different classes), "across splits" (leakage: copies in
    training and validation/test) or "same class" (copies in one class and split)."""

    members: list[int]
    kind: str


def near_duplicates(hashes: list[tuple[int, int]], labels, splits,
                    features: np.ndarray | None = None) -> list[NearDuplicateGroup]:
    """Groups (transitive) of near-identical pictures among all pictures, any class, any split.

    `hashes`: (phash, dhash) per picture; `features`: pooled pretrained features (rows), or
    None for the hashes alone (then crops are mostly missed). Groups ordered by first member."""
    groups = UnionFind(len(hashes))
    for a, b in near_duplicate_pairs(hashes):
        groups.union(a, b)
    if features is not None and len(hashes) > 1:
        for a, b in _feature_pairs(features, [phash for phash, _ in hashes]):
            groups.union(a, b)
    found = []
    for members in groups.groups():
        if len(members) < 2:
            continue
        if len({labels[i] for i in members}) > 1:
            kind = "conflicting labels"
        elif len({splits[i] for i in members}) > 1:
            kind = "across splits"
        else:
            kind = "same class"
        found.append(NearDuplicateGroup(members, kind))
    return found


def _feature_pairs(features: np.ndarray, phashes: list[int]) -> list[tuple[int, int]]:
    """Pairs (i < j) whose features are FEATURE_LIMIT alike and phashes within PHASH_GATE."""
    unit = _unit_rows(features)
    phash = np.array(phashes, dtype=np.uint64)
    pairs = []
    for start in range(0, len(unit), _BLOCK_ROWS):
        block = unit[start:start + _BLOCK_ROWS] @ unit[start:].T
        close = np.triu(block >= FEATURE_LIMIT, 1)
        rows, cols = np.nonzero(close)
        if len(rows):
            near = _bit_count(phash[rows + start] ^ phash[cols + start]) <= PHASH_GATE
            pairs.extend(zip((rows[near] + start).tolist(), (cols[near] + start).tolist()))
    return pairs


def _unit_rows(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


# --- outliers ----------------------------------------------------------------------------------


def outlier_scores(features: np.ndarray, labels) -> np.ndarray:
    """Per picture, how unlike every class it is: the cosine distance of its features to the
    nearest class centre (the mean direction of a class's pictures), as a robust z-score
    against the distances of its own class's pictures to their centre ((distance - median) /
    (1.4826 MAD)). A picture of another class (a label issue) is near that class's centre and
    scores low; a picture unlike every class scores high. Classes of fewer than 5 pictures
    score 0."""
    unit = _unit_rows(features)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    centres = np.stack([unit[labels == label].mean(axis=0) for label in classes])
    distance = 1 - unit @ _unit_rows(centres).T
    own = distance[np.arange(len(labels)), np.searchsorted(classes, labels)]
    nearest = distance.min(axis=1)
    scores = np.zeros(len(labels))
    for label in classes:
        rows = labels == label
        if rows.sum() < 5:
            continue
        median = np.median(own[rows])
        spread = 1.4826 * np.median(np.abs(own[rows] - median))
        scores[rows] = (nearest[rows] - median) / max(spread, 1e-9)
    return scores


def outliers(features: np.ndarray, labels) -> list[int]:
    """Indices of pictures unlike the rest of their class, most unusual first."""
    scores = outlier_scores(features, labels)
    flagged = np.flatnonzero(scores > OUTLIER_LIMIT)
    return [int(i) for i in flagged[np.argsort(-scores[flagged], kind="stable")]]
