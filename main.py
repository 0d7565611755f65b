"""Image Classifier Studio: opens the app with no arguments, runs a command otherwise.

    python main.py                 the desktop app
    python main.py --help          the headless commands (inspect, train, evaluate, predict, ...)
"""
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        try:
            from gui import run_app
        except ImportError:
            run_app = None
        if run_app is not None:
            return run_app()
    from core.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
