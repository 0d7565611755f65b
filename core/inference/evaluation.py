"""Evaluation of a run on a labelled folder: accuracy, loss, per-class scores, confusion matrix
and the misclassified files."""
from __future__ import annotations

import os

import numpy as np

from core.errors import EvaluationError
from core.inference.confidence import assess_accuracy
from core.util.progress import notify
from core.runs.run import Run


def evaluate_run(run: Run | str | os.PathLike, data_dir: str | os.PathLike, listener=None,
                 cancel=None, which: str = "best", predictor=None) -> dict:
    """Evaluate a run on DATA: a class-folder tree, or a split tree (its test/, else validation/).

    Returns {"accuracy", "loss", "n", "labels", "per_class", "confusion", "misclassified",
    "split", "data", "unreadable", "ignored_classes", "assessment", "seen"}; "assessment" is
    the accuracy's 95% interval and whether it beats guessing (core.inference.confidence);
    "seen" is {"count", "folder"}: how many of the evaluated pictures have the same contents
    as a picture in the folder the run was trained on (None when that folder is gone).
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from core.data.scanning import scan_dataset
    from core.data.pipeline import make_dataset
    from core.data.review import apply_review
    from core.models.weights_store import settings_dir
    from core.inference.prediction import Predictor, probabilities_from_outputs

    predictor = predictor or Predictor(run, which=which)
    labels = predictor.labels
    scan = scan_dataset(data_dir, val_split=0.0, test_split=0.0, listener=listener, cancel=cancel)
    scan, review = apply_review(scan, settings_dir())  # the person's excluded / moved pictures
    split, samples = scan.evaluation_samples()
    index_of = {label: i for i, label in enumerate(labels)}
    unknown = [c for c in scan.classes if c not in index_of]
    usable = [(s.path, index_of[scan.classes[s.label]]) for s in samples
              if scan.classes[s.label] in index_of]
    if not usable:
        raise EvaluationError(f"None of the classes in {data_dir} ({', '.join(scan.classes)}) are "
                              f"classes of this run ({', '.join(labels)}).")
    paths = [p for p, _ in usable]
    truth = np.array([t for _, t in usable])
    dataset = make_dataset(paths, None, predictor.image_size, predictor.batch_size,
                           is_native=scan.is_native)
    notify(listener, "on_stage", "evaluate", len(paths))
    outputs, done = [], 0
    for batch in dataset:
        if cancel is not None:
            cancel.raise_if_cancelled()
        outputs.append(probabilities_from_outputs(predictor.model.predict_on_batch(batch)))
        done += len(batch)
        notify(listener, "on_step", done, len(paths))
    probs = np.concatenate(outputs) if outputs else np.zeros((0, len(labels)))
    if len(probs) != len(paths):
        raise EvaluationError(f"{len(paths) - len(probs)} images became unreadable during "
                              "evaluation; inspect the folder and try again.")
    predicted = probs.argmax(axis=1)
    picked = np.clip(probs[np.arange(len(truth)), truth], 1e-7, 1.0)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=range(len(labels)), zero_division=0)
    per_class = {label: {"precision": round(float(precision[i]), 4),
                         "recall": round(float(recall[i]), 4), "f1": round(float(f1[i]), 4),
                         "support": int(support[i])} for i, label in enumerate(labels)}
    misclassified = [
        {"path": paths[i], "true": labels[truth[i]], "predicted": labels[predicted[i]],
         "probability": round(float(probs[i, predicted[i]]), 6)}
        for i in np.flatnonzero(predicted != truth)]
    misclassified.sort(key=lambda item: -item["probability"])
    accuracy = float((predicted == truth).mean())
    return _with_seen(predictor.run, paths, cancel, {
        "accuracy": round(accuracy, 6),
        "loss": round(float(-np.log(picked).mean()), 6),
        "n": int(len(truth)),
        "labels": labels,
        "per_class": per_class,
        "confusion": confusion_matrix(truth, predicted, labels=range(len(labels))).tolist(),
        "misclassified": misclassified,
        "split": split,
        "data": str(data_dir),
        "unreadable": [{"path": p, "reason": r} for p, r in scan.unreadable],
        "ignored_classes": unknown,
        **({"review": review} if review else {}),
        "assessment": assess_accuracy(accuracy, len(truth), {
            label: int(count) for label, count in zip(labels, np.bincount(truth, minlength=len(labels)))}),
    })


def _with_seen(run: Run, paths: list[str], cancel, report: dict) -> dict:
    """`report` with "seen": evaluated pictures whose contents are in the run's own dataset
    folder (its training and validation pictures) or among the pictures a person marked and
    the run trained on (config.json "review" "added", copies in the app's settings folder)."""
    from core.data.overlap import files_also_among
    from core.data.scanning import collect_images

    folder = run.dataset_root
    if not folder or not os.path.isdir(folder):
        return report | {"seen": None}
    review = run.config.get("review") if isinstance(run.config.get("review"), dict) else {}
    added = [item["file"] for item in review.get("added") or []
             if isinstance(item, dict) and isinstance(item.get("file"), str)]
    others = collect_images([folder])[0] + added
    return report | {"seen": {"count": len(files_also_among(paths, others, cancel)),
                              "folder": folder}}
