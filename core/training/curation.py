"""Looking for what is wrong in a dataset with a pretrained network (`inspect --deep`, the
app's Review window): pictures probably in the wrong folder, near-duplicates, outliers.

Every picture's pooled features come from the feature cache training uses
(`core.training.transfer.dataset_features`); a logistic regression (the bottleneck "logreg"
head's pipeline, `core.training.transfer.heads`) predicts each picture's class in k-fold
cross-validation, so every picture is judged by a model that never saw it; cleanlab ranks
the given labels by those out-of-fold probabilities (`core.data.curation`). Nothing is
written inside the dataset.

Example:
    found = curate(scan_dataset("data/pets"), pick_weights("mobilenet.weights.h5"))
    found.report()["label_issues"][:3]
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from core.util.progress import notify

FOLDS = 5


@dataclass
class Curation:
    """What `curate` found. Paths are absolute; `label_issues`: {"path", "given",
    "suggested", "score"} most suspicious first; `near_duplicates`: groups of paths with
    `near_duplicate_kinds` alongside; `outliers`: paths, most unusual first."""

    root: str
    classes: list[str]
    label_issues: list[dict] = field(default_factory=list)
    near_duplicates: list[list[str]] = field(default_factory=list)
    near_duplicate_kinds: list[str] = field(default_factory=list)
    outliers: list[str] = field(default_factory=list)
    scores: dict = field(default_factory=dict)  # path -> label quality, every picture
    details: dict = field(default_factory=dict)  # how it was found: network, folds, seconds

    def report(self) -> dict:
        """The JSON part `inspect --deep` adds (paths relative to the dataset, like the rest
        of the report)."""
        rel = self._relative
        return {"label_issues": [{**item, "path": rel(item["path"])} for item in self.label_issues],
                "near_duplicates": [[rel(path) for path in group]
                                    for group in self.near_duplicates],
                "near_duplicate_kinds": list(self.near_duplicate_kinds),
                "outliers": [rel(path) for path in self.outliers],
                "deep": dict(self.details)}

    def _relative(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, num_classes: int,
                              seed: int = 0) -> np.ndarray | None:
    """(N, num_classes) class probabilities of each picture from a logistic regression trained
    on the other folds (stratified k-fold, k = FOLDS or the smallest class's size), with C
    chosen as the bottleneck head chooses it. None when a class has fewer than 2 pictures."""
    from sklearn.model_selection import StratifiedKFold

    from core.training.transfer.heads import _linear_model, _quiet_convergence, choose_c

    counts = np.bincount(labels, minlength=num_classes)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < 2:
        return None
    c = choose_c("logreg", features, labels, seed=seed)
    probabilities = np.zeros((len(labels), num_classes))
    folds = StratifiedKFold(min(FOLDS, int(present.min())), shuffle=True, random_state=seed)
    for fit_rows, held_rows in folds.split(features, labels):
        model = _linear_model("logreg", c, False, seed)
        with _quiet_convergence():
            model.fit(features[fit_rows], labels[fit_rows])
        probabilities[np.ix_(held_rows, model[-1].classes_)] = model.predict_proba(
            features[held_rows])
    return probabilities


def curate(scan, weights, listener=None, cancel=None, cache_folder=None, seed: int = 0,
           features=None) -> Curation:
    """Label issues, near-duplicates and outliers of every readable picture of `scan` (all
    splits), seen through `weights` (a PretrainedWeights, see
    `core.training.transfer.dataset_features.pick_weights`). `features`: (paths, labels,
    features) already extracted, else extracted (and cached) here."""
    from core.data.curation import label_issues, near_duplicates, outliers

    started = time.perf_counter()
    if features is None:
        from core.training.transfer.dataset_features import dataset_features

        features = dataset_features(scan, weights, listener, cancel, cache_folder)
    paths, labels, matrix = features
    extracted = time.perf_counter()
    notify(listener, "on_log", f"Cross-validating a classifier on {len(paths)} pictures ...")
    found = Curation(scan.root, list(scan.classes))
    probabilities = out_of_fold_probabilities(matrix, labels, scan.num_classes, seed)
    if probabilities is not None:
        issues = label_issues(probabilities, labels)
        found.scores = {path: round(float(score), 6) for path, score in zip(paths, issues.scores)}
        found.label_issues = [
            {"path": paths[i], "given": scan.classes[labels[i]],
             "suggested": scan.classes[issues.suggested[i]],
             "score": round(float(issues.scores[i]), 6)} for i in issues.suspects()]
        accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
        found.details["out_of_fold_accuracy"] = round(accuracy, 4)
    split_of = {sample.path: split for split, samples in scan.splits.items()
                for sample in samples}
    hashes = [(scan.info[path].phash, scan.info[path].dhash) for path in paths]
    for group in near_duplicates(hashes, labels, [split_of[path] for path in paths], matrix):
        found.near_duplicates.append([paths[i] for i in group.members])
        found.near_duplicate_kinds.append(group.kind)
    found.outliers = [paths[i] for i in outliers(matrix, labels)]
    found.details.update(network=weights.title, weights=weights.path, pictures=len(paths),
                         folds=FOLDS, seconds_features=round(extracted - started, 2),
                         seconds_analysis=round(time.perf_counter() - extracted, 2))
    return found
