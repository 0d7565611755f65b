"""The command line's arguments: one subcommand per command, each with its options."""
from __future__ import annotations

import argparse

from core.cli.common import UsageError


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
    p.add_argument("--deep", action="store_true",
                   help="also look with a pretrained network: pictures probably in the wrong "
                        "folder, near-duplicates (also across classes and splits), outliers")
    p.add_argument("--weights", metavar="FILE", default=None,
                   help="with --deep: the pretrained weights file to look with (default: the "
                        "one given before, or Keras's download)")
    p.add_argument("--cache-dir", default=None,
                   help="with --deep: feature cache folder (default: the one training uses)")

    p = sub.add_parser("review", help="say what pictures are: mark a picture (from the dataset "
                                      "or from anywhere) as a class, exclude one, undo, list; "
                                      "kept by the app, never in your folders")
    p.add_argument("data", help="dataset folder")
    p.add_argument("--mark", "--add", dest="mark", nargs="+", metavar="PICTURE", default=[],
                   help="with --as CLASS: these pictures are a CLASS (a picture from outside "
                        "the dataset is copied into the app's settings folder and joins the "
                        "training pictures of the next run, never validation; one of the "
                        "dataset is moved to CLASS for training and evaluation)")
    p.add_argument("--as", dest="label", metavar="CLASS", help="the class, for --mark")
    p.add_argument("--exclude", nargs="+", metavar="PICTURE", default=[],
                   help="leave these pictures of the dataset out of training and evaluation")
    p.add_argument("--undo", action="store_true", help="take back the last decision")
    p.add_argument("--list", action="store_true",
                   help="list the decisions and what the next training gets (the default)")
    p.add_argument("--val-split", type=float, default=0.2,
                   help="validation fraction of the next training (default 0.2)")
    p.add_argument("--test-split", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--json", action="store_true", help="print the result as JSON")

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
    p.add_argument("--strategy", default=None,
                   help="auto (default: one device, or every local GPU when there are several), "
                        "one, mirrored (tf.distribute over the local GPUs or CPU replicas) or "
                        "multi-worker (several machines, from TF_CONFIG; see README 'Bigger "
                        "machines'); with --resume: the run's own")
    p.add_argument("--cpu-replicas", type=int, default=None, metavar="N",
                   help="split the CPU into N logical devices (machines without GPUs: tests "
                        "the distributed path); --batch-size is per replica")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_transfer_arguments(p)

    p = sub.add_parser("evaluate", help="evaluate a run on a labelled folder")
    p.add_argument("run", help="run folder")
    p.add_argument("data", help="class folders, or a split tree (uses test/, else validation/)")
    p.add_argument("--which", choices=("best", "final"), default="best")
    p.add_argument("--csv", metavar="FILE",
                   help="also write the results as a table (spreadsheet-safe CSV)")
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

    p = sub.add_parser("export", help="export a trained run for other programs: SavedModel, "
                                      "LiteRT (TFLite) or ONNX")
    p.add_argument("run", help="run folder")
    p.add_argument("--format", required=True,
                   help="savedmodel, tflite, tflite-fp16, tflite-int8, onnx, or all (one "
                        "subfolder per format)")
    p.add_argument("--out", required=True, help="folder to write the export into")
    p.add_argument("--data", default=None,
                   help="the run's dataset, when it is no longer where the run was trained "
                        "(its pictures check the export and calibrate int8)")
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

