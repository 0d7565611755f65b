"""The headless command line: everything the GUI does, scriptable.

    python main.py inspect DATA [--json]
    python main.py train DATA --out RUN [--model NAME] [--epochs N] ... [--json]
    python main.py evaluate RUN DATA [--json]
    python main.py predict RUN PATH... [--cam DIR] [--csv FILE] [--json]
    python main.py augment-preview IMAGE --out PNG [--config PRESET|JSON] [--n 9] [--seed S]
    python main.py runs [ROOT] [--json]
    python main.py demo DEST

Bad arguments, unusable data, damaged or unsafe run folders and unwritable outputs exit with
status 2 and one clear line on stderr, never a traceback. Checks that need no data (settings,
output folders) run before anything slow starts.
"""
from __future__ import annotations

import argparse
import errno
import json
import sys
from pathlib import Path

from core.errors import StudioError
from core.util.progress import Cancelled, PrintListener

EXIT_USAGE = 2


class UsageError(StudioError):
    """A problem with the user's arguments: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python main.py",
                     description="Image Classifier Studio: train, evaluate and demo image "
                                 "classifiers. Run without arguments to open the app.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("inspect", help="check a dataset folder: layout, classes, counts, problems")
    p.add_argument("data", help="dataset folder")
    p.add_argument("--val-split", type=float, default=0.2, help="validation fraction (default 0.2)")
    p.add_argument("--test-split", type=float, default=0.0, help="test fraction (default 0)")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("train", help="train a model into a run folder")
    p.add_argument("data", nargs="?", help="dataset folder")
    p.add_argument("--out", help="run folder to create (or replace)")
    p.add_argument("--resume", metavar="RUN",
                   help="continue an interrupted run from its last finished epoch (no DATA, --out)")
    p.add_argument("--model", default="auto",
                   help="auto (default: the app chooses from your data and the pretrained "
                        "weights on this computer, and says why) or a model name (see 'models')")
    p.add_argument("--mode", default=None,
                   help="training mode (scratch; transfer models: bottleneck, frozen, finetune, fusion)")
    p.add_argument("--image-size", type=int, default=None, help="input size in px (default: from the pictures with --model auto, else the model's)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs to train (default: the recipe's with --model auto, else 10; with "
                        "--resume: the run's total)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--optimizer", default=None,
                   help="rmsprop, adam, sgd or adadelta (default: adam with --model auto, else rmsprop)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: optimizer's)")
    p.add_argument("--augment", default="auto",
                   help="auto (default: decided from your pictures; mirroring and large turns "
                        "only where they keep the class), a preset (none, light, keras_blog, "
                        "strong) or a JSON file")
    p.add_argument("--val-split", type=float, default=0.2)
    p.add_argument("--test-split", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without validation improvement (0: off; "
                        "default: the recipe's with --model auto, else off)")
    p.add_argument("--precision", default="auto", choices=("auto", "float32", "mixed_bfloat16"),
                   help="from-scratch models: auto (mixed_bfloat16 from 64 px on CPUs with native bfloat16, "
                        "else float32), float32 or mixed_bfloat16")
    p.add_argument("--class-weights", action=argparse.BooleanOptionalAction, default=None,
                   help="weight classes inversely to their size (default: on when the classes "
                        "are imbalanced)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_transfer_arguments(p)

    p = sub.add_parser("evaluate", help="evaluate a run on a labelled folder")
    p.add_argument("run", help="run folder")
    p.add_argument("data", help="class folders, or a split tree (uses test/, else validation/)")
    p.add_argument("--which", choices=("best", "final"), default="best")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("predict", help="classify images or folders with a run")
    p.add_argument("run", help="run folder")
    p.add_argument("paths", nargs="+", help="image files or folders")
    p.add_argument("--cam", metavar="DIR", help="write a heatmap overlay per image into DIR")
    p.add_argument("--opacity", type=float, default=0.5, help="heatmap opacity 0-1 (default 0.5)")
    p.add_argument("--threshold", type=float, default=0.0,
                   help="leave pixels with heat below this (0-1) uncoloured")
    p.add_argument("--csv", metavar="FILE",
                   help="also write the predictions as a table (spreadsheet-safe CSV)")
    p.add_argument("--top", type=int, default=5, help="how many ranked labels to show")
    p.add_argument("--which", choices=("best", "final"), default="best")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("augment-preview", help="write a grid of augmented versions of an image")
    p.add_argument("image")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--config", default="default", help="preset name or JSON file")
    p.add_argument("--n", type=int, default=9, help="number of tiles")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=224, help="tile size in px")

    p = sub.add_parser("runs", help="list training runs with their best validation accuracy")
    p.add_argument("root", nargs="?", default="runs", help="folder holding run folders")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("models", help="list the available models")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("demo", help="generate the built-in demo dataset")
    p.add_argument("dest", help="folder to create")
    p.add_argument("--per-class", type=int, default=200, help="images per class (default 200)")
    return parser


def _add_transfer_arguments(parser) -> None:
    """Options of transfer-learning modes (core.training.transfer.cli_options)."""
    from core.training.transfer.cli_options import add_cli_arguments

    add_cli_arguments(parser)


def _transfer_extra(args) -> dict:
    from core.training.transfer.cli_options import extra_from_cli

    return extra_from_cli(args)


def _emit(args, payload, text: str) -> None:
    from core.util.atomic import dumps_json

    print(dumps_json(payload) if args.json else text)


def cmd_inspect(args) -> int:
    from core.data.scanning import scan_dataset

    listener = None if args.json else PrintListener()
    scan = scan_dataset(args.data, val_split=args.val_split, test_split=args.test_split,
                        seed=args.seed, listener=listener)
    report = scan.report()
    lines = [f"Dataset {report['root']}", f"  layout: {report['layout']}",
             f"  classes ({len(report['classes'])}): {', '.join(report['classes'])}",
             f"  images: {report['num_images']}"]
    for split, counts in report["splits"].items():
        lines.append(f"  {split}: " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    size = report["image_size"]
    if size:
        lines.append(f"  image size (w x h): min {size['min']}, median {size['median']}, "
                     f"max {size['max']}")
    lines.append(f"  suggested input size: {report['suggested_input_size']} px")
    if report["split_note"]:
        lines.append(f"  split: {report['split_note']}")
    for item in report["unreadable"]:
        lines.append(f"  unreadable: {item['path']}: {item['reason']}")
    for warning in report["warnings"]:
        lines.append(f"  warning: {warning}")
    _emit(args, report, "\n".join(lines))
    return 0


def cmd_train(args) -> int:
    from core.training import scan_for_training, train
    from core.training.request import build_request

    if args.resume:
        return _resume(args)
    if not args.data or not args.out:
        missing = " and ".join(name for name, value in (("DATA", args.data), ("--out", args.out))
                               if not value)
        raise UsageError(f"the following arguments are required: {missing} "
                         "(or --resume RUN to continue a run)")
    # Everything that needs no data is checked here, before the (slow) scan.
    request = build_request(training_config(args))
    listener = PrintListener()
    scan = scan_for_training(request, listener=listener)
    request, _ = request.resolve(scan)  # one class: stops here, before TensorFlow builds anything
    result = train(request, listener=listener, scan=scan)
    best = result.get("best_val_accuracy")
    validation = scan.counts().get("validation") or {}
    partial = " (of the classes it holds)" if any(not validation.get(c) for c in scan.classes) else ""
    kept = "; the earlier run there is kept" if result.get("kept_previous_run") else ""
    text = (f"Run saved in {result['run_dir']} ({result['status']}, "
            f"{result['epochs_completed']} epochs, {result['seconds']:.1f}s)"
            + (f"; best validation accuracy {best:.4f}{partial}" if best is not None else "")
            + kept
            + (f"\n{result['assessment']['text']}" if result.get("assessment") else ""))
    _emit(args, result, text)
    return 0


def training_config(args):
    """The `TrainingConfig` that `train` arguments ask for."""
    from core.training import TrainingConfig

    return TrainingConfig(
        data_dir=args.data, out_dir=args.out, model=args.model, image_size=args.image_size,
        epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, learning_rate=args.lr, augment=args.augment,
        val_split=args.val_split, test_split=args.test_split, seed=args.seed,
        early_stopping=args.early_stopping, class_weights=args.class_weights, mode=args.mode,
        precision=args.precision, extra=_transfer_extra(args))


def _resume(args) -> int:
    from core.training import resume_training
    from core.util.atomic import check_writable
    from core.runs.run import Run

    if args.data or args.out:
        raise UsageError("--resume RUN continues a run with its own data and settings; leave out "
                         "DATA and --out.")
    Run.open(args.resume)  # a clear message for a missing or damaged run, before anything slow
    check_writable(args.resume)
    result = resume_training(args.resume, epochs=args.epochs, listener=PrintListener())
    _emit(args, result, f"Run {result['run_dir']} resumed ({result['status']}, "
                        f"{result['epochs_completed']} epochs)")
    return 0


def cmd_evaluate(args) -> int:
    from core.inference.evaluation import evaluate_run
    from core.runs.records import record_evaluation

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
    _emit(args, report, "\n".join(lines))
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
    _emit(args, results, "\n".join(lines))
    return 0


def _check_outside_inputs(out: Path, inputs: list[str]) -> None:
    """Heatmaps written into a folder being classified would be classified next time."""
    resolved = out.resolve()
    for item in inputs:
        folder = Path(item).resolve()
        if folder.is_dir() and (resolved == folder or folder in resolved.parents):
            raise UsageError(f"The heatmap folder {out} is inside {item}, which holds the images to "
                             "classify; choose a folder outside it.")


def cmd_augment_preview(args) -> int:
    import cv2

    from core.util import atomic
    from core.data.augmentation.presets import load_augmentation
    from core.data.augmentation.preview import MAX_PREVIEW_SIZE, make_grid, preview
    from core.data.imageio import read_image

    if not 1 <= args.n <= 64:
        raise UsageError(f"Received --n {args.n}; expected between 1 and 64 tiles.")
    if not 1 <= args.size <= MAX_PREVIEW_SIZE:
        raise UsageError(f"Received --size {args.size}; expected a tile size from 1 to "
                         f"{MAX_PREVIEW_SIZE} px, such as 224.")
    out = Path(args.out)
    image_folder = Path(args.image).resolve().parent
    out_folder = out.resolve().parent
    if out_folder == image_folder or image_folder in out_folder.parents:
        raise UsageError(f"--out {out} is inside {image_folder}, the folder of the image (in a "
                         "dataset the grid would be trained on as one of its pictures); choose "
                         "a file outside it.")
    config = load_augmentation(args.config)
    tiles = preview(read_image(args.image), config, n=args.n, seed=args.seed, size=args.size)
    grid = make_grid(tiles)
    ok, encoded = cv2.imencode(out.suffix or ".png", cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    if not ok:
        raise UsageError(f"Cannot write {out}: use a .png or .jpg file name.")
    atomic.write_bytes(out, encoded.tobytes())
    print(f"Wrote {len(tiles)} augmented versions to {out}")
    return 0


def cmd_runs(args) -> int:
    from core.runs.run import list_runs

    runs = list_runs(args.root)
    lines = [f"{'run':30} {'model':16} {'status':10} {'epochs':>6} {'best val acc':>12}"]
    for run in runs:
        acc = "-" if run.best_val_accuracy is None else f"{run.best_val_accuracy:.4f}"
        lines.append(f"{run.name:30} {run.model:16} {run.status:10} {run.epochs:>6} {acc:>12}")
    if not runs:
        lines = [f"No runs in {args.root}."]
    _emit(args, [run.to_dict() for run in runs], "\n".join(lines))
    return 0


def cmd_models(args) -> int:
    from core.models.registry import available_models

    specs = available_models()
    payload = [{"name": s.name, "title": s.title, "family": s.family, "modes": list(s.modes),
                "default_image_size": s.default_image_size, "description": s.description}
               for s in specs]
    text = "\n".join(f"{s.name:18} {s.family:9} {s.default_image_size:>4}px  {s.description}"
                     for s in specs)
    _emit(args, payload, text)
    return 0


def cmd_demo(args) -> int:
    from core.data.demo import make_demo_dataset

    path = make_demo_dataset(args.dest, images_per_class=args.per_class)
    print(f"Demo dataset written to {path}")
    return 0


COMMANDS = {"inspect": cmd_inspect, "train": cmd_train, "evaluate": cmd_evaluate,
            "predict": cmd_predict, "augment-preview": cmd_augment_preview, "runs": cmd_runs,
            "models": cmd_models, "demo": cmd_demo}


NEEDS_TENSORFLOW = {"train", "evaluate", "predict", "augment-preview"}


def main(argv: list[str] | None = None) -> int:
    _tolerate_unprintable_names()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 0
        if args.command in NEEDS_TENSORFLOW:
            from core.util.tf_runtime import load_tensorflow

            load_tensorflow()
        return COMMANDS[args.command](args)
    except StudioError as error:  # ours: the message is already the sentence to show
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, OSError) as error:
        # Not ours, but still about the input or the machine (a value a library refused, disk
        # full, read-only disk, permission denied): one line, never a traceback.
        print(f"error: {_one_line(_message(error))}", file=sys.stderr)
        return EXIT_USAGE
    except (Cancelled, KeyboardInterrupt):
        print("Stopped.", file=sys.stderr)
        return 130


_DISK_TROUBLE = {errno.ENOSPC: "is full", errno.EDQUOT: "is over your disk quota",
                 errno.EROFS: "is read-only"}


def _message(error: Exception) -> str:
    if isinstance(error, OSError) and error.errno in _DISK_TROUBLE:
        where = f" holding {Path(error.filename).parent}" if error.filename else ""
        return (f"The disk{where} {_DISK_TROUBLE[error.errno]}, so the results could not be "
                "written; free some space or choose a folder on another disk, and try again.")
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.strerror}: {error.filename}"
    return str(error).strip() or type(error).__name__


def _one_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def _tolerate_unprintable_names() -> None:
    """File names that are not valid UTF-8, or not printable in the console's encoding, are
    shown with escapes instead of ending the command with a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError, AttributeError):
                pass
