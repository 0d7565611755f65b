"""Warnings about particular pictures (copies, pictures in two classes, copies on both sides of
the split, near-identical pictures kept together, files that could not be read), each as a
record that names its pictures, so that the app can show them and act on them.

A record is a JSON-ready dict:

    {"kind": "copies" | "leakage" | "conflicts" | "near_duplicates" | "unreadable",
     "level": "warning" | "info",
     "text": the sentence (the same one as in `DatasetScan.warnings` for warnings),
     "split_by": "app" | "you" (who put these pictures in their splits),
     "groups": [[path relative to the root, ...], ...] (pictures that belong together),
     "exclude": [relative paths]: what "leave them out of training" would leave out
                (the copies on the training side of a leak), else [],
     "reasons": {relative path: why it could not be read} (unreadable only, else {})}

The advice fits who made the split: when the app split the pictures, identical and
near-identical pictures of a class were kept on one side already, so nothing needs doing
about them; when the person's own folders split them, the copies in both are named.
"""
from __future__ import annotations

from core.data.folders import _count
from core.data.samples import SPLITS

NOUNS = {"train": "training", "validation": "validation", "test": "test"}


def _record(kind: str, text: str, groups, split_by: str, level: str = "warning",
            exclude=(), reasons=None) -> dict:
    return {"kind": kind, "level": level, "text": text, "split_by": split_by,
            "groups": [list(group) for group in groups], "exclude": sorted(exclude),
            "reasons": dict(reasons or {})}


def unreadable_record(unreadable: list[tuple[str, str]]) -> list[dict]:
    """The files left out because they could not be read (one record, or none)."""
    if not unreadable:
        return []
    rel, reason = unreadable[0]
    count = len(unreadable)
    text = (f"{_count(count, 'file')} could not be read and {'was' if count == 1 else 'were'} "
            f"left out (e.g. {rel}: {reason}).")
    return [_record("unreadable", text, [[path for path, _ in unreadable]], "you",
                    reasons=dict(unreadable))]


def near_duplicate_record(near_duplicates: dict) -> list[dict]:
    """The groups of near-identical pictures a proposed split kept on one side (an "info"
    record: nothing needs doing), or none."""
    groups = near_duplicates.get("groups") or []
    if not groups:
        return []
    pictures = sum(len(group) for group in groups)
    text = (f"{_count(len(groups), 'group')} of identical or near-identical pictures "
            f"({pictures} pictures) {'was' if len(groups) == 1 else 'were'} kept on one side "
            "of the split, so validation does not see copies of training pictures. Nothing "
            "needs doing.")
    return [_record("near_duplicates", text, groups, "app", level="info")]


def duplicate_records(duplicates: dict, readable, assignment) -> list[dict]:
    """Records about identical files. `readable`: (relpath, the person's split folder or
    None, class, ImageInfo) per picture; `assignment`: relpath -> split it ended in."""
    folder_split = {rel: split for rel, split, _, _ in readable}
    label_of = {rel: label for rel, _, label, _ in readable}
    records = []

    within = duplicates["within_split"]
    if within:
        copies = sum(len(group) - 1 for group in within)
        verb = "is an exact copy" if copies == 1 else "are exact copies"
        yours = all(folder_split.get(group[0]) for group in within)
        advice = ("They are kept, and each copy counts as one more picture." if yours else
                  "The app keeps copies together on one side of the split, so they cannot "
                  "make validation look better; they only count more than once. Nothing "
                  "needs doing.")
        text = (f"{_count(copies, 'image')} {verb} of other images in the same split "
                f"({_count(len(within), 'group')}, e.g. {' and '.join(within[0][:2])}). "
                + advice)
        records.append(_record("copies", text, within, "you" if yours else "app",
                               exclude=[rel for group in within for rel in group[1:]]))

    by_digest: dict[str, list[str]] = {}
    for rel, _, _, info in readable:
        by_digest.setdefault(info.digest, []).append(rel)
    for later_index, later in enumerate(SPLITS):
        for earlier in SPLITS[:later_index]:
            groups, leaving, yours = [], set(), True
            for members in by_digest.values():
                before = sorted(rel for rel in members if assignment[rel] == earlier)
                after = sorted(rel for rel in members if assignment[rel] == later)
                if not before or not after:
                    continue
                groups.append(before + after)
                leaving.update(before)
                # The person's folders put them apart when the copies came from different
                # split folders; otherwise the app split them (only copies in two classes).
                yours = yours and all(folder_split.get(rel) for rel in before + after) and \
                    {folder_split[rel] for rel in before} != {folder_split[rel] for rel in after}
            if not groups:
                continue
            leaked = sum(1 for group in groups for rel in group if assignment[rel] == later)
            verb = "is" if leaked == 1 else "are"
            if yours:
                example = " and ".join(groups[0][:2])
                text = (f"{_count(leaked, 'image')} in {later} {verb} identical to "
                        f"{NOUNS[earlier]} images (e.g. {example}): your own folders hold the "
                        f"same pictures in both, so {later} accuracy would look better than it "
                        f"is. The app can leave the {NOUNS[earlier]} copies out (your folders "
                        "stay as they are), or delete them from one of your folders.")
            else:
                text = (f"{_count(leaked, 'image')} in {later} {verb} identical to "
                        f"{NOUNS[earlier]} images in other classes: the app keeps copies of a "
                        "class on one side of the split, but these copies are in different "
                        "classes, so keep each picture in one class only.")
            records.append(_record("leakage", text, sorted(groups), "you" if yours else "app",
                                   exclude=leaving if yours else ()))

    conflicting = duplicates["conflicting_labels"]
    if conflicting:
        classes = sorted({label_of[rel] for group in conflicting for rel in group})
        text = (f"{_count(len(conflicting), 'picture')} {'is' if len(conflicting) == 1 else 'are'} "
                f"in two classes at once (conflicting labels: identical files in "
                f"{' and '.join(classes[:3])}{'…' if len(classes) > 3 else ''}, e.g. "
                f"{' and '.join(conflicting[0][:2])}), so the model is taught two answers for "
                "one picture. Keep each picture in its right class only.")
        records.append(_record("conflicts", text, conflicting,
                               "you" if all(folder_split.get(g[0]) for g in conflicting)
                               else "app"))
    return records
