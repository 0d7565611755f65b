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


def exit_now(code: int) -> None:
    """End a finished command at once.

    Tearing the interpreter down after TensorFlow was loaded takes 0.2-0.8 s (its thread
    pools, hundreds of thousands of objects, a last garbage collection), longer than a
    cached bottleneck run spends training. By then every file a command writes has been
    written atomically and closed, so only the standard streams need flushing.
    """
    if "tensorflow" not in sys.modules:
        sys.exit(code)
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    status = main(arguments)
    if arguments:  # a command; the app (no arguments) exits the ordinary way
        exit_now(status)
    sys.exit(status)
