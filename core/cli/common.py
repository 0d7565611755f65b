"""What every command shares: the usage error, the exit status, printing a result."""
from __future__ import annotations

from core.errors import StudioError
from core.util.progress import PrintListener

__all__ = ["EXIT_USAGE", "PrintListener", "UsageError", "emit"]

EXIT_USAGE = 2


class UsageError(StudioError):
    """A problem with the user's arguments: printed as one line, exit status 2."""


def emit(args, payload, text: str) -> None:
    """Print `payload` as JSON with --json, else the sentence(s) `text`."""
    from core.util.atomic import dumps_json

    print(dumps_json(payload) if args.json else text)
