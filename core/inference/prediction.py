"""Prediction with a trained run: ranked labels, probabilities and a heatmap per image.

A `Predictor` loads the run's model once and reuses it (and its heatmap explainer) for
every image, so dragging many photos in stays fast.

Example:
    predictor = Predictor("runs/first")
    for result in predictor.predict_paths(["cat.jpg"]):
        print(result["label"], result["probability"])
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from core.runs.run import Run
from core.errors import ConfigError


def probabilities_from_outputs(outputs: np.ndarray) -> np.ndarray:
    """Model outputs to (N, C) class probabilities (a sigmoid unit becomes two columns)."""
    outputs = np.asarray(outputs, np.float64)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.shape[1] == 1:
        outputs = np.concatenate([1.0 - outputs, outputs], axis=1)
    return outputs


def ranked(labels: Sequence[str], probs: np.ndarray, top_k: int = 5) -> list[list]:
    order = np.argsort(-probs)[:top_k]
    return [[labels[i], round(float(probs[i]), 6)] for i in order]


class Predictor:
    """A loaded run, ready to classify and explain images."""

    def __init__(self, run: Run | str | os.PathLike, which: str = "best", batch_size: int = 32,
                 feature_layer: str | None = None):
        self.run = run if isinstance(run, Run) else Run.open(run)
        self.model = self.run.load_model(which)
        self.labels = self.run.labels
        self.image_size = self.run.image_size
        self.batch_size = batch_size
        # Which feature map heatmaps explain: for fusion runs, the base chosen at training
        # (--fusion-base, recorded in config.json) unless the caller picks another.
        self.feature_layer = feature_layer or (self.run.config.get("heatmap") or {}).get(
            "feature_layer")
        self._explainer = None

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """A float32 batch as `core.data.pipeline` makes it -> (N, C) probabilities."""
        if len(batch) == 0:
            return np.zeros((0, len(self.labels)))
        return probabilities_from_outputs(self.model.predict_on_batch(batch))

    def predict_arrays(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Decoded uint8 RGB images of any size -> (N, C) probabilities."""
        from core.data.pipeline import prepare_arrays

        probs = [self.predict_batch(prepare_arrays(images[i:i + self.batch_size], self.image_size))
                 for i in range(0, len(images), self.batch_size)]
        return np.concatenate(probs) if probs else np.zeros((0, len(self.labels)))

    def predict_paths(self, paths: Sequence[str | os.PathLike], listener=None, cancel=None,
                      top_k: int = 5) -> list[dict]:
        """Classify image files. Unreadable files get an "error" entry instead of a label."""
        from core.errors import ImageReadError
        from core.data.imageio import read_image
        from core.util.progress import notify

        results = []
        notify(listener, "on_stage", "predict", len(paths))
        for start in range(0, len(paths), self.batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            chunk = paths[start:start + self.batch_size]
            images, readable = [], []
            entries = []
            for path in chunk:
                entry = {"path": str(path), "label": None, "probability": None, "top": [],
                         "error": None}
                try:
                    images.append(read_image(path))
                    readable.append(entry)
                except ImageReadError as error:
                    entry["error"] = error.reason
                entries.append(entry)
            for entry, probs in zip(readable, self.predict_arrays(images)):
                best = int(np.argmax(probs))
                entry.update(label=self.labels[best], probability=round(float(probs[best]), 6),
                             top=ranked(self.labels, probs, top_k), class_index=best)
            results.extend(entries)
            notify(listener, "on_step", len(results), len(paths))
        return results

    @property
    def explainer(self):
        if self._explainer is None:
            from core.inference.heatmaps import HeatmapExplainer

            self._explainer = HeatmapExplainer(self.model, feature_layer=self.feature_layer)
        return self._explainer

    def explain(self, image: np.ndarray, class_index: int | None = None):
        """Heatmap (image's H x W, float in [0, 1]) for `class_index` (default: predicted) and the
        method used ("cam" or "gradcam")."""
        import cv2

        from core.data.pipeline import prepare_arrays

        batch = prepare_arrays([image], self.image_size)
        # class_index None: the explainer explains the predicted class in the same forward pass.
        heatmap = self.explainer.explain(batch, class_index)
        heatmap = cv2.resize(np.asarray(heatmap, np.float32), (image.shape[1], image.shape[0]),
                             interpolation=cv2.INTER_LINEAR)
        return np.clip(heatmap, 0.0, 1.0), self.explainer.method


MIN_OVERLAY_SIDE = 320


MAX_OVERLAY_SIDE = 2048
"""Saved overlays are scaled down to at most this many pixels on their long side: a heatmap
has a few dozen cells, and a 7000 x 5000 photo would make a slow 100 MB picture."""


def save_heatmap_overlay(predictor: Predictor, image: np.ndarray, result: dict, out_dir: Path,
                         opacity: float = 0.5, threshold: float = 0.0) -> tuple[Path, str]:
    """Write the annotated CAM / Grad-CAM overlay of one prediction; returns (path, method).

    The file is ``<image name>_<method>.png`` inside ``out_dir`` whatever the image is called
    (see `core.runs.export.safe_filename`); an existing file is never replaced (``_2``, ``_3``...).
    """
    import cv2

    from core.util import atomic
    from core.runs.export import output_path
    from core.inference.heatmaps import annotate, overlay

    heatmap, method = predictor.explain(image, result.get("class_index"))
    height, width = image.shape[:2]
    scale = MAX_OVERLAY_SIDE / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        heatmap = cv2.resize(heatmap, size, interpolation=cv2.INTER_AREA)
    picture = annotate(overlay(image, heatmap, opacity=opacity, threshold=threshold),
                       str(result["label"]), result["probability"])
    stem = os.path.splitext(os.path.basename(str(result["path"])))[0]
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ConfigError(f"Could not encode the heatmap for {result['path']}.")
    out_path = output_path(out_dir, f"{stem}_{method}", ".png")
    atomic.write_bytes(out_path, encoded.tobytes())
    return out_path, method
