"""`evaluate` and `predict`: what a trained run says about labelled or new pictures."""
from __future__ import annotations

import json
from pathlib import Path

from core.cli.common import PrintListener, UsageError, emit


def cmd_evaluate(args) -> int:
    from core.inference.evaluation import evaluate_run
    from core.runs.export import export_evaluation_csv
    from core.runs.records import record_evaluation
    from core.util.atomic import check_writable

    if args.csv:
        if Path(args.csv).is_dir():
            raise UsageError(f"--csv {args.csv} is a folder; give a file name such as "
                             "evaluation.csv.")
        check_writable(Path(args.csv).resolve().parent)
    report = evaluate_run(args.run, args.data, listener=None if args.json else PrintListener(),
                          which=args.which)
    record_evaluation(args.run, report)  # the app shows it when the run is reopened
    lines = [f"accuracy {report['accuracy']:.4f}  loss {report['loss']:.4f}  "
             f"n {report['n']} ({report['split']})", report["assessment"]["text"],
             "per class (precision / recall / F1):"]
    for label, scores in report["per_class"].items():
        lines.append(f"  {label}: {scores['precision']:.3f} / {scores['recall']:.3f} / "
                     f"{scores['f1']:.3f}  ({scores['support']} images)")
    lines.append("confusion (rows: true, columns: predicted): " + json.dumps(report["confusion"]))
    for item in report["misclassified"][:20]:
        lines.append(f"  wrong: {item['path']}: {item['true']} -> {item['predicted']} "
                     f"({item['probability']:.3f})")
    if args.csv:
        export_evaluation_csv(args.csv, report)
        lines.append(f"Table written to {args.csv}")
    emit(args, report, "\n".join(lines))
    return 0


def cmd_predict(args) -> int:
    from core.util.atomic import check_writable
    from core.data.scanning import collect_images
    from core.runs.export import export_predictions_csv
    from core.runs.records import record_predictions
    from core.errors import ImageReadError
    from core.data.imageio import read_image
    from core.inference.prediction import Predictor, save_heatmap_overlay

    if args.cam and not 0.0 <= args.opacity <= 1.0:
        raise UsageError(f"Received --opacity {args.opacity}; expected a value between 0 and 1.")
    if args.cam:
        _check_outside_inputs(Path(args.cam), args.paths)
        check_writable(args.cam)
    if args.csv:
        if Path(args.csv).is_dir():
            raise UsageError(f"--csv {args.csv} is a folder; give a file name such as predictions.csv.")
        check_writable(Path(args.csv).resolve().parent)
    files, skipped = collect_images(args.paths)
    if not files:
        raise UsageError("No images found in " + ", ".join(args.paths) + "."
                         + (f" ({skipped[0][0]}: {skipped[0][1]})" if skipped else ""))
    predictor = Predictor(args.run, which=args.which)
    results = predictor.predict_paths(files, top_k=args.top)
    results += [{"path": str(p), "label": None, "probability": None, "top": [], "error": reason}
                for p, reason in skipped]
    for result in results:
        result["cam"] = None
        if args.cam and result["label"] is not None:
            try:
                path, method = save_heatmap_overlay(predictor, read_image(result["path"]), result,
                                                    Path(args.cam), args.opacity, args.threshold)
                result["cam"], result["cam_method"] = str(path), method
            except ImageReadError as error:  # changed since it was classified
                result["error"] = f"no heatmap: {error.reason}"
        result.pop("class_index", None)
    record_predictions(args.run, results)  # the app shows them when the run is reopened
    if args.csv:
        export_predictions_csv(args.csv, results)
    lines = []
    for result in results:
        if result["label"] is None:
            lines.append(f"{result['path']}: skipped ({result['error']})")
        else:
            ranked = ", ".join(f"{label} {p:.3f}" for label, p in result["top"])
            lines.append(f"{result['path']}: {result['label']} ({result['probability']:.3f})  "
                         f"[{ranked}]" + (f"  heatmap: {result['cam']}" if result["cam"] else ""))
    if args.csv:
        lines.append(f"Table written to {args.csv}")
    emit(args, results, "\n".join(lines))
    return 0


def _check_outside_inputs(out: Path, inputs: list[str]) -> None:
    """Heatmaps written into a folder being classified would be classified next time."""
    resolved = out.resolve()
    for item in inputs:
        folder = Path(item).resolve()
        if folder.is_dir() and (resolved == folder or folder in resolved.parents):
            raise UsageError(f"The heatmap folder {out} is inside {item}, which holds the images to "
                             "classify; choose a folder outside it.")
