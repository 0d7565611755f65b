"""Worker-side jobs of the Predict step: load a run's model, classify, explain, save, evaluate.

All jobs that touch the model run on the runner's "model" lane, one after another, so the
TensorFlow model is only ever used by one thread. They call `core.inference.prediction`,
`core.inference.heatmaps` and `core.inference.evaluation` and convert pictures to QImages for display; they never
touch a widget.

Predictions and the last evaluation are kept in the run folder by core.runs.records (as the
command line does), so they come back when the run is reopened.
"""
from __future__ import annotations

from pathlib import Path

from gui.qt_images import qimage_from_array, square_thumbnail

DISPLAY_SIZE = 720


class ModelSlot:
    """The loaded `Predictor`; read and written only by jobs on the "model" lane."""

    def __init__(self) -> None:
        self.predictor = None
        self.run_path: Path | None = None

    def require(self):
        if self.predictor is None:
            raise RuntimeError("No model is loaded: train one in step 3 or open a past run.")
        return self.predictor


def load_predictor(slot: ModelSlot, run) -> str:
    """Load `run`'s best model into `slot`; returns the run folder."""
    from core.inference.prediction import Predictor
    from core.util.tf_runtime import load_tensorflow

    load_tensorflow()
    slot.predictor = None
    slot.run_path = None
    slot.predictor = Predictor(run)
    slot.run_path = Path(run.path)
    return str(run.path)


def _thumbnail_of(path: str):
    from core.errors import ImageReadError
    from core.data.imageio import read_image

    try:
        return square_thumbnail(read_image(path))
    except (ImageReadError, OSError):
        return None


def predict_files(slot: ModelSlot, paths: list[str], listener=None, cancel=None) -> dict:
    """Classify the pictures in `paths` (files or folders); adds thumbnails for the gallery."""
    from core.data.scanning import collect_images

    predictor = slot.require()
    files, skipped = collect_images(paths)
    results = predictor.predict_paths(files, listener=listener, cancel=cancel) if files else []
    results += [{"path": str(path), "label": None, "probability": None, "top": [], "error": reason}
                for path, reason in skipped]
    thumbnails = []
    for result in results:
        if cancel is not None:
            cancel.raise_if_cancelled()
        thumbnails.append(_thumbnail_of(result["path"]) if result.get("error") is None else None)
    if slot.run_path is not None:
        from core.runs.records import record_predictions

        record_predictions(slot.run_path, results)
    return {"results": results, "thumbnails": thumbnails}


def explain_file(slot: ModelSlot, path: str, class_index: int | None) -> dict:
    """The picture (display size) and its coloured heatmap for `class_index`."""
    import cv2

    from core.inference.heatmaps import colorize
    from core.data.imageio import read_image

    predictor = slot.require()
    image = read_image(path)
    heatmap, method = predictor.explain(image, class_index)
    height, width = image.shape[:2]
    scale = min(1.0, DISPLAY_SIZE / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    heat = colorize(heatmap, (image.shape[1], image.shape[0]))
    return {"path": path, "original": qimage_from_array(image), "heat": qimage_from_array(heat),
            "method": method}


def save_annotated(slot: ModelSlot, results: list[dict], out_dir: str, opacity: float,
                   cancel=None) -> list[str]:
    """Write each prediction as a picture with its label (and heatmap at `opacity`)."""
    from core.data.imageio import read_image
    from core.inference.prediction import save_heatmap_overlay

    predictor = slot.require()
    written = []
    for result in results:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if result.get("label") is None:
            continue
        path, _method = save_heatmap_overlay(predictor, read_image(result["path"]), result,
                                             Path(out_dir), opacity=opacity)
        written.append(str(path))
    return written


def export_csv(results: list[dict], path: str) -> str:
    """Write predictions as a spreadsheet-safe CSV (see core.runs.export)."""
    from core.runs.export import export_predictions_csv

    return str(export_predictions_csv(path, results))


def export_evaluation(report: dict, path: str) -> str:
    """Write an evaluation report as a spreadsheet-safe CSV (see core.runs.export)."""
    from core.runs.export import export_evaluation_csv

    return str(export_evaluation_csv(path, report))


def restore_run_outputs(run_path) -> dict:
    """Job: remembered predictions (with thumbnails) and the last evaluation of a run."""
    from core.runs.records import read_evaluation, read_predictions

    results = [r for r in read_predictions(run_path) if Path(r["path"]).is_file()]
    evaluation = read_evaluation(run_path)
    return {"run_path": str(run_path), "results": results,
            "thumbnails": [_thumbnail_of(r["path"]) if r.get("error") is None else None
                           for r in results],
            "evaluation": evaluation}


def evaluate_folder(slot: ModelSlot, run, folder: str, listener=None, cancel=None) -> dict:
    """Evaluate the loaded model on `folder` and remember the report in the run folder."""
    from core.inference.evaluation import evaluate_run
    from core.runs.records import record_evaluation

    report = evaluate_run(run, folder, listener=listener, cancel=cancel,
                          predictor=slot.require())
    record_evaluation(run.path, report)
    return report


def load_thumbnails(paths: list[str], cancel=None) -> list:
    """Job: thumbnails (QImage or None) for `paths`, in order."""
    thumbnails = []
    for path in paths:
        if cancel is not None:
            cancel.raise_if_cancelled()
        thumbnails.append(_thumbnail_of(path))
    return thumbnails
