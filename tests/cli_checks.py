"""What every refused command must print: one sentence on stderr, nothing after it, no traceback."""
from __future__ import annotations


def one_line_error(capsys) -> str:
    """The error line, which must be the only one and the last thing printed (progress lines
    of a scan may come before it), and a sentence rather than a bare word."""
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and len(errors[0]) > 10, lines
    assert not any("Traceback" in line for line in lines), lines
    return errors[0]
