"""The headless command line: everything the GUI does, scriptable.

    python main.py inspect DATA [--json]
    python main.py review DATA [--mark PICTURE... --as CLASS] [--exclude PICTURE...] [--undo] [--list]
    python main.py train DATA --out RUN [--model NAME] [--epochs N] ... [--json]
    python main.py evaluate RUN DATA [--json]
    python main.py predict RUN PATH... [--cam DIR] [--csv FILE] [--json]
    python main.py export RUN --format FORMAT --out DIR [--data DATA] [--json]
    python main.py augment-preview IMAGE --out PNG [--config PRESET|JSON] [--n 9] [--seed S]
    python main.py runs [ROOT] [--json]
    python main.py demo DEST

Bad arguments, unusable data, damaged or unsafe run folders and unwritable outputs exit with
status 2 and one clear line on stderr, never a traceback. Checks that need no data (settings,
output folders) run before anything slow starts.

This module runs a command and turns what goes wrong into that one line; the arguments are
in `parser`, the commands in `train`, `evaluate_predict`, `export`, `dataset` and `listing`, and what
they share in `common`.
"""
from __future__ import annotations

import errno
import sys
from pathlib import Path

from core.cli.common import EXIT_USAGE, PrintListener, UsageError
from core.cli.dataset import cmd_augment_preview, cmd_demo, cmd_inspect, cmd_review
from core.cli.evaluate_predict import cmd_evaluate, cmd_predict
from core.cli.export import cmd_export
from core.cli.listing import cmd_models, cmd_runs
from core.cli.parser import build_parser
from core.cli.train import cmd_train, training_config
from core.errors import StudioError
from core.util.progress import Cancelled

__all__ = ["COMMANDS", "EXIT_USAGE", "NEEDS_TENSORFLOW", "PrintListener", "UsageError",
           "build_parser", "cmd_augment_preview", "cmd_demo", "cmd_evaluate", "cmd_export", "cmd_inspect",
           "cmd_models", "cmd_predict", "cmd_review", "cmd_runs", "cmd_train", "main",
           "training_config"]


COMMANDS = {"inspect": cmd_inspect, "review": cmd_review, "train": cmd_train, "evaluate": cmd_evaluate,
            "predict": cmd_predict, "export": cmd_export, "augment-preview": cmd_augment_preview, "runs": cmd_runs,
            "models": cmd_models, "demo": cmd_demo}


NEEDS_TENSORFLOW = {"train", "evaluate", "predict", "export", "augment-preview"}


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
