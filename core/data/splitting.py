"""Proposing a reproducible train / validation / test split that keeps duplicate and
near-identical images together."""
from __future__ import annotations

import math
import random

from core.data.perceptual import UnionFind, near_duplicate_pairs


def _propose_split(items: list[tuple[str, str, str, tuple[int, int]]], val_split: float,
                   test_split: float, seed: int) -> tuple[dict[str, str], list[list[str]]]:
    """Stratified, seeded assignment of (relpath, class, digest, (phash, dhash)) items to splits.

    Each class is shuffled on its own (seeded by seed and class name, so adding a class does not
    reshuffle the others). Identical files and near-identical pictures of a class (see
    core.data.perceptual) move as one group, so copies, bursts and neighbouring frames never
    end up on both sides of the split and validation measures pictures the model has not seen.

    Returns the assignment (relpath -> split) and the groups of more than one picture that
    were kept together (relpaths sorted, groups sorted).
    """
    by_class: dict[str, list[tuple[str, str, tuple[int, int]]]] = {}
    for rel, label, digest, looks in items:
        by_class.setdefault(label, []).append((rel, digest, looks))
    assignment, kept = {}, []
    for label in sorted(by_class):
        members = sorted(by_class[label])
        ordered = _groups_of(members)
        kept.extend(group for group in ordered if len(group) > 1)
        random.Random(f"{seed}:{label}").shuffle(ordered)
        num_val, num_test = _split_sizes(len(members), val_split, test_split)
        counts = {"train": 0, "validation": 0, "test": 0}
        placed = 0
        for group in ordered:
            # A group may overshoot what a split needs by at most half its size; a bigger one
            # stays in training (a single picture goes wherever there is room, as before).
            if counts["train"] == 0 and placed + len(group) == len(members):
                target = "train"  # training keeps at least one image of every class
            elif counts["test"] + len(group) <= num_test + len(group) // 2:
                target = "test"
            elif counts["validation"] + len(group) <= num_val + len(group) // 2:
                target = "validation"
            else:
                target = "train"
            counts[target] += len(group)
            placed += len(group)
            for rel in group:
                assignment[rel] = target
    return assignment, sorted(kept)


def _groups_of(members: list[tuple[str, str, tuple[int, int]]]) -> list[list[str]]:
    """(relpath, digest, looks) of one class, sorted, grouped: same digest or near-identical
    looks, transitively. Groups are ordered by their first member, as the split always was."""
    groups = UnionFind(len(members))
    first_with_digest: dict[str, int] = {}
    for index, (_, digest, _) in enumerate(members):
        groups.union(first_with_digest.setdefault(digest, index), index)
    for a, b in near_duplicate_pairs([looks for _, _, looks in members]):
        groups.union(a, b)
    return [[members[index][0] for index in group] for group in groups.groups()]


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
